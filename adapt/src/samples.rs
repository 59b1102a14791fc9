//! Decided cases as the evidence the score is computed from.

use docliveness_engine::probability::log_odds;
use docliveness_engine::{Analysis, LivenessStatus};
use docliveness_review::{DecidedSide, Verdict};

/// One decided photo: what the model said about it and what the reviewer decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The case it belongs to (its sides are held back or fitted together).
    pub case_id: i64,
    /// The reviewer's verdict: a real document.
    pub genuine: bool,
    /// The patches' live probabilities, as the analysis recorded them.
    pub patches: Vec<f64>,
    /// The whole view's log-odds of "live", as the score's rule reads them, when a
    /// whole-view model was installed.
    pub view: Option<f64>,
    /// The networks' features, when the model that scored it gave them.
    pub features: Option<Vec<f32>>,
}

/// The decided photos a refit can use, and why the others were left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gathered {
    /// Photos scored by the installed model.
    pub samples: Vec<Sample>,
    /// Scored by another model (its outputs mean something else).
    pub other_model: usize,
    /// Never scored (an error code was raised first, or no model was installed).
    pub unscored: usize,
    /// Photos decided in more than one case (the same image filed again), counted once
    /// with the verdict of the latest case that holds it: a copy in the fitted share and
    /// another held back would let the refit be judged on a photo it was fitted on.
    pub repeated: usize,
}

/// The model version without an overlay's `+…` suffix: an overlay changes only the
/// scale, so photos scored under any overlay of one model are alike.
pub fn base_version(version: &str) -> &str {
    version.split_once('+').map_or(version, |(base, _)| base)
}

/// The decided sides scored by the model `base_model`, as samples, each image once: of
/// the copies the installed model scored, the one filed in the latest case.
pub fn gather(decided: &[DecidedSide], base_model: &str) -> Gathered {
    let mut out = Gathered::default();
    let mut usable: Vec<(&DecidedSide, Sample)> = Vec::new();
    for side in decided {
        match sample(side.case_id, side.verdict, &side.analysis) {
            None => out.unscored += 1,
            Some(_)
                if side.analysis.model_version.as_deref().map(base_version) != Some(base_model) =>
            {
                out.other_model += 1
            }
            Some(s) => usable.push((side, s)),
        }
    }
    // The sides come oldest case first, so the last copy of an image is the latest.
    let mut latest = std::collections::HashMap::new();
    for (i, (side, _)) in usable.iter().enumerate() {
        latest.insert(side.image_sha256.as_str(), i);
    }
    out.repeated = usable.len() - latest.len();
    out.samples = usable
        .iter()
        .enumerate()
        .filter(|(i, (side, _))| latest.get(side.image_sha256.as_str()) == Some(i))
        .map(|(_, (_, s))| s.clone())
        .collect();
    out
}

fn sample(case_id: i64, verdict: Verdict, analysis: &Analysis) -> Option<Sample> {
    if analysis.liveness != LivenessStatus::Scored {
        return None;
    }
    let evidence = analysis.evidence.as_ref()?;
    if evidence.values.is_empty() {
        return None;
    }
    Some(Sample {
        case_id,
        genuine: verdict == Verdict::Genuine,
        // The map holds each patch's attack evidence, 1 − its live probability.
        patches: evidence
            .values
            .iter()
            .map(|v| 1.0 - f64::from(*v))
            .collect(),
        // The analysis records the view as a probability; the rule reads log-odds.
        view: evidence.view.map(log_odds),
        features: evidence.features.clone(),
    })
}
