//! Statistics for analysts: verdict counts, reviewer throughput, score histogram, and
//! the confusion of the model's route against reviewers' verdicts for any thresholds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::store::{Result, Store, where_clause};
use super::types::{AttackType, CaseFilter, Verdict};
use docliveness_engine::Route;
use docliveness_engine::config::Thresholds;

/// Decisions of one reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewerThroughput {
    /// Reviewer name.
    pub reviewer: String,
    /// Decisions recorded (corrections included, undos not).
    pub decisions: u64,
    /// Undos recorded.
    pub undos: u64,
    /// First decision.
    pub first_at: String,
    /// Last decision.
    pub last_at: String,
    /// Decisions per hour between the first and the last (`None` for a single one).
    pub per_hour: Option<f64>,
}

/// Counts of one route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCounts {
    /// Cases reviewers judged genuine.
    pub genuine: u64,
    /// Cases reviewers judged attacks.
    pub attack: u64,
}

/// The model's route (at given thresholds) against reviewers' verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confusion {
    /// The thresholds the routes were computed with.
    pub thresholds: Thresholds,
    /// Decided, scored cases that would pass.
    pub pass: RouteCounts,
    /// … that would go to review.
    pub review: RouteCounts,
    /// … that would fail.
    pub fail: RouteCounts,
}

impl Confusion {
    /// Reviewer-confirmed attacks that the thresholds would let pass automatically.
    pub fn attacks_passed(&self) -> u64 {
        self.pass.attack
    }

    /// Reviewer-confirmed genuine documents the thresholds would fail automatically.
    pub fn genuine_failed(&self) -> u64 {
        self.fail.genuine
    }
}

/// Routes each (score, verdict) pair with `thresholds` and counts the outcomes.
pub fn confusion(pairs: &[(f64, Verdict)], thresholds: Thresholds) -> Confusion {
    let mut c = Confusion {
        thresholds,
        pass: RouteCounts::default(),
        review: RouteCounts::default(),
        fail: RouteCounts::default(),
    };
    for &(score, verdict) in pairs {
        let bucket = match Route::of(score, &thresholds) {
            Route::Pass => &mut c.pass,
            Route::Review => &mut c.review,
            Route::Fail => &mut c.fail,
        };
        match verdict {
            Verdict::Genuine => bucket.genuine += 1,
            Verdict::Attack => bucket.attack += 1,
            // A photo nobody could judge is no error of the thresholds either way.
            Verdict::Resubmit => {}
        }
    }
    c
}

/// Statistics over the cases matching a filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    /// Cases matching the filter.
    pub cases: u64,
    /// Of which open.
    pub open: u64,
    /// Decided cases per verdict in force (`genuine`, `screen`, `print`, `digital`, `other`,
    /// `resubmit`).
    pub verdicts: BTreeMap<String, u64>,
    /// Cases per error code.
    pub errors: BTreeMap<String, u64>,
    /// Reviewer throughput (all decisions in the database).
    pub reviewers: Vec<ReviewerThroughput>,
    /// Scores in ten bins of 0.1.
    pub histogram: [u64; 10],
    /// Route against verdict at the given thresholds.
    pub confusion: Confusion,
}

impl Store {
    /// Statistics over the cases matching `filter`, with routes computed at `thresholds`.
    pub fn statistics(&self, filter: &CaseFilter, thresholds: Thresholds) -> Result<Statistics> {
        let conn = self.connection();
        let (clause, values) = where_clause(filter);
        let mut stmt = conn.prepare(&format!(
            "SELECT score, decision_id, verdict, attack_type, error_code FROM cases {clause}"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
        let (mut cases, mut open) = (0u64, 0u64);
        let mut verdicts = BTreeMap::new();
        let mut errors = BTreeMap::new();
        let mut histogram = [0u64; 10];
        let mut pairs = Vec::new();
        while let Some(r) = rows.next()? {
            cases += 1;
            let score: Option<f64> = r.get(0)?;
            let decision: Option<i64> = r.get(1)?;
            let verdict: Option<Verdict> = r.get(2)?;
            let attack: Option<AttackType> = r.get(3)?;
            if let Some(code) = r.get::<_, Option<String>>(4)? {
                *errors.entry(code).or_insert(0) += 1;
            }
            if decision.is_none() {
                open += 1;
            }
            if let Some(s) = score {
                histogram[((s * 10.0) as usize).min(9)] += 1;
            }
            if let Some(v) = verdict {
                let key = match (v, attack) {
                    (Verdict::Genuine, _) => "genuine",
                    (Verdict::Attack, Some(a)) => a.as_str(),
                    (Verdict::Attack, None) => "other",
                    (Verdict::Resubmit, _) => "resubmit",
                };
                *verdicts.entry(key.to_string()).or_insert(0) += 1;
                if let Some(s) = score {
                    pairs.push((s, v));
                }
            }
        }
        let mut stmt = conn.prepare(
            "SELECT reviewer, SUM(kind = 'decide'), SUM(kind = 'undo'), MIN(decided_at), MAX(decided_at)
             FROM decisions GROUP BY reviewer ORDER BY reviewer",
        )?;
        let reviewers = stmt
            .query_map([], |r| {
                let first: String = r.get(3)?;
                let last: String = r.get(4)?;
                let decisions: i64 = r.get(1)?;
                let hours = match (
                    chrono::DateTime::parse_from_rfc3339(&first),
                    chrono::DateTime::parse_from_rfc3339(&last),
                ) {
                    (Ok(a), Ok(b)) => (b - a).num_milliseconds() as f64 / 3_600_000.0,
                    _ => 0.0,
                };
                Ok(ReviewerThroughput {
                    reviewer: r.get(0)?,
                    decisions: decisions.max(0) as u64,
                    undos: r.get::<_, i64>(2)?.max(0) as u64,
                    first_at: first,
                    last_at: last,
                    per_hour: (hours > 0.0).then(|| decisions as f64 / hours),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Statistics {
            cases,
            open,
            verdicts,
            errors,
            reviewers,
            histogram,
            confusion: confusion(&pairs, thresholds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_moves_with_the_thresholds() {
        let pairs = [
            (0.1, Verdict::Attack),
            (0.3, Verdict::Attack),
            (0.45, Verdict::Genuine),
            (0.6, Verdict::Attack),
            (0.9, Verdict::Genuine),
        ];
        let c = confusion(&pairs, Thresholds::default());
        assert_eq!(
            (c.fail.attack, c.review.attack, c.review.genuine),
            (1, 1, 1)
        );
        assert_eq!(
            (c.attacks_passed(), c.pass.genuine, c.genuine_failed()),
            (1, 1, 0)
        );
        let strict = confusion(
            &pairs,
            Thresholds {
                fail_below: 0.5,
                pass_from: 0.7,
            },
        );
        assert_eq!(
            (
                strict.attacks_passed(),
                strict.genuine_failed(),
                strict.review.attack
            ),
            (0, 1, 1)
        );
    }
}
