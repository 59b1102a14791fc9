//! One configuration for the whole product: a TOML file plus command-line flags.
//!
//! Every threshold that decides an outcome lives here with its default and the reason
//! for it, so that a fraud team can see and change what the product checks.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The whole configuration. Every section has sensible defaults; a file need only name
/// what it changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
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
    /// The HTTP API server.
    pub server: ServerConfig,
    /// The review store.
    pub review: ReviewConfig,
}

/// The HTTP API server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`: local only unless asked otherwise.
    pub bind: String,
    /// Largest request body. Default 40 MB: two 12 MP JPEGs of ~12 MB each grow by a third
    /// in Base64; anything larger is refused with 413 before it is buffered.
    pub max_body_bytes: usize,
    /// Longest a request may take, queueing included. Default 60 s.
    pub request_timeout_secs: u64,
    /// Analysis threads. Default 0 = one per CPU core.
    pub workers: usize,
    /// Requests that may wait for a free worker; beyond that the server answers 503 with
    /// `Retry-After`. Default 0 = four per worker.
    pub queue_depth: usize,
    /// Users file with Argon2 password hashes. Default: `users` in the platform's
    /// configuration folder (`~/.config/docliveness/users`).
    pub users_file: Option<PathBuf>,
    /// Failed logins from one client address within a minute before it gets 429.
    /// Default 10. An attempt counts before its password is checked, so however many
    /// arrive at once, no more than this many are checked per address and minute.
    pub max_auth_failures_per_minute: u32,
    /// Threads that check passwords. Default 2: Argon2 takes 19 MiB and tens of
    /// milliseconds per check by design, so a storm of logins costs at most this many
    /// times 19 MiB and this many cores; verified credentials are remembered for five
    /// minutes, so 2 threads still admit about 50 new logins a second.
    pub password_threads: usize,
    /// Longest the whole request body may take to arrive, counted once the request is
    /// authenticated; then the answer is 408. Default 30 s: a 40 MB body needs 11 Mbit/s,
    /// a typical 2 MB one 0.6 Mbit/s.
    pub body_timeout_secs: u64,
    /// Longest pause between two pieces of a request body before the answer is 408.
    /// Default 10 s: a client that sends nothing for that long has stalled, and
    /// waiting for it would hold its memory for nothing.
    pub body_stall_secs: u64,
    /// Memory for request bodies being read or waiting for analysis, all requests
    /// together; a request whose body does not fit gets 503 with `Retry-After`.
    /// Default 160 MiB: four bodies of the largest size, or over a hundred of a typical
    /// 1.2 MB. Must be at least `max_body_bytes`.
    pub body_memory_bytes: usize,
    /// Longest a connection may take to send a request's headers, and longest an idle
    /// connection stays open between requests. Default 10 s: a client sends its headers
    /// in one go, and a connection that sends half of them holds a file handle for
    /// nothing.
    pub header_timeout_secs: u64,
    /// Connections open at once; connections beyond it are accepted and closed at once,
    /// so the process never runs out of file handles. Default 512: half the usual limit
    /// of 1024 open files per process, leaving the rest for the database, models and
    /// logs.
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6: one /64). Default 128:
    /// one client cannot take every connection slot and lock everyone else out. Behind
    /// a reverse proxy every client has the proxy's address: set it to
    /// `max_connections` there, and let the proxy limit clients.
    pub max_connections_per_address: usize,
    /// Longest a client may go without taking any bytes of an answer before its
    /// connection is closed. Default 30 s: a client that sends requests but never reads
    /// the answers would otherwise hold its connection, and a shutdown, forever.
    pub send_stall_secs: u64,
    /// Images given as URLs.
    pub url_inputs: UrlInputConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            max_body_bytes: 40 << 20,
            request_timeout_secs: 60,
            workers: 0,
            queue_depth: 0,
            users_file: None,
            max_auth_failures_per_minute: 10,
            password_threads: 2,
            body_timeout_secs: 30,
            body_stall_secs: 10,
            body_memory_bytes: 160 << 20,
            header_timeout_secs: 10,
            max_connections: 512,
            max_connections_per_address: 128,
            send_stall_secs: 30,
            url_inputs: UrlInputConfig::default(),
        }
    }
}

/// Policy for images given by URL instead of Base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UrlInputConfig {
    /// Off by default: fetching URLs on a client's behalf is a server-side request risk.
    pub enabled: bool,
    /// Host names that may be fetched (exact, case-insensitive). Empty = none.
    pub allow_hosts: Vec<String>,
    /// Allow plain `http://`. Default false: https only.
    pub allow_http: bool,
    /// Allow private, loopback and link-local addresses. Default false.
    pub allow_private_addresses: bool,
    /// Largest image fetched. Default 15 MB.
    pub max_bytes: u64,
    /// Longest a fetch may take, redirects included. Default 10 s.
    pub timeout_secs: u64,
    /// Redirects followed (each checked like the first URL). Default 3.
    pub max_redirects: u32,
}

impl Default for UrlInputConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            allow_hosts: Vec::new(),
            allow_http: false,
            allow_private_addresses: false,
            max_bytes: 15 << 20,
            timeout_secs: 10,
            max_redirects: 3,
        }
    }
}

/// The review store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Delete the images of cases decided more than this many days ago (decisions and
    /// analyses stay). Default: keep them.
    pub retention_days: Option<u32>,
}

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
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
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

impl Config {
    /// Reads a TOML configuration file and checks it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The engine's part of the configuration.
    pub fn engine(&self) -> EngineConfig {
        EngineConfig::from(self.clone())
    }

    /// Checks that values are in their meaningful ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.engine().validate()?;
        let s = &self.server;
        if s.body_memory_bytes < s.max_body_bytes {
            return Err(ConfigError::Invalid(format!(
                "server.body_memory_bytes ({}) must be at least server.max_body_bytes ({}), \
                 or no body of the largest size could ever be accepted",
                s.body_memory_bytes, s.max_body_bytes
            )));
        }
        if s.password_threads == 0
            || s.max_connections == 0
            || s.body_timeout_secs == 0
            || s.body_stall_secs == 0
            || s.header_timeout_secs == 0
            || s.max_connections_per_address == 0
            || s.send_stall_secs == 0
        {
            return Err(ConfigError::Invalid(
                "server.password_threads, max_connections, max_connections_per_address, \
                 body_timeout_secs, body_stall_secs, header_timeout_secs and send_stall_secs \
                 must be at least 1"
                    .into(),
            ));
        }
        Ok(())
    }
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

impl From<Config> for EngineConfig {
    fn from(c: Config) -> EngineConfig {
        EngineConfig {
            image: c.image,
            detection: c.detection,
            quality: c.quality,
            warnings: c.warnings,
            thresholds: c.thresholds,
            models: c.models,
        }
    }
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
        let ok = Thresholds {
            fail_below: 0.3,
            pass_from: 0.3,
        };
        assert!(ok.validate().is_ok());
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
        let mut config = Config::default();
        config.thresholds.pass_from = 1.5;
        assert!(
            matches!(config.validate(), Err(ConfigError::Invalid(m)) if m.contains("pass_from"))
        );
    }

    #[test]
    fn partial_file_keeps_other_defaults() {
        let c: Config = toml::from_str("[thresholds]\nfail_below = 0.3\n").unwrap();
        assert_eq!(c.thresholds.fail_below, 0.3);
        assert_eq!(c.thresholds.pass_from, 0.5);
        assert_eq!(c.image.min_short_side, 1080);
    }

    #[test]
    fn unknown_keys_and_bad_thresholds_are_refused() {
        assert!(toml::from_str::<Config>("[image]\nmax_pixel = 3\n").is_err());
        let c: Config = toml::from_str("[thresholds]\nfail_below = 0.7\n").unwrap();
        assert!(c.validate().is_err());
    }
}
