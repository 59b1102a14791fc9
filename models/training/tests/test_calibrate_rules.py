"""The score rules the calibration fits and chooses between, as the engine computes them
(`engine/src/liveness/aggregate.rs`). Run: `cd models/training && .venv/bin/python -m
unittest discover tests`."""

import math
import unittest

import numpy as np

from liveness_training.calibrate import choose, joint_rule, score_of


def logistic(z):
    return 1 / (1 + math.exp(-z))


class Rules(unittest.TestCase):
    def test_the_joint_rule_is_one_function_of_both(self):
        # The numbers of the engine's own test of the joint rule.
        rule = {"rule": "jointLogit", "clamp": 0.001, "slope": 0.75, "viewSlope": 0.69, "offset": 0.19}
        self.assertAlmostEqual(score_of(rule, np.array([0.8, 0.8]), -1.0), logistic(0.75 * math.log(4) - 0.69 + 0.19), places=12)

    def test_the_lower_of_two_and_the_patches_alone(self):
        lower = {"rule": "meanLogit", "clamp": 0.001, "slope": 1.0, "offset": 0.0, "viewSlope": 0.5, "viewOffset": 1.0}
        self.assertAlmostEqual(score_of(lower, np.array([0.5, 0.5]), -6.0), logistic(-2.0), places=12)
        # A live-looking view cannot lift the patches.
        self.assertAlmostEqual(score_of(lower, np.array([0.5, 0.5]), 8.0), 0.5, places=12)
        patches = {"rule": "meanLogit", "clamp": 0.001, "slope": 1.0, "offset": 0.0}
        self.assertAlmostEqual(score_of(patches, np.array([0.9, 0.9]), None), 0.9, places=12)
        # The engine leaves a zero viewOffset out of the manifest.
        no_offset = {"rule": "meanLogit", "clamp": 0.001, "slope": 1.0, "offset": 0.0, "viewSlope": 1.0}
        self.assertAlmostEqual(score_of(no_offset, np.array([0.9]), -1.0), logistic(-1.0), places=12)

    def test_each_patch_is_held_inside_the_rules_clamp(self):
        # The engine's own test case: 1.0 and 0.0 count as 0.999 and 0.001 (log-odds ±6.907),
        # and cancel; 0.9995 is held at 0.999 too.
        rule = {"rule": "jointLogit", "clamp": 0.001, "slope": 1.0, "viewSlope": 1.0, "offset": 0.0}
        held = math.log(0.999 / 0.001)
        self.assertAlmostEqual(score_of(rule, np.array([1.0, 0.0, 0.9995]), 0.0), logistic(held / 3), places=9)


class Choice(unittest.TestCase):
    candidates = {"fitted": {}, "joint": {}}

    def ranking(self, fitted_screen, joint_screen):
        return {
            "fitted": {"screen": {"eer": fitted_screen}, "print": {"eer": 0.0}},
            "joint": {"screen": {"eer": joint_screen}, "print": {"eer": 0.01}},
        }

    def test_the_lower_worst_type_eer_wins(self):
        self.assertEqual(choose(self.candidates, self.ranking(0.174, 0.134)), "joint")
        self.assertEqual(choose(self.candidates, self.ranking(0.10, 0.134)), "fitted")

    def test_a_tie_keeps_the_lower_of_two(self):
        self.assertEqual(choose(self.candidates, self.ranking(0.15, 0.15)), "fitted")

    def test_a_joint_fit_with_a_weight_that_is_not_positive_is_no_candidate(self):
        self.assertIsNone(joint_rule(np.array([0.7, -0.01]), 0.2))
        self.assertIsNone(joint_rule(np.array([0.0, 0.7]), 0.2))
        rule = joint_rule(np.array([0.7, 0.6]), 0.2)
        self.assertEqual((rule["rule"], rule["slope"], rule["viewSlope"], rule["offset"]), ("jointLogit", 0.7, 0.6, 0.2))
