//! Adapting the score to a deployment from its reviewers' decisions.
//!
//! Decided cases are labelled photos of exactly the documents, cameras and light a team
//! sees. The refit keeps the networks and the form of the score's rule (the manifest's
//! `aggregation`: one logistic function of the patches' and the whole view's log-odds
//! together, or one of each with the score the lower of the two) and refits its numbers
//! on a share of the decided photos, and judges
//! it on the rest, which it never saw. It is refused when there are too few photos of
//! either verdict or when it does no better on the held-back photos than the scale in
//! force; an accepted refit becomes an overlay (`docliveness_engine::Overlay`) that the
//! command line writes beside the model.

pub mod apply;
pub mod logistic;
pub mod samples;

use thiserror::Error;

use docliveness_engine::Route;
use docliveness_engine::config::Thresholds;
use docliveness_engine::{Aggregation, mean_log_odds};
pub use samples::{Gathered, Sample, base_version, gather};

/// How much evidence a refit needs and how it is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Share of the decided cases held back to judge the refit (chosen by case id, so a
    /// rerun on the same database holds back the same cases).
    pub held_back: f64,
    /// Fewest decided photos of each verdict the refit is fitted on.
    pub min_fitted_per_class: usize,
    /// Fewest held-back photos of each verdict it is judged on.
    pub min_held_back_per_class: usize,
}

impl Default for Settings {
    fn default() -> Self {
        // 30 photos of a verdict pin a logistic slope to about ±30%; fewer
        // and the held-back comparison is a coin toss.
        Settings {
            held_back: 0.3,
            min_fitted_per_class: 30,
            min_held_back_per_class: 10,
        }
    }
}

/// Why no refit was made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AdaptError {
    /// Not enough decided photos scored by the installed model.
    #[error(
        "too few decided photos to refit the score: {genuine} genuine and {attack} attack photos scored by the installed model \
         ({fitted_genuine} and {fitted_attack} to fit, {held_genuine} and {held_attack} held back); \
         at least {min_fitted} of each verdict to fit and {min_held} of each held back are needed"
    )]
    TooFew {
        /// Decided genuine photos in all.
        genuine: usize,
        /// Decided attack photos in all.
        attack: usize,
        /// Genuine photos that would be fitted on.
        fitted_genuine: usize,
        /// Attack photos that would be fitted on.
        fitted_attack: usize,
        /// Genuine photos that would be held back.
        held_genuine: usize,
        /// Attack photos that would be held back.
        held_attack: usize,
        /// See `Settings::min_fitted_per_class`.
        min_fitted: usize,
        /// See `Settings::min_held_back_per_class`.
        min_held: usize,
    },
    /// The refit is not better than the scale in force on the photos it never saw.
    #[error(
        "the refit does no better on the {held} held-back photos than the scale in force \
         (class-balanced log-loss {after:.4} against {before:.4}); nothing was changed"
    )]
    NotBetter {
        /// Held-back photos.
        held: usize,
        /// Loss under the scale in force.
        before: f64,
        /// Loss under the refit.
        after: f64,
    },
    /// The fit did not converge to a usable scale.
    #[error("the refit gave no usable scale ({0}); nothing was changed")]
    Unusable(String),
    /// The score in force weighs the whole view, and some photos to fit carry no
    /// whole-view evidence (no view model was installed when they were analysed).
    #[error(
        "the score in force weighs the whole view, but {missing} of the {of} decided photos to fit carry no whole-view evidence; nothing was changed"
    )]
    NoViewEvidence {
        /// Photos to fit without whole-view evidence.
        missing: usize,
        /// Photos to fit.
        of: usize,
    },
}

/// How a scale does on a set of photos, at the configured thresholds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Class-balanced log-loss: the mean of the genuine photos' and the attack photos'
    /// mean negative log-likelihood (lower is better).
    pub loss: f64,
    /// Genuine photos.
    pub genuine: usize,
    /// Genuine photos that would not pass (score below the pass threshold).
    pub genuine_not_passed: usize,
    /// Genuine photos that would fail (score below the fail threshold).
    pub genuine_failed: usize,
    /// Attack photos.
    pub attack: usize,
    /// Attack photos that would pass.
    pub attack_passed: usize,
    /// Attack photos that would not fail (sent to review or passed).
    pub attack_not_failed: usize,
}

/// An accepted refit.
#[derive(Debug, Clone, PartialEq)]
pub struct Refit {
    /// The refitted rule.
    pub aggregation: Aggregation,
    /// Genuine and attack photos fitted on.
    pub fitted: (usize, usize),
    /// The held-back photos under the scale in force.
    pub before: Figures,
    /// The held-back photos under the refit.
    pub after: Figures,
}

/// Whether the case is held back: a fixed hash of its id against the share, so the
/// split is the same on every run and the sides of one case stay together.
pub fn held_back(case_id: i64, share: f64) -> bool {
    let h = (case_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    (h as f64) / ((1u64 << 53) as f64) < share
}

/// Refits the scale on `samples` and judges it against `current` on the held-back share.
/// `with_view`: a whole-view model is installed, so the view may take part.
pub fn refit(
    samples: &[Sample],
    current: &Aggregation,
    with_view: bool,
    thresholds: &Thresholds,
    settings: &Settings,
) -> Result<Refit, AdaptError> {
    let (held, fitted): (Vec<&Sample>, Vec<&Sample>) = samples
        .iter()
        .partition(|s| held_back(s.case_id, settings.held_back));
    let count =
        |set: &[&Sample], genuine: bool| set.iter().filter(|s| s.genuine == genuine).count();
    let (fg, fa, hg, ha) = (
        count(&fitted, true),
        count(&fitted, false),
        count(&held, true),
        count(&held, false),
    );
    if fg.min(fa) < settings.min_fitted_per_class || hg.min(ha) < settings.min_held_back_per_class {
        return Err(AdaptError::TooFew {
            genuine: fg + hg,
            attack: fa + ha,
            fitted_genuine: fg,
            fitted_attack: fa,
            held_genuine: hg,
            held_attack: ha,
            min_fitted: settings.min_fitted_per_class,
            min_held: settings.min_held_back_per_class,
        });
    }
    let clamp = current.clamp();
    let labels: Vec<bool> = fitted.iter().map(|s| s.genuine).collect();
    let patch_x: Vec<f64> = fitted
        .iter()
        .map(|s| mean_log_odds(s.patches.iter().copied(), clamp))
        .collect();
    let views: Option<Vec<f64>> = if with_view {
        fitted.iter().map(|s| s.view).collect()
    } else {
        None
    };
    // A joint rule is refitted as a joint rule; any other becomes the lower of two
    // logistic functions (the view's only where every photo has one), as the shipped
    // calibration fits it.
    let aggregation = match (current, views) {
        (Aggregation::JointLogit { .. }, None) => {
            // Without a view model installed no photo's view can be read.
            let missing = if with_view {
                fitted.iter().filter(|s| s.view.is_none()).count()
            } else {
                fitted.len()
            };
            return Err(AdaptError::NoViewEvidence {
                missing,
                of: fitted.len(),
            });
        }
        (Aggregation::JointLogit { .. }, Some(views)) => {
            let rows: Vec<[f64; 2]> = patch_x.iter().zip(&views).map(|(&m, &v)| [m, v]).collect();
            // A weight that is not positive is refused by `problem` below.
            let ([slope, view_slope], offset) = logistic::fit_many(&rows, &labels)
                .ok_or_else(|| AdaptError::Unusable("the joint fit failed".into()))?;
            Aggregation::JointLogit {
                clamp,
                slope,
                view_slope,
                offset,
            }
        }
        (Aggregation::Mean | Aggregation::MeanLogit { .. }, views) => {
            let (slope, offset) = logistic::fit(&patch_x, &labels)
                .ok_or_else(|| AdaptError::Unusable("the patches' fit failed".into()))?;
            if slope <= 0.0 {
                // The decided photos say the patches point the wrong way: no scale can use them.
                return Err(AdaptError::Unusable(format!(
                    "the patches' fitted slope is {slope:.3}, not positive"
                )));
            }
            // A view whose fitted scale is not positive is left out, as the shipped fit does.
            let (view_slope, view_offset) = views
                .and_then(|v| logistic::fit(&v, &labels))
                .filter(|(vs, _)| *vs > 0.0)
                .unwrap_or((0.0, 0.0));
            Aggregation::MeanLogit {
                clamp,
                slope,
                offset,
                view_slope,
                view_offset,
            }
        }
    };
    if let Some(problem) = aggregation.problem() {
        return Err(AdaptError::Unusable(problem));
    }
    let before = figures(&held, current, thresholds);
    let after = figures(&held, &aggregation, thresholds);
    // Both losses are finite: every score is clamped away from 0 and 1 first.
    if after.loss >= before.loss {
        return Err(AdaptError::NotBetter {
            held: held.len(),
            before: before.loss,
            after: after.loss,
        });
    }
    Ok(Refit {
        aggregation,
        fitted: (fg, fa),
        before,
        after,
    })
}

/// The scale's figures on `set`. A photo the rule cannot score (it weighs a view the
/// photo lacks) counts as wrong as it can be: the rule would fail it in use.
pub fn figures(set: &[&Sample], rule: &Aggregation, thresholds: &Thresholds) -> Figures {
    let mut f = Figures {
        loss: 0.0,
        genuine: 0,
        genuine_not_passed: 0,
        genuine_failed: 0,
        attack: 0,
        attack_passed: 0,
        attack_not_failed: 0,
    };
    let (mut loss_g, mut loss_a) = (0.0, 0.0);
    for s in set {
        let score = rule.combine(&s.patches, s.view);
        let p = if score.is_finite() {
            score.clamp(1e-6, 1.0 - 1e-6)
        } else if s.genuine {
            1e-6
        } else {
            1.0 - 1e-6
        };
        let route = Route::of(p, thresholds);
        if s.genuine {
            f.genuine += 1;
            loss_g -= p.ln();
            f.genuine_not_passed += usize::from(route != Route::Pass);
            f.genuine_failed += usize::from(route == Route::Fail);
        } else {
            f.attack += 1;
            loss_a -= (1.0 - p).ln();
            f.attack_passed += usize::from(route == Route::Pass);
            f.attack_not_failed += usize::from(route != Route::Fail);
        }
    }
    f.loss = 0.5 * loss_g / f.genuine.max(1) as f64 + 0.5 * loss_a / f.attack.max(1) as f64;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(case_id: i64, genuine: bool, live: f64) -> Sample {
        Sample {
            case_id,
            genuine,
            patches: vec![live; 16],
            view: None,
        }
    }

    /// A deployment whose genuine photos the shipped scale fails: evidence log-odds
    /// around +1 for genuine and -1 for attacks, read by a scale centred at +3.
    fn shifted(n: i64) -> Vec<Sample> {
        (0..n)
            .map(|i| {
                let genuine = i % 2 == 0;
                let jitter = ((i * 37) % 17) as f64 / 17.0 - 0.5;
                let z: f64 = if genuine { 1.0 + jitter } else { -1.0 + jitter };
                sample(i, genuine, docliveness_engine::probability::logistic(z))
            })
            .collect()
    }

    const SHIPPED: Aggregation = Aggregation::MeanLogit {
        clamp: 1e-3,
        slope: 1.0,
        offset: -3.0,
        view_slope: 0.0,
        view_offset: 0.0,
    };

    #[test]
    fn a_miscalibrated_scale_is_refitted_and_judged_on_unseen_cases() {
        let samples = shifted(400);
        let refit = refit(
            &samples,
            &SHIPPED,
            false,
            &Thresholds::default(),
            &Settings::default(),
        )
        .unwrap();
        assert!(refit.after.loss < refit.before.loss);
        // Under the shipped scale nearly every held-back genuine photo fails; refitted,
        // they pass and the attacks still fail.
        assert!(refit.before.genuine_failed * 2 > refit.before.genuine);
        assert_eq!(refit.after.genuine_not_passed, 0, "{:?}", refit.after);
        assert_eq!(refit.after.attack_not_failed, 0, "{:?}", refit.after);
        assert_eq!(
            refit.fitted.0 + refit.fitted.1 + refit.after.genuine + refit.after.attack,
            400
        );
    }

    #[test]
    fn a_joint_rule_is_refitted_as_a_joint_rule_and_needs_the_view() {
        // The patches barely tell the verdicts apart here; the whole view does.
        let samples: Vec<Sample> = (0..400)
            .map(|i| {
                let genuine = i % 2 == 0;
                let jitter = ((i * 37) % 17) as f64 / 17.0 - 0.5;
                // The classes' patch evidence overlaps: a lean of 0.02 under noise of ±0.1.
                let other = ((i * 53) % 11) as f64 / 11.0 - 0.5;
                let lean = if genuine { 0.02 } else { -0.02 };
                let mut s = sample(i, genuine, 0.5 + lean + 0.2 * other);
                s.view = Some(if genuine { 2.0 + jitter } else { -2.0 + jitter });
                s
            })
            .collect();
        let shipped = Aggregation::JointLogit {
            clamp: 1e-3,
            slope: 1.0,
            view_slope: 0.2,
            offset: -3.0,
        };
        let refit = refit(
            &samples,
            &shipped,
            true,
            &Thresholds::default(),
            &Settings::default(),
        )
        .unwrap();
        let Aggregation::JointLogit { view_slope, .. } = refit.aggregation else {
            panic!("the form changed: {:?}", refit.aggregation);
        };
        assert!(view_slope > 0.5, "{:?}", refit.aggregation);
        assert!(refit.after.loss < refit.before.loss);
        assert_eq!(
            refit.after.genuine_not_passed + refit.after.attack_not_failed,
            0,
            "{:?}",
            refit.after
        );
        // Without a whole-view model the joint rule cannot be refitted.
        let err = super::refit(
            &samples,
            &shipped,
            false,
            &Thresholds::default(),
            &Settings::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, AdaptError::NoViewEvidence { missing, of } if missing == of && of > 0),
            "{err}"
        );
        // One photo analysed before the view model was installed is enough to refuse.
        let mut partly = samples.clone();
        let first_fitted = partly
            .iter()
            .position(|s| !held_back(s.case_id, 0.3))
            .unwrap();
        partly[first_fitted].view = None;
        let err = super::refit(
            &partly,
            &shipped,
            true,
            &Thresholds::default(),
            &Settings::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, AdaptError::NoViewEvidence { missing: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn labels_that_carry_nothing_are_refused() {
        // Verdicts unrelated to the evidence: the refit cannot beat a scale that already
        // says "unsure" (0.5 everywhere).
        let samples: Vec<Sample> = (0..400)
            .map(|i| sample(i, (i * 7919) % 13 < 6, 0.5 + ((i % 5) as f64 - 2.0) * 0.01))
            .collect();
        let unsure = Aggregation::MeanLogit {
            clamp: 1e-3,
            slope: 1e-9,
            offset: 0.0,
            view_slope: 0.0,
            view_offset: 0.0,
        };
        let err = refit(
            &samples,
            &unsure,
            false,
            &Thresholds::default(),
            &Settings::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, AdaptError::NotBetter { .. } | AdaptError::Unusable(_)),
            "{err}"
        );
    }

    #[test]
    fn too_few_cases_are_refused() {
        let err = refit(
            &shifted(40),
            &SHIPPED,
            false,
            &Thresholds::default(),
            &Settings::default(),
        )
        .unwrap_err();
        assert!(matches!(err, AdaptError::TooFew { .. }), "{err}");
    }

    #[test]
    fn the_held_back_share_is_stable_and_near_its_target() {
        let held = (0..10_000).filter(|i| held_back(*i, 0.3)).count();
        assert!((2_800..3_200).contains(&held), "{held}");
        assert_eq!(held_back(12345, 0.3), held_back(12345, 0.3));
    }
}
