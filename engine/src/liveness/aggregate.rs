//! How the liveness model's per-patch probabilities become one score for the image.
//!
//! A patch's probability is calibrated for a patch; the score must be calibrated for a
//! whole photo, where 0.25 and 0.5 route it to failure, review or a pass. The manifest
//! names the rule and, for a fitted rule, the scale it was fitted to on whole photos
//! that neither training nor the held-out evaluation uses.

use serde::{Deserialize, Serialize};

use crate::probability::{log_odds, logistic};

/// The rule in a liveness manifest's `aggregation` field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "rule", rename_all = "camelCase", deny_unknown_fields)]
pub enum Aggregation {
    /// The mean of the patches' live probabilities, unscaled (what a manifest that
    /// names no rule gets).
    #[default]
    Mean,
    /// The logistic function of `slope · m + offset`, where `m` is the mean of the
    /// patches' log-odds. Log-odds let a patch that is sure count for more than one that
    /// is unsure; each probability is first held inside `[clamp, 1 − clamp]` so that one
    /// patch cannot outvote the rest on its own.
    MeanLogit {
        /// Smallest distance of a patch probability from 0 and 1.
        clamp: f64,
        /// Scale of the mean log-odds.
        slope: f64,
        /// Shift of the scaled mean log-odds.
        offset: f64,
        /// Scale of the whole view's log-odds (`view/` beside the patch model). With a
        /// positive scale the score is the lower of the patches' and the view's, each
        /// through its own logistic function: evidence of an attack in either counts,
        /// and a view that looks live can never lift what the patches say. 0, the
        /// default, leaves the whole view out.
        #[serde(default, rename = "viewSlope", skip_serializing_if = "is_zero")]
        view_slope: f64,
        /// Shift of the scaled whole-view log-odds.
        #[serde(default, rename = "viewOffset", skip_serializing_if = "is_zero")]
        view_offset: f64,
    },
    /// The logistic function of `slope · m + view_slope · v + offset`: one fit over the
    /// patches' mean log-odds `m` (each probability held inside `[clamp, 1 − clamp]`)
    /// and the whole view's log-odds `v`. Where the view separates real genuine photos
    /// from screens better than the patches do, the lower of two logistic functions
    /// throws that away (a photo whose patches lean towards an attack fails however
    /// live its whole view looks); one function of both lets each count by its weight.
    /// The calibration chooses between this and `MeanLogit` on its photos.
    JointLogit {
        /// Smallest distance of a patch probability from 0 and 1.
        clamp: f64,
        /// Weight of the patches' mean log-odds.
        slope: f64,
        /// Weight of the whole view's log-odds.
        #[serde(rename = "viewSlope")]
        view_slope: f64,
        /// Shift of the weighted sum.
        offset: f64,
    },
}

/// The clamp of a rule that names none: 1e-3 holds a patch's log-odds within ±6.9.
pub const DEFAULT_CLAMP: f64 = 1e-3;

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The mean of the values' log-odds, each probability first held inside
/// `[clamp, 1 − clamp]` so that one sure value cannot outvote the rest on its own.
pub fn mean_log_odds(values: impl ExactSizeIterator<Item = f64>, clamp: f64) -> f64 {
    let n = values.len() as f64;
    values
        .map(|p| log_odds(p.clamp(clamp, 1.0 - clamp)))
        .sum::<f64>()
        / n
}

impl Aggregation {
    /// Why the rule cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let positive = |name: &str, v: f64| {
            // A weight that is not positive would turn the evidence upside down.
            (!(v.is_finite() && v > 0.0))
                .then(|| format!("aggregation {name} must be a positive number, not {v}"))
        };
        let number = |name: &str, v: f64| {
            (!v.is_finite()).then(|| format!("aggregation {name} must be a number, not {v}"))
        };
        let clamp_problem = |clamp: f64| {
            (!(clamp > 0.0 && clamp < 0.5))
                .then(|| format!("aggregation clamp must lie in (0, 0.5), not {clamp}"))
        };
        match *self {
            Aggregation::Mean => None,
            Aggregation::MeanLogit {
                clamp,
                slope,
                offset,
                view_slope,
                view_offset,
            } => clamp_problem(clamp)
                .or_else(|| positive("slope", slope))
                .or_else(|| number("offset", offset))
                .or_else(|| {
                    // Zero leaves the view out; a negative scale would read a
                    // live-looking view as an attack.
                    (!(view_slope.is_finite() && view_slope >= 0.0)).then(|| {
                        format!(
                            "aggregation viewSlope must be zero or a positive number, not {view_slope}"
                        )
                    })
                })
                .or_else(|| number("viewOffset", view_offset)),
            Aggregation::JointLogit {
                clamp,
                slope,
                view_slope,
                offset,
            } => clamp_problem(clamp)
                .or_else(|| positive("slope", slope))
                .or_else(|| positive("viewSlope", view_slope))
                .or_else(|| number("offset", offset)),
        }
    }

    /// Whether the rule weighs the whole view, so that the view model must be installed.
    pub fn uses_view(&self) -> bool {
        match *self {
            Aggregation::Mean => false,
            Aggregation::MeanLogit { view_slope, .. } => view_slope != 0.0,
            Aggregation::JointLogit { .. } => true,
        }
    }

    /// The smallest distance of a patch probability from 0 and 1 that the rule uses.
    pub fn clamp(&self) -> f64 {
        match *self {
            Aggregation::Mean => DEFAULT_CLAMP,
            Aggregation::MeanLogit { clamp, .. } | Aggregation::JointLogit { clamp, .. } => clamp,
        }
    }

    /// The rule with its log-odds scaled by `scale` and shifted by `shift`: every
    /// logistic function the score is taken from moves alike, so the lower of two stays
    /// the lower and the rule keeps its form (and its keys). This is how the bands are
    /// placed on photos after a fit has ordered them (`models/training/liveness_training/calibrate.py`
    /// `placed`, and a deployment's refit). The plain mean has no log-odds to move and is
    /// returned as it is.
    pub fn placed(&self, scale: f64, shift: f64) -> Aggregation {
        match *self {
            Aggregation::Mean => Aggregation::Mean,
            Aggregation::MeanLogit {
                clamp,
                slope,
                offset,
                view_slope,
                view_offset,
            } => Aggregation::MeanLogit {
                clamp,
                slope: slope * scale,
                offset: offset * scale + shift,
                view_slope: view_slope * scale,
                // A view left out stays out, with no offset of its own.
                view_offset: if view_slope == 0.0 {
                    view_offset
                } else {
                    view_offset * scale + shift
                },
            },
            Aggregation::JointLogit {
                clamp,
                slope,
                view_slope,
                offset,
            } => Aggregation::JointLogit {
                clamp,
                slope: slope * scale,
                view_slope: view_slope * scale,
                offset: offset * scale + shift,
            },
        }
    }

    /// The image's score from its patches' live probabilities and, for a rule that
    /// uses it, the whole view's log-odds; NaN when there are no patches or the rule
    /// needs a view it was not given (the caller reports that as a model failure).
    pub fn combine(&self, live: &[f64], view: Option<f64>) -> f64 {
        if live.is_empty() {
            return f64::NAN;
        }
        let n = live.len() as f64;
        match *self {
            Aggregation::Mean => live.iter().sum::<f64>() / n,
            Aggregation::MeanLogit {
                clamp,
                slope,
                offset,
                view_slope,
                view_offset,
            } => {
                let m = mean_log_odds(live.iter().copied(), clamp);
                let patches = logistic(slope * m + offset);
                if view_slope == 0.0 {
                    return patches;
                }
                view.map_or(f64::NAN, |v| {
                    patches.min(logistic(view_slope * v + view_offset))
                })
            }
            Aggregation::JointLogit {
                clamp,
                slope,
                view_slope,
                offset,
            } => view.map_or(f64::NAN, |v| {
                logistic(
                    slope * mean_log_odds(live.iter().copied(), clamp) + view_slope * v + offset,
                )
            }),
        }
    }
}

/// Shares `1 − score` among the attack types in proportion to their mean patch
/// probabilities, so that the score and the attack scores a reviewer sees add up to 1
/// whatever the rule; with the plain mean and a model whose outputs add up to 1 the
/// shares are the means themselves.
pub fn share_attacks(means: [f64; 3], score: f64) -> [f64; 3] {
    let total: f64 = means.iter().sum();
    if total <= 0.0 {
        return [(1.0 - score) / 3.0; 3];
    }
    means.map(|m| m / total * (1.0 - score))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logit_rule(slope: f64, offset: f64) -> Aggregation {
        Aggregation::MeanLogit {
            clamp: 1e-3,
            slope,
            offset,
            view_slope: 0.0,
            view_offset: 0.0,
        }
    }

    #[test]
    fn the_plain_mean_is_the_default() {
        assert_eq!(Aggregation::default().combine(&[0.2, 0.4, 0.9], None), 0.5);
        let parsed: Aggregation = serde_json::from_str(r#"{"rule":"mean"}"#).unwrap();
        assert_eq!(parsed, Aggregation::Mean);
    }

    #[test]
    fn unit_slope_and_no_offset_give_the_logistic_of_the_mean_log_odds() {
        // Log-odds of 0.8 and 0.2 cancel.
        let s = logit_rule(1.0, 0.0).combine(&[0.8, 0.2], None);
        assert!((s - 0.5).abs() < 1e-12);
        // Agreeing patches keep their probability.
        let s = logit_rule(1.0, 0.0).combine(&[0.9, 0.9, 0.9], None);
        assert!((s - 0.9).abs() < 1e-12);
    }

    #[test]
    fn one_certain_patch_cannot_outvote_the_rest() {
        let rule = logit_rule(1.0, 0.0);
        let mut live = vec![0.95; 15];
        live.push(0.0);
        // Clamped at 1e-3 the lone patch counts as log-odds −6.9, not −infinity.
        let s = rule.combine(&live, None);
        assert!(s > 0.9, "score {s}");
    }

    #[test]
    fn the_fitted_scale_moves_the_score_monotonically() {
        let live = [0.7, 0.6, 0.8];
        let low = logit_rule(1.0, -1.0).combine(&live, None);
        let mid = logit_rule(1.0, 0.0).combine(&live, None);
        let steep = logit_rule(2.0, 0.0).combine(&live, None);
        assert!(low < mid && mid < steep);
        let a = logit_rule(1.5, -0.5).combine(&[0.3, 0.4], None);
        let b = logit_rule(1.5, -0.5).combine(&[0.35, 0.4], None);
        assert!(a < b);
    }

    #[test]
    fn no_patches_is_not_a_number() {
        assert!(Aggregation::Mean.combine(&[], None).is_nan());
        assert!(logit_rule(1.0, 0.0).combine(&[], None).is_nan());
    }

    #[test]
    fn the_manifest_form_parses_and_bad_values_are_named() {
        let parsed: Aggregation =
            serde_json::from_str(r#"{"rule":"meanLogit","clamp":0.001,"slope":0.8,"offset":-0.3}"#)
                .unwrap();
        assert_eq!(parsed, logit_rule(0.8, -0.3));
        assert_eq!(parsed.problem(), None);
        assert!(
            serde_json::from_str::<Aggregation>(r#"{"rule":"median"}"#).is_err(),
            "an unknown rule must not fall back to something else"
        );
        let upside_down = logit_rule(-1.0, 0.0).problem().unwrap();
        assert!(upside_down.contains("slope"), "{upside_down}");
        let no_clamp = Aggregation::MeanLogit {
            clamp: 0.0,
            slope: 1.0,
            offset: 0.0,
            view_slope: 0.0,
            view_offset: 0.0,
        };
        assert!(no_clamp.problem().unwrap().contains("clamp"));
    }

    #[test]
    fn the_score_is_the_lower_of_the_patches_and_the_whole_view() {
        let rule: Aggregation = serde_json::from_str(
            r#"{"rule":"meanLogit","clamp":0.001,"slope":1.0,"offset":0.0,"viewSlope":0.5,"viewOffset":1.0}"#,
        )
        .unwrap();
        assert!(rule.uses_view() && rule.problem().is_none());
        // Patches at log-odds 0 (0.5); a view at log-odds −6 gives the logistic of −2.
        let s = rule.combine(&[0.5, 0.5], Some(-6.0));
        assert!((s - logistic(-2.0)).abs() < 1e-12, "{s}");
        // A view that looks live cannot lift what the patches say.
        assert_eq!(rule.combine(&[0.5, 0.5], Some(8.0)), 0.5);
        // A rule that needs the view cannot be answered without it.
        assert!(rule.combine(&[0.5], None).is_nan());
        // Without the weight the view changes nothing, and is not written back.
        let plain = logit_rule(1.0, 0.0);
        assert!(!plain.uses_view());
        assert_eq!(
            plain.combine(&[0.7], Some(5.0)),
            plain.combine(&[0.7], None)
        );
        assert!(!serde_json::to_string(&plain).unwrap().contains("viewSlope"));
        let against = Aggregation::MeanLogit {
            clamp: 0.001,
            slope: 1.0,
            offset: 0.0,
            view_slope: -1.0,
            view_offset: 0.0,
        };
        assert!(against.problem().unwrap().contains("viewSlope"));
    }

    #[test]
    fn the_joint_rule_weighs_the_patches_and_the_view_in_one_function() {
        let rule: Aggregation = serde_json::from_str(
            r#"{"rule":"jointLogit","clamp":0.001,"slope":0.75,"viewSlope":0.69,"offset":0.19}"#,
        )
        .unwrap();
        assert!(rule.uses_view() && rule.problem().is_none());
        assert_eq!(rule.clamp(), 0.001);
        // Patches at log-odds ln 4 (0.8) and a view at log-odds −1.
        let s = rule.combine(&[0.8, 0.8], Some(-1.0));
        let expected = logistic(0.75 * 4f64.ln() - 0.69 + 0.19);
        assert!((s - expected).abs() < 1e-12, "{s} against {expected}");
        // Unlike the lower of two, a view that looks live moves the score up.
        assert!(rule.combine(&[0.3, 0.3], Some(4.0)) > rule.combine(&[0.3, 0.3], Some(0.0)));
        // Each patch is held inside the clamp: 1.0 and 0.0 cancel, 0.9995 counts as 0.999
        // (calibrate.py's test has the same case).
        let unit = Aggregation::JointLogit {
            clamp: 0.001,
            slope: 1.0,
            view_slope: 1.0,
            offset: 0.0,
        };
        let held = (0.999f64 / 0.001).ln();
        let s = unit.combine(&[1.0, 0.0, 0.9995], Some(0.0));
        assert!((s - logistic(held / 3.0)).abs() < 1e-9, "{s}");
        // The view is part of the rule: without it there is no score.
        assert!(rule.combine(&[0.8], None).is_nan());
        // Written back as read.
        let back: Aggregation =
            serde_json::from_str(&serde_json::to_string(&rule).unwrap()).unwrap();
        assert_eq!(back, rule);
        let joint = |slope, view_slope| Aggregation::JointLogit {
            clamp: 0.001,
            slope,
            view_slope,
            offset: 0.0,
        };
        let flat_view = joint(1.0, 0.0).problem().unwrap();
        assert!(
            flat_view.contains("viewSlope must be a positive"),
            "{flat_view}"
        );
        let upside_down = joint(-0.1, 1.0).problem().unwrap();
        assert!(
            upside_down.contains("aggregation slope must be a positive"),
            "{upside_down}"
        );
        assert!(
            serde_json::from_str::<Aggregation>(
                r#"{"rule":"jointLogit","clamp":0.001,"slope":1.0,"offset":0.0}"#
            )
            .is_err(),
            "a joint rule without the view's weight is incomplete"
        );
        // The lower-of-two rule's second offset is no part of this one: a hand-converted
        // manifest that keeps it is refused, not read with the offset ignored.
        assert!(
            serde_json::from_str::<Aggregation>(
                r#"{"rule":"jointLogit","clamp":0.001,"slope":1.0,"viewSlope":1.0,"offset":0.0,"viewOffset":0.3}"#
            )
            .is_err()
        );
    }

    #[test]
    fn attack_shares_add_up_with_the_score() {
        let shares = share_attacks([0.3, 0.1, 0.0], 0.8);
        assert!((shares.iter().sum::<f64>() - 0.2).abs() < 1e-12);
        assert!((shares[0] - 0.15).abs() < 1e-12);
        // The mean of a four-way softmax already adds up with the score: unchanged.
        assert_eq!(share_attacks([0.25, 0.25, 0.0], 0.5), [0.25, 0.25, 0.0]);
        // Nothing to share by: split evenly.
        let even = share_attacks([0.0; 3], 0.4);
        assert!(even.iter().all(|v| (v - 0.2).abs() < 1e-12));
    }

    #[test]
    fn a_placed_rule_moves_every_log_odds_alike_and_keeps_its_form() {
        let live = [0.9, 0.7, 0.2, 0.6];
        let (scale, shift) = (0.4, -0.3);
        let moved = |rule: Aggregation, view: Option<f64>| {
            let before = log_odds(rule.combine(&live, view));
            let after = log_odds(rule.placed(scale, shift).combine(&live, view));
            (after - (scale * before + shift)).abs()
        };
        let joint = Aggregation::JointLogit {
            clamp: 1e-3,
            slope: 1.1,
            view_slope: 0.8,
            offset: -0.2,
        };
        assert!(moved(joint, Some(1.5)) < 1e-9);
        let lower = Aggregation::MeanLogit {
            clamp: 1e-3,
            slope: 1.3,
            offset: 0.4,
            view_slope: 0.5,
            view_offset: -1.0,
        };
        // The view is the lower here, then the patches: both branches move alike.
        assert!(moved(lower, Some(-2.0)) < 1e-9);
        assert!(moved(lower, Some(9.0)) < 1e-9);
        // A rule that leaves the view out keeps it out, with no offset of its own.
        let patches_only = logit_rule(1.0, 0.5).placed(scale, shift);
        assert!(!patches_only.uses_view());
        assert!(moved(logit_rule(1.0, 0.5), None) < 1e-9);
        assert_eq!(patches_only.problem(), None);
        let view_left_out = Aggregation::MeanLogit {
            clamp: 1e-3,
            slope: 1.0,
            offset: 0.5,
            view_slope: 0.0,
            view_offset: 0.7,
        };
        assert!(matches!(
            view_left_out.placed(scale, shift),
            Aggregation::MeanLogit { view_slope: 0.0, view_offset, .. } if view_offset == 0.7
        ));
        assert_eq!(joint.placed(scale, shift).problem(), None);
        assert!(matches!(
            joint.placed(scale, shift),
            Aggregation::JointLogit { .. }
        ));
        assert_eq!(Aggregation::Mean.placed(scale, shift), Aggregation::Mean);
    }
}
