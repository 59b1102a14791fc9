//! The review store: SQLite queue of borderline cases, reviewer decisions and the audit
//! trail, with images kept content-addressed beside the database. Owns the database and
//! nothing else; the console, the API and the CLI all go through it.

pub mod config;
pub mod decided;
pub mod images;
pub mod schema;
pub mod stats;
pub mod store;
pub mod types;

pub use decided::DecidedSide;
pub use stats::{Confusion, Statistics, confusion};
pub use store::{NewCase, NewSide, PurgeReport, Store, StoreError};
pub use types::*;

use std::path::PathBuf;

/// The default database: `review.db` in the platform's data folder
/// (`~/.local/share/docliveness/` on Linux).
pub fn default_db_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("docliveness")
        .join("review.db")
}
