//! The docliveness engine: bytes in, `Analysis` out. Knows nothing of files, HTTP, SQL or
//! widgets: a crate of its own, so that it cannot depend on them (the product crate,
//! `docliveness`, holds the edges and re-exports this crate as `docliveness::engine`).
//!
//! Built once (models loaded once), `Send + Sync`, shared behind an `Arc`.
//!
//! The pipeline by stage, one folder each: `photo/` (decode, EXIF, JPEG quality, working
//! rasters), `detection/` (the learned detector, outline fitting and snapping, the
//! classical fallback), `portrait/`, `liveness/` (patches, the whole view, aggregation,
//! re-save, calibration overlay), `quality/` (blur, glare and exposure warnings, which
//! never stop scoring). Beside them: the spec's rules (`rules.rs`), the
//! analysis record (`analysis.rs`), a check's outcome (`outcome.rs`), and geometry,
//! ONNX loading and the logistic function that every stage shares.

mod analysis;
pub mod config;
mod detection;
pub mod geometry;
mod liveness;
mod onnx;
mod outcome;
mod photo;
mod portrait;
pub mod probability;
mod quality;
mod rules;
#[cfg(test)]
mod test_support;

use std::time::Instant;

use thiserror::Error;

pub use analysis::{
    Analysis, AttackScores, ErrorCode, EvidenceMap, LivenessStatus, Region, Side, Timings,
};
pub use detection::DetectedDocument;
pub use geometry::{OutlineError, Point, Quad};
pub use liveness::{
    Aggregation, FeatureHead, FitRecord, HeldBackRoutes, MAX_STANDARD, OVERLAY_FILE, Overlay,
    Scale, mean_log_odds, rule_log_odds, standardise,
};
pub use onnx::{Backend, OnnxError};
pub use outcome::{Outcome, Route};
pub use photo::{DecodeError, DecodedImage, ImageFacts, ImageKind, decode};
pub use portrait::{FoundPortrait, PortraitCheck, PortraitDetector};
pub use quality::{QualityMeasures, QualityWarning, WarningCode};

/// The stages' own parts, for the workspace's tests, benchmarks and examples that
/// measure one stage alone (the detector on its own, a model's raw outputs). Not part
/// of the engine's interface: they change with the stages.
#[doc(hidden)]
pub mod internals {
    pub use crate::detection::{
        DocumentModel, LogitGrid, Outline, detect_documents, outlines, snapped,
    };
    pub use crate::liveness::{LivenessModel, ViewModel, jpeg_round_trip, render};
    pub use crate::onnx::OnnxModel;
    pub use crate::photo::exif::read_text_tags;
    pub use crate::photo::jpeg_quality::read_quant_tables;
    pub use crate::photo::{WorkImage, blur_plane, estimate_quality};
    pub use crate::portrait::FaceDetector;
}

use crate::config::EngineConfig;
use detection::DocumentModel;
use liveness::LivenessModel;
use portrait::FaceDetector;

/// The model in `<models>/<name>/`, loaded by `load` when its manifest is there. A missing
/// folder means the model is not installed (logged with what that costs, `without`); a
/// broken one is an error, not a silent fallback.
fn installed<T>(
    config: &EngineConfig,
    name: &str,
    without: &str,
    load: impl FnOnce(&std::path::Path, &crate::config::ModelsConfig) -> Result<T, onnx::OnnxError>,
) -> Result<Option<T>, onnx::OnnxError> {
    let dir = config.models.resolved_dir().join(name);
    if dir.join("manifest.json").is_file() {
        load(&dir, &config.models).map(Some)
    } else {
        tracing::info!(dir = %dir.display(), "no {name} model installed: {without}");
        Ok(None)
    }
}

/// Why an engine could not be built.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A model folder exists but its model could not be loaded.
    #[error(transparent)]
    Model(#[from] onnx::OnnxError),
}

/// The document-liveness engine.
pub struct Engine {
    config: EngineConfig,
    detector: Option<DocumentModel>,
    liveness: Option<LivenessModel>,
    portrait: Option<Box<dyn PortraitDetector>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("detector", &self.detector)
            .field("liveness", &self.liveness)
            .field(
                "portrait",
                &self.portrait.as_ref().map(|p| p.name().to_string()),
            )
            .finish()
    }
}

impl Engine {
    /// Builds an engine with the models installed in `<models>/liveness/`, `detector/`
    /// and `portrait/`. A missing folder means "no model installed" (no liveness model:
    /// every analysis says no score is available); a broken one is an error, not a
    /// silent fallback.
    pub fn new(config: impl Into<EngineConfig>) -> Result<Engine, EngineError> {
        let config = config.into();
        config.validate()?;
        let liveness = installed(
            &config,
            "liveness",
            "analyses will carry no score",
            LivenessModel::load,
        )?;
        let detector = installed(
            &config,
            "detector",
            "using the classical detector",
            DocumentModel::load,
        )?;
        let portrait = installed(
            &config,
            "portrait",
            "DOCUMENT_PHOTO_NOT_FOUND cannot be raised",
            FaceDetector::load,
        )?
        .map(|face| Box::new(face) as Box<dyn PortraitDetector>);
        Ok(Engine {
            config,
            detector,
            liveness,
            portrait,
        })
    }

    /// Builds an engine without any model, whatever is installed: documents are then
    /// found by the classical detector and nothing is scored.
    pub fn without_models(config: impl Into<EngineConfig>) -> Result<Engine, EngineError> {
        let config = config.into();
        config.validate()?;
        Ok(Engine {
            config,
            detector: None,
            liveness: None,
            portrait: None,
        })
    }

    /// Installs a portrait detector for `DOCUMENT_PHOTO_NOT_FOUND`.
    pub fn with_portrait_detector(mut self, detector: Box<dyn PortraitDetector>) -> Engine {
        self.portrait = Some(detector);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The outcome of a check whose sides this engine analysed, routed with the
    /// thresholds it was configured with.
    pub fn outcome<'a>(&self, sides: impl IntoIterator<Item = &'a Analysis>) -> Outcome {
        Outcome::of(sides, &self.config.thresholds)
    }

    /// Version of the installed liveness model, if any.
    pub fn model_version(&self) -> Option<String> {
        self.liveness.as_ref().map(LivenessModel::version)
    }

    /// The installed liveness model, if any.
    pub fn liveness_model(&self) -> Option<&LivenessModel> {
        self.liveness.as_ref()
    }

    /// Label of the inference backend, if a model is loaded.
    pub fn backend_label(&self) -> Option<String> {
        self.liveness.as_ref().map(|m| m.backend().label())
    }

    /// Analyses one photo given as encoded bytes.
    pub fn analyze(&self, bytes: &[u8], side: Side, region: Region) -> Analysis {
        self.analyze_keeping_image(bytes, side, region).0
    }

    /// Like [`Engine::analyze`], also handing back the decoded upright image (when it
    /// decoded) for callers that show it, so it is not decoded twice.
    pub fn analyze_keeping_image(
        &self,
        bytes: &[u8],
        side: Side,
        region: Region,
    ) -> (Analysis, Option<DecodedImage>) {
        self.run(bytes, side, region, None)
    }

    /// Analyses a photo with the document outline a person gave (corrected in the
    /// console, or passed to `check --quad` or the API): the detector is skipped, and the
    /// error rules, the portrait check and liveness work on that outline.
    pub fn analyze_with_outline(&self, bytes: &[u8], side: Side, outline: Quad) -> Analysis {
        self.run(bytes, side, Region::Document, Some(outline)).0
    }

    fn run(
        &self,
        bytes: &[u8],
        side: Side,
        region: Region,
        outline: Option<Quad>,
    ) -> (Analysis, Option<DecodedImage>) {
        let start = Instant::now();
        let mut analysis = Analysis {
            model_version: self.model_version(),
            backend: self.backend_label(),
            ..Analysis::nothing_yet(side, region)
        };
        let decoded = photo::decode(bytes, self.config.image.max_pixels);
        analysis.timings_ms.decode = ms(start);
        let image = match decoded {
            Ok(image) => {
                self.judge(&image, &mut analysis, outline);
                Some(image)
            }
            Err(e) => {
                analysis.error = Some(ErrorCode::ImageInvalid);
                analysis.invalid_reason = Some(e.to_string());
                None
            }
        };
        if analysis.error.is_none() && self.liveness.is_none() {
            analysis.liveness = LivenessStatus::NoModel;
        }
        analysis.timings_ms.total = ms(start);
        (analysis, image)
    }

    /// Documents in an upright photo: by the learned detector when one is installed.
    pub fn detect(&self, rgb: &image::RgbImage) -> Vec<DetectedDocument> {
        self.detect_by(rgb).0
    }

    /// The documents, and which detector found them (see `Analysis::detector`). Should
    /// the model fail to run, the classical detector answers instead and the failure is
    /// logged, so a broken model degrades detection rather than stopping every check.
    fn detect_by(&self, rgb: &image::RgbImage) -> (Vec<DetectedDocument>, String) {
        let classical = || detection::detect_documents(rgb, &self.config.detection);
        match &self.detector {
            Some(model) => match model.detect(rgb, &self.config.detection) {
                Ok(found) => (found, model.manifest().version.clone()),
                Err(e) => {
                    tracing::error!(error = %e, "document detector failed; using the classical detector");
                    (classical(), "classical (model failed)".to_string())
                }
            },
            None => (classical(), "classical".to_string()),
        }
    }

    /// Version of the installed document detector model, if any.
    pub fn detector_version(&self) -> Option<String> {
        self.detector.as_ref().map(|m| m.manifest().version.clone())
    }

    fn judge(&self, image: &DecodedImage, analysis: &mut Analysis, outline: Option<Quad>) {
        analysis.image = Some(image.facts.clone());
        if let Some((code, reason)) = rules::image_rule(&image.facts, &self.config.image) {
            analysis.error = Some(code);
            analysis.invalid_reason = Some(reason);
            return;
        }
        let (w, h) = (image.rgb.width(), image.rgb.height());
        let mut judged = Quad(
            [
                (0.0, 0.0),
                (f64::from(w), 0.0),
                (f64::from(w), f64::from(h)),
                (0.0, f64::from(h)),
            ]
            .map(|(x, y)| Point::new(x, y)),
        );
        if analysis.region == Region::Document {
            let t = Instant::now();
            let (documents, detector) = match outline {
                Some(quad) => (
                    vec![DetectedDocument {
                        quad,
                        confidence: 1.0,
                    }],
                    GIVEN_OUTLINE.to_string(),
                ),
                None => self.detect_by(&image.rgb),
            };
            analysis.documents = documents;
            analysis.detector = Some(detector);
            analysis.timings_ms.detect = ms(t);
            if let [one] = analysis.documents.as_slice() {
                let quad = one.quad;
                self.assess_quality(image, &quad, analysis);
            }
            if let Some(code) =
                rules::document_rule(&analysis.documents, w, h, &self.config.quality)
            {
                analysis.error = Some(code);
                return;
            }
            let quad = analysis.documents[0].quad;
            judged = quad;
            if analysis.side == Side::Front {
                let t = Instant::now();
                analysis.portrait =
                    portrait::check_portrait(self.portrait.as_deref(), &image.rgb, &quad);
                analysis.timings_ms.portrait = ms(t);
                if let Some(code) = rules::portrait_rule(&analysis.portrait) {
                    analysis.error = Some(code);
                    return;
                }
            }
        }
        if analysis.region == Region::Whole {
            self.assess_quality(image, &judged, analysis);
        }
        let Some(model) = &self.liveness else {
            return;
        };
        let t = Instant::now();
        match model.score(&image.rgb, &judged) {
            Ok(result) => {
                analysis.score = Some(result.score);
                analysis.decision = Some(Route::of(result.score, &self.config.thresholds));
                analysis.attack_scores = result.attacks;
                analysis.evidence = Some(result.evidence);
                analysis.liveness = LivenessStatus::Scored;
            }
            Err(e) => {
                tracing::error!(error = %e, "liveness model failed");
                analysis.liveness = LivenessStatus::Failed {
                    message: e.to_string(),
                };
            }
        }
        analysis.timings_ms.liveness = ms(t);
    }
}

impl Engine {
    /// Blur, glare and exposure of the judged region, whatever the rules decide after.
    fn assess_quality(&self, image: &DecodedImage, region: &Quad, analysis: &mut Analysis) {
        let t = Instant::now();
        if let Some((measures, warnings)) =
            quality::assess(&image.rgb, region, &self.config.warnings)
        {
            analysis.quality = Some(measures);
            analysis.warnings = warnings;
        }
        analysis.timings_ms.quality = ms(t);
    }
}

/// What `Analysis::detector` says when a person gave the outline.
pub const GIVEN_OUTLINE: &str = "outline given by a person";

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
