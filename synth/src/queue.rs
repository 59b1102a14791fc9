//! A synthetic review queue of any size, for tests and benchmarks of the store.

use std::path::Path;

use docliveness_engine::Route;
use docliveness_engine::config::Thresholds;

use super::rng::Rng;

/// What was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedQueue {
    /// Open cases with a score in the review band [0.25, 0.5).
    pub open_in_band: u64,
}

/// Inserts `n` cases straight into an existing review database in one transaction:
/// three origins, one in seventeen with `DOCUMENT_CROPPED`, a quarter decided (by
/// `alice` or `bob`), creation dates spread over a year. Filing this many through the
/// store one by one would only measure disk syncs.
pub fn fill_queue(path: &Path, n: u32, seed: u64) -> rusqlite::Result<GeneratedQueue> {
    let mut conn = rusqlite::Connection::open(path)?;
    // Decided rows point at decision ids that are not generated; only the case columns
    // matter for the queue's filters.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let tx = conn.transaction()?;
    let mut open_in_band = 0;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO cases (origin, session_id, created_at, score, route, error_code, decision_id, verdict, decided_by, decided_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut rng = Rng::new(seed);
        for i in 0..n {
            let origin = ["console", "api", "cli"][i as usize % 3];
            let error = (i % 17 == 0).then_some("DOCUMENT_CROPPED");
            let score = error.is_none().then(|| rng.unit());
            let decided = i % 4 == 0;
            if !decided && score.is_some_and(|s| (0.25..0.5).contains(&s)) {
                open_in_band += 1;
            }
            let created = format!(
                "2026-{:02}-{:02}T{:02}:00:00.000Z",
                1 + i % 12,
                1 + i % 28,
                i % 24
            );
            stmt.execute(rusqlite::params![
                origin,
                format!("s{i}"),
                created,
                score,
                score.map(|s| Route::of(s, &Thresholds::default()).as_str()),
                error,
                decided.then_some(i64::from(i)),
                decided.then_some("genuine"),
                decided.then_some(if i % 8 == 0 { "alice" } else { "bob" }),
                decided.then_some(created.clone()),
            ])?;
        }
    }
    tx.commit()?;
    Ok(GeneratedQueue { open_in_band })
}
