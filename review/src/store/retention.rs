//! Retention: the images of long-decided cases deleted, the records kept.

use rusqlite::{TransactionBehavior, params};

use super::{Result, Store, audit};

/// Which images a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Image files deleted.
    pub images_removed: usize,
    /// Side records marked as purged.
    pub sides_marked: usize,
}

impl Store {
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
}
