"""`make model` without torch: the legacy checkpoint reader and the graph builder.

The reader is checked on a checkpoint written here in torch's legacy format (a fake `torch`
module stands in for the classes the pickle names); the graph is checked against a plain
numpy forward pass of EfficientNet-Lite0 with random weights, batch norm not folded, so a
wrong padding, stride, residual or fold would show."""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import sys
import types

import numpy as np
import onnxruntime
import pytest

from scripts import build_model
from scripts.model_weights import MAGIC, CheckpointError, read_checkpoint

# -- a legacy checkpoint writer (what torch.save did before 1.6) ----------------------------


class _Storage:
    def __init__(self, key: str, data: np.ndarray) -> None:
        self.key, self.data = key, data


def _fake_torch(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:  # named in the pickle as torch.FloatStorage
        pass

    def _rebuild_tensor_v2(*args):  # type: ignore[no-untyped-def]
        raise AssertionError("never called while writing")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage  # type: ignore[attr-defined]
    torch._utils = utils  # type: ignore[attr-defined]
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def write_legacy(state: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> bytes:
    torch = _fake_torch(monkeypatch)
    storages: list[_Storage] = []

    class Tensor:
        def __init__(self, array: np.ndarray) -> None:
            # stored transposed in a bigger buffer: offset and strides must be honoured
            base = np.concatenate([np.zeros(3, np.float32), array.T.ravel().astype(np.float32)])
            self.storage = _Storage(str(len(storages)), base)
            storages.append(self.storage)
            self.shape = array.shape

        def __reduce__(self):  # type: ignore[no-untyped-def]
            strides = [1]
            for size in self.shape[:-1]:
                strides.append(strides[-1] * size)  # column-major: a transposed view
            return (
                sys.modules["torch._utils"]._rebuild_tensor_v2,
                (self.storage, 3, self.shape, tuple(strides), False, collections.OrderedDict()),
            )

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):  # type: ignore[no-untyped-def]
            if isinstance(obj, _Storage):
                return ("storage", torch.FloatStorage, obj.key, "cpu", obj.data.size, None)
            return None

    out = io.BytesIO()
    for header in (MAGIC, 1001, {"little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump(
        collections.OrderedDict((name, Tensor(value)) for name, value in state.items())
    )
    pickle.dump([s.key for s in storages], out, protocol=2)
    for s in storages:
        out.write(struct.pack("<q", s.data.size) + s.data.astype("<f4").tobytes())
    return out.getvalue()


def test_a_legacy_checkpoint_is_read_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    state = {"a.weight": rng.normal(size=(4, 3, 2)).astype(np.float32), "b": np.ones(5, np.float32)}
    read = read_checkpoint(write_legacy(state, monkeypatch))
    assert read.keys() == state.keys()
    for name, value in state.items():
        np.testing.assert_array_equal(read[name], value)


def test_a_checkpoint_that_names_other_code_is_refused() -> None:
    headers = b"".join(pickle.dumps(h, protocol=2) for h in (MAGIC, 1001, {}))
    evil = headers + pickle.dumps(collections.OrderedDict(a=os.system), protocol=2)
    with pytest.raises(CheckpointError, match="unexpected object in checkpoint: posix.system"):
        read_checkpoint(evil)
    with pytest.raises(CheckpointError, match="magic"):
        read_checkpoint(pickle.dumps(123, protocol=2) + evil)


# -- the graph against a numpy forward pass ---------------------------------------------


def random_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    w: dict[str, np.ndarray] = {}

    def conv(name: str, out: int, inp: int, k: int) -> None:
        w[f"{name}.weight"] = rng.normal(0, np.sqrt(2 / (inp * k * k)), (out, inp, k, k))

    def norm(name: str, n: int) -> None:
        w[f"{name}.weight"] = rng.uniform(0.5, 1.5, n)
        w[f"{name}.bias"] = rng.normal(0, 0.1, n)
        w[f"{name}.running_mean"] = rng.normal(0, 0.1, n)
        w[f"{name}.running_var"] = rng.uniform(0.5, 2, n)

    conv("_conv_stem", 32, 3, 3)
    norm("_bn0", 32)
    block = 0
    for repeats, k, _stride, expansion, channels_in, channels_out in build_model.STAGES:
        for repeat in range(repeats):
            inp = channels_in if repeat == 0 else channels_out
            p, wide = f"_blocks.{block}.", inp * expansion
            if expansion != 1:
                conv(p + "_expand_conv", wide, inp, 1)
                norm(p + "_bn0", wide)
            conv(p + "_depthwise_conv", wide, 1, k)
            norm(p + "_bn1", wide)
            conv(p + "_project_conv", channels_out, wide, 1)
            norm(p + "_bn2", channels_out)
            block += 1
    conv("_conv_head", 1280, 320, 1)
    norm("_bn1", 1280)
    return {name: value.astype(np.float32) for name, value in w.items()}


def _conv(x: np.ndarray, kernel: np.ndarray, stride: int, groups: int) -> np.ndarray:
    """TensorFlow 'same' convolution of (C, H, W) by (O, C/groups, k, k), in float64."""
    c, h, wd = x.shape
    out_c, _, k, _ = kernel.shape
    oh, ow = -(-h // stride), -(-wd // stride)
    pad_h = max((oh - 1) * stride + k - h, 0)
    pad_w = max((ow - 1) * stride + k - wd, 0)
    x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))
    out = np.zeros((out_c, oh, ow))
    per = c // groups
    for dy in range(k):
        for dx in range(k):
            patch = x[:, dy : dy + stride * oh : stride, dx : dx + stride * ow : stride]
            if groups == 1:
                out += np.einsum("oc,chw->ohw", kernel[:, :, dy, dx], patch)
            else:  # depthwise: one input channel per output channel
                out += (
                    kernel[:, 0, dy, dx][:, None, None] * patch.reshape(groups, per, oh, ow)[:, 0]
                )
    return out


def _norm(x: np.ndarray, w: dict, name: str) -> np.ndarray:
    scale = w[f"{name}.weight"] / np.sqrt(w[f"{name}.running_var"] + build_model.BN_EPSILON)
    return (x - w[f"{name}.running_mean"][:, None, None]) * scale[:, None, None] + w[
        f"{name}.bias"
    ][:, None, None]


def reference_forward(image: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    relu6 = lambda v: np.clip(v, 0, 6)  # noqa: E731
    x = (image.astype(np.float64) - 127) / 128
    x = relu6(_norm(_conv(x, w["_conv_stem.weight"], 2, 1), w, "_bn0"))
    block = 0
    for repeats, _k, stride, expansion, channels_in, channels_out in build_model.STAGES:
        for repeat in range(repeats):
            p, inputs = f"_blocks.{block}.", x
            if expansion != 1:
                x = relu6(_norm(_conv(x, w[p + "_expand_conv.weight"], 1, 1), w, p + "_bn0"))
            s = stride if repeat == 0 else 1
            dw = w[p + "_depthwise_conv.weight"]
            x = relu6(_norm(_conv(x, dw, s, dw.shape[0]), w, p + "_bn1"))
            x = _norm(_conv(x, w[p + "_project_conv.weight"], 1, 1), w, p + "_bn2")
            if s == 1 and (repeat > 0 or channels_in == channels_out):
                x = x + inputs
            block += 1
    x = relu6(_norm(_conv(x, w["_conv_head.weight"], 1, 1), w, "_bn1"))
    return np.mean(x**3, axis=(1, 2)) ** (1 / 3)


@pytest.mark.parametrize("size", [(35, 35), (40, 29)])  # odd sizes: "same" padding's odd pixel
def test_the_graph_computes_efficientnet_lite0_with_gem_pooling(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    weights = random_weights(rng)
    model = build_model.build_graph(weights)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    image = rng.uniform(0, 255, (3, *size)).astype(np.float32)
    (found,) = session.run(None, {"images": image[None]})
    expected = reference_forward(image, weights)
    assert found.shape == (1, 1280)
    np.testing.assert_allclose(found[0], expected, rtol=2e-3, atol=2e-4)
