"""Adds the `features` output to an exported liveness network (patch or whole view).

The refit of a deployment (`docliveness queue adapt`) fits a small head on what the
network computes just before its classifier: the pooled 128 channels of its head
convolution (`PatchNet.logits` in liveness_training/model.py). Networks exported from
now on carry that output (liveness_training/export.py); this script gives it to a
network exported before, without retraining: the weights, the other outputs and every
number they give stay as they were.

    pip install onnx==1.23.2 onnxruntime==1.31.1 numpy
    python models/tools/add_features_output.py models/liveness/liveness.onnx
    python models/tools/add_features_output.py models/liveness/view/view.onnx
"""

import sys

import numpy as np
import onnx
from onnx import helper

NAME = "features"


def pooled_features(graph: onnx.GraphProto) -> str:
    """The tensor the classifier reads: the input of the one Gemm whose weight is
    `classify.weight`."""
    for node in graph.node:
        if node.op_type == "Gemm" and "classify.weight" in node.input:
            return node.input[0]
    raise SystemExit("no classifier (a Gemm reading classify.weight) in this graph")


def main(path: str) -> None:
    model = onnx.load(path)
    graph = model.graph
    if any(o.name == NAME for o in graph.output):
        print(f"{path}: already has a {NAME} output")
        return
    before = onnx.load(path)
    source = pooled_features(graph)
    width = next(i for i in graph.initializer if i.name == "classify.weight").dims[1]
    batch = graph.input[0].type.tensor_type.shape.dim[0].dim_value
    graph.node.append(helper.make_node("Identity", [source], [NAME], name="features_output"))
    graph.output.append(helper.make_tensor_value_info(NAME, onnx.TensorProto.FLOAT, [batch, width]))
    onnx.checker.check_model(model)

    import onnxruntime as ort

    shape = [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    run = lambda m: ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {graph.input[0].name: x})
    old, new = run(before), run(model)
    for a, b in zip(old, new):
        assert np.array_equal(a, b), "an existing output changed"
    assert new[-1].shape == (batch, width)
    onnx.save(model, path)
    print(f"{path}: added {NAME} ({batch} x {width}) from {source}")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        main(p)
