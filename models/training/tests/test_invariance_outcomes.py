"""The invariance check's count of photos whose variants split between a score and a
quality error. Run: `cd models/training && .venv/bin/python -m unittest discover tests`."""

import unittest

from liveness_training.evaluate import _split_outcomes


class SplitOutcomes(unittest.TestCase):
    # Scores by path; None is a photo stopped by a quality error.
    results = {"a90": 0.8, "a100": 0.81, "b90": None, "b100": None, "c90": 0.7, "c100": None, "a": 0.8, "b": 0.6, "c": 0.7}
    groups = {
        0: {"original": "a", "q90": "a90", "q100": "a100"},
        1: {"original": "b", "q90": "b90", "q100": "b100"},
        2: {"original": "c", "q90": "c90", "q100": "c100"},
    }

    def test_only_groups_with_both_outcomes_count(self):
        # 0 is scored both ways, 1 is an error both ways: neither counts; 2 splits.
        self.assertEqual(_split_outcomes(self.groups, self.results, ["q90", "q100"]), 1)

    def test_the_photo_as_generated_counts_against_its_resaves(self):
        # 1's re-saves are both errors, but the photo as generated was scored.
        self.assertEqual(_split_outcomes(self.groups, self.results, ["original", "q90", "q100"]), 2)

    def test_a_photo_the_binary_gave_no_result_for_is_an_error(self):
        groups = {0: {"q90": "a90", "q100": "missing"}}
        self.assertEqual(_split_outcomes(groups, self.results, ["q90", "q100"]), 1)


if __name__ == "__main__":
    unittest.main()
