"""ONNX export of the document detector, checked against PyTorch, with its manifest."""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from .model import GRID, MEAN, SIDE, STD, DocNet

OPSET = 13  # tract and ONNX Runtime both run it


def export(weights: str, out_dir: str, version: str, training_data: str) -> str:
    """Writes `detector.onnx` and `manifest.json` into `out_dir`; returns the ONNX path."""
    model = DocNet(pretrained=False)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "detector.onnx")
    dummy = torch.randn(1, 3, SIDE, SIDE)
    torch.onnx.export(model, (dummy,), path, input_names=["input"], output_names=["document"], opset_version=OPSET, dynamo=False)
    import onnxruntime as ort

    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": dummy.numpy()})[0]
    with torch.no_grad():
        want = model(dummy).numpy()
    assert got.shape == (1, 1, GRID, GRID) and np.allclose(got, want, atol=1e-3), "ONNX export differs from PyTorch"
    manifest = {
        "name": "detector",
        "version": version,
        "file": "detector.onnx",
        "input": {"name": "input", "width": SIDE, "height": SIDE, "mean": MEAN, "std": STD},
        "outputs": [{"name": "document", "meaning": "document-logits"}],
        "trainingData": training_data,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return path
