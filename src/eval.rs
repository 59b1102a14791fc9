//! Error rates of the liveness score on a labelled set, per ISO/IEC 30107-3 terms.
//!
//! An image counts as accepted as live when its score is at or above the fail threshold
//! (0.25 by default): review-band images reach a person, but an attack there has still
//! got past the automatic check. APCER is reported per attack type and as the worst
//! type, as the standard asks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::ErrorCode;

/// Ground truth of a labelled image: the folder it sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// A real document photographed by a camera.
    Genuine,
    /// A photo of a screen showing a document.
    Screen,
    /// A photo of a printed copy.
    Print,
    /// A digital image, scan or screenshot.
    Digital,
}

impl Label {
    /// The folder name for this label.
    pub fn folder(self) -> &'static str {
        match self {
            Label::Genuine => "genuine",
            Label::Screen => "screen",
            Label::Print => "print",
            Label::Digital => "digital",
        }
    }

    /// The label for a folder name, if it is one.
    pub fn from_folder(name: &str) -> Option<Label> {
        [Label::Genuine, Label::Screen, Label::Print, Label::Digital]
            .into_iter()
            .find(|l| l.folder() == name)
    }

    /// Attack labels, in report order.
    pub const ATTACKS: [Label; 3] = [Label::Screen, Label::Print, Label::Digital];
}

/// One evaluated image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Ground truth.
    pub label: Label,
    /// Liveness score, if one was given.
    pub score: Option<f64>,
    /// Error code, if one was raised.
    pub error: Option<ErrorCode>,
}

/// BPCER at the threshold where the worst APCER first falls to a target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatingPoint {
    /// Target APCER.
    pub apcer_target: f64,
    /// Lowest BPCER whose worst-type APCER is at or below the target.
    pub bpcer: f64,
    /// The threshold that achieves it.
    pub threshold: f64,
}

/// One bin of the score histogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    /// Lower edge (inclusive).
    pub lo: f64,
    /// Upper edge (exclusive; the last bin includes 1.0).
    pub hi: f64,
    /// Genuine images in the bin.
    pub genuine: usize,
    /// Attack images in the bin.
    pub attack: usize,
}

/// The evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalReport {
    /// Threshold used for APCER and BPCER.
    pub threshold: f64,
    /// Images per label.
    pub images: BTreeMap<Label, usize>,
    /// Images per label that received a score.
    pub scored: BTreeMap<Label, usize>,
    /// Error codes per label.
    pub errors: BTreeMap<Label, BTreeMap<ErrorCode, usize>>,
    /// APCER per attack type at `threshold` (types without scored images are absent).
    pub apcer: BTreeMap<Label, f64>,
    /// Worst APCER over attack types.
    pub apcer_max: Option<f64>,
    /// BPCER at `threshold`.
    pub bpcer: Option<f64>,
    /// Equal error rate (worst-type APCER against BPCER) and its threshold.
    pub eer: Option<(f64, f64)>,
    /// BPCER at APCER 1%, 5% and 10%.
    pub bpcer_at_apcer: Vec<OperatingPoint>,
    /// Score histogram in ten bins.
    pub histogram: Vec<HistogramBin>,
}

fn rates(samples: &[Sample], t: f64) -> (BTreeMap<Label, f64>, Option<f64>) {
    let mut apcer = BTreeMap::new();
    for attack in Label::ATTACKS {
        let scores: Vec<f64> = samples
            .iter()
            .filter(|s| s.label == attack)
            .filter_map(|s| s.score)
            .collect();
        if !scores.is_empty() {
            apcer.insert(
                attack,
                scores.iter().filter(|&&s| s >= t).count() as f64 / scores.len() as f64,
            );
        }
    }
    let genuine: Vec<f64> = samples
        .iter()
        .filter(|s| s.label == Label::Genuine)
        .filter_map(|s| s.score)
        .collect();
    let bpcer = (!genuine.is_empty())
        .then(|| genuine.iter().filter(|&&s| s < t).count() as f64 / genuine.len() as f64);
    (apcer, bpcer)
}

/// Computes the report at `threshold`.
pub fn evaluate(samples: &[Sample], threshold: f64) -> EvalReport {
    let mut images = BTreeMap::new();
    let mut scored = BTreeMap::new();
    let mut errors: BTreeMap<Label, BTreeMap<ErrorCode, usize>> = BTreeMap::new();
    for s in samples {
        *images.entry(s.label).or_insert(0) += 1;
        if s.score.is_some() {
            *scored.entry(s.label).or_insert(0) += 1;
        }
        if let Some(code) = s.error {
            *errors.entry(s.label).or_default().entry(code).or_insert(0) += 1;
        }
    }
    let (apcer, bpcer) = rates(samples, threshold);
    let apcer_max = apcer.values().copied().reduce(f64::max);

    // Sweep every distinct score (and 1+ε, where nothing is accepted) as a threshold.
    let mut cuts: Vec<f64> = samples.iter().filter_map(|s| s.score).collect();
    cuts.push(f64::INFINITY);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let sweep: Vec<(f64, f64, f64)> = cuts
        .iter()
        .filter_map(|&t| {
            let (a, b) = rates(samples, t);
            Some((t, a.values().copied().reduce(f64::max)?, b?))
        })
        .collect();
    let eer = sweep
        .iter()
        .min_by(|x, y| (x.1 - x.2).abs().total_cmp(&(y.1 - y.2).abs()))
        .map(|&(t, a, b)| ((a + b) / 2.0, t.min(1.0)));
    let bpcer_at_apcer = [0.01, 0.05, 0.10]
        .into_iter()
        .filter_map(|target| {
            sweep
                .iter()
                .filter(|(_, a, _)| *a <= target)
                .min_by(|x, y| x.2.total_cmp(&y.2))
                .map(|&(t, _, b)| OperatingPoint {
                    apcer_target: target,
                    bpcer: b,
                    threshold: t.min(1.0),
                })
        })
        .collect();
    let mut histogram: Vec<HistogramBin> = (0..10)
        .map(|i| HistogramBin {
            lo: i as f64 / 10.0,
            hi: (i + 1) as f64 / 10.0,
            genuine: 0,
            attack: 0,
        })
        .collect();
    for s in samples {
        if let Some(score) = s.score {
            let bin = &mut histogram[((score * 10.0) as usize).min(9)];
            if s.label == Label::Genuine {
                bin.genuine += 1;
            } else {
                bin.attack += 1;
            }
        }
    }
    EvalReport {
        threshold,
        images,
        scored,
        errors,
        apcer,
        apcer_max,
        bpcer,
        eer,
        bpcer_at_apcer,
        histogram,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(label: Label, score: f64) -> Sample {
        Sample {
            label,
            score: Some(score),
            error: None,
        }
    }

    #[test]
    fn rates_at_threshold_and_perfect_separation() {
        let samples = vec![
            s(Label::Genuine, 0.9),
            s(Label::Genuine, 0.8),
            s(Label::Genuine, 0.2),
            s(Label::Screen, 0.1),
            s(Label::Screen, 0.3),
            s(Label::Print, 0.05),
        ];
        let r = evaluate(&samples, 0.25);
        assert_eq!(r.apcer[&Label::Screen], 0.5);
        assert_eq!(r.apcer[&Label::Print], 0.0);
        assert_eq!(r.apcer_max, Some(0.5));
        assert!((r.bpcer.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!(!r.apcer.contains_key(&Label::Digital));
        assert_eq!(
            r.histogram
                .iter()
                .map(|b| b.genuine + b.attack)
                .sum::<usize>(),
            6
        );

        let separable = vec![
            s(Label::Genuine, 0.9),
            s(Label::Genuine, 0.7),
            s(Label::Digital, 0.1),
        ];
        let r = evaluate(&separable, 0.25);
        assert_eq!(r.eer.unwrap().0, 0.0);
        assert_eq!(r.bpcer_at_apcer[0].bpcer, 0.0);
    }

    #[test]
    fn unscored_images_are_counted_but_not_rated() {
        let samples = vec![Sample {
            label: Label::Genuine,
            score: None,
            error: Some(ErrorCode::DocumentNotFound),
        }];
        let r = evaluate(&samples, 0.25);
        assert_eq!(r.images[&Label::Genuine], 1);
        assert_eq!(r.errors[&Label::Genuine][&ErrorCode::DocumentNotFound], 1);
        assert_eq!(r.bpcer, None);
        assert_eq!(r.eer, None);
    }
}
