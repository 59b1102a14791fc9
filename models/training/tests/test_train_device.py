"""Training's device handling: the CPU path computes what it always did, and whatever the
device, validation logits come back on the CPU."""

import unittest

import numpy as np
import torch

from liveness_training.model import MEAN, PATCH, STD, PatchNet
from liveness_training.train import device, predict_logits, to_tensor


class Device(unittest.TestCase):
    def test_to_tensor_normalises_nhwc_pixels_into_nchw(self):
        x = np.random.default_rng(0).integers(0, 256, (2, 4, 5, 3), dtype=np.uint8)
        t = to_tensor(x)
        self.assertEqual(tuple(t.shape), (2, 3, 4, 5))
        self.assertEqual(t.device.type, "cpu")
        want = (x[1, 2, 3, 0] / 255.0 - MEAN[0]) / STD[0]
        self.assertAlmostEqual(float(t[1, 0, 2, 3]), want, places=5)

    def test_validation_logits_come_back_on_the_cpu(self):
        model = PatchNet(pretrained=False).to(device())
        x = np.zeros((3, PATCH + 16, PATCH + 16, 3), np.uint8)
        logits = predict_logits(model, x, batch=2)
        self.assertEqual(tuple(logits.shape), (3, 4))
        self.assertEqual(logits.device, torch.device("cpu"))


if __name__ == "__main__":
    unittest.main()
