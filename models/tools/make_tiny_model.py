"""Builds the tiny ONNX model the inference tests run through tract and ONNX Runtime.

It is not a liveness model: a fixed, seeded 3x3 convolution, pooling and two small
heads, small enough to commit, with outputs shaped like the liveness model's (a live
probability, three attack probabilities and the pooled features the heads read). Its expected outputs on a fixed input are
computed here with NumPy and written beside it, so the Rust tests check real numbers.

    pip install onnx==1.23.2 numpy
    python models/tools/make_tiny_model.py tests/fixtures/tiny_model
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 16


def fixed_input() -> np.ndarray:
    # The Rust test builds the same tensor: value i = ((i * 37) % 101) / 101 - 0.5.
    i = np.arange(3 * SIZE * SIZE, dtype=np.int64)
    return (((i * 37) % 101) / 101.0 - 0.5).astype(np.float32).reshape(1, 3, SIZE, SIZE)


def reference(x, conv_w, conv_b, live_w, live_b, att_w, att_b):
    c_out = conv_w.shape[0]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((1, c_out, SIZE, SIZE), dtype=np.float64)
    for o in range(c_out):
        for y in range(SIZE):
            for xx in range(SIZE):
                conv[0, o, y, xx] = np.sum(padded[0, :, y:y + 3, xx:xx + 3] * conv_w[o]) + conv_b[o]
    pooled = np.maximum(conv, 0).mean(axis=(2, 3))
    live = 1.0 / (1.0 + np.exp(-(pooled @ live_w.T + live_b)))
    logits = pooled @ att_w.T + att_b
    attacks = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    return live.astype(np.float32), attacks.astype(np.float32), pooled.astype(np.float32)


def main(out_dir: Path) -> None:
    rng = np.random.default_rng(20261127)
    conv_w = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)
    conv_b = rng.normal(0, 0.1, (4,)).astype(np.float32)
    live_w = rng.normal(0, 1.0, (1, 4)).astype(np.float32)
    live_b = np.array([0.2], dtype=np.float32)
    att_w = rng.normal(0, 1.0, (3, 4)).astype(np.float32)
    att_b = np.zeros(3, dtype=np.float32)

    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("Gemm", ["flat", "live_w", "live_b"], ["live_logit"], transB=1),
        helper.make_node("Sigmoid", ["live_logit"], ["liveness"]),
        helper.make_node("Gemm", ["flat", "att_w", "att_b"], ["att_logit"], transB=1),
        helper.make_node("Softmax", ["att_logit"], ["attacks"], axis=1),
        helper.make_node("Identity", ["flat"], ["features"]),
    ]
    inits = [
        numpy_helper.from_array(conv_w, "conv_w"),
        numpy_helper.from_array(conv_b, "conv_b"),
        numpy_helper.from_array(live_w, "live_w"),
        numpy_helper.from_array(live_b, "live_b"),
        numpy_helper.from_array(att_w, "att_w"),
        numpy_helper.from_array(att_b, "att_b"),
    ]

    def graph_for(batch: int):
        graph = helper.make_graph(
            nodes,
            "tiny",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, SIZE, SIZE])],
            [
                helper.make_tensor_value_info("liveness", TensorProto.FLOAT, [batch, 1]),
                helper.make_tensor_value_info("attacks", TensorProto.FLOAT, [batch, 3]),
                helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, 4]),
            ],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="docliveness")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    out_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(graph_for(1), out_dir / "tiny.onnx")

    live, attacks, features = reference(fixed_input(), conv_w, conv_b, live_w, live_b, att_w, att_b)
    (out_dir / "expected.json").write_text(
        json.dumps({"liveness": live.ravel().tolist(), "attacks": attacks.ravel().tolist(), "features": features.ravel().tolist()}, indent=2) + "\n"
    )
    manifest = {
        "name": "tiny-test",
        "version": "test-1",
        "file": "tiny.onnx",
        "input": {"name": "input", "width": SIZE, "height": SIZE, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "outputs": [
            {"name": "liveness", "meaning": "liveness"},
            {"name": "attacks", "meaning": "attacks:screen,print,digital"},
            {"name": "features", "meaning": "features"},
        ],
        "patches": 4,
        "trainingData": "none: fixed random weights for inference tests only",
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    # The same network as a whole-view model: the engine runs a view's four symmetric
    # forms as one batch.
    view_dir = out_dir / "view"
    view_dir.mkdir(exist_ok=True)
    onnx.save(graph_for(4), view_dir / "tiny_view.onnx")
    view = {**manifest, "name": "tiny-view-test", "file": "tiny_view.onnx", "batch": 4, "view": {"expand": 2.0, "samples": 2, "fill": [128, 128, 128]}}
    del view["patches"]
    (view_dir / "manifest.json").write_text(json.dumps(view, indent=2) + "\n")
    print(f"wrote {out_dir}/tiny.onnx, manifest.json, expected.json, view/")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/tiny_model"))
