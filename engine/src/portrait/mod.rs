//! The portrait check behind `DOCUMENT_PHOTO_NOT_FOUND` (front side only).
//!
//! The detector itself comes with the model pipeline; until one is installed the check
//! is reported as not done, never as passed.

pub(crate) mod face;

pub use face::FaceDetector;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::geometry::Quad;

/// Finds the holder's portrait inside a document.
pub trait PortraitDetector: Send + Sync {
    /// Name and version for reports.
    fn name(&self) -> &str;
    /// The portrait's outline in image pixels, or `None` when there is none.
    fn find(&self, image: &RgbImage, document: &Quad) -> Result<Option<FoundPortrait>, String>;
}

/// A portrait found on a document.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FoundPortrait {
    /// Outline in image pixels.
    pub quad: Quad,
    /// Detector confidence 0..1.
    pub confidence: f64,
}

/// Outcome of the portrait check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum PortraitCheck {
    /// The check could not be done; `DOCUMENT_PHOTO_NOT_FOUND` is therefore never raised.
    NotChecked {
        /// Why, in words.
        reason: String,
    },
    /// Not asked for: back side, whole-frame region, or an earlier error.
    NotApplicable,
    /// A portrait was found.
    Found {
        /// Where.
        portrait: FoundPortrait,
    },
    /// The detector ran and found no portrait.
    NotFound,
}

/// Runs the detector, if any, on the front side's document.
pub fn check_portrait(
    detector: Option<&dyn PortraitDetector>,
    image: &RgbImage,
    document: &Quad,
) -> PortraitCheck {
    let Some(detector) = detector else {
        return PortraitCheck::NotChecked {
            reason: "no portrait detector installed".into(),
        };
    };
    match detector.find(image, document) {
        Ok(Some(portrait)) => PortraitCheck::Found { portrait },
        Ok(None) => PortraitCheck::NotFound,
        Err(message) => PortraitCheck::NotChecked {
            reason: format!("portrait detector {} failed: {message}", detector.name()),
        },
    }
}
