"""The network: an ONNX image-feature model (`make model`), run with onnxruntime.

`MODEL_DIR/NAME.onnx` takes float32 images (N, 3, H, W), RGB 0-255, and returns features
(N, D). `MODEL_DIR/NAME.json` beside it (written by scripts/build_model.py) holds its sha256,
checked at load, the version that goes into the stored `model` column and the working size.
No torch and no download at run time.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

import numpy as np

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,40}")
# Views per inference call. Small batches on one thread cost the least CPU per view here
# (2 cores, 224 px: 6 ms per view at 1-3, 8 ms at 16; two threads spend 10 ms of CPU for a
# little less wall time), and parallelism comes from the callers' threads and processes.
BATCH = 4
THREADS = 1


class ModelError(ValueError):
    """The model file is missing, does not match its checksum, or cannot be run."""


def sha256_of(path: Path) -> str:
    """The checksum a model's manifest records (`scripts/build_model.py` writes it)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_manifest(model_dir: Path, name: str) -> tuple[Path, dict]:
    path, manifest_path = model_dir / f"{name}.onnx", model_dir / f"{name}.json"
    if not path.is_file() or not manifest_path.is_file():
        raise ModelError(
            f"model {name!r} is not built: {path} (and {manifest_path.name}) missing; "
            "run `make model` (a few seconds, once)"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        expected = str(manifest["sha256"])
        version = str(manifest["version"])
    except (ValueError, KeyError) as exc:
        raise ModelError(f"{manifest_path} is not a model manifest: {exc}") from exc
    if sha256_of(path) != expected:
        raise ModelError(f"{path} does not match the checksum in {manifest_path.name}; rebuild it")
    if not NAME_PATTERN.fullmatch(version):
        raise ModelError(f"{manifest_path}: bad version {version!r}")
    return path, manifest


class Backbone:
    """Features from an ONNX image model; inference in batches of BATCH views.

    The manifest and checksum are checked when it is made; onnxruntime and the model are
    loaded only at the first inference (`load=False`), so a process that never embeds (a web
    process busy with jobs, the supervisor) never pays their 100 MB."""

    def __init__(
        self, model_dir: Path, name: str, threads: int = THREADS, load: bool = True
    ) -> None:
        if not NAME_PATTERN.fullmatch(name):
            raise ModelError(f"bad model name {name!r}: lower-case letters, digits, . _ -")
        self._path, manifest = read_manifest(model_dir, name)
        self._threads = threads
        self._session = None
        self._lock = threading.Lock()
        self.name = name
        self.version = str(manifest["version"])
        self.dimension = int(manifest.get("dimension") or 0)
        self.side = int(manifest.get("side") or 224)
        if load or not self.dimension:
            self._load()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._session is not None:
                return self._session
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            path = self._path
            try:
                session = onnxruntime.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise ModelError(f"{path} cannot be loaded: {exc}") from exc
            inputs, outputs = session.get_inputs(), session.get_outputs()
            shape = inputs[0].shape if len(inputs) == 1 else []
            if len(shape) != 4 or shape[1] != 3:
                raise ModelError(f"{path}: needs one input (N, 3, H, W), not {shape or inputs}")
            if (
                len(outputs) != 1
                or len(outputs[0].shape) != 2
                or not isinstance(outputs[0].shape[1], int)
            ):
                raise ModelError(f"{path}: needs one output (N, D)")
            dimension = int(outputs[0].shape[1])
            if self.dimension and dimension != self.dimension:
                raise ModelError(
                    f"{path}: {dimension} features, its manifest says {self.dimension}"
                )
            self.dimension = dimension
            if isinstance(shape[2], int):  # a fixed input size wins over the manifest's
                self.side = int(shape[2])
            self._input = inputs[0].name
            self._session = session
            return session

    def run(self, views: np.ndarray) -> np.ndarray:
        """Raw features (n, D) of uint8 views (n, side, side, 3)."""
        session = self._session or self._load()
        out = np.empty((len(views), self.dimension), dtype=np.float32)
        for start in range(0, len(views), BATCH):
            chunk = views[start : start + BATCH].astype(np.float32).transpose(0, 3, 1, 2)
            (found,) = session.run(None, {self._input: np.ascontiguousarray(chunk)})
            out[start : start + len(chunk)] = found.reshape(len(chunk), -1)
        return out
