//! The review store: cases, claims, decisions, undo, filters, retention, refusal of bad files.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use docliveness::config::Thresholds;
use docliveness::engine::{ErrorCode, Outcome, Route, Side};
use docliveness::review::*;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("review.db")).unwrap();
    (dir, store)
}

fn decision(reviewer: &str, verdict: Verdict, attack: Option<AttackType>) -> NewDecision {
    NewDecision {
        reviewer: reviewer.into(),
        verdict: Some(verdict),
        attack_type: attack,
        resubmit_reason: None,
        reason: Some("moire".into()),
        note: Some("visible on the portrait".into()),
    }
}

#[test]
fn filing_keeps_score_route_sides_and_image() {
    let (_dir, mut store) = open();
    let a = common::analysis(Some(0.4), None);
    let b = common::analysis(Some(0.3), None);
    let case = NewCase {
        origin: Origin::Api,
        session_id: "bbbf9002".into(),
        sides: vec![
            NewSide {
                side: Side::Front,
                image: b"front bytes",
                analysis: &a,
            },
            NewSide {
                side: Side::Back,
                image: b"back bytes",
                analysis: &b,
            },
        ],
        outcome: Outcome::of([&a, &b], &Thresholds::default()),
        source: None,
    };
    let id = store.file_case(&case).unwrap();
    let c = store.case(id).unwrap();
    // The overall score is the lower of the two sides (spec).
    assert_eq!(c.score, Some(0.3));
    assert_eq!(c.route, Some(Route::Review));
    assert_eq!((c.origin, c.session_id.as_str()), (Origin::Api, "bbbf9002"));
    assert!(c.is_open());
    let sides = store.sides(id).unwrap();
    assert_eq!(sides.len(), 2);
    assert_eq!(sides[0].side, Side::Front);
    assert_eq!(sides[0].analysis, a);
    assert_eq!(
        store.images().get(&sides[1].image_sha256).unwrap(),
        b"back bytes"
    );
    assert_eq!(store.history(id).unwrap()[0].action, "filed");

    let err = common::file(
        &mut store,
        Origin::Cli,
        b"x",
        None,
        Some(ErrorCode::DocumentCropped),
    );
    let c = store.case(err).unwrap();
    assert_eq!(
        (c.score, c.route, c.error_code),
        (None, None, Some(ErrorCode::DocumentCropped))
    );
}

#[test]
fn a_filed_analysis_reads_back_to_the_last_bit() {
    // 7.4760729999999995 read back as 7.476073 before exact float parsing was switched
    // on: a stored analysis that differs from the one filed is no audit record.
    let (_dir, mut store) = open();
    let mut a = common::analysis(Some(0.1 + 0.2), None);
    a.timings_ms.detect = 7.476_072_999_999_999_5;
    a.timings_ms.total = 29.097_797;
    let id = store
        .file_case(&NewCase {
            origin: Origin::Cli,
            session_id: "floats".into(),
            sides: vec![NewSide {
                side: Side::Front,
                image: b"front bytes",
                analysis: &a,
            }],
            outcome: Outcome::of([&a], &Thresholds::default()),
            source: None,
        })
        .unwrap();
    let back = &store.sides(id).unwrap()[0].analysis;
    assert_eq!(
        back.timings_ms.detect.to_bits(),
        a.timings_ms.detect.to_bits()
    );
    assert_eq!(back, &a);
}

#[test]
fn claims_decisions_corrections_and_undo() {
    let (_dir, mut store) = open();
    let id = common::file(&mut store, Origin::Console, b"img", Some(0.35), None);
    store.claim(id, "alice", Duration::from_secs(600)).unwrap();
    // Bob cannot take or decide a case Alice holds.
    assert!(matches!(
        store.claim(id, "bob", Duration::from_secs(600)),
        Err(StoreError::ClaimedByOther { .. })
    ));
    let err = store
        .decide(id, &decision("bob", Verdict::Genuine, None), None)
        .unwrap_err();
    assert!(err.to_string().contains("alice"), "{err}");

    let first = store
        .decide(
            id,
            &decision("alice", Verdict::Attack, Some(AttackType::Screen)),
            Some(None),
        )
        .unwrap();
    let c = store.case(id).unwrap();
    assert_eq!(
        (c.verdict, c.attack_type, c.decided_by.as_deref()),
        (
            Some(Verdict::Attack),
            Some(AttackType::Screen),
            Some("alice")
        )
    );
    assert_eq!(c.claimed_by, None, "deciding releases the claim");

    // Bob saw the case open; it was decided since, so his decision is refused.
    let stale = store.decide(id, &decision("bob", Verdict::Genuine, None), Some(None));
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));

    // A correction supersedes; it does not overwrite.
    let second = store
        .decide(
            id,
            &decision("bob", Verdict::Genuine, None),
            Some(Some(first.id)),
        )
        .unwrap();
    assert_eq!(second.supersedes, Some(first.id));
    assert_eq!(store.case(id).unwrap().verdict, Some(Verdict::Genuine));

    // Alice meant to undo her own decision, but Bob's correction is in force: refused.
    assert!(matches!(
        store.undo(id, "alice", Some(first.id)),
        Err(StoreError::Conflict { .. })
    ));
    // Undo brings the earlier decision back; a second undo reopens the case.
    let undo = store.undo(id, "bob", Some(second.id)).unwrap();
    assert!(undo.is_undo);
    assert_eq!(store.case(id).unwrap().decision_id, Some(first.id));
    store.undo(id, "bob", None).unwrap();
    assert!(store.case(id).unwrap().is_open());
    assert!(matches!(
        store.undo(id, "bob", None),
        Err(StoreError::NothingToUndo(_))
    ));

    let rows = store.decisions(id).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], first, "the first decision row is unchanged");
    let actions: Vec<String> = store
        .history(id)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["filed", "claimed", "decided", "decided", "undone", "undone"]
    );
}

#[test]
fn invalid_decisions_are_refused() {
    let (_dir, mut store) = open();
    let id = common::file(&mut store, Origin::Console, b"img", Some(0.3), None);
    let bad = [
        NewDecision {
            reviewer: "a".into(),
            ..NewDecision::default()
        },
        decision("a", Verdict::Genuine, Some(AttackType::Print)),
        decision("a", Verdict::Attack, None),
        decision(" ", Verdict::Genuine, None),
    ];
    for d in bad {
        assert!(
            matches!(
                store.decide(id, &d, None),
                Err(StoreError::InvalidDecision(_))
            ),
            "{d:?}"
        );
    }
    assert!(matches!(
        store.decide(999, &decision("a", Verdict::Genuine, None), None),
        Err(StoreError::NoSuchCase(999))
    ));
    assert!(store.case(id).unwrap().is_open());
}

#[test]
fn leases_expire() {
    let (_dir, mut store) = open();
    let id = common::file(&mut store, Origin::Console, b"img", Some(0.3), None);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
    store.set_now(Some(t0));
    store.claim(id, "alice", Duration::from_secs(600)).unwrap();
    store.set_now(Some(t0 + chrono::Duration::minutes(5)));
    assert!(store.claim(id, "bob", Duration::from_secs(600)).is_err());
    store.set_now(Some(t0 + chrono::Duration::minutes(11)));
    assert_eq!(
        store
            .claim(id, "bob", Duration::from_secs(600))
            .unwrap()
            .claimed_by
            .as_deref(),
        Some("bob")
    );
}

#[test]
fn decisions_cannot_be_rewritten_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.db");
    let mut store = Store::open(&path).unwrap();
    let id = common::file(&mut store, Origin::Console, b"img", Some(0.3), None);
    store
        .decide(id, &decision("alice", Verdict::Genuine, None), None)
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let err = raw
        .execute("UPDATE decisions SET verdict = 'attack'", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(raw.execute("DELETE FROM decisions", []).is_err());
    assert!(
        raw.execute("UPDATE audit_log SET actor = 'mallory'", [])
            .is_err()
    );
}

#[test]
fn filters_sorting_and_pages() {
    let (_dir, mut store) = open();
    let mut ids = Vec::new();
    for i in 0..40u32 {
        let origin = [Origin::Console, Origin::Api, Origin::Cli][i as usize % 3];
        let error = (i % 10 == 9).then_some(ErrorCode::DocumentTooSmall);
        let score = error.is_none().then(|| 0.25 + f64::from(i) * 0.005);
        ids.push(common::file(
            &mut store,
            origin,
            format!("image {i}").as_bytes(),
            score,
            error,
        ));
    }
    for &id in &ids[..6] {
        store
            .decide(
                id,
                &decision("alice", Verdict::Attack, Some(AttackType::Print)),
                None,
            )
            .unwrap();
    }
    let count = |f: CaseFilter| store.count(&f).unwrap();
    assert_eq!(
        count(CaseFilter {
            status: Status::All,
            ..Default::default()
        }),
        40
    );
    assert_eq!(count(CaseFilter::default()), 34);
    assert_eq!(
        count(CaseFilter {
            status: Status::Decided,
            ..Default::default()
        }),
        6
    );
    assert_eq!(
        count(CaseFilter {
            status: Status::All,
            origin: Some(Origin::Api),
            ..Default::default()
        }),
        13
    );
    assert_eq!(
        count(CaseFilter {
            status: Status::All,
            error_code: Some(ErrorCode::DocumentTooSmall),
            ..Default::default()
        }),
        4
    );
    assert_eq!(
        count(CaseFilter {
            status: Status::All,
            reviewer: Some("alice".into()),
            ..Default::default()
        }),
        6
    );
    assert_eq!(
        count(CaseFilter {
            status: Status::All,
            verdict: Some(Verdict::Attack),
            ..Default::default()
        }),
        6
    );
    let band = CaseFilter {
        status: Status::All,
        score_min: Some(0.3),
        score_max: Some(0.4),
        ..Default::default()
    };
    assert!(
        store
            .list(&band, SortOrder::ScoreAscending, 100, 0)
            .unwrap()
            .iter()
            .all(|c| (0.3..0.4).contains(&c.score.unwrap()))
    );

    let all = CaseFilter {
        status: Status::All,
        ..Default::default()
    };
    let by_score = store
        .list(&all, SortOrder::ScoreDescending, 100, 0)
        .unwrap();
    assert!(by_score.windows(2).all(|w| w[0].score >= w[1].score));
    let p1 = store.list(&all, SortOrder::OldestFirst, 15, 0).unwrap();
    let p2 = store.list(&all, SortOrder::OldestFirst, 15, 15).unwrap();
    let p3 = store.list(&all, SortOrder::OldestFirst, 15, 30).unwrap();
    assert_eq!((p1.len(), p2.len(), p3.len()), (15, 15, 10));
    let seen: std::collections::BTreeSet<i64> =
        p1.iter().chain(&p2).chain(&p3).map(|c| c.id).collect();
    assert_eq!(seen.len(), 40);
    let newest = store.list(&all, SortOrder::NewestFirst, 1, 0).unwrap();
    assert_eq!(newest[0].id, *ids.last().unwrap());
}

#[test]
fn hundred_thousand_cases_filter_through_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.db");
    let store = Store::open(&path).unwrap();
    let generated = docliveness_synth::queue::fill_queue(&path, 100_000, 99).unwrap();
    let open_band = CaseFilter {
        score_min: Some(0.25),
        score_max: Some(0.5),
        ..Default::default()
    };
    let page = store
        .list(&open_band, SortOrder::ScoreAscending, 50, 0)
        .unwrap();
    assert_eq!(page.len(), 50);
    assert!(
        page.iter()
            .all(|c| c.is_open() && (0.25..0.5).contains(&c.score.unwrap()))
    );
    assert!(page.windows(2).all(|w| w[0].score <= w[1].score));
    assert_eq!(store.count(&open_band).unwrap(), generated.open_in_band);
    // Speed is measured in `cargo bench --bench review_queue`; here, that the filters the
    // queue view uses are answered from an index rather than by reading every row.
    for (filter, order) in [
        (open_band.clone(), SortOrder::ScoreAscending),
        (
            CaseFilter {
                origin: Some(Origin::Api),
                ..Default::default()
            },
            SortOrder::OldestFirst,
        ),
        (
            CaseFilter {
                status: Status::All,
                error_code: Some(ErrorCode::DocumentCropped),
                ..Default::default()
            },
            SortOrder::NewestFirst,
        ),
        (
            CaseFilter {
                status: Status::Decided,
                reviewer: Some("alice".into()),
                ..Default::default()
            },
            SortOrder::NewestFirst,
        ),
    ] {
        let plan = store.explain_list(&filter, order).unwrap();
        assert!(
            plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"),
            "{filter:?}: {plan}"
        );
    }
}

#[test]
fn images_are_shared_and_retention_keeps_what_is_still_needed() {
    let (_dir, mut store) = open();
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    store.set_now(Some(t0));
    let old = common::file(
        &mut store,
        Origin::Console,
        b"shared image",
        Some(0.3),
        None,
    );
    let only_old = common::file(&mut store, Origin::Console, b"old image", Some(0.3), None);
    store
        .decide(old, &decision("alice", Verdict::Genuine, None), None)
        .unwrap();
    store
        .decide(only_old, &decision("alice", Verdict::Genuine, None), None)
        .unwrap();
    store.set_now(Some(t0 + chrono::Duration::days(40)));
    let still_open = common::file(&mut store, Origin::Api, b"shared image", Some(0.3), None);
    let sides = |s: &Store, id| s.sides(id).unwrap()[0].clone();
    assert_eq!(
        sides(&store, old).image_sha256,
        sides(&store, still_open).image_sha256
    );

    let report = store.purge_images(30, "retention").unwrap();
    assert_eq!(
        report.images_removed, 1,
        "only the image no open case needs"
    );
    assert!(sides(&store, only_old).image_purged_at.is_some());
    assert!(
        store
            .images()
            .get(&sides(&store, only_old).image_sha256)
            .is_err()
    );
    assert!(
        store
            .images()
            .get(&sides(&store, still_open).image_sha256)
            .is_ok()
    );
    // The decision and the analysis stay.
    assert_eq!(store.decisions(only_old).unwrap().len(), 1);
    assert_eq!(sides(&store, only_old).analysis.score, Some(0.3));
}

#[test]
fn foreign_and_newer_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("notes.db");
    std::fs::write(
        &garbage,
        b"these are my notes, not a database, please keep them",
    )
    .unwrap();
    let before = std::fs::read(&garbage).unwrap();
    let err = Store::open(&garbage).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert!(err.to_string().contains("left untouched"));
    assert_eq!(std::fs::read(&garbage).unwrap(), before);

    let newer = dir.path().join("newer.db");
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        // A later docliveness marks its files with the same application id.
        conn.execute_batch(
            "CREATE TABLE future (x); PRAGMA user_version = 999; PRAGMA application_id = 1145853522;",
        )
        .unwrap();
    }
    let before = std::fs::read(&newer).unwrap();
    let err = Store::open(&newer).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade"));
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    // A real database whose pages were overwritten in the middle.
    let damaged = dir.path().join("damaged.db");
    {
        let mut store = Store::open(&damaged).unwrap();
        for i in 0..300 {
            common::file(
                &mut store,
                Origin::Cli,
                format!("img {i}").as_bytes(),
                Some(0.3),
                None,
            );
        }
    }
    let mut bytes = std::fs::read(&damaged).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4096].fill(0xA5);
    std::fs::write(&damaged, &bytes).unwrap();
    let err = Store::open(&damaged).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt { .. } | StoreError::Sqlite(_)),
        "{err}"
    );
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);

    // An empty file is a new database.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(Store::open(&empty).is_ok());
}

/// Another application's SQLite files, with or without a schema version of their own,
/// and marked with another application id: refused by every way of opening, byte for
/// byte unchanged, with no journal files left beside them.
#[test]
fn another_applications_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (name, setup) in [
        (
            "notes.db",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');",
        ),
        (
            "versioned.db",
            "CREATE TABLE cases (id INTEGER PRIMARY KEY, court TEXT); PRAGMA user_version = 1;",
        ),
        ("marked.db", "PRAGMA application_id = 1234;"),
    ] {
        let path = dir.path().join(name);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(setup)
            .unwrap();
        let before = std::fs::read(&path).unwrap();
        for open in [Store::open, Store::open_existing] {
            let err = open(&path).unwrap_err();
            assert!(matches!(err, StoreError::Foreign { .. }), "{name}: {err}");
            assert!(err.to_string().contains("left untouched"), "{err}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "{name} was changed");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.starts_with(name) && f != name)
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// Commands that only read never create a database, its folder or its schema.
#[test]
fn opening_to_read_creates_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/folder/review.db");
    let err = Store::open_existing(&missing).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert!(!dir.path().join("no").exists());

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open_existing(&empty).unwrap_err();
    assert!(matches!(err, StoreError::Empty { .. }), "{err}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    let db = dir.path().join("review.db");
    {
        let mut store = Store::open(&db).unwrap();
        common::file(&mut store, Origin::Cli, b"one image", Some(0.3), None);
    }
    let store = Store::open_existing(&db).unwrap();
    assert_eq!(
        store
            .count(&CaseFilter {
                status: Status::All,
                ..Default::default()
            })
            .unwrap(),
        1
    );
}

#[test]
fn statistics_count_verdicts_reviewers_and_routes() {
    let (_dir, mut store) = open();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
    let scores = [0.1, 0.3, 0.45, 0.6, 0.9];
    for (i, s) in scores.iter().enumerate() {
        let id = common::file(
            &mut store,
            Origin::Cli,
            format!("{i}").as_bytes(),
            Some(*s),
            None,
        );
        store.set_now(Some(t0 + chrono::Duration::minutes(30 * i as i64)));
        let d = if i % 2 == 0 {
            decision("alice", Verdict::Attack, Some(AttackType::Screen))
        } else {
            decision("bob", Verdict::Genuine, None)
        };
        store.decide(id, &d, None).unwrap();
    }
    common::file(&mut store, Origin::Cli, b"open", Some(0.4), None);
    let stats = store
        .statistics(
            &CaseFilter {
                status: Status::All,
                ..Default::default()
            },
            Thresholds::default(),
        )
        .unwrap();
    assert_eq!((stats.cases, stats.open), (6, 1));
    assert_eq!(stats.verdicts["screen"], 3);
    assert_eq!(stats.verdicts["genuine"], 2);
    assert_eq!(stats.histogram.iter().sum::<u64>(), 6);
    let alice = stats
        .reviewers
        .iter()
        .find(|r| r.reviewer == "alice")
        .unwrap();
    assert_eq!(alice.decisions, 3);
    assert!((alice.per_hour.unwrap() - 1.5).abs() < 1e-9);
    // 0.9 attack? no: index 4 is alice's attack at 0.9, which would pass.
    assert_eq!(stats.confusion.attacks_passed(), 1);
    assert_eq!(stats.confusion.fail.attack, 1);
}

#[test]
fn a_resubmit_verdict_round_trips_through_decisions_stats_export_and_adaptation() {
    let (dir, mut store) = open();
    let ids: Vec<i64> = (0..3)
        .map(|i| {
            common::file(
                &mut store,
                Origin::Api,
                format!("photo {i}").as_bytes(),
                Some(0.3),
                None,
            )
        })
        .collect();
    let resubmit = |reason| NewDecision {
        reviewer: "ana".into(),
        verdict: Some(Verdict::Resubmit),
        attack_type: None,
        resubmit_reason: reason,
        reason: None,
        note: Some("ask for a photo without the lamp".into()),
    };
    // The reason is required, and only a resubmit has one.
    assert!(matches!(
        store.decide(ids[0], &resubmit(None), None),
        Err(StoreError::InvalidDecision(_))
    ));
    let mut genuine_with_reason = decision("ana", Verdict::Genuine, None);
    genuine_with_reason.resubmit_reason = Some(ResubmitReason::Glare);
    assert!(matches!(
        store.decide(ids[0], &genuine_with_reason, None),
        Err(StoreError::InvalidDecision(_))
    ));
    let record = store
        .decide(ids[0], &resubmit(Some(ResubmitReason::Glare)), None)
        .unwrap();
    assert_eq!(record.verdict, Some(Verdict::Resubmit));
    assert_eq!(record.resubmit_reason, Some(ResubmitReason::Glare));
    let case = store.case(ids[0]).unwrap();
    assert_eq!(
        (case.verdict, case.resubmit_reason),
        (Some(Verdict::Resubmit), Some(ResubmitReason::Glare))
    );
    store
        .decide(ids[1], &decision("ana", Verdict::Genuine, None), None)
        .unwrap();
    store
        .decide(
            ids[2],
            &decision("ana", Verdict::Attack, Some(AttackType::Print)),
            None,
        )
        .unwrap();
    // Counted as its own verdict; no error of the thresholds either way.
    let stats = store
        .statistics(
            &CaseFilter {
                status: Status::All,
                ..CaseFilter::default()
            },
            Thresholds::default(),
        )
        .unwrap();
    assert_eq!(stats.verdicts.get("resubmit"), Some(&1));
    let c = stats.confusion;
    let judged = c.pass.genuine
        + c.pass.attack
        + c.review.genuine
        + c.review.attack
        + c.fail.genuine
        + c.fail.attack;
    assert_eq!(judged, 2);
    // The refit learns only from genuine and attack verdicts.
    let decided: Vec<i64> = store
        .decided_sides()
        .unwrap()
        .iter()
        .map(|s| s.case_id)
        .collect();
    assert_eq!(decided, vec![ids[1], ids[2]]);
    // Undo brings the case back open, reason and all.
    store.undo(ids[0], "ana", None).unwrap();
    let case = store.case(ids[0]).unwrap();
    assert_eq!((case.verdict, case.resubmit_reason), (None, None));
    drop(store);
    drop(dir);
}

#[test]
fn a_database_of_the_first_schema_is_upgraded_and_takes_resubmits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.db");
    {
        // The first released schema, with a decision in it, as an older build left it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(docliveness::review::schema::MIGRATIONS[0])
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO cases (origin, session_id, created_at, score, route)
                 VALUES ('api', 's', '2026-01-01T00:00:00.000Z', 0.3, 'review');
             INSERT INTO decisions (case_id, kind, reviewer, verdict, decided_at)
                 VALUES (1, 'decide', 'old', 'genuine', '2026-01-01T00:00:00.000Z');
             UPDATE cases SET decision_id = 1, verdict = 'genuine', decided_by = 'old';",
        )
        .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.case(1).unwrap().verdict, Some(Verdict::Genuine));
    // Filed before warnings existed: unknown, not "none".
    assert_eq!(store.case(1).unwrap().warnings, None);
    let resubmit = NewDecision {
        reviewer: "ana".into(),
        verdict: Some(Verdict::Resubmit),
        attack_type: None,
        resubmit_reason: Some(ResubmitReason::CutOff),
        reason: None,
        note: None,
    };
    store.decide(1, &resubmit, None).unwrap();
    assert_eq!(
        store.case(1).unwrap().resubmit_reason,
        Some(ResubmitReason::CutOff)
    );
    drop(store);
    // A second connection, opened afresh, reads the upgraded definition too.
    let again = Store::open(&path).unwrap();
    assert_eq!(again.decisions(1).unwrap().len(), 2);
    let check: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn quality_warnings_are_filed_with_the_case_and_filter_the_queue() {
    use docliveness::engine::{QualityWarning, WarningCode};
    let (_dir, mut store) = open();
    let warned = |codes: &[WarningCode]| {
        let mut a = common::analysis(Some(0.4), None);
        a.warnings = codes
            .iter()
            .map(|&code| QualityWarning {
                code,
                measured: 0.6,
                limit: 0.5,
                regions: Vec::new(),
            })
            .collect();
        a
    };
    let front = warned(&[WarningCode::Glare]);
    let back = warned(&[WarningCode::Blurred, WarningCode::Glare]);
    let plain = warned(&[]);
    let file = |store: &mut Store, sides: &[&docliveness::engine::Analysis]| {
        let new_sides = sides
            .iter()
            .zip([Side::Front, Side::Back])
            .map(|(a, side)| NewSide {
                side,
                image: b"photo",
                analysis: a,
            })
            .collect();
        store
            .file_case(&NewCase {
                origin: Origin::Cli,
                session_id: "w".into(),
                sides: new_sides,
                outcome: Outcome::of(sides.iter().copied(), &Thresholds::default()),
                source: None,
            })
            .unwrap()
    };
    let both = file(&mut store, &[&front, &back]);
    let none = file(&mut store, &[&plain]);
    // Each code once, in code order, over both sides.
    assert_eq!(
        store.case(both).unwrap().warnings,
        Some(WarningSet(vec![WarningCode::Blurred, WarningCode::Glare]))
    );
    assert_eq!(
        store.case(none).unwrap().warnings,
        Some(WarningSet::default())
    );
    let with = |w: WarningCode| CaseFilter {
        status: Status::All,
        warning: Some(w),
        ..CaseFilter::default()
    };
    assert_eq!(store.count(&with(WarningCode::Glare)).unwrap(), 1);
    assert_eq!(store.count(&with(WarningCode::Blurred)).unwrap(), 1);
    assert_eq!(store.count(&with(WarningCode::Underexposed)).unwrap(), 0);
    // The side keeps the full warning, measure and limit included.
    let sides = store.sides(both).unwrap();
    assert_eq!(sides[1].analysis.warnings, back.warnings);
}

#[test]
fn the_same_check_filed_again_is_one_case_and_anything_else_is_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("review.db")).unwrap();
    let first = common::file(&mut store, Origin::Api, b"the photo", Some(0.4), None);
    // The same session (common::file names it by the image's length) and image: a retry.
    let retry = common::file(&mut store, Origin::Api, b"the photo", Some(0.4), None);
    assert_eq!(retry, first);
    // Another image under that session, or the same image from another surface, is new.
    let other_image = common::file(&mut store, Origin::Api, b"the piece", Some(0.4), None);
    let other_surface = common::file(&mut store, Origin::Cli, b"the photo", Some(0.4), None);
    assert!(other_image != first && other_surface != first && other_image != other_surface);
    let all = CaseFilter {
        status: Status::All,
        ..Default::default()
    };
    assert_eq!(store.count(&all).unwrap(), 3);
    let actions: Vec<String> = store
        .history(first)
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(actions, ["filed", "filed again"]);
    // Another answer (a corrected outline, another model) is another check.
    let rescored = common::file(&mut store, Origin::Api, b"the photo", Some(0.45), None);
    assert_ne!(rescored, first);
    // A day later the same check is a check again, not a retry.
    store.set_now(Some(Utc::now() + chrono::Duration::hours(25)));
    let next_day = common::file(&mut store, Origin::Api, b"the photo", Some(0.4), None);
    assert!(![first, rescored].contains(&next_day));
    assert_eq!(store.count(&all).unwrap(), 5);
}
