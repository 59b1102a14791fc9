//! The wire format of `POST /api/v1/document/liveness`, exactly as the spec writes it.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use docliveness_engine::{Analysis, ErrorCode, QualityWarning, Route, WarningCode};

/// The request body. `documentImageBase` is the product page's name for the front side.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessRequest {
    /// The client's session id, echoed back; made up when absent.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Front side: Base64 (optionally a `data:` URL) or an http(s) URL.
    #[serde(default)]
    pub front_side_image_base: Option<String>,
    /// Back side, same forms.
    #[serde(default)]
    pub back_side_image_base: Option<String>,
    /// Alias of `frontSideImageBase`.
    #[serde(default)]
    pub document_image_base: Option<String>,
    /// The front document's outline when the client knows it (four corners in upright
    /// photo pixels, in order round the document, as `front.documents` gives them): the
    /// detector is skipped and the photo judged on it.
    #[serde(default)]
    pub front_side_quad: Option<[[f64; 2]; 4]>,
    /// The back document's outline, the same way.
    #[serde(default)]
    pub back_side_quad: Option<[[f64; 2]; 4]>,
}

/// Per-side result (an extra field; the four spec fields are never renamed or dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SideResult {
    /// Error on this side.
    pub has_error: bool,
    /// Its code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// Its score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Documents found: corners in upright-image pixels.
    pub documents: Vec<[[f64; 2]; 4]>,
    /// Image-quality warnings on this side, with what was measured and where (glare).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<QualityWarning>,
}

impl SideResult {
    /// The per-side view of an analysis.
    pub fn from_analysis(a: &Analysis) -> SideResult {
        SideResult {
            has_error: a.has_error(),
            error: a.error,
            score: a.score,
            documents: a
                .documents
                .iter()
                .map(|d| d.quad.0.map(|p| [p.x, p.y]))
                .collect(),
            warnings: a.warnings.clone(),
        }
    }
}

/// The response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessResponse {
    /// The request's session id.
    pub session_id: String,
    /// Liveness score, absent on error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// True when no trustworthy score could be given.
    pub has_error: bool,
    /// The error code, present only on error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A human-readable explanation of the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `pass`, `review` or `fail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Route>,
    /// The review case opened for a review-band score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_case_id: Option<i64>,
    /// Image-quality warnings of either side (blur, glare, exposure), each code once.
    /// They never stop scoring; the sides say what was measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningCode>,
    /// Liveness model version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Front side result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub front: Option<SideResult>,
    /// Back side result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back: Option<SideResult>,
}

impl LivenessResponse {
    /// An error response with only the spec's fields and a message.
    pub fn error(session_id: String, code: &str, message: impl Into<String>) -> LivenessResponse {
        LivenessResponse {
            session_id,
            score: None,
            has_error: true,
            error: Some(code.to_string()),
            message: Some(message.into()),
            decision: None,
            review_case_id: None,
            warnings: Vec::new(),
            model_version: None,
            front: None,
            back: None,
        }
    }
}

/// What an image field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// Decoded Base64 bytes.
    Bytes(Vec<u8>),
    /// A URL to fetch.
    Url(String),
}

/// Why an image field could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the image is not valid Base64")]
pub struct BadBase64;

/// Reads an image field: an http(s) URL, a `data:` URL, or bare Base64 (standard or
/// URL-safe alphabet, padding optional, whitespace and line breaks ignored).
pub fn image_source(field: &str) -> Result<ImageSource, BadBase64> {
    let trimmed = field.trim();
    let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(ImageSource::Url(trimmed.to_string()));
    }
    let payload = if lower.starts_with("data:") {
        let (head, data) = trimmed.split_once(',').ok_or(BadBase64)?;
        if !head.to_ascii_lowercase().ends_with(";base64") {
            return Err(BadBase64);
        }
        data
    } else {
        trimmed
    };
    let compact: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let unpadded = compact.trim_end_matches('=');
    let engine = if unpadded.contains(['-', '_']) {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    let bytes = engine.decode(unpadded).map_err(|_| BadBase64)?;
    if bytes.is_empty() {
        return Err(BadBase64);
    }
    Ok(ImageSource::Bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_forms() {
        let want = ImageSource::Bytes(b"\xFF\xD8\xFFhello".to_vec());
        assert_eq!(image_source("/9j/aGVsbG8=").unwrap(), want);
        assert_eq!(image_source("/9j/aGVsbG8").unwrap(), want);
        assert_eq!(
            image_source("data:image/jpeg;base64,/9j/aGVs\nbG8=").unwrap(),
            want
        );
        assert_eq!(image_source("_9j_aGVsbG8").unwrap(), want);
        assert_eq!(
            image_source(" https://example.org/a.jpg ").unwrap(),
            ImageSource::Url("https://example.org/a.jpg".into())
        );
        assert_eq!(image_source("not base64!"), Err(BadBase64));
        assert_eq!(image_source(""), Err(BadBase64));
        assert_eq!(image_source("data:image/jpeg,rawdata"), Err(BadBase64));
    }

    #[test]
    fn error_response_has_the_spec_shape() {
        let r = LivenessResponse::error("s".into(), "DOCUMENT_NOT_FOUND", "none");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["sessionId"], "s");
        assert_eq!(v["hasError"], true);
        assert_eq!(v["error"], "DOCUMENT_NOT_FOUND");
        assert!(v.get("score").is_none());
    }
}
