"""ONNX export with a fixed batch, checked against PyTorch."""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from .model import MEAN, PATCH, STD, PatchNet

OPSET = 13  # tract and ONNX Runtime both run it
OUTPUTS = [
    {"name": "liveness", "meaning": "liveness"},
    {"name": "attacks", "meaning": "attacks:screen,print,digital"},
    # What the classifier reads: a deployment's refit fits its own small head on it.
    {"name": "features", "meaning": "features"},
]


def _to_onnx(weights: str, path: str, batch: int, height: int, width: int) -> None:
    """Exports the trained network for NCHW batches of `batch` and checks ONNX Runtime
    agrees with PyTorch."""
    model = PatchNet(pretrained=False)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dummy = torch.randn(batch, 3, height, width)
    torch.onnx.export(model, (dummy,), path, input_names=["input"], output_names=[o["name"] for o in OUTPUTS], opset_version=OPSET, dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": dummy.numpy()})
    with torch.no_grad():
        want = model(dummy)
    for g, w in zip(got, want):
        assert np.allclose(g, w.numpy(), atol=1e-4), "ONNX export differs from PyTorch"


def _write_manifest(out_dir: str, manifest: dict) -> None:
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def export(weights: str, out_dir: str, patches: int, batch: int, version: str, training_data: str, resave_quality: int | None = None) -> str:
    """The patch model, with a manifest; `resave_quality` is the JPEG quality the engine
    saves each patch at before the model sees it (none when absent)."""
    path = os.path.join(out_dir, "liveness.onnx")
    _to_onnx(weights, path, batch, PATCH, PATCH)
    _write_manifest(out_dir, {
        "name": "liveness",
        "version": version,
        "file": "liveness.onnx",
        "input": {"name": "input", "width": PATCH, "height": PATCH, "mean": MEAN, "std": STD},
        "outputs": OUTPUTS,
        "patches": patches,
        "batch": batch,
        **({"resaveQuality": resave_quality} if resave_quality is not None else {}),
        "trainingData": training_data,
    })
    return path


def export_view(weights: str, out_dir: str, version: str, training_data: str, batch: int = 1) -> str:
    """The whole-view model, in its own folder inside the liveness model's; the engine
    runs the four symmetric views of one document in batches of `batch` (1, 2 or 4),
    and tract is fastest at 1."""
    from . import whole_view as wv

    path = os.path.join(out_dir, "view.onnx")
    if batch not in (1, 2, 4):
        raise ValueError(f"the view's four forms split into equal batches of 1, 2 or 4, not {batch}")
    _to_onnx(weights, path, batch, wv.HEIGHT, wv.WIDTH)
    _write_manifest(out_dir, {
        "name": "liveness-view",
        "version": version,
        "file": "view.onnx",
        "input": {"name": "input", "width": wv.WIDTH, "height": wv.HEIGHT, "mean": MEAN, "std": STD},
        "outputs": OUTPUTS,
        "batch": batch,
        "view": {"expand": wv.EXPAND, "samples": wv.SAMPLES, "fill": list(wv.FILL)},
        "trainingData": training_data,
    })
    return path
