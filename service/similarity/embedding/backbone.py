"""A learned embedder: a CNN exported to ONNX (`make model`), run with onnxruntime.

The file `MODEL_DIR/NAME.onnx` takes float32 images (N, 3, H, W), RGB 0-255, and returns
features (N, D); `MODEL_DIR/NAME.json` beside it (written by scripts/build_model.py) holds its
sha256, checked at load, and the version that goes into the stored `model` column. No torch
and no download at run time: onnxruntime (the optional `onnx` extra) is all it needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from service.similarity.embedding import pack_features as features

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,40}")
BATCH = 16  # images per inference call: big enough to batch, small enough for memory


class ModelError(ValueError):
    """The model file is missing, does not match its checksum, or cannot be run."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(model_dir: Path, name: str) -> tuple[Path, dict]:
    path, manifest_path = model_dir / f"{name}.onnx", model_dir / f"{name}.json"
    if not path.is_file() or not manifest_path.is_file():
        raise ModelError(
            f"model {name!r} is not built: {path} (and {manifest_path.name}) missing; "
            "run `make model`, or use EMBEDDER=default"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        expected = str(manifest["sha256"])
        version = str(manifest["version"])
    except (ValueError, KeyError) as exc:
        raise ModelError(f"{manifest_path} is not a model manifest: {exc}") from exc
    if _sha256(path) != expected:
        raise ModelError(f"{path} does not match the checksum in {manifest_path.name}; rebuild it")
    if not NAME_PATTERN.fullmatch(version):
        raise ModelError(f"{manifest_path}: bad version {version!r}")
    return path, manifest


def frame(image: Image.Image, side: int) -> np.ndarray:
    """The image as float32 (3, side, side), RGB 0-255: a studio backdrop trimmed away (as
    the hand-made features do), then squeezed to a square, aspect ratio not kept (packs are
    framed the same way in reference images and in shelf crops)."""
    rgb = features.trim_border(np.asarray(image.convert("RGB")))
    square = Image.fromarray(np.ascontiguousarray(rgb)).resize(
        (side, side), Image.Resampling.BILINEAR
    )
    return np.asarray(square, dtype=np.float32).transpose(2, 0, 1)


class OnnxEmbedder:
    """Features from an ONNX image model, L2-normalised; inference in batches of BATCH."""

    def __init__(self, model_dir: Path, name: str, threads: int | None = None) -> None:
        if not NAME_PATTERN.fullmatch(name):
            raise ModelError(f"bad model name {name!r}: lower-case letters, digits, . _ -")
        try:
            import onnxruntime
        except ImportError as exc:
            raise ModelError(
                "EMBEDDER=onnx:... needs onnxruntime, which this installation does not have: "
                "pip install 'retail-pulse[onnx]' (or use EMBEDDER=default)"
            ) from exc
        path, manifest = _read_manifest(model_dir, name)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{path} cannot be loaded: {exc}") from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        shape = inputs[0].shape if len(inputs) == 1 else []
        if (
            len(shape) != 4
            or shape[1] != 3
            or shape[2] != shape[3]
            or not isinstance(shape[2], int)
        ):
            raise ModelError(f"{path}: needs one input (N, 3, S, S), not {shape or inputs}")
        if (
            len(outputs) != 1
            or len(outputs[0].shape) != 2
            or not isinstance(outputs[0].shape[1], int)
        ):
            raise ModelError(f"{path}: needs one output (N, D)")
        self._input = inputs[0]
        height, output_shape = shape[2], outputs[0].shape
        self.name = name
        self.version = str(manifest["version"])
        self.dimension = int(output_shape[-1])
        self.side = int(height)
        self.work_size = self.side

    @property
    def model(self) -> str:
        return f"{self.name}:{self.version}"

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        out = np.empty((len(images), self.dimension), dtype=np.float32)
        for start in range(0, len(images), BATCH):
            chunk = images[start : start + BATCH]
            batch = np.stack([frame(image, self.side) for image in chunk])
            (found,) = self._session.run(None, {self._input.name: batch})
            out[start : start + len(chunk)] = found.reshape(len(chunk), -1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
