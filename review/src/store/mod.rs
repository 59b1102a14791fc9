//! The review store: one SQLite file shared by the console, the API and the CLI, which
//! may all have it open at once.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction, so concurrent writers queue on the
//! busy timeout instead of failing with "database is locked"; WAL lets readers go on
//! meanwhile, and `synchronous = FULL` makes a committed decision survive a crash.

//!
//! By concern: opening and migrations (`open.rs`), cases (`cases.rs`), reviewers' claims,
//! decisions and undo (`decisions.rs`), outlines corrected by reviewers (`corrections.rs`), retention (`retention.rs`), queue filters as SQL
//! (`filter.rs`), and rows to records with the stored form of each enum (`rows.rs`).

mod cases;
mod corrections;
mod decisions;
mod filter;
mod open;
mod retention;
mod rows;

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, params};
use thiserror::Error;

use super::images::ImageStore;

pub use cases::{NewCase, NewSide};
pub(crate) use filter::where_clause;
pub use retention::PurgeReport;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file exists but is not an SQLite database.
    #[error(
        "{path} is not a docliveness review database (not an SQLite file); it was left untouched"
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// An SQLite database of another application.
    #[error(
        "{path} is an SQLite database of another application, not a docliveness review database; it was left untouched"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// A command that only reads was given a path with no database.
    #[error("there is no review database at {path}")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A command that only reads was given a database with nothing in it yet.
    #[error("{path} is an empty database with no review queue yet; nothing was created in it")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A command that only reads was given a database that needs a schema upgrade.
    #[error(
        "the review database {path} has schema version {found}, older than this program's {supported}; open it once with the console, `serve` or `queue import` to upgrade it"
    )]
    OlderSchema {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// SQLite found damage in the file.
    #[error(
        "the review database {path} is damaged ({detail}); it was left untouched — restore it from a backup"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the integrity check said.
        detail: String,
    },
    /// The file was written by a newer docliveness.
    #[error(
        "the review database {path} has schema version {found}, newer than this program's {supported}; upgrade docliveness to open it"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// No case with this number.
    #[error("there is no case {0}")]
    NoSuchCase(i64),
    /// Another reviewer holds the case.
    #[error("case {case} is being reviewed by {reviewer} until {until}")]
    ClaimedByOther {
        /// The case.
        case: i64,
        /// Who holds it.
        reviewer: String,
        /// Until when.
        until: String,
    },
    /// The case changed since the reviewer looked at it.
    #[error("case {case} was decided by someone else in the meantime; reload it before deciding")]
    Conflict {
        /// The case.
        case: i64,
    },
    /// A corrected outline for a side the case does not have.
    #[error("case {case} has no {side} side to correct")]
    NoSuchSide {
        /// The case.
        case: i64,
        /// The side asked for.
        side: &'static str,
    },
    /// Undo asked for on a case without a decision in force.
    #[error("case {0} has no decision to undo")]
    NothingToUndo(i64),
    /// A decision that makes no sense.
    #[error("invalid decision: {0}")]
    InvalidDecision(String),
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A stored analysis could not be (de)serialised.
    #[error("stored analysis is unreadable: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result of store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open review database.
pub struct Store {
    pub(super) conn: Connection,
    path: PathBuf,
    images: ImageStore,
    now_override: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The image folder beside the database.
    pub fn images(&self) -> &ImageStore {
        &self.images
    }

    /// Fixes the clock (for simulations and tests of leases and retention); `None`
    /// returns to the system clock.
    pub fn set_now(&mut self, now: Option<DateTime<Utc>>) {
        self.now_override = now;
    }

    fn now(&self) -> DateTime<Utc> {
        self.now_override.unwrap_or_else(Utc::now)
    }

    fn stamp(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Raw access for statistics and tests inside the crate.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Appends to the audit log, inside the caller's transaction.
fn audit(
    conn: &Connection,
    case: Option<i64>,
    actor: &str,
    action: &str,
    detail: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (case_id, actor, action, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![case, actor, action, detail, at],
    )?;
    Ok(())
}
