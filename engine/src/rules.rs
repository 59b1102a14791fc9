//! The image and document rules of the spec, as pure functions over facts and geometry.

use crate::analysis::ErrorCode;
use crate::config::{ImageConfig, QualityConfig};
use crate::detection::classical::DetectedDocument;
use crate::photo::decode::ImageFacts;
use crate::portrait::PortraitCheck;

/// `IMAGE_TOO_SMALL` or `IMAGE_TOO_COMPRESSED`, in that order, if either applies, with
/// the reason in this deployment's numbers (the limits are configurable, so the code's
/// fixed explanation cannot name them).
pub fn image_rule(facts: &ImageFacts, cfg: &ImageConfig) -> Option<(ErrorCode, String)> {
    let short = facts.width.min(facts.height);
    if short < cfg.min_short_side {
        return Some((
            ErrorCode::ImageTooSmall,
            format!(
                "The photo's shorter side is {short} px; at least {} px is needed. Take it at a higher resolution.",
                cfg.min_short_side
            ),
        ));
    }
    if let Some(q) = facts.jpeg_quality.filter(|&q| q < cfg.min_jpeg_quality) {
        return Some((
            ErrorCode::ImageTooCompressed,
            format!(
                "The photo is saved at JPEG quality about {q}; at least {} is needed. Send the camera's original file.",
                cfg.min_jpeg_quality
            ),
        ));
    }
    None
}

/// The DOCUMENT_* geometry rules, in spec order, for an image of `width × height`.
pub fn document_rule(
    documents: &[DetectedDocument],
    width: u32,
    height: u32,
    cfg: &QualityConfig,
) -> Option<ErrorCode> {
    let doc = match documents {
        [] => return Some(ErrorCode::DocumentNotFound),
        [one] => one,
        _ => return Some(ErrorCode::TooManyDocuments),
    };
    let (w, h) = (f64::from(width), f64::from(height));
    let short = w.min(h);
    let tolerance = cfg.crop_tolerance * short;
    let corners = doc.quad.0;
    if corners
        .iter()
        .any(|p| p.x < -tolerance || p.y < -tolerance || p.x > w + tolerance || p.y > h + tolerance)
    {
        return Some(ErrorCode::DocumentCropped);
    }
    let (x0, y0, x1, y1) = doc.quad.bounds();
    if (x1 - x0) >= cfg.close_to_camera_span * w || (y1 - y0) >= cfg.close_to_camera_span * h {
        return Some(ErrorCode::DocumentTooCloseToCamera);
    }
    let margin = cfg.border_margin * short;
    if corners
        .iter()
        .any(|p| p.x.min(p.y).min(w - p.x).min(h - p.y) < margin)
    {
        return Some(ErrorCode::DocumentTooCloseToBorder);
    }
    if doc.quad.area() < cfg.min_area_fraction * w * h {
        return Some(ErrorCode::DocumentTooSmall);
    }
    None
}

/// `DOCUMENT_PHOTO_NOT_FOUND` when the detector ran and found nothing.
pub fn portrait_rule(check: &PortraitCheck) -> Option<ErrorCode> {
    matches!(check, PortraitCheck::NotFound).then_some(ErrorCode::DocumentPhotoNotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Point, Quad};
    use crate::photo::ImageKind;

    fn doc(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<DetectedDocument> {
        vec![DetectedDocument {
            quad: Quad([
                Point::new(x0, y0),
                Point::new(x1, y0),
                Point::new(x1, y1),
                Point::new(x0, y1),
            ]),
            confidence: 0.9,
        }]
    }

    fn rule(d: &[DetectedDocument]) -> Option<ErrorCode> {
        document_rule(d, 1920, 1080, &QualityConfig::default())
    }

    #[test]
    fn well_framed_document_passes() {
        assert_eq!(rule(&doc(500.0, 250.0, 1400.0, 820.0)), None);
    }

    #[test]
    fn each_geometry_rule_fires_at_its_threshold() {
        assert_eq!(rule(&[]), Some(ErrorCode::DocumentNotFound));
        let mut two = doc(100.0, 100.0, 700.0, 480.0);
        two.extend(doc(1000.0, 100.0, 1600.0, 480.0));
        assert_eq!(rule(&two), Some(ErrorCode::TooManyDocuments));
        assert_eq!(
            rule(&doc(-5.0, 250.0, 900.0, 820.0)),
            Some(ErrorCode::DocumentCropped)
        );
        // 95% of 1920 is 1824: a span of 1830 is too close, 1800 is not.
        assert_eq!(
            rule(&doc(40.0, 100.0, 1870.0, 1000.0)),
            Some(ErrorCode::DocumentTooCloseToCamera)
        );
        // 2% of 1080 is 21.6 px.
        assert_eq!(
            rule(&doc(20.0, 250.0, 920.0, 820.0)),
            Some(ErrorCode::DocumentTooCloseToBorder)
        );
        assert_eq!(rule(&doc(22.0, 250.0, 922.0, 820.0)), None);
        // 10% of the area is 207360 px²: 500×400 = 200000 is too small.
        assert_eq!(
            rule(&doc(600.0, 300.0, 1100.0, 700.0)),
            Some(ErrorCode::DocumentTooSmall)
        );
    }

    /// Facts of a JPEG of `w × h` at estimated quality `q`.
    fn facts(w: u32, h: u32, q: Option<u8>) -> ImageFacts {
        ImageFacts {
            width: w,
            height: h,
            orientation: 1,
            jpeg_quality: q,
            format: ImageKind::Jpeg,
            byte_size: 1,
            camera: None,
            software: None,
        }
    }

    #[test]
    fn image_rules_in_spec_order() {
        let cfg = ImageConfig::default();
        let code = |f: &ImageFacts, cfg: &ImageConfig| image_rule(f, cfg).map(|(c, _)| c);
        assert_eq!(code(&facts(1920, 1080, Some(90)), &cfg), None);
        assert_eq!(code(&facts(1080, 1920, Some(70)), &cfg), None);
        assert_eq!(
            code(&facts(1920, 1079, Some(50)), &cfg),
            Some(ErrorCode::ImageTooSmall)
        );
        assert_eq!(
            code(&facts(1920, 1080, Some(69)), &cfg),
            Some(ErrorCode::ImageTooCompressed)
        );
        assert_eq!(code(&facts(1920, 1080, None), &cfg), None);
    }

    #[test]
    fn the_image_reasons_name_this_deployments_limits() {
        let cfg = ImageConfig {
            min_short_side: 720,
            min_jpeg_quality: 55,
            ..ImageConfig::default()
        };
        let (_, small) = image_rule(&facts(1280, 700, Some(90)), &cfg).expect("too small");
        assert!(
            small.contains("700 px") && small.contains("720 px"),
            "{small}"
        );
        let (_, packed) = image_rule(&facts(1280, 720, Some(40)), &cfg).expect("too compressed");
        assert!(
            packed.contains("about 40") && packed.contains("55"),
            "{packed}"
        );
    }

    #[test]
    fn missing_detector_never_raises_photo_not_found() {
        let not_checked = PortraitCheck::NotChecked {
            reason: "none".into(),
        };
        assert_eq!(portrait_rule(&not_checked), None);
        assert_eq!(
            portrait_rule(&PortraitCheck::NotFound),
            Some(ErrorCode::DocumentPhotoNotFound)
        );
    }
}
