//! Outlines corrected by reviewers: the photo analysed again on the outline a person
//! drew, kept beside the filed analysis (which never changes) with who and when, and
//! recorded in the audit log.

use rusqlite::{TransactionBehavior, params};

use super::rows::{Text, side_str};
use super::{Result, Store, StoreError, audit};
use crate::types::Correction;
use docliveness_engine::{Analysis, Side};

impl Store {
    /// Records `analysis`, made on an outline `reviewer` corrected, as a new analysis of
    /// the case's side; returns its row id.
    pub fn record_correction(
        &mut self,
        case_id: i64,
        analysis: &Analysis,
        reviewer: &str,
    ) -> Result<i64> {
        let now = Self::stamp(self.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let has_side: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sides WHERE case_id = ?1 AND side = ?2)",
            params![case_id, Text(analysis.side)],
            |r| r.get(0),
        )?;
        if !has_side {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?1)",
                [case_id],
                |r| r.get(0),
            )?;
            return Err(if exists {
                StoreError::NoSuchSide {
                    case: case_id,
                    side: side_str(analysis.side),
                }
            } else {
                StoreError::NoSuchCase(case_id)
            });
        }
        tx.execute(
            "INSERT INTO corrections (case_id, side, reviewer, corrected_at, analysis)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                case_id,
                Text(analysis.side),
                reviewer,
                now,
                serde_json::to_string(analysis)?
            ],
        )?;
        let id = tx.last_insert_rowid();
        let outline = analysis
            .documents
            .first()
            .map(|d| d.quad.0.map(|p| [p.x, p.y]));
        let detail = serde_json::json!({
            "correction": id,
            "side": analysis.side,
            "outline": outline,
            "score": analysis.score,
            "error": analysis.error,
        });
        audit(
            &tx,
            Some(case_id),
            reviewer,
            "outline corrected",
            Some(&detail.to_string()),
            &now,
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// The corrections of a case, oldest first.
    pub fn corrections(&self, case_id: i64) -> Result<Vec<Correction>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, case_id, side, reviewer, corrected_at, analysis
             FROM corrections WHERE case_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([case_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Text<Side>>(2)?.0,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, case_id, side, reviewer, corrected_at, analysis) = row?;
            out.push(Correction {
                id,
                case_id,
                side,
                reviewer,
                corrected_at,
                analysis: serde_json::from_str(&analysis)?,
            });
        }
        Ok(out)
    }
}
