//! A deployment's own calibration of the liveness score: the score's scale refitted on
//! the cases its reviewers decided (`docliveness queue adapt`).
//!
//! The shipped calibration was fitted on the project's photos; a team's cameras, light
//! and documents are its own. An overlay replaces only the manifest's `aggregation` (how
//! the patches' and the whole view's outputs become a score) and may add a head on the
//! networks' features (`head.rs`), never the networks themselves, so it
//! stays valid exactly as long as the model it was fitted for is installed. It lives in
//! the liveness model's folder as `overlay.json`, and every analysis records it in its
//! model version (`<model>+<overlay>`), so a decision can always be traced to the scale
//! that routed it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::liveness::aggregate::Aggregation;
use crate::liveness::head::{FeatureHead, Scale};
use crate::onnx::OnnxError;

/// The overlay's file name inside the liveness model's folder.
pub const OVERLAY_FILE: &str = "overlay.json";

/// A refitted score scale for one installed model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Overlay {
    /// This overlay's version, recorded with every analysis it scores.
    pub version: String,
    /// The liveness model version it was fitted for.
    pub base_model: String,
    /// The rule that replaces the manifest's.
    pub aggregation: Aggregation,
    /// A head on the networks' features whose log-odds add to the rule's, when the refit
    /// had enough decided photos to fit one and it did better than the rule alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<FeatureHead>,
    /// When it was fitted (RFC 3339).
    pub created_at: String,
    /// What it was fitted on and how it did on the cases held back.
    pub fit: FitRecord,
}

/// The evidence behind an overlay, kept with it for audit. Unlike the rule, the record
/// takes fields it does not know: it only informs, and an overlay written by a later
/// version must still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FitRecord {
    /// The review database the decided cases came from.
    pub database: String,
    /// Decided genuine and attack photos the scale was fitted on.
    pub fitted_genuine: usize,
    /// See `fitted_genuine`.
    pub fitted_attack: usize,
    /// Decided photos held back to judge the fit, never fitted on.
    pub held_back_genuine: usize,
    /// See `held_back_genuine`.
    pub held_back_attack: usize,
    /// Class-balanced log-loss on the held-back photos under the scale in force before.
    pub held_back_loss_before: f64,
    /// The same under this overlay.
    pub held_back_loss_after: f64,
    /// How the overlay's bands were placed on the photos it was fitted on, in words
    /// (absent from overlays fitted before refits were placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<String>,
    /// How the scale in force before routed the held-back photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back_routes_before: Option<HeldBackRoutes>,
    /// How this overlay routes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back_routes_after: Option<HeldBackRoutes>,
    /// What became of the head on the networks' features, in words (absent from
    /// overlays fitted before refits could fit one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The fail threshold in force when it was fitted: the placement and the routes
    /// above are at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_below: Option<f64>,
    /// The pass threshold in force when it was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_from: Option<f64>,
}

/// How a scale routed the held-back photos, at the thresholds in force when it was
/// fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldBackRoutes {
    /// Genuine photos that would not pass.
    pub genuine_not_passed: usize,
    /// Genuine photos that would fail.
    pub genuine_failed: usize,
    /// Attack photos that would pass.
    pub attack_passed: usize,
    /// Attack photos that would not fail.
    pub attack_not_failed: usize,
}

impl Overlay {
    /// The overlay in the liveness folder `dir`, if one is installed.
    pub fn load(dir: &Path) -> Result<Option<Overlay>, OnnxError> {
        let path = dir.join(OVERLAY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(invalid(&path, e.to_string())),
        };
        let overlay: Overlay =
            serde_json::from_str(&text).map_err(|e| invalid(&path, e.to_string()))?;
        if let Some(problem) = overlay.scale().problem() {
            return Err(invalid(&path, problem));
        }
        Ok(Some(overlay))
    }

    /// The scale it installs.
    pub fn scale(&self) -> Scale {
        Scale {
            rule: self.aggregation,
            head: self.head.clone(),
        }
    }

    /// Why this overlay cannot be applied to the model `version`, if it cannot: a scale
    /// fitted on one network's outputs means nothing for another's.
    pub fn mismatch(&self, version: &str) -> Option<String> {
        (self.base_model != version).then(|| {
            format!(
                "it was fitted for liveness model {} but {version} is installed; \
                 run `docliveness queue adapt --apply` again or delete the file",
                self.base_model
            )
        })
    }
}

fn invalid(path: &Path, message: String) -> OnnxError {
    OnnxError::Manifest {
        path: PathBuf::from(path),
        message,
    }
}
