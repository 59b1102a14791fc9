//! One configuration for the whole product: a TOML file plus command-line flags.
//!
//! Each part keeps its own sections beside its code: the engine's (every threshold that
//! decides an outcome, with its default and the reason for it) in
//! `docliveness_engine::config`, the server's in `docliveness_api::config`, the store's in
//! `docliveness_review::config`. This file gathers them, so that a fraud team can see and
//! change what the product checks in one file.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use docliveness_api::config::{ServerConfig, UrlInputConfig};
pub use docliveness_engine::config::{
    BackendChoice, ConfigError, DetectionConfig, EngineConfig, ImageConfig, InvalidThresholds,
    ModelsConfig, QualityConfig, Thresholds, WarningsConfig,
};
pub use docliveness_review::config::ReviewConfig;

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
        self.server.validate()?;
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_checks_its_own_section() {
        let mut config = Config::default();
        config.thresholds.pass_from = 1.5;
        assert!(
            matches!(config.validate(), Err(ConfigError::Invalid(m)) if m.contains("pass_from"))
        );
        let mut config = Config::default();
        config.server.body_memory_bytes = config.server.max_body_bytes - 1;
        assert!(
            matches!(config.validate(), Err(ConfigError::Invalid(m)) if m.contains("body_memory_bytes"))
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
