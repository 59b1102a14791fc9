//! `docliveness queue adapt` end to end: decided cases in a real database, the real
//! binary, an overlay out (or a refusal and nothing written), and the overlay recorded by
//! every analysis after it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use docliveness::adapt::held_back;
use docliveness::engine::Overlay;
use docliveness::review::Store;

const MODEL_VERSION: &str = "test-1"; // tests/fixtures/tiny_model/manifest.json

fn docliveness(models: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docliveness"));
    cmd.arg("--models").arg(models);
    cmd.env_remove("ORT_DYLIB_PATH");
    cmd
}

fn adapt(models: &Path, db: &Path, apply: bool) -> Output {
    let mut cmd = docliveness(models);
    cmd.arg("queue").arg("--db").arg(db).arg("adapt");
    if apply {
        cmd.arg("--apply");
    }
    cmd.output().unwrap()
}

/// `n` decided cases; genuine ones have live log-odds 0.5..2.5, attacks -2.5..-0.5,
/// unless `drift` flips that relation on the cases the refit holds back.
fn database(dir: &Path, n: usize, drift: bool) -> std::path::PathBuf {
    let db = dir.join("review.db");
    let mut store = Store::open(&db).unwrap();
    for i in 0..n {
        let genuine = i % 2 == 0;
        let spread = (i * 37 % 23) as f64 / 11.0; // 0..2
        let mut z = if genuine { 0.5 + spread } else { -0.5 - spread };
        // Case ids start at 1 in filing order.
        if drift && held_back(i as i64 + 1, 0.3) {
            z = -z;
        }
        common::decided_case(&mut store, i, MODEL_VERSION, z, genuine);
    }
    db
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A check of a genuine capture under `models` fails, saying `reason`.
fn check_stops_with(models: &Path, reason: &str) {
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/genuine.jpg");
    let out = docliveness(models)
        .args(["check", "--region", "whole"])
        .arg(&photo)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains(reason), "{}", stderr(&out));
}

/// The model version a check of a genuine capture records under `models` (the check
/// must succeed).
fn checked_model_version(models: &Path) -> String {
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/genuine.jpg");
    let check = docliveness(models)
        .args(["check", "--json", "--region", "whole"])
        .arg(&photo)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let line: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    line["modelVersion"]
        .as_str()
        .expect("the check records a model version")
        .to_string()
}

#[test]
fn decided_cases_refit_the_scale_and_every_later_analysis_records_the_overlay() {
    let models = common::models_with_tiny_liveness();
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path(), 300, false);
    let overlay_file = models.path().join("liveness/overlay.json");

    let dry = adapt(models.path(), &db, false);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let report = String::from_utf8_lossy(&dry.stdout);
    assert!(report.contains("Nothing was changed"), "{report}");
    assert!(!overlay_file.exists(), "a dry run wrote the overlay");

    let applied = adapt(models.path(), &db, true);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let overlay: Overlay =
        serde_json::from_str(&std::fs::read_to_string(&overlay_file).unwrap()).unwrap();
    assert_eq!(overlay.base_model, MODEL_VERSION);
    let fit = &overlay.fit;
    assert_eq!(
        fit.fitted_genuine + fit.fitted_attack + fit.held_back_genuine + fit.held_back_attack,
        300
    );
    assert!(
        fit.held_back_genuine >= 10 && fit.held_back_attack >= 10,
        "{fit:?}"
    );
    // The default rule (the plain mean) sends the attacks near 0.5 to review; the
    // refit, its 0.5 placed in the gap between the verdicts, fails them.
    let (before, after) = (
        fit.held_back_routes_before.unwrap(),
        fit.held_back_routes_after.unwrap(),
    );
    assert!(before.attack_not_failed > 0, "{before:?}");
    assert_eq!(
        (after.genuine_not_passed, after.attack_not_failed),
        (0, 0),
        "{after:?}"
    );
    assert!(
        fit.placement
            .as_deref()
            .is_some_and(|p| p.contains("pass threshold")),
        "{fit:?}"
    );
    assert!(
        models
            .path()
            .join(format!("liveness/overlays/{}.json", overlay.version))
            .exists(),
        "the applied overlay is not kept in the history"
    );

    assert_eq!(
        checked_model_version(models.path()),
        format!("{MODEL_VERSION}+{}", overlay.version)
    );
}

/// `n` decided cases whose analyses carry the tiny model's four features. Genuine cases
/// and two thirds of the attacks have live log-odds 0.5..2.5 and -2.5..-0.5 as in
/// `database`; every third attack (a "print") looks genuine to the patches, and only its
/// first feature gives it away.
fn database_with_features(dir: &Path, n: usize) -> std::path::PathBuf {
    let db = dir.join("review.db");
    let mut store = Store::open(&db).unwrap();
    for i in 0..n {
        let genuine = i % 2 == 0;
        let print = !genuine && i % 3 == 0;
        let spread = (i * 37 % 23) as f64 / 11.0; // 0..2
        let z = if genuine || print {
            0.5 + spread
        } else {
            -0.5 - spread
        };
        let noise = |k: usize| ((i * 7919 + k * 104_729) % 1000) as f32 / 1000.0;
        let mut features: Vec<f32> = (0..4).map(noise).collect();
        if print {
            features[0] += 1.0;
        }
        common::decided_case_with_features(
            &mut store,
            i,
            MODEL_VERSION,
            z,
            genuine,
            Some(features),
        );
    }
    db
}

#[test]
fn enough_decided_cases_with_features_fit_a_head_that_the_engine_then_scores_with() {
    let models = common::models_with_tiny_liveness();
    let work = tempfile::tempdir().unwrap();
    let db = database_with_features(work.path(), 600);
    let applied = adapt(models.path(), &db, true);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let report = String::from_utf8_lossy(&applied.stdout);
    assert!(
        report.contains("Head: a head on the networks' 4 features was fitted and kept"),
        "{report}"
    );
    let overlay: Overlay = serde_json::from_str(
        &std::fs::read_to_string(models.path().join("liveness/overlay.json")).unwrap(),
    )
    .unwrap();
    let head = overlay.head.as_ref().expect("the overlay carries the head");
    assert_eq!(head.weights.len(), 4);
    // The first feature gives the prints away: it weighs most, towards "attack".
    assert!(
        head.weights[0] < 0.0
            && head.weights[1..]
                .iter()
                .all(|w| w.abs() < head.weights[0].abs()),
        "{head:?}"
    );
    // The prints the patches took for genuine no longer pass once held back.
    let (before, after) = (
        overlay.fit.held_back_routes_before.unwrap(),
        overlay.fit.held_back_routes_after.unwrap(),
    );
    assert!(
        after.attack_passed * 4 < before.attack_passed,
        "{before:?} {after:?}"
    );

    // The engine reads the tiny model's features and scores with the head.
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/genuine.jpg");
    let check = docliveness(models.path())
        .args(["check", "--json", "--region", "whole"])
        .arg(&photo)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let line: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(
        line["evidence"]["features"].as_array().map(Vec::len),
        Some(4),
        "{line}"
    );
    assert_eq!(
        line["modelVersion"].as_str(),
        Some(format!("{MODEL_VERSION}+{}", overlay.version).as_str())
    );
    // The refit judges a scale by scoring the recorded evidence; with the head in force
    // that must give the score the engine gave, or its figures are about other photos.
    let filed = line["score"].as_f64().expect("scored");
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    // As `adapt::gather` reads an analysis: the map holds 1 − each patch's live probability.
    let sample = docliveness::adapt::Sample {
        case_id: 1,
        genuine: true,
        patches: floats(&line["evidence"]["values"])
            .iter()
            .map(|v| 1.0 - f64::from(*v))
            .collect(),
        view: None,
        features: Some(floats(&line["evidence"]["features"])),
    };
    let again = overlay
        .scale()
        .score(&sample.patches, sample.view, sample.features.as_deref());
    assert!(
        (again - filed).abs() < 1e-6,
        "filed {filed}, from the evidence {again}"
    );

    // A model without the features output cannot apply the head: the engine says why.
    let manifest_file = models.path().join("liveness/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_file).unwrap()).unwrap();
    manifest["outputs"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["meaning"] != "features");
    std::fs::write(&manifest_file, manifest.to_string()).unwrap();
    check_stops_with(models.path(), "its head reads the networks' features");
}

#[test]
fn a_refit_whose_held_back_verdicts_contradict_it_is_refused_as_chance_and_nothing_is_written() {
    let models = common::models_with_tiny_liveness();
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path(), 300, true);
    let out = adapt(models.path(), &db, true);
    assert_eq!(out.status.code(), Some(3), "a refusal: {}", stderr(&out));
    assert!(
        stderr(&out).contains("no better than chance"),
        "{}",
        stderr(&out)
    );
    assert!(!models.path().join("liveness/overlay.json").exists());
    assert!(!models.path().join("liveness/overlays").exists());
}

#[test]
fn a_refit_that_routes_the_held_back_cases_no_better_is_refused_and_nothing_is_written() {
    // A steep scale centred between the verdicts already passes every genuine case and
    // fails every attack: no refit can route a held-back case better.
    let models = common::models_with_tiny_liveness();
    let manifest_file = models.path().join("liveness/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_file).unwrap()).unwrap();
    manifest["aggregation"] =
        serde_json::json!({"rule": "meanLogit", "clamp": 0.001, "slope": 5.0, "offset": 0.0});
    std::fs::write(&manifest_file, manifest.to_string()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path(), 300, false);
    let out = adapt(models.path(), &db, true);
    assert_eq!(out.status.code(), Some(3), "a refusal: {}", stderr(&out));
    assert!(
        stderr(&out).contains("than the scale in force: it routes them alike"),
        "{}",
        stderr(&out)
    );
    assert!(!models.path().join("liveness/overlay.json").exists());
}

#[test]
fn too_few_decided_cases_are_refused() {
    let models = common::models_with_tiny_liveness();
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path(), 40, false);
    let out = adapt(models.path(), &db, true);
    assert_eq!(out.status.code(), Some(3), "a refusal: {}", stderr(&out));
    assert!(
        stderr(&out).contains("too few decided photos"),
        "{}",
        stderr(&out)
    );
    assert!(!models.path().join("liveness/overlay.json").exists());
}

#[test]
fn an_overlay_fitted_for_another_model_stops_the_engine_with_a_reason() {
    let models = common::models_with_tiny_liveness();
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path(), 300, false);
    assert_eq!(adapt(models.path(), &db, true).status.code(), Some(0));
    let path = models.path().join("liveness/overlay.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(MODEL_VERSION, "another-model");
    std::fs::write(&path, text).unwrap();
    check_stops_with(models.path(), "fitted for liveness model another-model");
}

#[test]
fn an_overlay_from_before_refits_were_placed_still_scores_and_unknown_record_fields_are_read_past()
{
    let models = common::models_with_tiny_liveness();
    // What `queue adapt --apply` wrote before the placement and routes were recorded,
    // with one field no version knows added to its record.
    let overlay = r#"{
  "version": "adapt-20261201T120000Z-0a1b2c3d",
  "baseModel": "test-1",
  "aggregation": {"rule": "meanLogit", "clamp": 0.001, "slope": 1.2, "offset": -0.4},
  "createdAt": "2026-12-01T12:00:00+00:00",
  "fit": {
    "database": "/srv/review.db",
    "fittedGenuine": 140,
    "fittedAttack": 150,
    "heldBackGenuine": 60,
    "heldBackAttack": 64,
    "heldBackLossBefore": 0.61,
    "heldBackLossAfter": 0.42,
    "aFieldFromALaterVersion": [1, 2]
  }
}"#;
    std::fs::write(models.path().join("liveness/overlay.json"), overlay).unwrap();
    assert_eq!(
        checked_model_version(models.path()),
        format!("{MODEL_VERSION}+adapt-20261201T120000Z-0a1b2c3d")
    );
}

#[test]
fn a_photo_filed_again_is_one_photo_to_the_refit_with_its_latest_verdict() {
    // A client's retry or a folder imported twice files the same image as a new case; a
    // copy in the fitted share and another held back would judge the refit on a photo
    // it was fitted on.
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("review.db");
    let mut store = Store::open(&db).unwrap();
    for i in 0..50 {
        common::decided_case(&mut store, i, MODEL_VERSION, 1.0, true);
    }
    // The first ten again, now decided as attacks.
    for i in 0..10 {
        common::decided_case(&mut store, i, MODEL_VERSION, 1.0, false);
    }
    let gathered = docliveness::adapt::gather(&store.decided_sides().unwrap(), MODEL_VERSION);
    assert_eq!(gathered.repeated, 10);
    assert_eq!(gathered.samples.len(), 50);
    assert_eq!(gathered.samples.iter().filter(|s| !s.genuine).count(), 10);
    // The copy kept is the later case's.
    assert!(
        gathered
            .samples
            .iter()
            .filter(|s| !s.genuine)
            .all(|s| s.case_id > 50)
    );
}
