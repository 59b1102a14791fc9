//! Opening a review database: telling ours from other files without changing them,
//! and bringing the schema up to date under the write lock.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{Result, Store, StoreError};
use crate::images::ImageStore;
use crate::schema::{LATEST, MIGRATIONS};

/// How long a writer waits for another before giving up. Decisions and filings are
/// single small transactions, so ten seconds means something is badly wrong.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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
}
