"""A tiny ONNX "network" tests build for themselves: images (N, 3, H, W) -> the mean colour
(N, 3), so a picture's vector is its mean colour and what the embedder feeds the network can
be checked exactly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

SIDE = 8  # the working side its manifest gives


def write_tiny_model(folder: Path, name: str = "tiny", version: str = "7") -> Path:
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["images"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["features"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / f"{name}.onnx"
    onnx.save(model, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {"version": version, "sha256": digest, "side": SIDE}
    (folder / f"{name}.json").write_text(json.dumps(manifest))
    return path
