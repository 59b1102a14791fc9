//! The refit's head on the networks' features: fitted only where the decided photos are
//! enough to support it, and kept only where photos it was not fitted on say it helps.
//!
//! The rule reads what the networks concluded; the features they concluded it from also
//! describe a team's own documents, cameras and attacks, such as a printed copy the
//! shipped networks were never shown. 256 numbers weighed on a few hundred photos would
//! learn the photos, not the attack, so every weight has a tight prior, the prior is
//! chosen by cross-validation on the fitted share, and the head is dropped unless the
//! photos of the left-out folds are predicted better with it than by the rule with an
//! offset of its own.

use docliveness_engine::{Aggregation, FeatureHead, standardise};

use crate::logistic;
use crate::samples::Sample;

/// Prior standard deviations tried for each standardised feature's weight, in log-odds.
/// Even the widest lets 256 features move the score by a few log-odds together, no more.
pub const PRIOR_SDS: [f64; 3] = [0.03, 0.1, 0.3];

/// Folds of the cross-validation that chooses the prior (and whether to keep the head).
pub const FOLDS: u64 = 3;

/// The least cross-validated gain in log-loss (nats) a head must bring to be kept: eight
/// features of pure noise won 0.001 by chance on 900 photos (a test below), and a head
/// kept for less than this would be kept for what it learned of the photos.
pub const MIN_GAIN: f64 = 0.01;

/// How the head was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadFit {
    /// Features each photo gave.
    pub features: usize,
    /// The prior standard deviation chosen.
    pub prior_sd: f64,
    /// Cross-validated class-balanced log-loss on the fitted photos of the rule with an
    /// offset of its own (what a head must beat).
    pub loss_rule: f64,
    /// The same with the head at the chosen prior.
    pub loss_head: f64,
}

/// What became of the head.
#[derive(Debug, Clone, PartialEq)]
pub enum HeadOutcome {
    /// Fitted and kept.
    Fitted(HeadFit),
    /// Too few decided photos carry features (each verdict needs `min` in the fitted share).
    TooFew {
        /// Fitted genuine photos with features.
        genuine: usize,
        /// Fitted attack photos with features.
        attack: usize,
        /// The fewest of each verdict a head is fitted on.
        min: usize,
    },
    /// Fitted, and dropped: on the left-out folds it predicted no better than the rule.
    NotBetter {
        /// Cross-validated loss of the rule with an offset of its own.
        loss_rule: f64,
        /// The best cross-validated loss with a head.
        loss_head: f64,
    },
}

impl HeadOutcome {
    /// The outcome in words, for the command line and the console.
    pub fn words(&self) -> String {
        match self {
            HeadOutcome::Fitted(f) => format!(
                "a head on the networks' {} features was fitted and kept: on the fitted photos, \
                 cross-validated in {FOLDS} folds, it predicts the verdicts with a loss of {:.3} against \
                 {:.3} for the rule alone (prior sd {} a feature)",
                f.features, f.loss_head, f.loss_rule, f.prior_sd
            ),
            HeadOutcome::TooFew {
                genuine,
                attack,
                min,
            } => format!(
                "no head on the networks' features: {genuine} genuine and {attack} attack photos \
                 with features were fitted on, and a head needs {min} of each"
            ),
            HeadOutcome::NotBetter {
                loss_rule,
                loss_head,
            } => format!(
                "no head on the networks' features: cross-validated in {FOLDS} folds on the fitted \
                 photos it predicts the verdicts no better than the rule alone ({loss_head:.3} \
                 against {loss_rule:.3})"
            ),
        }
    }
}

/// The fold of a case: a fixed hash of its id, other than the held-back split's, so the
/// folds cut across it.
fn fold(case_id: i64) -> u64 {
    ((case_id as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93) >> 32) % FOLDS
}

/// The log-odds the rule gives `s`, as the engine adds a head to them.
fn rule_log_odds(rule: &Aggregation, s: &Sample) -> f64 {
    docliveness_engine::rule_log_odds(rule, &s.patches, s.view)
}

/// Class-balanced log-loss of log-odds `z` against the verdicts.
fn loss(z: &[f64], genuine: &[bool]) -> f64 {
    let (mut lg, mut la, mut ng, mut na) = (0.0, 0.0, 0usize, 0usize);
    for (&zi, &g) in z.iter().zip(genuine) {
        let l = logistic::surprise(if g { zi } else { -zi });
        if g {
            (lg, ng) = (lg + l, ng + 1);
        } else {
            (la, na) = (la + l, na + 1);
        }
    }
    0.5 * lg / ng.max(1) as f64 + 0.5 * la / na.max(1) as f64
}

/// Each feature's mean and standard deviation over `rows` (a constant feature gets 1, so
/// it standardises to zero and weighs nothing).
fn moments(rows: &[&[f32]]) -> (Vec<f64>, Vec<f64>) {
    let k = rows[0].len();
    let n = rows.len() as f64;
    let mut mean = vec![0.0; k];
    for r in rows {
        for (m, v) in mean.iter_mut().zip(*r) {
            *m += f64::from(*v) / n;
        }
    }
    let mut var = vec![0.0; k];
    for r in rows {
        for ((s, v), m) in var.iter_mut().zip(*r).zip(&mean) {
            *s += (f64::from(*v) - m).powi(2) / n;
        }
    }
    let sd = var
        .iter()
        .map(|v| if v.sqrt() > 1e-9 { v.sqrt() } else { 1.0 })
        .collect();
    (mean, sd)
}

/// What a head reads of a photo: its features, or, for the baseline a head must beat,
/// one constant (so that only an offset is fitted).
fn inputs(s: &Sample, blind: bool) -> Option<&[f32]> {
    const NOTHING: [f32; 1] = [0.0];
    if blind {
        Some(&NOTHING)
    } else {
        s.features.as_deref()
    }
}

/// A head on `set`'s features (or, `blind`, an offset alone) over `rule`, at prior
/// `prior_sd`.
fn fit_on(set: &[&Sample], rule: &Aggregation, prior_sd: f64, blind: bool) -> Option<FeatureHead> {
    let rows: Vec<&[f32]> = set.iter().filter_map(|s| inputs(s, blind)).collect();
    if rows.len() != set.len() || rows.is_empty() {
        return None;
    }
    let (mean, sd) = moments(&rows);
    let standard: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&mean)
                .zip(&sd)
                .map(|((v, m), s)| standardise(*v, *m, *s))
                .collect()
        })
        .collect();
    let x: Vec<&[f64]> = standard.iter().map(Vec::as_slice).collect();
    let base: Vec<f64> = set.iter().map(|s| rule_log_odds(rule, s)).collect();
    let genuine: Vec<bool> = set.iter().map(|s| s.genuine).collect();
    let (weights, offset) = logistic::fit_rows(&x, &base, &genuine, prior_sd, 0.0)?;
    Some(FeatureHead {
        mean,
        sd,
        weights,
        offset,
    })
}

/// Cross-validated class-balanced log-loss on `fitted` of a head at `prior_sd` (or, when
/// `blind`, of an offset alone) over `rule`, with each photo's log-odds from the head
/// fitted without its fold. `None` when a fold's fit fails.
fn cross_validated(
    fitted: &[&Sample],
    rule: &Aggregation,
    prior_sd: f64,
    blind: bool,
) -> Option<(f64, Vec<f64>)> {
    let mut z = vec![f64::NAN; fitted.len()];
    for k in 0..FOLDS {
        let train: Vec<&Sample> = fitted
            .iter()
            .copied()
            .filter(|s| fold(s.case_id) != k)
            .collect();
        let head = fit_on(&train, rule, prior_sd, blind)?;
        for (zi, s) in z.iter_mut().zip(fitted) {
            if fold(s.case_id) == k {
                *zi = rule_log_odds(rule, s) + head.log_odds(inputs(s, blind)?)?;
            }
        }
    }
    let verdicts: Vec<bool> = fitted.iter().map(|s| s.genuine).collect();
    z.iter()
        .all(|v| v.is_finite())
        .then(|| (loss(&z, &verdicts), z))
}

/// How many of `fitted` carry features, as the outcome of a refit that fits no head for
/// want of them.
pub fn too_few(fitted: &[&Sample], min_per_class: usize) -> HeadOutcome {
    let count = |genuine: bool| {
        fitted
            .iter()
            .filter(|s| s.genuine == genuine && s.features.is_some())
            .count()
    };
    HeadOutcome::TooFew {
        genuine: count(true),
        attack: count(false),
        min: min_per_class,
    }
}

/// The head for `fitted` over the refitted `rule`: fitted when at least `min_per_class`
/// photos of each verdict carry features (every photo of `fitted` must, see
/// `with_features`), and kept when cross-validation says it predicts better than the
/// rule with an offset of its own (by `MIN_GAIN` at least), so that a head is never kept
/// for what a shift of the rule would do. With a head kept come the fitted photos'
/// out-of-fold log-odds under rule and head (in the order of `fitted`): a head's scores on
/// the photos it was fitted on are better separated than any new photo's will be, so the
/// bands are placed on these instead. `None` with the outcome when there is no head.
pub fn choose(
    fitted: &[&Sample],
    rule: &Aggregation,
    min_per_class: usize,
) -> (Option<(FeatureHead, Vec<f64>)>, HeadOutcome) {
    let too_few = too_few(fitted, min_per_class);
    if let HeadOutcome::TooFew {
        genuine, attack, ..
    } = too_few
        && (genuine.min(attack) < min_per_class || genuine + attack != fitted.len())
    {
        return (None, too_few);
    }
    // Without the baseline nothing shows that a head helps: no head.
    let loss_rule = cross_validated(fitted, rule, 1.0, true).map_or(f64::NAN, |(l, _)| l);
    let best = PRIOR_SDS
        .iter()
        .filter_map(|&sd| cross_validated(fitted, rule, sd, false).map(|(l, z)| (l, sd, z)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let loss_best = best.as_ref().map_or(f64::INFINITY, |(l, _, _)| *l);
    let head = best
        .filter(|(loss_head, _, _)| *loss_head < loss_rule - MIN_GAIN)
        .and_then(|(loss_head, prior_sd, z)| {
            fit_on(fitted, rule, prior_sd, false).map(|head| (head, z, loss_head, prior_sd))
        });
    match head {
        Some((head, z, loss_head, prior_sd)) => (
            Some((head, z)),
            HeadOutcome::Fitted(HeadFit {
                features: feature_width(fitted),
                prior_sd,
                loss_rule,
                loss_head,
            }),
        ),
        None => (
            None,
            HeadOutcome::NotBetter {
                loss_rule,
                loss_head: loss_best,
            },
        ),
    }
}

fn feature_width(set: &[&Sample]) -> usize {
    set.iter()
        .find_map(|s| s.features.as_ref().map(Vec::len))
        .unwrap_or(0)
}

/// The photos whose features a head can read: those with as many features as most photos
/// have (an analysis from before the model gave features has none).
pub fn with_features(samples: &[Sample]) -> Vec<Sample> {
    let mut widths = std::collections::BTreeMap::new();
    for s in samples {
        if let Some(f) = &s.features {
            *widths.entry(f.len()).or_insert(0usize) += 1;
        }
    }
    let Some((&width, _)) = widths.iter().max_by_key(|(_, n)| **n) else {
        return Vec::new();
    };
    samples
        .iter()
        .filter(|s| s.features.as_ref().is_some_and(|f| f.len() == width))
        .cloned()
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use docliveness_engine::Scale;
    use docliveness_engine::probability::logistic;

    /// A fixed pseudo-random number in [-0.5, 0.5) for (i, j).
    fn noise(i: i64, j: usize) -> f32 {
        let h = (i as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add((j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
        let h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        ((h >> 40) as f32) / ((1u64 << 24) as f32) - 0.5
    }

    /// Genuine photos, screens the patches catch, and prints the patches take for
    /// genuine (every third attack) that the first of eight features gives away when
    /// `telling` (else it is noise like the others).
    pub(crate) fn deployment(n: i64, telling: bool) -> Vec<Sample> {
        (0..n)
            .map(|i| {
                let genuine = i % 2 == 0;
                let print = !genuine && i % 3 == 0;
                let jitter = f64::from(noise(i, 99));
                let z = if genuine || print {
                    1.5 + jitter
                } else {
                    -1.5 + jitter
                };
                let mut features: Vec<f32> = (0..8).map(|j| noise(i, j)).collect();
                if telling && print {
                    features[0] += 1.5;
                }
                Sample {
                    case_id: i,
                    genuine,
                    patches: vec![logistic(z); 16],
                    view: None,
                    features: Some(features),
                }
            })
            .collect()
    }

    pub(crate) const RULE: Aggregation = Aggregation::MeanLogit {
        clamp: 1e-3,
        slope: 1.0,
        offset: 0.0,
        view_slope: 0.0,
        view_offset: 0.0,
    };

    #[test]
    fn a_feature_that_gives_away_an_attack_the_rule_misses_gets_a_head_that_catches_it() {
        let samples = deployment(900, true);
        let set: Vec<&Sample> = samples.iter().collect();
        let (head, outcome) = choose(&set, &RULE, 100);
        let HeadOutcome::Fitted(fit) = &outcome else {
            panic!("{outcome:?}");
        };
        assert!(fit.loss_head < fit.loss_rule, "{fit:?}");
        let (head, out_of_fold) = head.unwrap();
        // The log-odds the bands are placed on are the cross-validated ones (their loss is
        // the one reported), and they separate the photos less than the final head does
        // on the photos it was fitted on.
        assert_eq!(out_of_fold.len(), set.len());
        let verdicts: Vec<bool> = set.iter().map(|s| s.genuine).collect();
        assert!((loss(&out_of_fold, &verdicts) - fit.loss_head).abs() < 1e-12);
        let in_sample: Vec<f64> = set
            .iter()
            .map(|s| {
                rule_log_odds(&RULE, s) + head.log_odds(s.features.as_deref().unwrap()).unwrap()
            })
            .collect();
        assert!(loss(&in_sample, &verdicts) < fit.loss_head);
        // The telling feature carries the largest weight, and it points to "attack".
        let (biggest, _) = head
            .weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        assert_eq!(biggest, 0, "{:?}", head.weights);
        assert!(head.weights[0] < 0.0);
        // Prints now score below genuine photos on average.
        let scale = Scale {
            rule: RULE,
            head: Some(head),
        };
        let mean = |pick: &dyn Fn(&Sample) -> bool| {
            let chosen: Vec<f64> = samples
                .iter()
                .filter(|s| pick(s))
                .map(|s| scale.score(&s.patches, s.view, s.features.as_deref()))
                .collect();
            chosen.iter().sum::<f64>() / chosen.len() as f64
        };
        let prints = mean(&|s| !s.genuine && s.case_id % 3 == 0);
        let genuine = mean(&|s| s.genuine);
        assert!(prints + 0.2 < genuine, "prints {prints}, genuine {genuine}");
    }

    #[test]
    fn features_that_tell_nothing_leave_no_head() {
        let samples = deployment(900, false);
        let set: Vec<&Sample> = samples.iter().collect();
        let (head, outcome) = choose(&set, &RULE, 100);
        assert!(head.is_none(), "{outcome:?}");
        assert!(
            matches!(outcome, HeadOutcome::NotBetter { .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn too_few_photos_with_features_leave_no_head() {
        let mut samples = deployment(900, true);
        for s in samples.iter_mut().skip(150) {
            s.features = None;
        }
        let set: Vec<&Sample> = samples.iter().collect();
        let (head, outcome) = choose(&set, &RULE, 100);
        assert!(head.is_none());
        assert_eq!(
            outcome,
            HeadOutcome::TooFew {
                genuine: 75,
                attack: 75,
                min: 100
            }
        );
        assert!(
            outcome.words().contains("needs 100 of each"),
            "{}",
            outcome.words()
        );
    }

    #[test]
    fn only_photos_with_the_usual_number_of_features_are_read() {
        let mut samples = deployment(10, true);
        samples[0].features = None;
        samples[1].features = Some(vec![0.0; 3]);
        let kept = with_features(&samples);
        assert_eq!(kept.len(), 8);
        assert!(kept.iter().all(|s| s.features.as_ref().unwrap().len() == 8));
    }

    #[test]
    fn the_folds_cut_across_the_held_back_split() {
        let mut seen = [[0usize; 2]; FOLDS as usize];
        for id in 1..3000 {
            seen[fold(id) as usize][usize::from(crate::held_back(id, 0.3))] += 1;
        }
        for f in seen {
            assert!(f[0] > 500 && f[1] > 200, "{seen:?}");
        }
    }
}
