//! The engine's configuration: the image requirements, detection, the geometry rules,
//! the quality warnings, the score thresholds and the models. Every threshold that
//! decides an outcome lives here with its default and the reason for it. The product's
//! configuration file (`docliveness::config::Config`) holds these sections beside the
//! server's and the review store's.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Image requirements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageConfig {
    /// Largest image accepted, in pixels, checked from the header before decoding.
    /// Default 50 MP: above every phone camera's default mode (12–48 MP), while a
    /// decompression bomb of 20000 × 20000 (400 MP, 1.2 GB as RGB) is refused unallocated.
    pub max_pixels: u64,
    /// Shorter side below this is `IMAGE_TOO_SMALL`. Default 1080, the spec's "1080p".
    pub min_short_side: u32,
    /// Estimated JPEG quality below this is `IMAGE_TOO_COMPRESSED`. Default 70, from the
    /// spec: at lower qualities block artefacts erase the moiré and halftone evidence.
    pub min_jpeg_quality: u8,
}

impl Default for ImageConfig {
    fn default() -> Self {
        Self {
            max_pixels: 50_000_000,
            min_short_side: 1080,
            min_jpeg_quality: 70,
        }
    }
}

impl ImageConfig {
    /// Largest photo file read from disk, derived from `max_pixels` rather than set on
    /// its own: four bytes per pixel (what the decoder may allocate for the pixels) plus
    /// 64 MiB for metadata and trailers. A JPEG or PNG within the pixel limit is far
    /// smaller (even an uncompressed RGBA PNG is four bytes a pixel), so a larger file
    /// cannot pass and is refused before it is read into memory. Default about 264 MB.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_pixels.saturating_mul(4).saturating_add(64 << 20)
    }
}

/// Document detection settings. The learned detector (`models/detector/`) uses only
/// `min_area_fraction`; every other field tunes the classical detector, which answers
/// when no detector model is installed or it fails to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionConfig {
    /// Longer side of the working copy that detection runs on. Default 448: a card that
    /// covers the spec's minimum 10% of a 16:9 frame is still ~90 px tall there, and the
    /// cost stays well under the decode time of a 1080p photo.
    pub work_side: usize,
    /// Gaussian blur (in working pixels) before edge detection; suppresses sensor noise
    /// and fine texture such as paper fibre. Default 1.0.
    pub blur_sigma: f32,
    /// Weakest colour step (grey levels per pixel) that counts as an edge. Default 1.5:
    /// a white card on a white table still differs by ~8 levels at its edge.
    pub min_edge_strength: f32,
    /// Edge threshold as a multiple of the median gradient, so noisy or textured photos
    /// need stronger edges. Default 3.0.
    pub noise_factor: f32,
    /// Most straight lines considered per photo. Default 40.
    pub max_lines: usize,
    /// Accepted ratio of long to short side (perspective included). ID-1 cards are 1.586,
    /// passport data pages 1.42; hand-held perspective stretches this, hence 1.15..2.1.
    pub min_aspect: f64,
    /// See `min_aspect`.
    pub max_aspect: f64,
    /// Smallest outline considered, as a fraction of the image area. Default 0.01, well
    /// below `quality.min_area_fraction` so that too-small documents are still found and
    /// reported as such instead of as not found.
    pub min_area_fraction: f64,
    /// Smallest edge support (fraction of the outline backed by image edges) for an
    /// outline to count as a document. Default 0.6, measured on the synthetic scene set.
    pub min_confidence: f64,
    /// A further document counts only when its support is at least this fraction of the
    /// best one's. Default 0.8: on the synthetic clutter scenes, outlines pieced together
    /// from unrelated objects score below 0.7 of the real card, and a second real card
    /// scores within 0.9 of the first.
    pub secondary_ratio: f64,
    /// Run the learned detector on four forms of the photo (as it is, mirrored either
    /// way, turned half round) and average them. Default true: then the outline, and
    /// with it the score, does not depend on which of the eight ways the camera was
    /// held (a single pass moved an outline up to 28 px), at four network runs instead
    /// of one (about 30 ms more per photo with tract on two cores).
    pub symmetric_forms: bool,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            work_side: 448,
            blur_sigma: 1.0,
            min_edge_strength: 1.5,
            noise_factor: 3.0,
            max_lines: 40,
            min_aspect: 1.15,
            max_aspect: 2.1,
            min_area_fraction: 0.01,
            min_confidence: 0.6,
            secondary_ratio: 0.8,
            symmetric_forms: true,
        }
    }
}

/// Thresholds of the DOCUMENT_* rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// `DOCUMENT_TOO_CLOSE_TO_CAMERA` when the document's bounding box spans at least this
    /// fraction of the image width or height. Default 0.95 (spec): a fully visible ID-1
    /// card can cover at most ~89% of a 16:9 frame's area, so area alone cannot tell.
    pub close_to_camera_span: f64,
    /// `DOCUMENT_TOO_CLOSE_TO_BORDER` when a corner is nearer an image edge than this
    /// fraction of the shorter image side. Default 0.02 (spec): closer than that, lens
    /// vignetting and edge blur eat into the document.
    pub border_margin: f64,
    /// `DOCUMENT_TOO_SMALL` when the document covers less than this fraction of the image
    /// area. Default 0.10 (spec): below it a 1080p photo holds too few pixels per
    /// millimetre of document for screen pixels or print dots to be resolved.
    pub min_area_fraction: f64,
    /// `DOCUMENT_CROPPED` when a corner lies further outside the image than this fraction
    /// of the shorter image side. Default 0.0: any part outside is a crop. Corners the
    /// detector snaps to the photo's edges are within a few pixels, well below the
    /// border margin, so a document that merely touches the edge is reported as too
    /// close to the border instead; a side left at the learned grid's precision (about
    /// 1/64 of the frame) can tip such a document either way.
    pub crop_tolerance: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            close_to_camera_span: 0.95,
            border_margin: 0.02,
            min_area_fraction: 0.10,
            crop_tolerance: 0.0,
        }
    }
}

/// Thresholds of the image-quality warnings. A warning never stops scoring: it tells a
/// reviewer why a score may be unreliable and a customer what to retake. The defaults
/// were set on real phone photos (`models/quality_warnings/`, where they are measured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarningsConfig {
    /// `BLURRED` when the blur measure of the judged region reaches this (0 = crisp,
    /// 1 = no detail). The measure compares the region with itself re-blurred at native
    /// resolution (and binned 2×2 and 4×4): a sharp photo loses much of its
    /// pixel-to-pixel variation when blurred again, a blurred one little. Default 0.5,
    /// set on real photos: it flags every sharp training photo blurred by 0.2% of its
    /// longer side and 3.0% of them as taken.
    pub blur_limit: f64,
    /// `GLARE` when blown-out specular patches cover at least this share of the judged
    /// region. Default 0.01: a reflection over 1% of an ID-1 card hides about a line of
    /// text or a security feature, and screens, laminates and holograms all throw one.
    pub glare_share: f64,
    /// A pixel is blown out when all three channels reach this level (0..255): the
    /// sensor clipped there, and whatever was printed under it is lost. Default 250,
    /// below 255 because phone tone curves and JPEG round clipped whites down.
    pub clipped_level: u8,
    /// `UNDEREXPOSED` when the judged region's mean luma is below this (0..255).
    /// Default 64, set on real photos: the highest mean under which at most 5% of sharp,
    /// well-lit training photos fall (4.4%); it flags 99.3% of them three stops darker.
    pub dark_mean: f64,
    /// `OVEREXPOSED` when the judged region's mean luma is above this (0..255). Default
    /// 200: no sharp, well-lit real photo of the screening comes near it (the brightest
    /// is 195).
    pub bright_mean: f64,
    /// `OVEREXPOSED` also when blown-out patches cover at least this share of the region:
    /// a photo washed out broadly, not a reflection. Default 0.10: no sharp, well-lit
    /// real photo of the screening has more than 4%.
    pub overexposed_share: f64,
}

impl Default for WarningsConfig {
    fn default() -> Self {
        Self {
            blur_limit: 0.5,
            glare_share: 0.01,
            clipped_level: 250,
            dark_mean: 64.0,
            bright_mean: 200.0,
            overexposed_share: 0.10,
        }
    }
}

impl WarningsConfig {
    /// Checks that each threshold lies in its measure's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let in_unit = |v: f64| v.is_finite() && v > 0.0 && v < 1.0;
        let in_luma = |v: f64| v.is_finite() && (0.0..=255.0).contains(&v);
        if !in_unit(self.blur_limit)
            || !in_unit(self.glare_share)
            || !in_unit(self.overexposed_share)
        {
            return Err(ConfigError::Invalid(
                "warnings.blur_limit, glare_share and overexposed_share must lie strictly between 0 and 1"
                    .into(),
            ));
        }
        if !in_luma(self.dark_mean)
            || !in_luma(self.bright_mean)
            || self.dark_mean >= self.bright_mean
        {
            return Err(ConfigError::Invalid(
                "warnings.dark_mean and warnings.bright_mean must lie in 0..=255, dark below bright"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The two score thresholds of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Below this score the check fails. Default 0.25 (spec).
    pub fail_below: f64,
    /// From `fail_below` up to (not including) this score a reviewer decides; at or above
    /// it the check passes. Default 0.5 (spec).
    pub pass_from: f64,
}

impl Thresholds {
    /// Checks that the thresholds are scores and in order: 0 <= fail_below <= pass_from <= 1.
    pub fn validate(&self) -> Result<(), InvalidThresholds> {
        if !(0.0..=1.0).contains(&self.fail_below)
            || !(0.0..=1.0).contains(&self.pass_from)
            || self.fail_below > self.pass_from
        {
            return Err(InvalidThresholds(*self));
        }
        Ok(())
    }
}

/// Thresholds that are not scores in order.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error(
    "thresholds must satisfy 0 <= fail_below <= pass_from <= 1 (got {} and {})",
    .0.fail_below,
    .0.pass_from
)]
pub struct InvalidThresholds(pub Thresholds);

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            fail_below: 0.25,
            pass_from: 0.5,
        }
    }
}

/// Model locations and the inference backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Folder holding one sub-folder per model (`liveness/`, …). Default: `models/` in
    /// the working directory, else the one in the source tree the binary was built from.
    pub dir: Option<PathBuf>,
    /// Path of a `libonnxruntime.so` to run models with ONNX Runtime instead of the
    /// built-in tract backend. The `ORT_DYLIB_PATH` environment variable does the same.
    pub onnxruntime_library: Option<PathBuf>,
    /// Which backend runs the models: `auto` (ONNX Runtime when a library is named here
    /// or in `ORT_DYLIB_PATH`, else tract), `tract` or `onnxruntime`.
    pub backend: BackendChoice,
    /// Threads one model run may use. Default 1: the CLI and the server parallelise over
    /// images instead, which scales better on few cores.
    pub intra_threads: usize,
    /// Sessions per model, so that that many images can be scored at once (a session
    /// runs one input at a time). Default 0 = one per CPU core.
    pub sessions: usize,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            dir: None,
            onnxruntime_library: None,
            backend: BackendChoice::Auto,
            intra_threads: 1,
            sessions: 0,
        }
    }
}

impl ModelsConfig {
    /// The models folder to use, following the documented search order.
    pub fn resolved_dir(&self) -> PathBuf {
        if let Some(dir) = &self.dir {
            return dir.clone();
        }
        let local = PathBuf::from("models");
        if local.is_dir() {
            return local;
        }
        // This crate's folder sits in the product's source tree, beside `models/`.
        let tree = Path::new(env!("CARGO_MANIFEST_DIR"));
        tree.parent().unwrap_or(tree).join("models")
    }

    /// The ONNX Runtime library to load, or `None` for tract, following `backend`.
    pub fn onnxruntime_request(&self) -> Result<Option<PathBuf>, ConfigError> {
        let named = self.onnxruntime_library.clone().or_else(|| {
            std::env::var_os("ORT_DYLIB_PATH")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        match self.backend {
            BackendChoice::Tract => Ok(None),
            BackendChoice::Auto => Ok(named),
            BackendChoice::Onnxruntime => named.map(Some).ok_or_else(|| {
                ConfigError::Invalid(
                    "backend \"onnxruntime\" needs models.onnxruntime_library or ORT_DYLIB_PATH"
                        .into(),
                )
            }),
        }
    }
}

/// Choice of inference backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// ONNX Runtime when a library is named, else tract.
    #[default]
    Auto,
    /// Always tract, even when `ORT_DYLIB_PATH` is set.
    Tract,
    /// Always ONNX Runtime; an error when no library is named.
    Onnxruntime,
}

/// Why a configuration file could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A value is out of its meaningful range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// What the engine is configured with: the image requirements, detection, the geometry
/// rules, the score thresholds and the models. The server's and the review store's
/// settings are not the engine's business.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EngineConfig {
    /// Image requirements checked before anything else.
    pub image: ImageConfig,
    /// Document detection.
    pub detection: DetectionConfig,
    /// Rules that turn document geometry into error codes.
    pub quality: QualityConfig,
    /// Image-quality warnings (blur, glare, exposure), which never stop scoring.
    pub warnings: WarningsConfig,
    /// Score thresholds that route a result to pass, review or fail.
    pub thresholds: Thresholds,
    /// Where models are and how they are run.
    pub models: ModelsConfig,
}

impl EngineConfig {
    /// Checks that values are in their meaningful ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.thresholds
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.warnings.validate()?;
        if self.detection.work_side < 128 {
            return Err(ConfigError::Invalid(
                "detection.work_side must be at least 128".into(),
            ));
        }
        if self.detection.min_aspect >= self.detection.max_aspect {
            return Err(ConfigError::Invalid(
                "detection.min_aspect must be below max_aspect".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_must_be_scores_in_order() {
        let meeting = Thresholds {
            fail_below: 0.3,
            pass_from: 0.3,
        };
        assert!(meeting.validate().is_ok());
        let crossed = Thresholds {
            fail_below: 0.6,
            pass_from: 0.5,
        };
        assert!(
            crossed
                .validate()
                .unwrap_err()
                .to_string()
                .contains("(got 0.6 and 0.5)")
        );
        let mut config = EngineConfig::default();
        config.thresholds.pass_from = 1.5;
        assert!(
            matches!(config.validate(), Err(ConfigError::Invalid(m)) if m.contains("pass_from"))
        );
    }
}
