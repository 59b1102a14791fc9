"""The score rules the calibration fits and chooses between, as the engine computes them
(`engine/src/liveness/aggregate.rs`). Run: `cd models/training && .venv/bin/python -m
unittest discover tests`."""

import math
import unittest

import numpy as np

from liveness_training.calibrate import GENUINE_BELOW_FAIL, GENUINE_BELOW_PASS, MAX_SCALE, SCREEN_CAUGHT, choose, joint_rule, logit, placed, placement, score_of, why_chosen


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

    def ranking(self, fitted_screen, joint_screen, fitted_bpcer=0.3, joint_bpcer=0.3):
        return {
            "fitted": {"screen": {"eer": fitted_screen, "bpcer_at_apcer5": fitted_bpcer}, "print": {"eer": 0.0, "bpcer_at_apcer5": 0.0}},
            "joint": {"screen": {"eer": joint_screen, "bpcer_at_apcer5": joint_bpcer}, "print": {"eer": 0.01, "bpcer_at_apcer5": 0.01}},
        }

    def test_the_lower_worst_type_eer_wins(self):
        self.assertEqual(choose(self.candidates, self.ranking(0.174, 0.134)), "joint")
        self.assertEqual(choose(self.candidates, self.ranking(0.10, 0.134, joint_bpcer=0.1)), "fitted")

    def test_an_eer_tie_goes_to_the_lower_bpcer_at_apcer_5(self):
        # The v7 calibration: both rules at a screen EER of 13.4%, BPCER at APCER 5% 48.8%
        # for the lower of two and 22.3% for the joint rule.
        self.assertEqual(choose(self.candidates, self.ranking(0.134, 0.134, 0.488, 0.223)), "joint")
        self.assertEqual(choose(self.candidates, self.ranking(0.134, 0.134, 0.2, 0.223)), "fitted")

    def test_a_tie_in_both_keeps_the_lower_of_two(self):
        self.assertEqual(choose(self.candidates, self.ranking(0.15, 0.15)), "fitted")

    def test_a_joint_fit_with_a_weight_that_is_not_positive_is_no_candidate(self):
        self.assertIsNone(joint_rule(np.array([0.7, -0.01]), 0.2))
        self.assertIsNone(joint_rule(np.array([0.0, 0.7]), 0.2))
        rule = joint_rule(np.array([0.7, 0.6]), 0.2)
        self.assertEqual((rule["rule"], rule["slope"], rule["viewSlope"], rule["offset"]), ("jointLogit", 0.7, 0.6, 0.2))


class Placement(unittest.TestCase):
    """Where 0.5 and 0.25 land once the rule is placed on real calibration photos."""

    def shares(self, genuine, screen):
        place = placement(genuine, screen)
        self.assertIsNotNone(place)
        rescore = lambda z: place["scale"] * z + place["shift"]
        return place, np.mean(rescore(screen) < 0), np.mean(rescore(genuine) < 0), np.mean(rescore(genuine) < -math.log(3))

    def test_half_catches_the_target_share_of_screens_and_a_quarter_fails_few_genuine_photos(self):
        rng = np.random.default_rng(3)
        genuine, screen = rng.normal(2.0, 1.5, 400), rng.normal(-2.0, 1.5, 400)
        place, caught, below_pass, below_fail = self.shares(genuine, screen)
        self.assertEqual(place["passSetBy"], "screens")
        self.assertAlmostEqual(caught, SCREEN_CAUGHT, delta=0.005)
        self.assertLess(below_pass, GENUINE_BELOW_PASS)
        self.assertAlmostEqual(below_fail, GENUINE_BELOW_FAIL, delta=0.005)

    def test_the_genuine_target_bounds_how_many_screens_are_caught(self):
        # Screens that look genuine: catching 90% of them would put most genuine photos
        # below 0.5, so 0.5 stops where 20% of them are.
        rng = np.random.default_rng(4)
        genuine, screen = rng.normal(1.0, 1.0, 400), rng.normal(0.8, 1.0, 400)
        place, caught, below_pass, _ = self.shares(genuine, screen)
        self.assertEqual(place["passSetBy"], "genuine")
        self.assertAlmostEqual(below_pass, GENUINE_BELOW_PASS, delta=0.005)
        self.assertLess(caught, SCREEN_CAUGHT)

    def test_no_placement_without_real_photos_of_both_kinds(self):
        self.assertIsNone(placement(np.array([]), np.array([-1.0, -2.0])))
        self.assertIsNone(placement(np.array([1.0, 2.0]), np.array([])))

    def test_placing_a_rule_scales_its_log_odds_and_keeps_the_lower_of_two(self):
        place = {"scale": 0.4, "shift": -0.3}
        live, view = np.array([0.7, 0.95, 0.2]), 1.5
        for rule in (
            {"rule": "jointLogit", "clamp": 0.001, "slope": 0.8, "viewSlope": 0.7, "offset": 0.2},
            {"rule": "meanLogit", "clamp": 0.001, "slope": 1.2, "offset": 0.1, "viewSlope": 0.5, "viewOffset": -2.0},
            {"rule": "meanLogit", "clamp": 0.001, "slope": 1.2, "offset": 0.1, "viewSlope": 0.5, "viewOffset": 3.0},
        ):
            want = logistic(0.4 * logit(score_of(rule, live, view)) - 0.3)
            self.assertAlmostEqual(score_of(placed(rule, place), live, view), want, places=12)

    def test_a_placed_rule_keeps_its_keys(self):
        # The engine refuses a manifest whose joint rule carries a viewOffset.
        place = {"scale": 0.4, "shift": -0.3}
        joint = {"rule": "jointLogit", "clamp": 0.001, "slope": 0.8, "viewSlope": 0.7, "offset": 0.2}
        self.assertEqual(placed(joint, place).keys(), joint.keys())
        patches = {"rule": "meanLogit", "clamp": 0.001, "slope": 1.2, "offset": 0.1}
        self.assertEqual(placed(patches, place).keys(), patches.keys())

    def test_no_placement_steeper_than_the_cap(self):
        # Genuine photos whose 2% and 20% points nearly coincide would need a step.
        genuine = np.concatenate([np.full(10, 1.0), np.full(90, 1.01)])
        screen = np.linspace(-3.0, 3.0, 100)
        self.assertIsNone(placement(genuine, screen))
        spread = np.linspace(0.0, 4.0, 100)
        self.assertLessEqual(placement(spread, screen)["scale"], MAX_SCALE)


class Why(unittest.TestCase):
    def test_the_reason_names_the_figure_that_decided(self):
        ranking = {
            "fitted": {"screen": {"eer": 0.134, "bpcer_at_apcer5": 0.488}},
            "joint": {"screen": {"eer": 0.134, "bpcer_at_apcer5": 0.223}},
        }
        self.assertIn("tie on their worst attack type's EER", why_chosen(ranking, "joint"))
        ranking["joint"]["screen"]["eer"] = 0.12
        self.assertIn("EER on these photos is lower", why_chosen(ranking, "joint"))
