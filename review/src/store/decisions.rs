//! Reviewers' work on a case: claims and their leases, decisions, undo, and the
//! decision rows and audit trail it leaves.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::rows::{DECISION_COLUMNS, DecisionKind, decision_from_row};
use super::{Result, Store, StoreError, audit};
use crate::types::{AuditEntry, DecisionRecord, NewDecision, ReviewCase, Verdict};

impl Store {
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
        let invalid = |why: &str| Err(StoreError::InvalidDecision(why.into()));
        match (
            decision.verdict,
            decision.attack_type,
            decision.resubmit_reason,
        ) {
            (None, _, _) => return invalid("a verdict is required"),
            (Some(Verdict::Genuine), Some(_), _) => {
                return invalid("a genuine verdict has no attack type");
            }
            (Some(Verdict::Attack), None, _) => {
                return invalid("an attack verdict needs an attack type");
            }
            (Some(Verdict::Resubmit), Some(_), _) => {
                return invalid("a resubmit verdict has no attack type");
            }
            (Some(Verdict::Resubmit), _, None) => {
                return invalid("a resubmit verdict needs the reason a new photo is needed");
            }
            (Some(Verdict::Genuine | Verdict::Attack), _, Some(_)) => {
                return invalid("only a resubmit verdict has a resubmit reason");
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
            "INSERT INTO decisions (case_id, kind, reviewer, verdict, attack_type, reason, note, decided_at, supersedes, resubmit_reason)
             VALUES (?1, ?10, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                decision.reviewer,
                decision.verdict,
                decision.attack_type,
                decision.reason,
                decision.note,
                now_s,
                latest,
                decision.resubmit_reason,
                DecisionKind::Decide,
            ],
        )?;
        let decision_id = tx.last_insert_rowid();
        set_in_force(&tx, id, Some(decision_id))?;
        let detail = serde_json::json!({
            "decision": decision_id,
            "verdict": decision.verdict,
            "attackType": decision.attack_type,
            "resubmitReason": decision.resubmit_reason,
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
             VALUES (?1, ?6, ?2, ?3, ?4, ?5)",
            params![id, reviewer, now_s, current, restores, DecisionKind::Undo],
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
    let (kind, restores): (DecisionKind, Option<i64>) = conn.query_row(
        "SELECT kind, restores FROM decisions WHERE id = ?1",
        [prev],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(match kind {
        DecisionKind::Undo => restores,
        DecisionKind::Decide => Some(prev),
    })
}

/// Copies decision `decision` (or none) into the case's in-force columns.
fn set_in_force(conn: &Connection, case: i64, decision: Option<i64>) -> Result<()> {
    match decision {
        Some(d) => conn.execute(
            "UPDATE cases SET (decision_id, verdict, attack_type, resubmit_reason, decided_by, decided_at, claimed_by, claim_expires_at) =
             (SELECT id, verdict, attack_type, resubmit_reason, reviewer, decided_at, NULL, NULL FROM decisions WHERE id = ?2)
             WHERE id = ?1",
            params![case, d],
        )?,
        None => conn.execute(
            "UPDATE cases SET decision_id = NULL, verdict = NULL, attack_type = NULL, resubmit_reason = NULL, decided_by = NULL,
             decided_at = NULL, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?1",
            [case],
        )?,
    };
    Ok(())
}
