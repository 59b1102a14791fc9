//! The review store's section of the configuration (`[review]`).

use serde::{Deserialize, Serialize};

/// The review store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Delete the images of cases decided more than this many days ago (decisions and
    /// analyses stay). Default: keep them.
    pub retention_days: Option<u32>,
}
