//! Inference through the default tract backend, and the engine's use of an installed model.

mod common;

use docliveness::config::{BackendChoice, Config};
use docliveness::engine::Backend;
use docliveness::engine::probability::logistic;
use docliveness::engine::{Engine, LivenessStatus, Region, Side};
use docliveness_synth::{passing_scene, render};

#[test]
fn tiny_model_matches_reference_on_tract() {
    let model = common::check_tiny_model(BackendChoice::Tract);
    assert_eq!(model.backend(), &Backend::Tract);
}

/// The engine's configuration with the models in `models`, run by tract.
fn tiny_config(models: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.models.dir = Some(models.to_owned());
    config.models.backend = BackendChoice::Tract;
    config
}

fn engine_with_tiny_model(models: &std::path::Path) -> Engine {
    Engine::new(tiny_config(models)).expect("engine with tiny model")
}

#[test]
fn installed_model_scores_the_document_region() {
    let models = common::models_with_tiny_liveness();
    let engine = engine_with_tiny_model(models.path());
    let scene = render(&passing_scene(3, 1920, 1080));
    let a = engine.analyze(&scene.jpeg, Side::Back, Region::Document);
    assert_eq!(a.error, None, "{a:?}");
    assert_eq!(a.liveness, LivenessStatus::Scored);
    let score = a.score.expect("a score from the installed model");
    assert!((0.0..=1.0).contains(&score));
    assert!(a.decision.is_some());
    assert_eq!(a.model_version.as_deref(), Some("test-1"));
    assert_eq!(a.backend.as_deref(), Some("tract"));
    // The tiny model's attack output is a softmax of its own; the engine shares what the
    // score leaves among the attacks in its proportions.
    let attacks = a.attack_scores.expect("attack scores");
    assert!((score + attacks.screen + attacks.print + attacks.digital - 1.0).abs() < 1e-9);
    let evidence = a.evidence.expect("evidence map");
    assert_eq!(
        (evidence.columns, evidence.rows, evidence.values.len()),
        (2, 2, 4)
    );
    // The evidence covers the detected document, not the whole frame.
    let (x0, y0, x1, _) = a.documents[0].quad.bounds();
    assert!(
        f64::from(evidence.region[0]) >= x0.floor() - 1.0
            && f64::from(evidence.region[1]) >= y0.floor() - 1.0
    );
    assert!(f64::from(evidence.region[2]) <= x1 - x0 + 2.0);
}

#[test]
fn whole_region_is_scored_without_detection() {
    let models = common::models_with_tiny_liveness();
    let engine = engine_with_tiny_model(models.path());
    let scene = render(&passing_scene(4, 1920, 1080));
    let a = engine.analyze(&scene.jpeg, Side::Front, Region::Whole);
    assert!(a.documents.is_empty());
    assert!(a.score.is_some());
    assert_eq!(a.evidence.unwrap().region, [0, 0, 1920, 1080]);
}

#[test]
fn broken_model_folder_is_an_error_not_a_silent_fallback() {
    let models = common::models_with_tiny_liveness();
    std::fs::write(models.path().join("liveness/manifest.json"), "{ not json").unwrap();
    let err = Engine::new(tiny_config(models.path())).expect_err("a broken manifest must fail");
    assert!(err.to_string().contains("manifest"), "{err}");
}

/// Rewrites the tiny model's manifest with `edit`.
fn edit_manifest(models: &std::path::Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = models.join("liveness/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(&path, manifest.to_string()).unwrap();
}

/// Writes `aggregation` (JSON) into the tiny model's manifest.
fn set_aggregation(models: &std::path::Path, aggregation: &str) {
    edit_manifest(models, |m| {
        m["aggregation"] = serde_json::from_str(aggregation).unwrap();
    });
}

/// Sets the tiny model's `resaveQuality`, or removes it with `None`.
fn set_resave_quality(models: &std::path::Path, quality: Option<i64>) {
    edit_manifest(models, |m| match quality {
        Some(q) => m["resaveQuality"] = q.into(),
        None => {
            m.as_object_mut().unwrap().remove("resaveQuality");
        }
    });
}

#[test]
fn the_manifests_patch_resave_changes_what_the_model_sees() {
    let scene = render(&passing_scene(3, 1920, 1080));
    let evidence_with = |quality: Option<i64>| {
        let models = common::models_with_tiny_liveness();
        set_resave_quality(models.path(), quality);
        let engine = engine_with_tiny_model(models.path());
        let a = engine.analyze(&scene.jpeg, Side::Back, Region::Document);
        assert_eq!(a.error, None, "{a:?}");
        a.evidence.expect("evidence").values
    };
    let plain = evidence_with(None);
    // A coarse save moves every patch's pixels, so the model's outputs move; the
    // outline and the patches' places do not depend on it.
    let saved = evidence_with(Some(40));
    assert_eq!(plain.len(), saved.len());
    assert!(
        plain.iter().zip(&saved).any(|(a, b)| (a - b).abs() > 1e-6),
        "{plain:?} vs {saved:?}"
    );
    assert_eq!(evidence_with(Some(40)), saved, "the save is deterministic");
}

#[test]
fn an_impossible_resave_quality_is_refused_when_the_model_loads() {
    for quality in [0, 101] {
        let models = common::models_with_tiny_liveness();
        set_resave_quality(models.path(), Some(quality));
        let err =
            Engine::new(tiny_config(models.path())).expect_err("quality out of range must fail");
        assert!(err.to_string().contains("resaveQuality"), "{err}");
    }
}

#[test]
fn the_manifests_fitted_aggregation_sets_the_score() {
    let models = common::models_with_tiny_liveness();
    let (slope, offset, clamp) = (1.7, -0.4, 1e-3);
    set_aggregation(
        models.path(),
        &format!(r#"{{"rule":"meanLogit","clamp":{clamp},"slope":{slope},"offset":{offset}}}"#),
    );
    let engine = engine_with_tiny_model(models.path());
    let scene = render(&passing_scene(3, 1920, 1080));
    let a = engine.analyze(&scene.jpeg, Side::Back, Region::Document);
    let score = a.score.expect("a score");
    // Recomputed from the per-patch values the evidence map reports (1 − live).
    let m = mean_patch_log_odds(&a.evidence.expect("evidence").values, clamp);
    let expected = logistic(slope * m + offset);
    assert!((score - expected).abs() < 1e-5, "{score} vs {expected}");
}

/// Mean clamped log-odds of the patches' live probabilities, from the evidence map.
fn mean_patch_log_odds(values: &[f32], clamp: f64) -> f64 {
    values
        .iter()
        .map(|e| {
            let p = (1.0 - f64::from(*e)).clamp(clamp, 1.0 - clamp);
            (p / (1.0 - p)).ln()
        })
        .sum::<f64>()
        / values.len() as f64
}

/// The tiny models' analysis of one generated scene, and the whole view's probability.
fn scored_with_view(models: &std::path::Path) -> (docliveness::engine::Analysis, f64) {
    let scene = render(&passing_scene(3, 1920, 1080));
    let a = engine_with_tiny_model(models).analyze(&scene.jpeg, Side::Back, Region::Document);
    let v = a
        .evidence
        .as_ref()
        .and_then(|e| e.view)
        .expect("the whole view's probability");
    (a, v)
}

#[test]
fn the_score_is_the_lower_of_the_patches_and_the_whole_view() {
    let models = common::models_with_tiny_liveness();
    install_tiny_view(models.path());
    let (slope, offset, clamp) = (1.2, -0.3, 1e-3);
    // The view's scale is set so that it, not the patches, gives the lower score here.
    let (view_slope, view_offset) = (0.8, -4.0);
    set_aggregation(
        models.path(),
        &format!(
            r#"{{"rule":"meanLogit","clamp":{clamp},"slope":{slope},"offset":{offset},"viewSlope":{view_slope},"viewOffset":{view_offset}}}"#
        ),
    );
    let (a, v) = scored_with_view(models.path());
    let (score, evidence) = (
        a.score.expect("a score"),
        a.evidence.clone().expect("evidence"),
    );
    assert!(v > 0.0 && v < 1.0, "{v}");
    let patches = logistic(slope * mean_patch_log_odds(&evidence.values, clamp) + offset);
    let whole = logistic(view_slope * (v / (1.0 - v)).ln() + view_offset);
    assert!(
        whole < patches,
        "the test should exercise the view: {whole} vs {patches}"
    );
    assert!((score - whole).abs() < 1e-5, "{score} vs {whole}");
    // Attack scores still share what the score leaves.
    let at = a.attack_scores.expect("attack scores");
    assert!((score + at.screen + at.print + at.digital - 1.0).abs() < 1e-6);
}

#[test]
fn the_joint_rule_weighs_the_patches_and_the_whole_view_together() {
    let models = common::models_with_tiny_liveness();
    install_tiny_view(models.path());
    let (slope, view_slope, offset, clamp) = (0.75, 0.69, 0.19, 1e-3);
    set_aggregation(
        models.path(),
        &format!(
            r#"{{"rule":"jointLogit","clamp":{clamp},"slope":{slope},"viewSlope":{view_slope},"offset":{offset}}}"#
        ),
    );
    let (a, v) = scored_with_view(models.path());
    let (score, evidence) = (
        a.score.expect("a score"),
        a.evidence.clone().expect("evidence"),
    );
    let expected = logistic(
        slope * mean_patch_log_odds(&evidence.values, clamp)
            + view_slope * (v / (1.0 - v)).ln()
            + offset,
    );
    assert!((score - expected).abs() < 1e-5, "{score} vs {expected}");
    // Without its view model the joint rule does not load.
    std::fs::remove_dir_all(models.path().join("liveness/view")).unwrap();
    let err = Engine::new(tiny_config(models.path()))
        .expect_err("a joint rule without its view model must not load");
    assert!(err.to_string().contains("whole-view"), "{err}");
}

/// Installs the tiny whole-view model (four forms in one batch) beside the tiny
/// liveness model and returns its folder.
fn install_tiny_view(models: &std::path::Path) -> std::path::PathBuf {
    let view = models.join("liveness/view");
    std::fs::create_dir_all(&view).unwrap();
    for f in ["tiny_view.onnx", "manifest.json"] {
        std::fs::copy(common::tiny_model_dir().join("view").join(f), view.join(f)).unwrap();
    }
    view
}

/// Points the installed tiny view at the same network exported for a batch of one.
fn view_in_batches_of_one(view: &std::path::Path) {
    std::fs::copy(
        common::tiny_model_dir().join("tiny.onnx"),
        view.join("tiny.onnx"),
    )
    .unwrap();
    let path = view.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["file"] = "tiny.onnx".into();
    manifest["batch"] = 1.into();
    std::fs::write(&path, manifest.to_string()).unwrap();
}

#[test]
fn the_whole_view_gives_the_same_answer_in_batches_of_one_or_four() {
    let models = common::models_with_tiny_liveness();
    let view = install_tiny_view(models.path());
    set_aggregation(
        models.path(),
        r#"{"rule":"meanLogit","clamp":0.001,"slope":1.0,"offset":0.0,"viewSlope":0.8,"viewOffset":-4.0}"#,
    );
    let scene = render(&passing_scene(5, 1920, 1080));
    let analyse = || {
        let a = engine_with_tiny_model(models.path()).analyze(
            &scene.jpeg,
            Side::Back,
            Region::Document,
        );
        (
            a.score.expect("a score"),
            a.evidence.expect("evidence").view.expect("a view"),
        )
    };
    let (score_four, view_four) = analyse();
    view_in_batches_of_one(&view);
    let (score_one, view_one) = analyse();
    assert!(
        (view_four - view_one).abs() < 1e-6,
        "{view_four} vs {view_one}"
    );
    assert!(
        (score_four - score_one).abs() < 1e-6,
        "{score_four} vs {score_one}"
    );
}

#[test]
fn a_view_batch_that_does_not_split_its_four_forms_is_refused() {
    let models = common::models_with_tiny_liveness();
    let view = install_tiny_view(models.path());
    let path = view.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"batch\": 4", "\"batch\": 3")).unwrap();
    let err = Engine::new(tiny_config(models.path())).expect_err("a batch of 3 must not load");
    assert!(err.to_string().contains("forms"), "{err}");
}

#[test]
fn the_patches_land_in_their_cells_however_many_threads_run_them() {
    let models = common::models_with_tiny_liveness();
    install_tiny_view(models.path());
    let scene = render(&passing_scene(6, 1920, 1080));
    let evidence = |sessions: usize| {
        let mut config = tiny_config(models.path());
        config.models.sessions = sessions;
        let a = Engine::new(config)
            .unwrap()
            .analyze(&scene.jpeg, Side::Back, Region::Document);
        a.evidence.expect("evidence")
    };
    let one = evidence(1);
    // Distinct values, so a patch put in the wrong cell would show.
    let mut sorted = one.values.clone();
    sorted.sort_by(f32::total_cmp);
    sorted.dedup();
    assert_eq!(sorted.len(), one.values.len(), "{:?}", one.values);
    for sessions in [2, 3, 5] {
        let many = evidence(sessions);
        assert_eq!(many.values, one.values, "{sessions} sessions");
        assert_eq!(many.view, one.view, "{sessions} sessions");
    }
}

#[test]
fn a_rule_that_weighs_the_whole_view_needs_its_model() {
    let models = common::models_with_tiny_liveness();
    set_aggregation(
        models.path(),
        r#"{"rule":"meanLogit","clamp":0.001,"slope":1.0,"offset":0.0,"viewSlope":0.5}"#,
    );
    let err = Engine::new(tiny_config(models.path()))
        .expect_err("a rule without its view model must not load");
    assert!(err.to_string().contains("whole-view"), "{err}");
}

#[test]
fn an_upside_down_aggregation_is_refused_at_start() {
    let models = common::models_with_tiny_liveness();
    set_aggregation(
        models.path(),
        r#"{"rule":"meanLogit","clamp":0.001,"slope":-1.0,"offset":0.0}"#,
    );
    let err = Engine::new(tiny_config(models.path())).expect_err("a negative slope must not load");
    assert!(err.to_string().contains("slope"), "{err}");
}

#[test]
fn without_a_model_no_score_is_invented() {
    let empty = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.models.dir = Some(empty.path().to_owned());
    let engine = Engine::new(config).unwrap();
    let scene = render(&passing_scene(5, 1920, 1080));
    let a = engine.analyze(&scene.jpeg, Side::Back, Region::Document);
    assert_eq!(a.error, None);
    assert_eq!(a.score, None);
    assert_eq!(a.decision, None);
    assert_eq!(a.liveness, LivenessStatus::NoModel);
    assert_eq!(a.model_version, None);
}
