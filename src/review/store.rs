//! The review store: one SQLite file shared by the console, the API and the CLI, which
//! may all have it open at once.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction, so concurrent writers queue on the
//! busy timeout instead of failing with "database is locked"; WAL lets readers go on
//! meanwhile, and `synchronous = FULL` makes a committed decision survive a crash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, TransactionBehavior, params, params_from_iter,
};
use thiserror::Error;

use super::images::ImageStore;
use super::schema::{LATEST, MIGRATIONS};
use super::types::*;
use crate::engine::{Analysis, Outcome, Route, Side};

/// How long a writer waits for another before giving up. Decisions and filings are
/// single small transactions, so ten seconds means something is badly wrong.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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

/// One side of a case being filed.
#[derive(Debug, Clone, Copy)]
pub struct NewSide<'a> {
    /// Front or back.
    pub side: Side,
    /// The photo as received.
    pub image: &'a [u8],
    /// The engine's analysis of it.
    pub analysis: &'a Analysis,
}

/// A check to file as a case.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    /// Filing surface.
    pub origin: Origin,
    /// The client's session id.
    pub session_id: String,
    /// One or two sides.
    pub sides: Vec<NewSide<'a>>,
    /// What the check came to, as the engine worked it out over the sides; filed as it
    /// is, never recomputed.
    pub outcome: Outcome,
}

/// Which images a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Image files deleted.
    pub images_removed: usize,
    /// Side records marked as purged.
    pub sides_marked: usize,
}

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

/// Marks a file as a docliveness review database (`PRAGMA application_id`), so that
/// another application's SQLite file is told apart from ours without guessing from its
/// tables. Databases made before the mark have 0 and are recognised by their schema.
const APPLICATION_ID: i32 = 0x444c_5652; // "DLVR"

/// How a command means to use the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Create the file if needed and bring its schema up to date.
    Write,
    /// Use an existing review database as it is: nothing is created or migrated.
    Read,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to
    /// date. A file that is not SQLite, belongs to another application, is damaged, or
    /// has a newer schema is refused and left exactly as it was.
    pub fn open(path: &Path) -> Result<Store> {
        Self::connect(path, Access::Write)
    }

    /// Opens an existing review database for commands that only read (statistics,
    /// export): a missing path, an empty database or an older schema is refused instead
    /// of being created or upgraded, so that reading never changes anything on disk.
    pub fn open_existing(path: &Path) -> Result<Store> {
        Self::connect(path, Access::Read)
    }

    // The file is never opened here except through SQLite: closing any other handle on
    // it would drop every POSIX lock this process holds on it, those of the connections
    // already open included, and another process would then delete the WAL under them.
    fn connect(path: &Path, access: Access) -> Result<Store> {
        let flags = match access {
            Access::Write => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            }
            Access::Read => {
                if !path.is_file() {
                    return Err(StoreError::Missing {
                        path: path.to_owned(),
                    });
                }
                OpenFlags::SQLITE_OPEN_READ_WRITE
            }
        };
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let refuse_not_sqlite = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase {
                path: path.to_owned(),
            },
            _ => StoreError::Sqlite(e),
        };
        // The first read of the header is where SQLite says a file is not a database.
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(refuse_not_sqlite)?;
        let application: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(refuse_not_sqlite)?;
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| StoreError::Corrupt {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        let ours: bool = conn.query_row(
            "SELECT count(*) = 2 FROM sqlite_schema WHERE type = 'table' AND name IN ('cases', 'sides')",
            [],
            |r| r.get(0),
        )?;
        let foreign = match application {
            APPLICATION_ID => false,
            // Before the mark: an empty database is new, anything else must have our tables.
            0 => objects > 0 && !ours,
            _ => true,
        };
        if foreign {
            return Err(StoreError::Foreign {
                path: path.to_owned(),
            });
        }
        if found > LATEST {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found,
                supported: LATEST,
            });
        }
        if access == Access::Read && objects == 0 {
            return Err(StoreError::Empty {
                path: path.to_owned(),
            });
        }
        if access == Access::Read && found < LATEST {
            return Err(StoreError::OlderSchema {
                path: path.to_owned(),
                found,
                supported: LATEST,
            });
        }
        let check: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| StoreError::Corrupt {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: check,
            });
        }
        if access == Access::Write {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            images: ImageStore::beside(path),
            now_override: None,
        };
        if access == Access::Write {
            store.migrate()?;
        }
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read again under the write lock: another process may have migrated meanwhile.
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tracing::info!(version = i + 1, db = %self.path.display(), "review database schema migrated");
        }
        let application: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        if application != APPLICATION_ID {
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        tx.commit()?;
        Ok(())
    }

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

    /// Files a check as a case with the outcome it was given.
    pub fn file_case(&mut self, case: &NewCase<'_>) -> Result<i64> {
        let error = case.outcome.error();
        let score = case.outcome.score();
        let model_version = case
            .sides
            .iter()
            .find_map(|s| s.analysis.model_version.clone());
        let now = Self::stamp(self.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Images are written under the write lock, before the rows that point at them: a
        // crash leaves at most an unreferenced image, and a retention run (which deletes
        // under the same lock) cannot remove an image between its check and this case.
        let mut hashes = Vec::with_capacity(case.sides.len());
        for side in &case.sides {
            hashes.push(self.images.put(side.image)?);
        }
        tx.execute(
            "INSERT INTO cases (origin, session_id, created_at, score, route, error_code, model_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                case.origin.as_str(),
                case.session_id,
                now,
                score,
                case.outcome.route().map(Route::as_str),
                error.map(|e| e.as_str()),
                model_version,
            ],
        )?;
        let id = tx.last_insert_rowid();
        for (side, sha) in case.sides.iter().zip(&hashes) {
            tx.execute(
                "INSERT INTO sides (case_id, side, image_sha256, image_size, jpeg_quality, analysis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    side_str(side.side),
                    sha,
                    side.image.len() as i64,
                    side.analysis.image.as_ref().and_then(|f| f.jpeg_quality),
                    serde_json::to_string(side.analysis)?,
                ],
            )?;
        }
        audit(
            &tx,
            Some(id),
            case.origin.as_str(),
            "filed",
            Some(&serde_json::json!({"score": score, "error": error}).to_string()),
            &now,
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// One case.
    pub fn case(&self, id: i64) -> Result<ReviewCase> {
        self.conn
            .query_row(
                &format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1"),
                [id],
                case_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoSuchCase(id))
    }

    /// The sides of a case, front first.
    pub fn sides(&self, id: i64) -> Result<Vec<StoredSide>> {
        let mut stmt = self.conn.prepare(
            "SELECT side, image_sha256, image_size, jpeg_quality, analysis, image_purged_at
             FROM sides WHERE case_id = ?1 ORDER BY side DESC",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<u8>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (side, sha, size, quality, analysis, purged) = row?;
            out.push(StoredSide {
                side: if side == "back" {
                    Side::Back
                } else {
                    Side::Front
                },
                image_sha256: sha,
                image_size: size.max(0) as u64,
                jpeg_quality: quality,
                analysis: serde_json::from_str(&analysis)?,
                image_purged_at: purged,
            });
        }
        Ok(out)
    }

    /// One page of cases matching `filter`, in `order`.
    pub fn list(
        &self,
        filter: &CaseFilter,
        order: SortOrder,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<ReviewCase>> {
        let (clause, values) = where_clause(filter);
        let order_by = match order {
            SortOrder::ScoreAscending => "score ASC, id ASC",
            SortOrder::ScoreDescending => "score DESC, id DESC",
            SortOrder::OldestFirst => "created_at ASC, id ASC",
            SortOrder::NewestFirst => "created_at DESC, id DESC",
        };
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases {clause} ORDER BY {order_by} LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(values.iter()), case_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many cases match `filter`.
    pub fn count(&self, filter: &CaseFilter) -> Result<u64> {
        let (clause, values) = where_clause(filter);
        let n: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM cases {clause}"),
            params_from_iter(values.iter()),
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// The query plan of a listing, for checking that filters use an index.
    pub fn explain_list(&self, filter: &CaseFilter, order: SortOrder) -> Result<String> {
        let (clause, values) = where_clause(filter);
        let order_by = match order {
            SortOrder::ScoreAscending | SortOrder::ScoreDescending => "score",
            SortOrder::OldestFirst | SortOrder::NewestFirst => "created_at",
        };
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT id FROM cases {clause} ORDER BY {order_by} LIMIT 50"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(values.iter()), |r| r.get::<_, String>(3))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("; "))
    }

    /// Claims a case for `reviewer` for `lease`. Renewing one's own claim is allowed;
    /// taking a case another reviewer holds is not until their lease runs out.
    pub fn claim(&mut self, id: i64, reviewer: &str, lease: Duration) -> Result<ReviewCase> {
        let now = self.now();
        let until = Self::stamp(
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(10)),
        );
        let now_s = Self::stamp(now);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_claim(&tx, id, reviewer, &now_s)?;
        tx.execute(
            "UPDATE cases SET claimed_by = ?2, claim_expires_at = ?3 WHERE id = ?1",
            params![id, reviewer, until],
        )?;
        audit(&tx, Some(id), reviewer, "claimed", Some(&until), &now_s)?;
        tx.commit()?;
        self.case(id)
    }

    /// Gives a claimed case back to the queue.
    pub fn release(&mut self, id: i64, reviewer: &str) -> Result<()> {
        let now_s = Self::stamp(self.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_claim(&tx, id, reviewer, &now_s)?;
        tx.execute(
            "UPDATE cases SET claimed_by = NULL, claim_expires_at = NULL WHERE id = ?1",
            [id],
        )?;
        audit(&tx, Some(id), reviewer, "released", None, &now_s)?;
        tx.commit()?;
        Ok(())
    }

    /// Records a decision. `expected` is the decision the reviewer saw in force
    /// (`Some(None)`: they saw the case open); when the case has changed since, the
    /// decision is refused, so nobody overrides a colleague unknowingly. `None` skips
    /// that check (scripts).
    pub fn decide(
        &mut self,
        id: i64,
        decision: &NewDecision,
        expected: Option<Option<i64>>,
    ) -> Result<DecisionRecord> {
        match (decision.verdict, decision.attack_type) {
            (None, _) => return Err(StoreError::InvalidDecision("a verdict is required".into())),
            (Some(Verdict::Genuine), Some(_)) => {
                return Err(StoreError::InvalidDecision(
                    "a genuine verdict has no attack type".into(),
                ));
            }
            (Some(Verdict::Attack), None) => {
                return Err(StoreError::InvalidDecision(
                    "an attack verdict needs an attack type".into(),
                ));
            }
            _ => {}
        }
        if decision.reviewer.trim().is_empty() {
            return Err(StoreError::InvalidDecision(
                "the reviewer's name is required".into(),
            ));
        }
        let now_s = Self::stamp(self.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = check_claim(&tx, id, &decision.reviewer, &now_s)?;
        if expected.is_some_and(|e| e != current) {
            return Err(StoreError::Conflict { case: id });
        }
        let latest: Option<i64> = tx.query_row(
            "SELECT MAX(id) FROM decisions WHERE case_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO decisions (case_id, kind, reviewer, verdict, attack_type, reason, note, decided_at, supersedes)
             VALUES (?1, 'decide', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                decision.reviewer,
                decision.verdict.map(Verdict::as_str),
                decision.attack_type.map(AttackType::as_str),
                decision.reason,
                decision.note,
                now_s,
                latest,
            ],
        )?;
        let decision_id = tx.last_insert_rowid();
        set_in_force(&tx, id, Some(decision_id))?;
        let detail = serde_json::json!({
            "decision": decision_id,
            "verdict": decision.verdict,
            "attackType": decision.attack_type,
            "reason": decision.reason,
        });
        audit(
            &tx,
            Some(id),
            &decision.reviewer,
            "decided",
            Some(&detail.to_string()),
            &now_s,
        )?;
        let record = decision_record(&tx, decision_id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Undoes the decision in force on a case with a superseding row; the decision
    /// before it (or none: the case is open again) comes back into force.
    ///
    /// `expected` is the decision the reviewer means to undo; when another decision is in
    /// force by now (a colleague's correction), the undo is refused. `None` skips that check.
    pub fn undo(
        &mut self,
        id: i64,
        reviewer: &str,
        expected: Option<i64>,
    ) -> Result<DecisionRecord> {
        let now_s = Self::stamp(self.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current =
            check_claim(&tx, id, reviewer, &now_s)?.ok_or(StoreError::NothingToUndo(id))?;
        if expected.is_some_and(|e| e != current) {
            return Err(StoreError::Conflict { case: id });
        }
        let restores = in_force_before(&tx, current)?;
        tx.execute(
            "INSERT INTO decisions (case_id, kind, reviewer, decided_at, supersedes, restores)
             VALUES (?1, 'undo', ?2, ?3, ?4, ?5)",
            params![id, reviewer, now_s, current, restores],
        )?;
        let undo_id = tx.last_insert_rowid();
        set_in_force(&tx, id, restores)?;
        let detail = serde_json::json!({"undid": current, "restored": restores});
        audit(
            &tx,
            Some(id),
            reviewer,
            "undone",
            Some(&detail.to_string()),
            &now_s,
        )?;
        let record = decision_record(&tx, undo_id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Every decision row of a case, oldest first.
    pub fn decisions(&self, id: i64) -> Result<Vec<DecisionRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE case_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([id], decision_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The decision rows in force for many cases at once (for exports).
    pub fn decision_rows(&self, ids: &[i64]) -> Result<Vec<DecisionRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE id = ?1"
        ))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = stmt.query_row([id], decision_from_row).optional()? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The audit trail of a case, oldest first.
    pub fn history(&self, id: i64) -> Result<Vec<AuditEntry>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, case_id, actor, action, detail, at FROM audit_log WHERE case_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([id], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                case_id: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                detail: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Retention: deletes the images of cases decided more than `days` ago, unless an
    /// open or more recently decided case still uses the same image. Decision rows and
    /// analyses stay.
    pub fn purge_images(&mut self, days: u32, actor: &str) -> Result<PurgeReport> {
        let now = self.now();
        let cutoff = Self::stamp(now - chrono::Duration::days(i64::from(days)));
        let now_s = Self::stamp(now);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let hashes: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT s.image_sha256 FROM sides s JOIN cases c ON c.id = s.case_id
                 WHERE s.image_purged_at IS NULL AND c.decision_id IS NOT NULL AND c.decided_at < ?1
                 AND NOT EXISTS (
                     SELECT 1 FROM sides s2 JOIN cases c2 ON c2.id = s2.case_id
                     WHERE s2.image_sha256 = s.image_sha256
                       AND (c2.decision_id IS NULL OR c2.decided_at >= ?1))",
            )?;
            let rows = stmt.query_map([&cutoff], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut report = PurgeReport::default();
        for sha in &hashes {
            report.sides_marked += tx.execute(
                "UPDATE sides SET image_purged_at = ?2 WHERE image_sha256 = ?1 AND image_purged_at IS NULL",
                params![sha, now_s],
            )?;
        }
        audit(
            &tx,
            None,
            actor,
            "purged",
            Some(&serde_json::json!({"images": hashes.len(), "olderThanDays": days}).to_string()),
            &now_s,
        )?;
        // Files go while the write lock is held, so no case being filed can start using
        // one of them meanwhile; a failed deletion rolls the marking back.
        for sha in &hashes {
            self.images.remove(sha)?;
            report.images_removed += 1;
        }
        tx.commit()?;
        Ok(report)
    }

    /// Raw access for statistics and tests inside the crate.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

fn side_str(side: Side) -> &'static str {
    match side {
        Side::Front => "front",
        Side::Back => "back",
    }
}

const CASE_COLUMNS: &str = "id, origin, session_id, created_at, score, route, error_code, model_version, \
     claimed_by, claim_expires_at, decision_id, verdict, attack_type, decided_by, decided_at";

fn case_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReviewCase> {
    let origin: String = r.get(1)?;
    Ok(ReviewCase {
        id: r.get(0)?,
        origin: Origin::parse(&origin).unwrap_or(Origin::Cli),
        session_id: r.get(2)?,
        created_at: r.get(3)?,
        score: r.get(4)?,
        route: r
            .get::<_, Option<String>>(5)?
            .as_deref()
            .and_then(Route::parse),
        error_code: r
            .get::<_, Option<String>>(6)?
            .as_deref()
            .and_then(parse_error_code),
        model_version: r.get(7)?,
        claimed_by: r.get(8)?,
        claim_expires_at: r.get(9)?,
        decision_id: r.get(10)?,
        verdict: r
            .get::<_, Option<String>>(11)?
            .as_deref()
            .and_then(Verdict::parse),
        attack_type: r
            .get::<_, Option<String>>(12)?
            .as_deref()
            .and_then(AttackType::parse),
        decided_by: r.get(13)?,
        decided_at: r.get(14)?,
    })
}

const DECISION_COLUMNS: &str =
    "id, case_id, kind, reviewer, verdict, attack_type, reason, note, decided_at, supersedes";

fn decision_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRecord> {
    Ok(DecisionRecord {
        id: r.get(0)?,
        case_id: r.get(1)?,
        is_undo: r.get::<_, String>(2)? == "undo",
        reviewer: r.get(3)?,
        verdict: r
            .get::<_, Option<String>>(4)?
            .as_deref()
            .and_then(Verdict::parse),
        attack_type: r
            .get::<_, Option<String>>(5)?
            .as_deref()
            .and_then(AttackType::parse),
        reason: r.get(6)?,
        note: r.get(7)?,
        decided_at: r.get(8)?,
        supersedes: r.get(9)?,
    })
}

fn decision_record(conn: &Connection, id: i64) -> Result<DecisionRecord> {
    Ok(conn.query_row(
        &format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE id = ?1"),
        [id],
        decision_from_row,
    )?)
}

/// Checks that `reviewer` may act on the case now; returns the decision in force.
fn check_claim(conn: &Connection, id: i64, reviewer: &str, now: &str) -> Result<Option<i64>> {
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = conn
        .query_row(
            "SELECT claimed_by, claim_expires_at, decision_id FROM cases WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (claimed_by, until, decision) = row.ok_or(StoreError::NoSuchCase(id))?;
    if let (Some(holder), Some(until)) = (claimed_by, until)
        && holder != reviewer
        && until.as_str() > now
    {
        return Err(StoreError::ClaimedByOther {
            case: id,
            reviewer: holder,
            until,
        });
    }
    Ok(decision)
}

/// The decision that was in force just before decision row `id` was written.
fn in_force_before(conn: &Connection, id: i64) -> Result<Option<i64>> {
    let supersedes: Option<i64> = conn.query_row(
        "SELECT supersedes FROM decisions WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let Some(prev) = supersedes else {
        return Ok(None);
    };
    let (kind, restores): (String, Option<i64>) = conn.query_row(
        "SELECT kind, restores FROM decisions WHERE id = ?1",
        [prev],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(if kind == "undo" { restores } else { Some(prev) })
}

/// Copies decision `decision` (or none) into the case's in-force columns.
fn set_in_force(conn: &Connection, case: i64, decision: Option<i64>) -> Result<()> {
    match decision {
        Some(d) => conn.execute(
            "UPDATE cases SET (decision_id, verdict, attack_type, decided_by, decided_at, claimed_by, claim_expires_at) =
             (SELECT id, verdict, attack_type, reviewer, decided_at, NULL, NULL FROM decisions WHERE id = ?2)
             WHERE id = ?1",
            params![case, d],
        )?,
        None => conn.execute(
            "UPDATE cases SET decision_id = NULL, verdict = NULL, attack_type = NULL, decided_by = NULL,
             decided_at = NULL, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?1",
            [case],
        )?,
    };
    Ok(())
}

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

/// The WHERE clause and its values for a filter.
pub(crate) fn where_clause(f: &CaseFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut parts: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    match f.status {
        Status::Open => parts.push("decision_id IS NULL".into()),
        Status::Decided => parts.push("decision_id IS NOT NULL".into()),
        Status::All => {}
    }
    let mut push = |sql: &str, v: Value| {
        values.push(v);
        parts.push(sql.replace('?', &format!("?{}", values.len())));
    };
    if let Some(v) = f.score_min {
        push("score >= ?", Value::Real(v));
    }
    if let Some(v) = f.score_max {
        push("score < ?", Value::Real(v));
    }
    if let Some(v) = f.origin {
        push("origin = ?", Value::Text(v.as_str().into()));
    }
    if let Some(v) = &f.created_from {
        push("created_at >= ?", Value::Text(v.clone()));
    }
    if let Some(v) = &f.created_to {
        push("created_at < ?", Value::Text(v.clone()));
    }
    if let Some(v) = f.error_code {
        push("error_code = ?", Value::Text(v.as_str().into()));
    }
    if let Some(v) = &f.reviewer {
        push("decided_by = ?", Value::Text(v.clone()));
    }
    if let Some(v) = f.verdict {
        push("verdict = ?", Value::Text(v.as_str().into()));
    }
    let clause = if parts.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", parts.join(" AND "))
    };
    (clause, values)
}
