//! What a check comes to: the overall score of its sides, the route that score takes and
//! the first error. Worked out here, once per check, and carried from there: the API
//! answers with it, the review store files it, the console shows what was filed. A queue
//! row and the inspector can then never disagree about the same case.

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, ErrorCode, LivenessStatus};
use crate::config::Thresholds;

/// Where the engine's score sends a check: the automatic route. A reviewer's verdict on a
/// case is another thing (`review::Verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Score at or above `pass_from`.
    Pass,
    /// Score in `[fail_below, pass_from)`: a reviewer decides.
    Review,
    /// Score below `fail_below`.
    Fail,
}

impl Route {
    /// Every route, best first.
    pub const ALL: [Route; 3] = [Route::Pass, Route::Review, Route::Fail];

    /// The route of a score per the spec: fail below 0.25, review in [0.25, 0.5), pass
    /// from 0.5 (with the default thresholds).
    pub fn of(score: f64, thresholds: &Thresholds) -> Route {
        // A NaN score fails rather than passes.
        if score.is_nan() || score < thresholds.fail_below {
            Route::Fail
        } else if score < thresholds.pass_from {
            Route::Review
        } else {
            Route::Pass
        }
    }

    /// The word used on the wire, in the database and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Pass => "pass",
            Route::Review => "review",
            Route::Fail => "fail",
        }
    }

    /// The route a word names.
    pub fn parse(word: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.as_str() == word)
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole check's outcome over its sides (front, and back when given).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A side could not be judged: the first such side's code, and what to tell people
    /// (that side's reason in this deployment's words, or the code's explanation).
    Refused {
        /// The first error code raised.
        code: ErrorCode,
        /// Why, in words.
        message: String,
    },
    /// Every side could be judged but not scored: no liveness model is installed, or it
    /// failed (its message).
    Unscored {
        /// The model's failure, when it failed rather than being absent.
        failure: Option<String>,
    },
    /// Scored: the lower of the sides' scores (the spec: one weak side is enough to
    /// doubt the document) and its route.
    Scored {
        /// Overall score 0..1.
        score: f64,
        /// Where it sends the check.
        route: Route,
    },
}

impl Outcome {
    /// The outcome of a check whose sides were analysed as `sides`, routed with
    /// `thresholds`.
    pub fn of<'a>(
        sides: impl IntoIterator<Item = &'a Analysis>,
        thresholds: &Thresholds,
    ) -> Outcome {
        let sides: Vec<&Analysis> = sides.into_iter().collect();
        if let Some((a, code)) = sides.iter().find_map(|a| a.error.map(|c| (a, c))) {
            return Outcome::Refused {
                code,
                message: a
                    .invalid_reason
                    .clone()
                    .unwrap_or_else(|| code.explanation().to_string()),
            };
        }
        let scores: Option<Vec<f64>> = sides.iter().map(|a| a.score).collect();
        match scores {
            Some(scores) if !scores.is_empty() => {
                let score = scores.into_iter().fold(f64::INFINITY, f64::min);
                Outcome::Scored {
                    score,
                    route: Route::of(score, thresholds),
                }
            }
            _ => Outcome::Unscored {
                failure: sides.iter().find_map(|a| match &a.liveness {
                    LivenessStatus::Failed { message } => Some(message.clone()),
                    _ => None,
                }),
            },
        }
    }

    /// The overall score, when there is one.
    pub fn score(&self) -> Option<f64> {
        match self {
            Outcome::Scored { score, .. } => Some(*score),
            _ => None,
        }
    }

    /// The route, when there is a score.
    pub fn route(&self) -> Option<Route> {
        match self {
            Outcome::Scored { route, .. } => Some(*route),
            _ => None,
        }
    }

    /// The error code, when a side was refused.
    pub fn error(&self) -> Option<ErrorCode> {
        match self {
            Outcome::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Region, Side};

    fn scored(side: Side, score: f64) -> Analysis {
        let mut a = Analysis::input_failed(
            side,
            Region::Document,
            ErrorCode::ImageInvalid,
            String::new(),
        );
        a.error = None;
        a.invalid_reason = None;
        a.score = Some(score);
        a.liveness = LivenessStatus::Scored;
        a
    }

    #[test]
    fn routing_follows_the_spec_bands() {
        let t = Thresholds::default();
        assert_eq!(Route::of(0.0, &t), Route::Fail);
        assert_eq!(Route::of(0.2499, &t), Route::Fail);
        assert_eq!(Route::of(0.25, &t), Route::Review);
        assert_eq!(Route::of(0.4999, &t), Route::Review);
        assert_eq!(Route::of(0.5, &t), Route::Pass);
        assert_eq!(Route::of(1.0, &t), Route::Pass);
        assert_eq!(Route::of(f64::NAN, &t), Route::Fail);
    }

    #[test]
    fn route_words_round_trip() {
        for r in Route::ALL {
            assert_eq!(Route::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(Route::parse("maybe"), None);
    }

    #[test]
    fn the_weaker_side_decides() {
        let t = Thresholds::default();
        let outcome = Outcome::of([&scored(Side::Front, 0.9), &scored(Side::Back, 0.3)], &t);
        assert_eq!(
            outcome,
            Outcome::Scored {
                score: 0.3,
                route: Route::Review
            }
        );
    }

    #[test]
    fn the_first_refused_side_gives_the_error_and_no_score() {
        let t = Thresholds::default();
        let mut back = scored(Side::Back, 0.9);
        back.error = Some(ErrorCode::DocumentNotFound);
        let outcome = Outcome::of([&scored(Side::Front, 0.9), &back], &t);
        assert_eq!(outcome.error(), Some(ErrorCode::DocumentNotFound));
        assert_eq!(outcome.score(), None);
        assert_eq!(outcome.route(), None);
        assert!(
            matches!(outcome, Outcome::Refused { message, .. } if message == ErrorCode::DocumentNotFound.explanation())
        );
    }

    #[test]
    fn a_side_without_a_score_leaves_the_check_unscored_with_the_models_failure() {
        let t = Thresholds::default();
        let mut back = scored(Side::Back, 0.0);
        back.score = None;
        back.liveness = LivenessStatus::Failed {
            message: "tensor shape".into(),
        };
        assert_eq!(
            Outcome::of([&scored(Side::Front, 0.9), &back], &t),
            Outcome::Unscored {
                failure: Some("tensor shape".into())
            }
        );
        assert_eq!(Outcome::of([], &t), Outcome::Unscored { failure: None });
    }
}
