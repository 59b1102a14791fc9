//! `Analysis`: the one record of what the engine saw in a photo. Plain data, serde.

use serde::{Deserialize, Serialize};

use crate::detection::classical::DetectedDocument;
use crate::outcome::Route;
use crate::photo::decode::ImageFacts;
use crate::portrait::PortraitCheck;
use crate::quality::{QualityMeasures, QualityWarning};

/// Which side of the document the photo shows. Only the front carries a portrait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side with the holder's portrait.
    #[default]
    Front,
    /// The other side.
    Back,
}

/// What part of the photo is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// Find the document and judge it (the product's normal mode).
    #[default]
    Document,
    /// Skip document detection and its rules; judge the whole frame (spot checks of crops).
    Whole,
}

/// The error codes of the spec. One image gets at most one, the first in spec order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The bytes are not a decodable image (or Base64 is malformed).
    ImageInvalid,
    /// Shorter side below the minimum (1080 px by default).
    ImageTooSmall,
    /// Estimated JPEG quality below the minimum (70 by default).
    ImageTooCompressed,
    /// No document detected.
    DocumentNotFound,
    /// More than one document detected.
    TooManyDocuments,
    /// Part of the document lies outside the image.
    DocumentCropped,
    /// The document fills nearly the whole frame.
    DocumentTooCloseToCamera,
    /// The document is nearer an image edge than the margin.
    DocumentTooCloseToBorder,
    /// The document covers too small a part of the image.
    DocumentTooSmall,
    /// No portrait photo on the front side.
    DocumentPhotoNotFound,
    /// An image URL that policy forbids.
    ImageUrlNotAllowed,
    /// An image URL that could not be fetched.
    ImageUrlFetchFailed,
}

impl ErrorCode {
    /// The code as written on the wire, e.g. `DOCUMENT_CROPPED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ImageInvalid => "IMAGE_INVALID",
            ErrorCode::ImageTooSmall => "IMAGE_TOO_SMALL",
            ErrorCode::ImageTooCompressed => "IMAGE_TOO_COMPRESSED",
            ErrorCode::DocumentNotFound => "DOCUMENT_NOT_FOUND",
            ErrorCode::TooManyDocuments => "TOO_MANY_DOCUMENTS",
            ErrorCode::DocumentCropped => "DOCUMENT_CROPPED",
            ErrorCode::DocumentTooCloseToCamera => "DOCUMENT_TOO_CLOSE_TO_CAMERA",
            ErrorCode::DocumentTooCloseToBorder => "DOCUMENT_TOO_CLOSE_TO_BORDER",
            ErrorCode::DocumentTooSmall => "DOCUMENT_TOO_SMALL",
            ErrorCode::DocumentPhotoNotFound => "DOCUMENT_PHOTO_NOT_FOUND",
            ErrorCode::ImageUrlNotAllowed => "IMAGE_URL_NOT_ALLOWED",
            ErrorCode::ImageUrlFetchFailed => "IMAGE_URL_FETCH_FAILED",
        }
    }

    /// What the code means, in words for a reviewer or a customer.
    pub fn explanation(self) -> &'static str {
        match self {
            ErrorCode::ImageInvalid => "The file is not a readable JPEG or PNG image.",
            ErrorCode::ImageTooSmall => {
                "The photo's resolution is below the minimum; take it at a higher resolution."
            }
            ErrorCode::ImageTooCompressed => {
                "The photo is compressed too strongly; send the camera's original file."
            }
            ErrorCode::DocumentNotFound => "No identity document was found in the photo.",
            ErrorCode::TooManyDocuments => {
                "More than one document is in the photo; show one at a time."
            }
            ErrorCode::DocumentCropped => "Part of the document is outside the photo.",
            ErrorCode::DocumentTooCloseToCamera => {
                "The document fills the whole frame; hold it further away."
            }
            ErrorCode::DocumentTooCloseToBorder => {
                "The document is too close to the edge of the photo."
            }
            ErrorCode::DocumentTooSmall => {
                "The document is too small in the photo; hold it closer."
            }
            ErrorCode::DocumentPhotoNotFound => "No portrait photo was found on the front side.",
            ErrorCode::ImageUrlNotAllowed => "The image URL is not allowed by the server's policy.",
            ErrorCode::ImageUrlFetchFailed => "The image could not be fetched from its URL.",
        }
    }

    /// Every code, in the spec's check order.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::ImageInvalid,
        ErrorCode::ImageTooSmall,
        ErrorCode::ImageTooCompressed,
        ErrorCode::DocumentNotFound,
        ErrorCode::TooManyDocuments,
        ErrorCode::DocumentCropped,
        ErrorCode::DocumentTooCloseToCamera,
        ErrorCode::DocumentTooCloseToBorder,
        ErrorCode::DocumentTooSmall,
        ErrorCode::DocumentPhotoNotFound,
        ErrorCode::ImageUrlNotAllowed,
        ErrorCode::ImageUrlFetchFailed,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-attack scores when the model gives them: what the liveness score leaves (`1 − score`),
/// shared among the attacks in proportion to what the patches saw, so that they add up to 1
/// with the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttackScores {
    /// Photo of a screen.
    pub screen: f64,
    /// Photo of a printed copy.
    pub print: f64,
    /// Digital image, scan or screenshot.
    pub digital: f64,
}

/// A coarse grid of attack evidence over the judged region (0 = looks live, 1 = attack).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceMap {
    /// Cells across.
    pub columns: u32,
    /// Cells down.
    pub rows: u32,
    /// Row-major cell values.
    pub values: Vec<f32>,
    /// The judged region in image pixels: `[x, y, width, height]`.
    pub region: [u32; 4],
    /// Corners of the judged outline in image pixels. When present, the cells divide
    /// this outline (columns along its first side) rather than the bounding `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corners: Option<[[f64; 2]; 4]>,
    /// The whole view's live probability (the document and its surroundings, through
    /// the whole-view model), when one is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<f64>,
    /// The networks' features, when the installed model gives them: the mean over the
    /// patches of what the patch network's classifier reads, then the same mean over the
    /// whole view's forms when a whole-view model is installed. A deployment's refit
    /// fits its head on them (`docliveness queue adapt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<f32>>,
}

/// Whether and how the liveness score was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum LivenessStatus {
    /// No liveness model is installed: no score can be given.
    NoModel,
    /// An error code was raised first, so the image was not scored.
    NotScored,
    /// The model scored the image.
    Scored,
    /// The model failed on this image.
    Failed {
        /// The backend's message.
        message: String,
    },
}

/// Time spent in each stage, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding and orientation.
    pub decode: f64,
    /// Document detection.
    pub detect: f64,
    /// Portrait search.
    pub portrait: f64,
    /// Liveness inference.
    pub liveness: f64,
    /// Quality measures (blur, glare, exposure).
    #[serde(default)]
    pub quality: f64,
    /// Everything.
    pub total: f64,
}

/// Everything the engine found out about one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    /// Side the photo was declared to show.
    pub side: Side,
    /// What part of the photo was judged.
    pub region: Region,
    /// Image facts; `None` when the bytes were not a decodable image.
    pub image: Option<ImageFacts>,
    /// Why the image was refused, in words with this deployment's numbers (unreadable,
    /// too small, too compressed); `None` when a code's fixed explanation says it all.
    pub invalid_reason: Option<String>,
    /// Every document found (empty with `Region::Whole`).
    pub documents: Vec<DetectedDocument>,
    /// Blur, glare and exposure of the judged region (the one document, or the whole
    /// frame); `None` when there is no such region or the analysis predates them.
    #[serde(default)]
    pub quality: Option<QualityMeasures>,
    /// Quality warnings raised on the judged region. They never stop scoring.
    #[serde(default)]
    pub warnings: Vec<QualityWarning>,
    /// The portrait check on the front side.
    pub portrait: PortraitCheck,
    /// The first error code that applies, if any.
    pub error: Option<ErrorCode>,
    /// Liveness score 0..1 (higher = more live); `None` on error or without a model.
    pub score: Option<f64>,
    /// Route of the score; `None` without a score.
    pub decision: Option<Route>,
    /// Per-attack scores when the model gives them.
    pub attack_scores: Option<AttackScores>,
    /// Coarse evidence map when the model gives one.
    pub evidence: Option<EvidenceMap>,
    /// Whether a score was produced.
    pub liveness: LivenessStatus,
    /// Which detector found the documents: the learned model's version, `classical`
    /// when none is installed, or `classical (model failed)`; `None` when detection did
    /// not run (an unreadable image, `--region whole`).
    #[serde(default)]
    pub detector: Option<String>,
    /// Version of the liveness model, if one is installed.
    pub model_version: Option<String>,
    /// Inference backend (`tract` or `onnxruntime <version>`), if a model is loaded.
    pub backend: Option<String>,
    /// Stage timings.
    pub timings_ms: Timings,
}

impl Analysis {
    /// The analysis of an input that never became an image: unreadable file, malformed
    /// Base64, a refused or failed URL. `code` is the error to report, `reason` why.
    pub fn input_failed(side: Side, region: Region, code: ErrorCode, reason: String) -> Analysis {
        Analysis {
            invalid_reason: Some(reason),
            error: Some(code),
            ..Analysis::nothing_yet(side, region)
        }
    }

    /// An analysis before any stage has run: nothing found, nothing scored.
    pub(crate) fn nothing_yet(side: Side, region: Region) -> Analysis {
        Analysis {
            side,
            region,
            image: None,
            invalid_reason: None,
            documents: Vec::new(),
            quality: None,
            warnings: Vec::new(),
            portrait: PortraitCheck::NotApplicable,
            error: None,
            score: None,
            decision: None,
            attack_scores: None,
            evidence: None,
            liveness: LivenessStatus::NotScored,
            detector: None,
            model_version: None,
            backend: None,
            timings_ms: Timings::default(),
        }
    }

    /// True when an error code was raised (the spec's `hasError`).
    pub fn has_error(&self) -> bool {
        self.error.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_the_spec_writes_them() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
    }
}
