//! A queue filter as SQL.

use crate::types::{CaseFilter, Status};

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
    if let Some(v) = f.warning {
        push(
            "warnings LIKE ?",
            Value::Text(super::rows::warning_pattern(v)),
        );
    }
    let clause = if parts.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", parts.join(" AND "))
    };
    (clause, values)
}
