//! The shipped liveness model (`models/liveness/`), loaded the way the default build
//! loads it, on photos the capture simulator made with seeds never used in training
//! (`models/training`, step `fixtures`; no fingers, the document well inside the frame).
//! The screen capture is a phone held close, filling the frame, so that the camera
//! resolves its pixel grid: the case the patch model is built to catch. (A 1080p photo
//! of a whole phone never resolves the grid; the whole view is there for that case, and
//! the model card measures it.)

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::orientation::held;
use docliveness::config::{BackendChoice, Config, Thresholds};
use docliveness::engine::{Engine, LivenessStatus, Region, Route, Side};
use image::{ImageFormat, RgbImage};

fn engine() -> Engine {
    let mut config = Config::default();
    config.models.dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    config.models.backend = BackendChoice::Tract;
    Engine::new(config).expect("the shipped model loads")
}

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/captures", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn score(engine: &Engine, bytes: &[u8]) -> f64 {
    let a = engine.analyze(bytes, Side::Back, Region::Document);
    assert_eq!(a.error, None, "{a:?}");
    assert_eq!(a.liveness, LivenessStatus::Scored);
    a.score.expect("a score")
}

fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("encodes");
    out.into_inner()
}

#[test]
fn the_default_build_uses_the_shipped_model() {
    let engine = Engine::new(Config::default()).expect("engine");
    assert!(
        engine.model_version().is_some(),
        "models/liveness/ must be found without configuration"
    );
}

#[test]
fn genuine_capture_passes() {
    // Measured 0.666 with v7 (`p96-real3-view5-rs90-joint-placed`: its bands are placed on
    // real photos, so its scores are softer), 0.967 with v6 (`p96-real2-view5-rs90-joint`),
    // 0.924 with v5 (one function of the patches and the whole view). v4's lower of two
    // gave it 0.352 (review): its scale, fitted on real photos, put generated genuine
    // captures low; v3 gave 0.514.
    let s = score(&engine(), &fixture("genuine.jpg"));
    assert_eq!(
        Route::of(s, &Thresholds::default()),
        Route::Pass,
        "genuine capture scored {s}"
    );
}

#[test]
fn screen_and_print_captures_fail_the_threshold() {
    let engine = engine();
    for name in ["screen.jpg", "print.jpg"] {
        let s = score(&engine, &fixture(name));
        assert!(s < 0.25, "{name} scored {s}");
    }
}

#[test]
fn attack_scores_name_the_attack() {
    let a = engine().analyze(&fixture("screen.jpg"), Side::Back, Region::Document);
    let attacks = a.attack_scores.expect("attack scores");
    assert!(
        attacks.screen > attacks.print && attacks.screen > attacks.digital,
        "{attacks:?}"
    );
    let evidence = a.evidence.expect("evidence map");
    assert_eq!(evidence.values.len(), 16);
    assert!(evidence.corners.is_some());
}

#[test]
fn orientation_and_jpeg_quality_never_change_the_verdict() {
    // The same capture as a camera held eight ways would record it, and re-encoded at
    // JPEG 90 and 100. The engine cuts the same patches in the same orientation whichever
    // way the photo was taken, on the photo's block grid (unit tests in
    // engine/src/liveness/mod.rs prove it), and saves each patch once more at the
    // manifest's `resaveQuality` in that orientation; what moves the score is what the
    // re-encoding leaves after that save and what is left of the outline's jitter. The model issue asks
    // for a spread of at most 0.02; the held-out figures are in models/README.md.
    let engine = engine();
    for (name, live) in [
        ("genuine.jpg", true),
        ("screen.jpg", false),
        ("print.jpg", false),
    ] {
        let upright = image::load_from_memory_with_format(&fixture(name), ImageFormat::Jpeg)
            .expect("decodes")
            .to_rgb8();
        let mut scores = Vec::new();
        for k in 0..8 {
            scores.push(score(&engine, &jpeg(&held(&upright, k), 95)));
        }
        scores.push(score(&engine, &jpeg(&upright, 90)));
        scores.push(score(&engine, &jpeg(&upright, 100)));
        let spread = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - scores.iter().copied().fold(f64::INFINITY, f64::min);
        println!("{name}: spread {spread:.3} over {scores:.3?}");
        assert!(
            scores.iter().all(|&s| (s >= 0.25) == live),
            "{name}: {scores:?}"
        );
        // A guard against regressions. Measured with v5: genuine 0.002, screen 0.000,
        // print 0.000.
        assert!(spread <= 0.05, "{name}: spread {spread}: {scores:?}");
    }
}

#[test]
fn a_decided_photo_gives_the_refit_the_evidence_its_score_came_from() {
    // The refit reads each decided photo's recorded evidence back and scores it with a
    // rule; with the rule in force that must give the score the photo was filed with, or
    // the refit's before and after figures are about other photos. (The view is recorded
    // as a probability and read as log-odds; the patches are recorded as f32.)
    let engine = engine();
    let rule = engine
        .liveness_model()
        .expect("shipped model")
        .aggregation();
    assert!(rule.uses_view(), "the shipped rule weighs the whole view");
    for name in ["genuine.jpg", "screen.jpg", "print.jpg"] {
        let analysis = engine.analyze(&fixture(name), Side::Back, Region::Document);
        let filed = analysis.score.expect("scored");
        let version = analysis.model_version.clone().expect("model version");
        let decided = docliveness::review::DecidedSide {
            case_id: 1,
            verdict: docliveness::review::Verdict::Genuine,
            analysis,
            image_sha256: name.into(),
        };
        let gathered = docliveness::adapt::gather(&[decided], &version);
        let sample = &gathered.samples[0];
        let again = rule.combine(&sample.patches, sample.view);
        assert!(
            (again - filed).abs() < 1e-5,
            "{name}: filed {filed}, from the recorded evidence {again}"
        );
        // A head reads the patch network's 128 pooled features and then the whole
        // view's 128: recorded with every analysis, so a later refit can fit one.
        let features = sample
            .features
            .as_ref()
            .expect("the analysis records features");
        assert_eq!(features.len(), 256, "{name}");
        assert!(features.iter().all(|f| f.is_finite()), "{name}");
        // The two networks' features differ (the view's are not a copy of the patches').
        assert_ne!(features[..128], features[128..], "{name}");
    }
}
