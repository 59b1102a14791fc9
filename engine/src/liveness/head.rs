//! A deployment's own head on the networks' features, and the one place a score is
//! computed from a rule and, when a refit fitted one, a head.
//!
//! The shipped rule reads only what the networks concluded (live probabilities); the
//! features they concluded it from hold more, such as the look of a team's own documents,
//! cameras and attacks. A refit on enough decided cases (`docliveness queue adapt`) fits a
//! linear function of the standardised features that adds to the rule's log-odds: a
//! correction the decided cases support, zero where they say nothing.

use serde::{Deserialize, Serialize};

use crate::liveness::aggregate::Aggregation;
use crate::probability::{log_odds, logistic};

/// Log-odds beyond which the rule's score is taken as certain before the head adds to
/// it: a probability of exactly 0 or 1 has no finite log-odds to add to.
const MAX_LOG_ODDS: f64 = 40.0;

/// How far from its fitted mean a feature is read, in standard deviations. A channel
/// nearly constant on the fitted photos can lie hundreds of deviations off on a new one;
/// unclipped, one such channel would move the score by tens of log-odds.
pub const MAX_STANDARD: f64 = 5.0;

/// A feature standardised as a head reads it: `(value − mean) / sd`, held within
/// ±`MAX_STANDARD`. The refit fits on exactly this.
pub fn standardise(value: f32, mean: f64, sd: f64) -> f64 {
    ((f64::from(value) - mean) / sd).clamp(-MAX_STANDARD, MAX_STANDARD)
}

/// A linear head on the analysis's features (`EvidenceMap::features`): it adds
/// `offset + Σ weights[i] · standardise(features[i], mean[i], sd[i])` to the rule's
/// log-odds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureHead {
    /// Each feature's mean on the photos the head was fitted on.
    pub mean: Vec<f64>,
    /// Each feature's standard deviation there (never zero).
    pub sd: Vec<f64>,
    /// The weight of each standardised feature, in log-odds.
    pub weights: Vec<f64>,
    /// Added to the log-odds whatever the features.
    pub offset: f64,
}

impl FeatureHead {
    /// Why the head cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let n = self.weights.len();
        if n == 0 || self.mean.len() != n || self.sd.len() != n {
            return Some(format!(
                "the head's weights, means and deviations must be as many and not none \
                 ({} weights, {} means, {} deviations)",
                n,
                self.mean.len(),
                self.sd.len()
            ));
        }
        let all_finite = self
            .mean
            .iter()
            .chain(&self.weights)
            .chain(std::iter::once(&self.offset))
            .all(|v| v.is_finite());
        if !all_finite || !self.sd.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Some("the head's numbers must be finite and its deviations positive".into());
        }
        None
    }

    /// What the head adds to the log-odds for `features`; `None` when the analysis gave
    /// a different number of features than the head was fitted on.
    pub fn log_odds(&self, features: &[f32]) -> Option<f64> {
        (features.len() == self.weights.len()).then(|| {
            self.offset
                + features
                    .iter()
                    .zip(&self.mean)
                    .zip(&self.sd)
                    .zip(&self.weights)
                    .map(|(((f, m), s), w)| w * standardise(*f, *m, *s))
                    .sum::<f64>()
        })
    }

    /// The head with its log-odds multiplied by `scale`, as a placement moves the rule's
    /// (`Aggregation::placed`): the rule's shift is already the sum's.
    pub fn scaled(&self, scale: f64) -> FeatureHead {
        FeatureHead {
            weights: self.weights.iter().map(|w| w * scale).collect(),
            offset: self.offset * scale,
            ..self.clone()
        }
    }
}

/// The score's scale in force: the rule, and the head when a refit fitted one.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// How the patches' and the whole view's outputs become a score.
    pub rule: Aggregation,
    /// A deployment's head on the features, adding to the rule's log-odds.
    pub head: Option<FeatureHead>,
}

impl Scale {
    /// The score of one image (see [`score`]).
    pub fn score(&self, live: &[f64], view: Option<f64>, features: Option<&[f32]>) -> f64 {
        score(&self.rule, self.head.as_ref(), live, view, features)
    }

    /// The scale with its log-odds multiplied by `scale` and shifted by `shift`: the
    /// rule's and the head's alike, so the placed score is the logistic function of
    /// `scale · (rule + head) + shift`. The plain mean has no log-odds to move
    /// (`Aggregation::placed`), so a scale built on it is returned as it is.
    pub fn placed(&self, scale: f64, shift: f64) -> Scale {
        if self.rule == Aggregation::Mean {
            return self.clone();
        }
        Scale {
            rule: self.rule.placed(scale, shift),
            head: self.head.as_ref().map(|h| h.scaled(scale)),
        }
    }

    /// Why the scale cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        self.rule
            .problem()
            .or_else(|| self.head.as_ref().and_then(FeatureHead::problem))
    }
}

impl From<Aggregation> for Scale {
    fn from(rule: Aggregation) -> Scale {
        Scale { rule, head: None }
    }
}

/// The rule's log-odds for one image, held within ±`MAX_LOG_ODDS` so that a head can add
/// to them (the refit fits its head on exactly these).
pub fn rule_log_odds(rule: &Aggregation, live: &[f64], view: Option<f64>) -> f64 {
    log_odds(rule.combine(live, view)).clamp(-MAX_LOG_ODDS, MAX_LOG_ODDS)
}

/// The score of one image: the rule's on the patches' live probabilities and the view's
/// log-odds, with the head's log-odds added when there is a head. NaN when the rule
/// cannot score (see `Aggregation::combine`) or the head was fitted on features the
/// analysis does not have: the caller reports a model failure rather than route an image
/// by a scale it was not meant for.
pub fn score(
    rule: &Aggregation,
    head: Option<&FeatureHead>,
    live: &[f64],
    view: Option<f64>,
    features: Option<&[f32]>,
) -> f64 {
    let Some(head) = head else {
        return rule.combine(live, view);
    };
    let base = rule_log_odds(rule, live, view);
    match features.and_then(|f| head.log_odds(f)) {
        Some(extra) if !base.is_nan() => logistic(base + extra),
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> FeatureHead {
        FeatureHead {
            mean: vec![1.0, 0.0],
            sd: vec![2.0, 0.5],
            weights: vec![0.5, -1.0],
            offset: 0.25,
        }
    }

    #[test]
    fn the_head_adds_its_standardised_linear_function_to_the_rules_log_odds() {
        let rule = Aggregation::Mean;
        let live = [0.8, 0.8];
        let f = [3.0f32, 0.25];
        // 0.25 + 0.5 · (3 − 1)/2 − 1 · 0.25/0.5 = 0.25
        let want = logistic(log_odds(0.8) + 0.25);
        let got = score(&rule, Some(&head()), &live, None, Some(&f));
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        assert_eq!(score(&rule, None, &live, None, Some(&f)), 0.8);
    }

    #[test]
    fn features_the_head_was_not_fitted_on_give_no_score() {
        let rule = Aggregation::Mean;
        assert!(score(&rule, Some(&head()), &[0.8], None, Some(&[1.0])).is_nan());
        assert!(score(&rule, Some(&head()), &[0.8], None, None).is_nan());
    }

    #[test]
    fn a_certain_rule_still_moves_by_the_head_instead_of_staying_undefined() {
        let rule = Aggregation::Mean;
        let got = score(&rule, Some(&head()), &[1.0], None, Some(&[1.0, 0.0]));
        assert!(got.is_finite() && got > 0.99, "{got}");
    }

    #[test]
    fn scaling_the_head_scales_what_it_adds() {
        let f = [3.0f32, 0.25];
        let h = head();
        let twice = h.scaled(2.0);
        assert!((twice.log_odds(&f).unwrap() - 2.0 * h.log_odds(&f).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn a_malformed_head_is_refused() {
        let mut h = head();
        h.sd[1] = 0.0;
        assert!(h.problem().is_some());
        let mut h = head();
        h.weights.pop();
        assert!(h.problem().is_some());
        assert!(head().problem().is_none());
    }
}
