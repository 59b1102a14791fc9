"""The exporters write the batch the engine is told about, and the view's four forms
must split into equal batches."""

import json
import os
import tempfile
import unittest

import onnx
import torch

from liveness_training import pipeline
from liveness_training.export import export, export_view
from liveness_training.model import PATCH, PatchNet


def _random_weights(folder: str) -> str:
    torch.manual_seed(0)
    path = os.path.join(folder, "net.pt")
    torch.save(PatchNet(pretrained=False).state_dict(), path)
    return path


def _input_shape(path: str) -> list[int]:
    graph = onnx.load(path).graph
    return [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]


class ExportTest(unittest.TestCase):
    def test_the_pipeline_exports_single_patch_runs(self):
        # tract runs a batch of one much faster per patch than larger batches.
        self.assertEqual(pipeline.BATCH, 1)

    def test_graph_and_manifest_agree_on_the_batch(self):
        with tempfile.TemporaryDirectory() as folder:
            weights = _random_weights(folder)
            out = os.path.join(folder, "liveness")
            path = export(weights, out, patches=16, batch=1, version="t", training_data="none")
            self.assertEqual(_input_shape(path), [1, 3, PATCH, PATCH])
            with open(os.path.join(out, "manifest.json")) as f:
                self.assertEqual(json.load(f)["batch"], 1)
            view = export_view(weights, os.path.join(out, "view"), "t", "none", batch=2)
            self.assertEqual(_input_shape(view)[0], 2)
            with open(os.path.join(out, "view", "manifest.json")) as f:
                self.assertEqual(json.load(f)["batch"], 2)

    def test_the_export_gives_the_features_the_classifier_reads(self):
        import onnxruntime as ort

        with tempfile.TemporaryDirectory() as folder:
            weights = _random_weights(folder)
            path = export(weights, os.path.join(folder, "liveness"), patches=16, batch=1, version="t", training_data="none")
            x = torch.randn(1, 3, PATCH, PATCH)
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            names = [o.name for o in sess.get_outputs()]
            self.assertEqual(names, ["liveness", "attacks", "features"])
            got = sess.run(["features"], {"input": x.numpy()})[0]
            model = PatchNet(pretrained=False)
            model.load_state_dict(torch.load(weights, weights_only=True))
            model.eval()
            with torch.no_grad():
                want = model.pooled(x).numpy()
                # The features are what the classifier reads: its logits follow from them.
                logits = model.classify(torch.from_numpy(got)).numpy()
            self.assertEqual(got.shape, (1, 128))
            self.assertTrue((abs(got - want) < 1e-4).all())
            self.assertTrue((abs(logits - model.logits(x).detach().numpy()) < 1e-3).all())

    def test_a_view_batch_that_does_not_split_four_forms_is_refused(self):
        with tempfile.TemporaryDirectory() as folder:
            weights = _random_weights(folder)
            with self.assertRaises(ValueError):
                export_view(weights, os.path.join(folder, "view"), "t", "none", batch=3)


if __name__ == "__main__":
    unittest.main()
