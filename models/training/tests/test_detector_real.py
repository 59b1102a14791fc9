"""The detector's real-photo measurement and its real-background training samples.
Run: `cd models/training && .venv/bin/python -m unittest discover tests`."""

import unittest

import numpy as np

from detector_training.grid import mask
from detector_training.real_eval import RIGHT, iou
from detector_training.paper_documents import PX_PER_MM, draw_paper
from detector_training.real_scenes import _lay, _quad, _shifted, magnetic_stripe


class OutlineIoU(unittest.TestCase):
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)

    def test_a_quad_against_itself_in_either_winding_is_one(self):
        self.assertAlmostEqual(iou(self.square, self.square[::-1]), 1.0)

    def test_half_overlap(self):
        shifted = self.square + [5, 0]
        # Intersection 50, union 150.
        self.assertAlmostEqual(iou(self.square, shifted), 1 / 3)

    def test_apart_is_zero(self):
        self.assertEqual(iou(self.square, self.square + [20, 0]), 0.0)


class Outcomes(unittest.TestCase):
    def test_a_whole_document_must_be_one_outline_and_not_cut_off(self):
        self.assertTrue(RIGHT["one"](1, None))
        self.assertTrue(RIGHT["one"](1, "DOCUMENT_TOO_SMALL"))
        self.assertFalse(RIGHT["one"](1, "DOCUMENT_CROPPED"))
        self.assertFalse(RIGHT["one"](2, "TOO_MANY_DOCUMENTS"))

    def test_no_document_must_be_not_found(self):
        self.assertTrue(RIGHT["none"](0, "DOCUMENT_NOT_FOUND"))
        self.assertFalse(RIGHT["none"](1, "DOCUMENT_TOO_SMALL"))

    def test_a_cut_off_document_may_be_cropped_or_too_close(self):
        self.assertTrue(RIGHT["cut"](1, "DOCUMENT_CROPPED"))
        self.assertTrue(RIGHT["cut"](1, "DOCUMENT_TOO_CLOSE_TO_CAMERA"))
        self.assertFalse(RIGHT["cut"](1, None))


class Composites(unittest.TestCase):
    def test_the_label_covers_the_pixels_the_document_was_laid_on(self):
        rng = np.random.default_rng(3)
        frame = np.full((256, 256, 3), 30.0)
        doc = np.full((54, 86, 3), 240, np.uint8)
        q = _quad(rng, 256, 256, 86 / 54, [])
        self.assertIsNotNone(q)
        out = _lay(rng, frame, doc, q)
        cover = mask([q]) > 0.9
        # Mean brightness of each 4 px cell, where the mask says document and where it says not.
        cells = out.mean(2).reshape(64, 4, 64, 4).mean((1, 3))
        outside = mask([q]) < 0.01
        self.assertGreater(cells[cover].mean(), 100)
        self.assertLess(cells[outside].mean(), 40)

    def test_a_second_document_never_meets_the_first(self):
        rng = np.random.default_rng(5)
        to_input = np.array([256 / 512, 256 / 384])
        first = _quad(rng, 512, 384, 1.586, [])
        placed = 0
        for _ in range(20):
            second = _quad(rng, 512, 384, 1.586, [first])
            if second is not None:
                placed += 1
                self.assertEqual(int(((mask([first * to_input]) > 0) & (mask([second * to_input]) > 0)).sum()), 0)
        self.assertGreater(placed, 0)

    def test_a_shadow_moves_without_wrapping_round_the_frame(self):
        a = np.zeros((6, 6))
        a[:, 0] = 1
        moved = _shifted(a, np.array([0, -2]))
        # The left column moves out of the frame; nothing reappears on the right.
        self.assertEqual(moved.sum(), 0)
        self.assertEqual(_shifted(a, np.array([1, 1]))[1:, 1].sum(), 5)


class PaperDocuments(unittest.TestCase):
    def test_sheets_are_pale_paper_of_real_sizes(self):
        for seed in range(12):
            sheet = draw_paper(np.random.default_rng(seed))
            h, w = sheet.shape[:2]
            long_mm, short_mm = max(h, w) / PX_PER_MM, min(h, w) / PX_PER_MM
            # A5 to US Letter pages, 57 or 80 mm till rolls.
            self.assertTrue(55 <= short_mm <= 217, short_mm)
            self.assertTrue(1.2 <= long_mm / short_mm <= 4.6, long_mm / short_mm)
            # Mostly bare paper: the median pixel is pale, and there is print on it.
            grey = sheet.mean(2)
            self.assertGreater(np.median(grey), 200)
            self.assertGreater((grey < 128).mean(), 0.002)


if __name__ == "__main__":
    unittest.main()


class CardBacks(unittest.TestCase):
    def test_a_stripe_runs_edge_to_edge_within_the_iso_band_of_one_long_edge(self):
        # 10 px per mm: a card 54 mm high is 540 px; the band lies 4-6 mm in, 9.5-12.7 mm wide.
        card = np.full((540, 856, 3), 230, np.uint8)
        for seed in range(8):
            out = magnetic_stripe(np.random.default_rng(seed), card, 54.0)
            dark = out.mean(axis=(1, 2)) < 110
            rows = np.flatnonzero(dark)
            self.assertGreater(len(rows), 0)
            near = rows if rows[0] < 270 else 539 - rows[::-1]
            self.assertTrue(40 <= near[0] <= 60, near[0])
            self.assertTrue(95 <= len(rows) <= 127, len(rows))
            self.assertEqual(len(rows), rows[-1] - rows[0] + 1)
            # Edge to edge, and the rest of the card untouched.
            self.assertTrue((out[rows[0] : rows[-1] + 1].mean(axis=2) < 110).all())
            self.assertEqual(int(np.abs(out[~dark].astype(int) - 230).max()), 0)
