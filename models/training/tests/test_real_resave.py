"""The re-save figures of the real-photo measurement. Run: `cd models/training &&
.venv/bin/python -m unittest discover tests`."""

import os
import tempfile
import unittest

import numpy as np
from PIL import Image

from liveness_training.real_eval import RESAVES, resave_figures, write_resaves


class Resaves(unittest.TestCase):
    def test_changes_are_taken_between_the_pairs_and_unscored_photos_left_out(self):
        written = [("genuine", "genuine__a"), ("genuine", "genuine__b"), ("screen", "screen__c")]
        scores = {
            "genuine__a": {"q90": 0.80, "q100": 0.70, "q90r85": 0.60, "q100r85": 0.64},
            # A quality error in one variant: left out, not counted as no change.
            "genuine__b": {"q90": 0.50, "q100": None, "q90r85": 0.50, "q100r85": 0.50},
            "screen__c": {"q90": 0.10, "q100": 0.10, "q90r85": 0.10, "q100r85": 0.12},
        }
        results = [{"path": f"/x/{stem}__{tag}.jpg", "score": v} for stem, d in scores.items() for tag, v in d.items()]
        out = resave_figures(written, results)
        self.assertEqual(out["genuine"]["photos"], 1)
        self.assertAlmostEqual(out["genuine"]["jpeg_90_vs_100"]["max"], 0.10)
        self.assertAlmostEqual(out["genuine"]["again_at_85"]["max"], 0.04)
        self.assertAlmostEqual(out["screen"]["again_at_85"]["median"], 0.02)

    def test_every_variant_is_written_as_a_jpeg_of_its_quality_chain(self):
        with tempfile.TemporaryDirectory() as d:
            for label in ("genuine", "screen"):
                os.makedirs(os.path.join(d, "in", label))
            rng = np.random.default_rng(0)
            Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(os.path.join(d, "in", "genuine", "p.png"))
            written = write_resaves(os.path.join(d, "in"), os.path.join(d, "out"))
            self.assertEqual(written, [("genuine", "genuine__p")])
            files = sorted(os.listdir(os.path.join(d, "out")))
            self.assertEqual(files, sorted(f"genuine__p__{t}.jpg" for t in RESAVES))
            sizes = {t: os.path.getsize(os.path.join(d, "out", f"genuine__p__{t}.jpg")) for t in RESAVES}
            # Noise at quality 100 costs far more bytes than at 90, and the second save at
            # 85 is smaller still.
            self.assertGreater(sizes["q100"], sizes["q90"])
            self.assertLess(sizes["q100r85"], sizes["q100"])
