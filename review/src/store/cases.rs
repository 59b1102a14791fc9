//! Filing checks as cases and reading them back: one case, its sides, pages of the
//! queue and their counts.

use rusqlite::{OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::filter::where_clause;
use super::rows::{CASE_COLUMNS, StoredText, Text, case_from_row};
use super::{Result, Store, StoreError, audit};
use crate::images::sha256_hex;
use crate::types::{CaseFilter, Origin, ReviewCase, SortOrder, StoredSide, WarningSet};
use docliveness_engine::{Analysis, Outcome, Side};

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
    /// The file the photo was read from, when it came from one.
    pub source: Option<String>,
}

/// How long after a case a repeat of its check is taken for a client's retry rather
/// than a new check: long past any client's timeout, short of a re-check next day.
const REPEAT_WINDOW: chrono::Duration = chrono::Duration::hours(24);

impl Store {
    /// Files a check as a case with the outcome it was given. The same check filed again
    /// (same surface, session id and images on the same sides: a client retrying after a
    /// lost answer) is not a second case: its case number is returned, and the audit log
    /// records the repeat.
    pub fn file_case(&mut self, case: &NewCase<'_>) -> Result<i64> {
        let error = case.outcome.error();
        let score = case.outcome.score();
        let model_version = case
            .sides
            .iter()
            .find_map(|s| s.analysis.model_version.clone());
        let now = Self::stamp(self.now());
        let repeat_since = Self::stamp(self.now() - REPEAT_WINDOW);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Images are written under the write lock, before the rows that point at them: a
        // crash leaves at most an unreferenced image, and a retention run (which deletes
        // under the same lock) cannot remove an image between its check and this case.
        // A repeat is recognised before any image is written: rewriting a photo whose
        // case retention has already purged would leave it on disk with nothing to
        // purge it again.
        let hashes: Vec<String> = case.sides.iter().map(|s| sha256_hex(s.image)).collect();
        if let Some(id) = Self::same_case(&tx, case, &hashes, &model_version, &repeat_since)? {
            // A client's retry (the answer lost on the way): one case, not two to review.
            audit(
                &tx,
                Some(id),
                case.origin.as_str(),
                "filed again",
                Some(&serde_json::json!({"sessionId": case.session_id}).to_string()),
                &now,
            )?;
            tx.commit()?;
            return Ok(id);
        }
        for (side, sha) in case.sides.iter().zip(&hashes) {
            self.images.put_hashed(sha, side.image)?;
        }
        tx.execute(
            "INSERT INTO cases (origin, session_id, created_at, score, route, error_code, model_version, warnings, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                case.origin,
                case.session_id,
                now,
                score,
                case.outcome.route().map(Text),
                error.map(Text),
                model_version,
                WarningSet::of(case.sides.iter().map(|s| s.analysis)),
                case.source,
            ],
        )?;
        let id = tx.last_insert_rowid();
        for (side, sha) in case.sides.iter().zip(&hashes) {
            tx.execute(
                "INSERT INTO sides (case_id, side, image_sha256, image_size, jpeg_quality, analysis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    Text(side.side),
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

    /// The case this check repeats, if there is one: filed since `since` from the same
    /// surface, under the same session id, with the same images (`hashes`) on the same
    /// sides (none purged), by the same model, to the same score or error. A client that
    /// resends a photo with another outline, or after a model change, gets a new answer
    /// and so a new case.
    fn same_case(
        tx: &rusqlite::Transaction<'_>,
        case: &NewCase<'_>,
        hashes: &[String],
        model_version: &Option<String>,
        since: &str,
    ) -> Result<Option<i64>> {
        let mut wanted: Vec<(String, String)> = case
            .sides
            .iter()
            .zip(hashes)
            .map(|(side, sha)| (side.side.word().to_string(), sha.clone()))
            .collect();
        wanted.sort();
        let mut candidates = tx.prepare(
            "SELECT id FROM cases WHERE origin = ?1 AND session_id = ?2 AND created_at >= ?3
               AND model_version IS ?4 AND score IS ?5 AND error_code IS ?6
               AND NOT EXISTS (SELECT 1 FROM sides s WHERE s.case_id = cases.id
                               AND s.image_purged_at IS NOT NULL)
             ORDER BY id",
        )?;
        let ids: Vec<i64> = candidates
            .query_map(
                params![
                    case.origin,
                    case.session_id,
                    since,
                    model_version,
                    case.outcome.score(),
                    case.outcome.error().map(Text),
                ],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let mut sides = tx.prepare("SELECT side, image_sha256 FROM sides WHERE case_id = ?1")?;
        for id in ids {
            let mut filed: Vec<(String, String)> = sides
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            filed.sort();
            if filed == wanted {
                return Ok(Some(id));
            }
        }
        Ok(None)
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
                r.get::<_, Text<Side>>(0)?.0,
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
                side,
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
}
