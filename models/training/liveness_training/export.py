"""ONNX export with a fixed patch batch, checked against PyTorch."""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from .model import MEAN, PATCH, STD, PatchNet

OPSET = 13  # tract and ONNX Runtime both run it


def export(weights: str, out_dir: str, patches: int, batch: int, version: str, training_data: str) -> str:
    model = PatchNet(pretrained=False)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "liveness.onnx")
    dummy = torch.randn(batch, 3, PATCH, PATCH)
    torch.onnx.export(model, (dummy,), path, input_names=["input"], output_names=["liveness", "attacks"], opset_version=OPSET, dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": dummy.numpy()})
    with torch.no_grad():
        want = model(dummy)
    for g, w in zip(got, want):
        assert np.allclose(g, w.numpy(), atol=1e-4), "ONNX export differs from PyTorch"
    manifest = {
        "name": "liveness",
        "version": version,
        "file": "liveness.onnx",
        "input": {"name": "input", "width": PATCH, "height": PATCH, "mean": MEAN, "std": STD},
        "outputs": [
            {"name": "liveness", "meaning": "liveness"},
            {"name": "attacks", "meaning": "attacks:screen,print,digital"},
        ],
        "patches": patches,
        "batch": batch,
        "trainingData": training_data,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return path
