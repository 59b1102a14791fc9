//! The console driven headless with egui_kittest: deciding with a key, undo, filters and
//! a dropped photo, all against a real review database on disk.

mod common;

use std::sync::Arc;
use std::time::Duration;

use docliveness::config::Config;
use docliveness::console::{ConsoleApp, Settings, Tab};
use docliveness::engine::{Engine, ErrorCode};
use docliveness::review::{AttackType, CaseFilter, Origin, ResubmitReason, Status, Store, Verdict};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn harness(db: &std::path::Path, reviewer: &str) -> Harness<'static, ConsoleApp> {
    harness_with(db, reviewer, Config::default())
}

fn harness_with(
    db: &std::path::Path,
    reviewer: &str,
    config: Config,
) -> Harness<'static, ConsoleApp> {
    let engine = Arc::new(Engine::without_models(config).unwrap());
    let settings = Settings {
        reviewer: reviewer.into(),
        samples_shown: true,
        ..Settings::default()
    };
    let app = ConsoleApp::new(Store::open(db).unwrap(), engine, settings, None).unwrap();
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut ConsoleApp| app.draw(ui), app)
}

/// Steps frames until `done` holds (background threads answer between frames).
fn pump(
    h: &mut Harness<'static, ConsoleApp>,
    what: &str,
    mut done: impl FnMut(&ConsoleApp) -> bool,
) {
    for _ in 0..600 {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "timed out waiting for: {what} (status: {})",
        h.state().status()
    );
}

fn seeded_db() -> (tempfile::TempDir, std::path::PathBuf, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    let mut store = Store::open(&db).unwrap();
    let ids = vec![
        common::file(&mut store, Origin::Api, b"photo one", Some(0.30), None),
        common::file(&mut store, Origin::Api, b"photo two", Some(0.35), None),
        common::file(&mut store, Origin::Cli, b"photo three", Some(0.40), None),
        common::file(
            &mut store,
            Origin::Cli,
            b"photo four",
            None,
            Some(ErrorCode::DocumentCropped),
        ),
    ];
    (dir, db, ids)
}

#[test]
fn deciding_with_a_key_records_it_and_advances() {
    let (_dir, db, ids) = seeded_db();
    let mut h = harness(&db, "alice");
    assert_eq!(h.state().tab(), Tab::Queue);
    // Lowest score first; the case without a score (an error) sorts before it.
    pump(&mut h, "the first case opens", |a| a.shown_case().is_some());
    let first = h.state().shown_case().unwrap().id;
    assert_eq!(first, ids[3]);
    h.key_press(egui::Key::J);
    pump(&mut h, "next case", |a| {
        a.shown_case().map(|c| c.id) == Some(ids[0])
    });

    h.key_press(egui::Key::S);
    pump(&mut h, "the queue advances", |a| {
        a.shown_case().map(|c| c.id) == Some(ids[1])
    });
    let store = Store::open(&db).unwrap();
    let decided = store.case(ids[0]).unwrap();
    assert_eq!(
        (
            decided.verdict,
            decided.attack_type,
            decided.decided_by.as_deref()
        ),
        (
            Some(Verdict::Attack),
            Some(AttackType::Screen),
            Some("alice")
        )
    );
    assert!(decided.decided_at.is_some());
    pump(&mut h, "the open queue shrinks", |a| {
        a.queue_total() == Some(3)
    });

    // Undo brings the case back.
    h.key_press(egui::Key::U);
    pump(&mut h, "undo recorded", |_| {
        store.case(ids[0]).unwrap().is_open()
    });
    assert_eq!(
        store.decisions(ids[0]).unwrap().len(),
        2,
        "undo is a new row, not a deletion"
    );
    pump(&mut h, "the queue grows back", |a| {
        a.queue_total() == Some(4)
    });
}

#[test]
fn without_a_name_nothing_is_decided() {
    let (_dir, db, ids) = seeded_db();
    let mut h = harness(&db, "");
    pump(&mut h, "a case opens", |a| a.shown_case().is_some());
    h.key_press(egui::Key::G);
    for _ in 0..20 {
        h.step();
    }
    let store = Store::open(&db).unwrap();
    assert!(ids.iter().all(|id| store.case(*id).unwrap().is_open()));
    // The name is asked for; once given, the pending decision goes through.
    h.get_by_label("Your name").type_text("bob");
    h.step();
    h.get_by_label("Save").click();
    pump(&mut h, "decided by bob", |_| {
        store.case(ids[3]).unwrap().decided_by.as_deref() == Some("bob")
    });
    assert_eq!(h.state().settings().reviewer, "bob", "the name is kept");
}

#[test]
fn the_name_prompt_works_from_the_keyboard_alone() {
    let (_dir, db, ids) = seeded_db();
    let mut h = harness(&db, "");
    pump(&mut h, "a case opens", |a| a.shown_case().is_some());
    let store = Store::open(&db).unwrap();
    // Esc cancels: no name, no decision.
    h.key_press(egui::Key::G);
    h.step();
    h.step();
    assert!(
        h.query_by_label("Your name").is_some(),
        "the name is asked for"
    );
    h.event(egui::Event::Text("x".into()));
    h.key_press(egui::Key::Escape);
    for _ in 0..5 {
        h.step();
    }
    assert!(
        h.query_by_label("Your name").is_none(),
        "Esc leaves the prompt open"
    );
    assert!(ids.iter().all(|id| store.case(*id).unwrap().is_open()));
    assert_eq!(h.state().settings().reviewer, "");
    // The decision key again; the name typed and Enter, and no mouse.
    h.key_press(egui::Key::G);
    h.step();
    h.step();
    h.event(egui::Event::Text("dana".into()));
    h.step();
    h.key_press(egui::Key::Enter);
    pump(&mut h, "decided by dana", |_| {
        store.case(ids[3]).unwrap().decided_by.as_deref() == Some("dana")
    });
    assert_eq!(store.case(ids[3]).unwrap().verdict, Some(Verdict::Genuine));
    assert_eq!(h.state().settings().reviewer, "dana");
}

#[test]
fn filters_narrow_the_queue() {
    let (_dir, db, _ids) = seeded_db();
    let mut h = harness(&db, "alice");
    pump(&mut h, "counted", |a| a.queue_total() == Some(4));
    h.state_mut().set_filter(CaseFilter {
        status: Status::All,
        error_code: Some(ErrorCode::DocumentCropped),
        ..CaseFilter::default()
    });
    pump(&mut h, "filtered by error", |a| a.queue_total() == Some(1));
    h.state_mut().set_filter(CaseFilter {
        origin: Some(Origin::Api),
        score_min: Some(0.32),
        ..CaseFilter::default()
    });
    pump(&mut h, "filtered by origin and score", |a| {
        a.queue_total() == Some(1)
    });
}

/// A file dropped on the window, as the windowing layer would report it.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_dropped_photo_is_analysed() {
    let (dir, db, _ids) = seeded_db();
    let photo = dir.path().join("dropped.jpg");
    std::fs::write(
        &photo,
        docliveness_synth::render(&docliveness_synth::passing_scene(80, 1920, 1080)).jpeg,
    )
    .unwrap();
    let mut h = harness(&db, "alice");
    h.step();
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(photo.clone())));
    pump(&mut h, "the dropped photo is analysed", |a| {
        !a.intake_items().is_empty()
    });
    let item = &h.state().intake_items()[0];
    assert_eq!(item.result.path, photo);
    assert_eq!(item.result.analysis.documents.len(), 1);
    assert_eq!(item.result.analysis.image.as_ref().unwrap().width, 1920);
    assert_eq!(h.state().tab(), Tab::Intake);
    // A adds it to the queue by hand.
    h.key_press(egui::Key::A);
    pump(&mut h, "filed", |a| a.intake_items()[0].case_id.is_some());
    let store = Store::open(&db).unwrap();
    let id = h.state().intake_items()[0].case_id.unwrap();
    assert_eq!(store.case(id).unwrap().origin, Origin::Console);
}

#[test]
fn a_dropped_folder_is_searched_for_photos() {
    let (dir, db, _ids) = seeded_db();
    let folder = dir.path().join("batch");
    std::fs::create_dir_all(folder.join("inner")).unwrap();
    let jpeg = docliveness_synth::render(&docliveness_synth::passing_scene(81, 1920, 1080)).jpeg;
    std::fs::write(folder.join("a.jpg"), &jpeg).unwrap();
    std::fs::write(folder.join("inner").join("b.jpg"), &jpeg).unwrap();
    std::fs::write(folder.join("notes.txt"), b"not a photo").unwrap();
    let mut h = harness(&db, "alice");
    h.step();
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(folder.clone())));
    pump(&mut h, "both photos in the folder are analysed", |a| {
        a.intake_items().len() == 2
    });
    // The folder itself is no row of its own, and the text file is left alone.
    let mut paths: Vec<_> = h
        .state()
        .intake_items()
        .iter()
        .map(|i| i.result.path.clone())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![folder.join("a.jpg"), folder.join("inner").join("b.jpg")]
    );
    assert!(
        h.state()
            .intake_items()
            .iter()
            .all(|i| i.result.analysis.documents.len() == 1)
    );
}

#[test]
fn every_view_and_the_help_overlay_draw() {
    let (_dir, db, ids) = seeded_db();
    {
        let mut store = Store::open(&db).unwrap();
        let d = docliveness::review::NewDecision {
            reviewer: "carol".into(),
            verdict: Some(Verdict::Genuine),
            ..Default::default()
        };
        store.decide(ids[0], &d, None).unwrap();
    }
    let mut h = harness(&db, "alice");
    pump(&mut h, "a case opens", |a| a.shown_case().is_some());
    for key in [
        egui::Key::F3,
        egui::Key::F2,
        egui::Key::Questionmark,
        egui::Key::F1,
    ] {
        h.key_press(key);
        for _ in 0..10 {
            h.step();
            std::thread::sleep(Duration::from_millis(5));
        }
        if key == egui::Key::F3 {
            assert_eq!(h.state().tab(), Tab::Analyst);
            assert!(h.query_all_by_label("fail below").next().is_some());
            let _ = h.get_by_label("reviewer-confirmed attacks that would pass automatically: 0");
        }
    }
    assert_eq!(h.state().tab(), Tab::Queue);
    // The help is still open (F1 leaves it); Escape closes it.
    assert!(h.state().help_shown());
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(!h.state().help_shown());
}

#[test]
fn an_analyst_refits_the_score_from_decided_cases_and_installs_it() {
    let models = common::models_with_tiny_liveness();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    {
        let mut store = Store::open(&db).unwrap();
        for i in 0..300 {
            let genuine = i % 2 == 0;
            let spread = (i * 37 % 23) as f64 / 11.0;
            let z = if genuine { 0.5 + spread } else { -0.5 - spread };
            common::decided_case(&mut store, i, "test-1", z, genuine);
        }
    }
    let mut config = Config::default();
    config.models.dir = Some(models.path().to_owned());
    let engine = Arc::new(Engine::new(config).unwrap());
    let settings = Settings {
        reviewer: "alice".into(),
        samples_shown: true,
        ..Settings::default()
    };
    let app = ConsoleApp::new(Store::open(&db).unwrap(), engine, settings, None).unwrap();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1400.0))
        .build_ui_state(|ui, app: &mut ConsoleApp| app.draw(ui), app);
    h.key_press(egui::Key::F3);
    for _ in 0..600 {
        h.step();
        if h.query_by_label("Refit from decided cases").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Every case is decided and the queue's filter shows open ones: the analyst is told
    // why the what-if counts none.
    assert!(h.query_by_label_contains("shows open cases only").is_some());
    h.get_by_label("Refit from decided cases").click();
    let mut shown = false;
    for _ in 0..600 {
        h.step();
        if h.query_by_label("Install this refit").is_some() {
            shown = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        shown,
        "no refit was offered (status: {})",
        h.state().status()
    );
    assert!(h.query_by_label_contains("Fitted on").is_some());
    assert!(h.query_by_label_contains("attacks not failed").is_some());
    // The analyst sees where the bands went and why the refit is offered.
    assert!(
        h.query_by_label_contains("Bands: the pass threshold")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("Better on the held-back cases: it ")
            .is_some()
    );
    assert!(
        !models.path().join("liveness/overlay.json").exists(),
        "shown is not installed"
    );
    h.get_by_label("Install this refit").click();
    pump(&mut h, "the overlay is installed", |a| {
        a.status().contains("installed")
    });
    assert!(models.path().join("liveness/overlay.json").exists());
    // Shown the decided cases, the what-if counts them and the hint goes.
    h.state_mut().set_filter(CaseFilter {
        status: Status::Decided,
        ..CaseFilter::default()
    });
    let mut counted = false;
    for _ in 0..600 {
        h.step();
        if h.query_by_label_contains("300 cases, 0 open, 300 decided")
            .is_some()
        {
            counted = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(counted, "the decided cases were not counted");
    assert!(h.query_by_label_contains("shows open cases only").is_none());
}

#[test]
fn an_unreadable_queue_is_reported_not_shown_empty() {
    let (_dir, db, _ids) = seeded_db();
    let mut h = harness(&db, "alice");
    pump(&mut h, "counted", |a| a.queue_total() == Some(4));
    // Another process breaks the database under the running console.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("ALTER TABLE cases RENAME TO cases_moved")
        .unwrap();
    h.state_mut().set_filter(CaseFilter::default());
    pump(&mut h, "the failure reported", |a| {
        a.status().contains("could not be")
    });
    assert_eq!(h.state().queue_total(), None, "{}", h.state().status());
}

#[test]
fn a_case_that_cannot_be_opened_does_not_hold_decisions_back() {
    let (_dir, db, ids) = seeded_db();
    let mut h = harness(&db, "alice");
    pump(&mut h, "the first case opens", |a| {
        a.shown_case().map(|c| c.id) == Some(ids[3])
    });
    // The next case's sides become unreadable under the running console.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("ALTER TABLE sides RENAME TO sides_moved")
        .unwrap();
    h.key_press(egui::Key::J);
    pump(&mut h, "the failure reported", |a| {
        a.status().contains("could not be opened")
    });
    assert!(
        h.state().shown_case().is_none(),
        "the previous case stays on screen"
    );
    // A decision key now asks for a case instead of waiting for one that never comes.
    h.key_press(egui::Key::G);
    h.step();
    assert_eq!(h.state().status(), "select a case to decide");
}

#[test]
fn the_inspector_shows_the_route_the_case_was_filed_with() {
    // Filed at 0.30 under the default thresholds: review. The console now runs with a
    // fail threshold above that score; the case still says what was decided when it
    // was filed, in the queue row and in the inspector alike.
    let (_dir, db, ids) = seeded_db();
    let mut config = Config::default();
    config.thresholds.fail_below = 0.35;
    let mut h = harness_with(&db, "alice", config);
    pump(&mut h, "the first case opens", |a| a.shown_case().is_some());
    h.key_press(egui::Key::J);
    pump(&mut h, "the 0.30 case opens", |a| {
        a.shown_case().map(|c| c.id) == Some(ids[0])
    });
    h.step();
    assert!(h.query_by_label("score 0.300 - review").is_some());
    assert!(h.query_by_label("score 0.300 - fail").is_none());
}

#[test]
fn the_resubmit_key_asks_for_a_new_photo_with_the_forms_reason() {
    let (_dir, db, ids) = seeded_db();
    let mut h = harness(&db, "alice");
    pump(&mut h, "the first case opens", |a| a.shown_case().is_some());
    assert_eq!(h.state().shown_case().unwrap().id, ids[3]);
    h.key_press(egui::Key::N);
    pump(&mut h, "the queue advances", |a| {
        a.shown_case().map(|c| c.id) == Some(ids[0])
    });
    let store = Store::open(&db).unwrap();
    let decided = store.case(ids[3]).unwrap();
    assert_eq!(
        (
            decided.verdict,
            decided.resubmit_reason,
            decided.attack_type
        ),
        (Some(Verdict::Resubmit), Some(ResubmitReason::Other), None)
    );
    assert!(h.query_by_label("New photo (N)").is_some());
}

/// Presses the primary button at `from`, moves to `to` in steps, releases.
fn drag(h: &mut Harness<'static, ConsoleApp>, from: egui::Pos2, to: egui::Pos2) {
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(egui::Event::PointerMoved(from));
    h.step();
    h.event(button(from, true));
    h.step();
    for k in 1..=6 {
        h.event(egui::Event::PointerMoved(
            from + (to - from) * (k as f32 / 6.0),
        ));
        h.step();
    }
    h.event(button(to, false));
    h.step();
}

fn click(h: &mut Harness<'static, ConsoleApp>, at: egui::Pos2) {
    let button = |pressed| egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(egui::Event::PointerMoved(at));
    h.event(button(true));
    h.step();
    h.event(button(false));
    h.step();
}

#[test]
fn a_dragged_corner_is_analysed_again_and_recorded_beside_the_filed_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    let jpeg = docliveness_synth::render(&docliveness_synth::passing_scene(82, 1920, 1080)).jpeg;
    let engine = Engine::without_models(Config::default()).unwrap();
    let filed = engine.analyze(
        &jpeg,
        docliveness::engine::Side::Front,
        docliveness::engine::Region::Document,
    );
    let before = filed.documents[0].quad;
    let id = {
        let mut store = Store::open(&db).unwrap();
        store
            .file_case(&docliveness::review::NewCase {
                origin: Origin::Cli,
                session_id: "outline".into(),
                sides: vec![docliveness::review::NewSide {
                    side: docliveness::engine::Side::Front,
                    image: &jpeg,
                    analysis: &filed,
                }],
                outcome: common::outcome(&filed),
                source: None,
            })
            .unwrap()
    };
    let mut h = harness(&db, "alice");
    pump(&mut h, "the case opens with its photo", |a| {
        a.shown_case().is_some()
    });
    for _ in 0..30 {
        h.step();
    }
    h.key_press(egui::Key::E);
    pump(&mut h, "the editor shows its handles", |a| {
        a.outline_handles().is_some()
    });
    let handles = h.state().outline_handles().unwrap();
    // Screen points per photo pixel, from the first side as drawn.
    let scale = handles[0].distance(handles[1]) as f64 / before.0[0].distance(before.0[1]);
    let shift = egui::vec2(24.0, 18.0);
    drag(&mut h, handles[0], handles[0] + shift);

    // Esc drops the edit: nothing is recorded.
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(h.state().outline_handles().is_none());
    let store = Store::open(&db).unwrap();
    assert!(store.corrections(id).unwrap().is_empty());

    // Again, and Enter applies it.
    h.key_press(egui::Key::E);
    pump(&mut h, "the editor again", |a| {
        a.outline_handles().is_some()
    });
    let handles = h.state().outline_handles().unwrap();
    drag(&mut h, handles[0], handles[0] + shift);
    h.key_press(egui::Key::Enter);
    pump(&mut h, "the correction is recorded and shown", |a| {
        a.shown_corrections() == 1
    });
    let corrections = store.corrections(id).unwrap();
    assert_eq!(corrections.len(), 1);
    let c = &corrections[0];
    assert_eq!(c.reviewer, "alice");
    assert_eq!(
        c.analysis.detector.as_deref(),
        Some(docliveness::engine::GIVEN_OUTLINE)
    );
    // The dragged corner moved by the drag, in photo pixels; the others stayed.
    let after = c.analysis.documents[0].quad;
    let moved = before.0[0].distance(after.0[0]);
    let expected = f64::from(shift.length()) / scale;
    assert!(
        (moved - expected).abs() < 3.0,
        "moved {moved:.1} px, expected {expected:.1}"
    );
    for k in 1..4 {
        assert!(
            after.0.iter().any(|p| p.distance(before.0[k]) < 0.5),
            "corner {k} kept: {before:?} -> {after:?}"
        );
    }
    // The filed analysis is as it was; the audit log says who corrected what.
    assert_eq!(store.sides(id).unwrap()[0].analysis, filed);
    let history = store.history(id).unwrap();
    let entry = history
        .iter()
        .find(|e| e.action == "outline corrected")
        .unwrap();
    assert_eq!(entry.actor, "alice");
    assert!(entry.detail.as_deref().unwrap().contains("\"outline\""));

    // Four clicks that cross (a bow tie) are refused with the reason; nothing recorded.
    h.key_press(egui::Key::E);
    pump(&mut h, "the editor once more", |a| {
        a.outline_handles().is_some()
    });
    let hs = h.state().outline_handles().unwrap();
    for at in [hs[0], hs[2], hs[1], hs[3]] {
        click(&mut h, at);
    }
    h.key_press(egui::Key::Enter);
    h.step();
    assert!(
        h.state().status().contains("cannot be used"),
        "{}",
        h.state().status()
    );
    assert_eq!(store.corrections(id).unwrap().len(), 1);
}

#[test]
fn cases_filed_by_another_process_appear_and_open_without_a_key_pressed() {
    // A reviewer waiting on an empty queue while the API files work.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    let mut store = Store::open(&db).unwrap();
    let mut h = harness(&db, "alice");
    h.state_mut().set_queue_poll(Duration::from_millis(50));
    pump(&mut h, "the empty queue is counted", |a| {
        a.queue_total() == Some(0)
    });
    let id = common::file(
        &mut store,
        Origin::Api,
        b"filed by the server",
        Some(0.4),
        None,
    );
    pump(&mut h, "the new case is listed", |a| {
        a.queue_total() == Some(1)
    });
    pump(&mut h, "and opened", |a| {
        a.shown_case().map(|c| c.id) == Some(id)
    });
    assert_eq!(h.state().highlighted_case(), Some(id));
}

#[test]
fn the_highlight_stays_on_the_case_in_the_inspector_when_a_case_sorts_in_above_it() {
    let (_dir, db, ids) = seeded_db();
    let mut h = harness(&db, "alice");
    h.state_mut().set_queue_poll(Duration::from_millis(50));
    pump(&mut h, "the first case opens", |a| a.shown_case().is_some());
    h.key_press(egui::Key::J);
    pump(&mut h, "the second row opens", |a| {
        a.shown_case().map(|c| c.id) == Some(ids[0])
    });
    // Another process files a case whose score sorts above the one on screen.
    let mut store = Store::open(&db).unwrap();
    let above = common::file(&mut store, Origin::Api, b"a lower score", Some(0.05), None);
    pump(&mut h, "the new case is listed", |a| {
        a.queue_total() == Some(5)
    });
    pump(&mut h, "the highlight follows the shown case", |a| {
        a.highlighted_case() == Some(ids[0])
    });
    assert_eq!(h.state().shown_case().map(|c| c.id), Some(ids[0]));
    // A verdict goes to the highlighted case, not to the one that moved into its row.
    h.key_press(egui::Key::G);
    pump(&mut h, "the decision is recorded", |_| {
        !store.case(ids[0]).unwrap().is_open()
    });
    assert!(store.case(above).unwrap().is_open());
}
