//! Rows to records, and the enums as they are stored: as text, through `ToSql` and
//! `FromSql`, so that a value this build does not know is an error, never a silent
//! stand-in.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::types::{
    AttackType, DecisionRecord, Origin, ResubmitReason, ReviewCase, Verdict, WarningSet,
};
use docliveness_engine::{ErrorCode, Route, Side, WarningCode};

/// The word a stored enum is kept as, and back. The engine's enums cannot take
/// rusqlite's traits here (the engine is a crate of its own), so they go through `Text`;
/// the store's own take the traits directly. Both read and write through this one table.
pub(super) trait StoredText: Copy + Sized {
    /// What the value is, for the error on a word this build does not know.
    const WHAT: &'static str;
    /// The stored word.
    fn word(self) -> &'static str;
    /// The value of a stored word.
    fn from_word(text: &str) -> Option<Self>;
}

macro_rules! stored_text {
    ($($t:ty: $what:literal, $to:expr, $from:expr;)+) => {$(
        impl StoredText for $t {
            const WHAT: &'static str = $what;
            fn word(self) -> &'static str {
                $to(self)
            }
            fn from_word(text: &str) -> Option<Self> {
                $from(text)
            }
        }
    )+};
}

/// What a row of the decisions table is: a verdict given, or the undoing of the one in
/// force (the table is append-only, so an undo is a row of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DecisionKind {
    Decide,
    Undo,
}

impl DecisionKind {
    fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Decide => "decide",
            DecisionKind::Undo => "undo",
        }
    }

    fn parse(text: &str) -> Option<DecisionKind> {
        [DecisionKind::Decide, DecisionKind::Undo]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

stored_text! {
    DecisionKind: "decision kind", DecisionKind::as_str, DecisionKind::parse;
    Origin: "origin", Origin::as_str, Origin::parse;
    Verdict: "verdict", Verdict::as_str, Verdict::parse;
    AttackType: "attack type", AttackType::as_str, AttackType::parse;
    ResubmitReason: "resubmit reason", ResubmitReason::as_str, ResubmitReason::parse;
    Route: "route", Route::as_str, Route::parse;
    Side: "side", side_str, parse_side;
    ErrorCode: "error code", ErrorCode::as_str, parse_error_code;
}

fn word_to_sql<T: StoredText>(value: T) -> ToSqlOutput<'static> {
    ToSqlOutput::from(value.word())
}

fn word_from_sql<T: StoredText>(value: ValueRef<'_>) -> FromSqlResult<T> {
    let text = value.as_str()?;
    T::from_word(text).ok_or_else(|| {
        FromSqlError::Other(format!("unknown {} {text:?} in the review database", T::WHAT).into())
    })
}

/// The store's own enums take rusqlite's traits directly.
macro_rules! sql_as_text {
    ($($t:ty),+) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(word_to_sql(*self))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                word_from_sql(value)
            }
        }
    )+};
}

sql_as_text!(DecisionKind, Origin, Verdict, AttackType, ResubmitReason);

/// An engine enum as the text it is stored as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Text<T>(pub T);

impl<T: StoredText> ToSql for Text<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(word_to_sql(self.0))
    }
}

impl<T: StoredText> FromSql for Text<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        word_from_sql(value).map(Text)
    }
}

/// Stored as the codes between commas, `,BLURRED,GLARE,` (`,,` for none), so that a
/// filter for one code is a `LIKE '%,CODE,%'` that cannot match inside another code.
impl ToSql for WarningSet {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let inner: Vec<&str> = self.0.iter().map(|c| c.as_str()).collect();
        Ok(ToSqlOutput::from(format!(",{},", inner.join(","))))
    }
}

impl FromSql for WarningSet {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        let inner = text
            .strip_prefix(',')
            .and_then(|t| t.strip_suffix(','))
            .ok_or_else(|| {
                FromSqlError::Other(
                    format!("malformed warnings {text:?} in the review database").into(),
                )
            })?;
        inner
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| {
                WarningCode::parse(c).ok_or_else(|| {
                    FromSqlError::Other(
                        format!("unknown warning {c:?} in the review database").into(),
                    )
                })
            })
            .collect::<FromSqlResult<Vec<_>>>()
            .map(WarningSet)
    }
}

/// The `LIKE` pattern of the cases that carry `code`.
pub(super) fn warning_pattern(code: WarningCode) -> String {
    format!("%,{},%", code.as_str())
}

pub(super) fn side_str(side: Side) -> &'static str {
    match side {
        Side::Front => "front",
        Side::Back => "back",
    }
}

fn parse_side(text: &str) -> Option<Side> {
    [Side::Front, Side::Back]
        .into_iter()
        .find(|s| side_str(*s) == text)
}

fn parse_error_code(text: &str) -> Option<ErrorCode> {
    ErrorCode::ALL.into_iter().find(|c| c.as_str() == text)
}

pub(super) const CASE_COLUMNS: &str = "id, origin, session_id, created_at, score, route, error_code, model_version, \
     claimed_by, claim_expires_at, decision_id, verdict, attack_type, decided_by, decided_at, \
     resubmit_reason, warnings, source";

pub(super) fn case_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReviewCase> {
    Ok(ReviewCase {
        id: r.get(0)?,
        origin: r.get(1)?,
        session_id: r.get(2)?,
        created_at: r.get(3)?,
        score: r.get(4)?,
        route: r.get::<_, Option<Text<Route>>>(5)?.map(|t| t.0),
        error_code: r.get::<_, Option<Text<ErrorCode>>>(6)?.map(|t| t.0),
        model_version: r.get(7)?,
        claimed_by: r.get(8)?,
        claim_expires_at: r.get(9)?,
        decision_id: r.get(10)?,
        verdict: r.get(11)?,
        attack_type: r.get(12)?,
        decided_by: r.get(13)?,
        decided_at: r.get(14)?,
        resubmit_reason: r.get(15)?,
        warnings: r.get(16)?,
        source: r.get(17)?,
    })
}

pub(super) const DECISION_COLUMNS: &str = "id, case_id, kind, reviewer, verdict, attack_type, reason, note, decided_at, supersedes, \
     resubmit_reason";

pub(super) fn decision_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRecord> {
    Ok(DecisionRecord {
        id: r.get(0)?,
        case_id: r.get(1)?,
        is_undo: r.get::<_, DecisionKind>(2)? == DecisionKind::Undo,
        reviewer: r.get(3)?,
        verdict: r.get(4)?,
        attack_type: r.get(5)?,
        reason: r.get(6)?,
        note: r.get(7)?,
        decided_at: r.get(8)?,
        supersedes: r.get(9)?,
        resubmit_reason: r.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn stored_words_round_trip_and_unknown_ones_are_errors() {
        let conn = Connection::open_in_memory().unwrap();
        let back: Verdict = conn
            .query_row("SELECT ?1", [Verdict::Attack], |r| r.get(0))
            .unwrap();
        assert_eq!(back, Verdict::Attack);
        let side: Text<Side> = conn.query_row("SELECT 'back'", [], |r| r.get(0)).unwrap();
        assert_eq!(side, Text(Side::Back));
        let code: Text<ErrorCode> = conn
            .query_row("SELECT 'DOCUMENT_CROPPED'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(code, Text(ErrorCode::DocumentCropped));
        let unknown_side = conn.query_row("SELECT 'top'", [], |r| r.get::<_, Text<Side>>(0));
        assert!(
            unknown_side
                .unwrap_err()
                .to_string()
                .contains("unknown side \"top\"")
        );
        let undo: DecisionKind = conn
            .query_row("SELECT ?1", [DecisionKind::Undo], |r| r.get(0))
            .unwrap();
        assert_eq!(undo, DecisionKind::Undo);
        // Before, any kind but "undo" was read as a decision.
        let unknown_kind = conn.query_row("SELECT 'redo'", [], |r| r.get::<_, DecisionKind>(0));
        assert!(
            unknown_kind
                .unwrap_err()
                .to_string()
                .contains("unknown decision kind \"redo\"")
        );
        // Before, an unknown origin was read as `cli` without a word.
        let unknown = conn.query_row("SELECT 'fax'", [], |r| r.get::<_, Origin>(0));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown origin \"fax\"")
        );
        let none: Option<Text<Route>> = conn.query_row("SELECT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(none, None);
    }
}
