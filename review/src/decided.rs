//! The decided cases as labelled photos: what a deployment's own calibration is
//! refitted on (`docliveness::adapt`).

use super::store::{Result, Store};
use super::types::Verdict;
use docliveness_engine::Analysis;

/// One analysed side of a case whose decision in force is a verdict.
#[derive(Debug, Clone)]
pub struct DecidedSide {
    /// The case.
    pub case_id: i64,
    /// The reviewer's verdict in force.
    pub verdict: Verdict,
    /// The engine's analysis of this side, as filed.
    pub analysis: Analysis,
    /// SHA-256 of the side's image: the same photo filed twice (a client's retry, a
    /// folder imported again) is one photo.
    pub image_sha256: String,
}

impl Store {
    /// Every analysed side of every case with a verdict in force, oldest case first.
    /// Undone decisions are not in force and so not here.
    pub fn decided_sides(&self) -> Result<Vec<DecidedSide>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.id, c.verdict, s.analysis, s.image_sha256 FROM cases c JOIN sides s ON s.case_id = c.id
             WHERE c.decision_id IS NOT NULL AND c.verdict IN ('genuine', 'attack')
             ORDER BY c.id, s.side DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Verdict>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (case_id, verdict, analysis, image_sha256) = row?;
            out.push(DecidedSide {
                case_id,
                verdict,
                analysis: serde_json::from_str(&analysis)?,
                image_sha256,
            });
        }
        Ok(out)
    }
}
