//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod orientation;

use std::path::{Path, PathBuf};

use docliveness::config::{BackendChoice, Config};
use docliveness::engine::internals::OnnxModel;

/// The committed tiny ONNX model (made by `models/tools/make_tiny_model.py`).
pub fn tiny_model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_model")
}

/// The input the script computed its expected outputs for.
pub fn tiny_input() -> ndarray::Array4<f32> {
    ndarray::Array4::from_shape_fn((1, 3, 16, 16), |(_, c, y, x)| {
        let i = (c * 256 + y * 16 + x) as i64;
        (((i * 37) % 101) as f64 / 101.0 - 0.5) as f32
    })
}

/// Runs the tiny model with `backend` and checks every output against the NumPy reference.
pub fn check_tiny_model(backend: BackendChoice) -> OnnxModel {
    let mut cfg = Config::default().models;
    cfg.backend = backend;
    let model = OnnxModel::load(&tiny_model_dir(), &cfg).expect("tiny model loads");
    let outputs = model.run(tiny_input().view()).expect("tiny model runs");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tiny_model_dir().join("expected.json")).unwrap(),
    )
    .unwrap();
    for (name, shape, values) in &outputs {
        let want: Vec<f64> = expected[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(
            shape.iter().product::<usize>(),
            want.len(),
            "{name} shape {shape:?}"
        );
        for (got, want) in values.iter().zip(&want) {
            assert!(
                (f64::from(*got) - want).abs() < 1e-4,
                "{name}: got {got}, want {want}"
            );
        }
    }
    model
}

/// A models folder in a temporary directory holding the tiny model as `liveness/`.
pub fn models_with_tiny_liveness() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("liveness");
    std::fs::create_dir_all(&target).unwrap();
    for f in ["tiny.onnx", "manifest.json"] {
        std::fs::copy(tiny_model_dir().join(f), target.join(f)).unwrap();
    }
    dir
}

/// A plain analysis with the given score and error, for filing cases in store tests.
pub fn analysis(
    score: Option<f64>,
    error: Option<docliveness::engine::ErrorCode>,
) -> docliveness::engine::Analysis {
    use docliveness::engine::*;
    Analysis {
        side: Side::Front,
        region: Region::Document,
        image: None,
        invalid_reason: None,
        documents: Vec::new(),
        quality: None,
        warnings: Vec::new(),
        portrait: PortraitCheck::NotApplicable,
        error,
        score,
        decision: score.map(|s| Route::of(s, &docliveness::config::Thresholds::default())),
        attack_scores: None,
        evidence: None,
        liveness: if score.is_some() {
            LivenessStatus::Scored
        } else {
            LivenessStatus::NotScored
        },
        detector: None,
        model_version: Some("test-model".into()),
        backend: Some("tract".into()),
        timings_ms: Timings::default(),
    }
}

/// The outcome of a one-sided check under the default thresholds.
pub fn outcome(a: &docliveness::engine::Analysis) -> docliveness::engine::Outcome {
    docliveness::engine::Outcome::of([a], &docliveness::config::Thresholds::default())
}

/// Files and decides one case whose 16 patches all say live with log-odds `z`.
pub fn decided_case(
    store: &mut docliveness::review::Store,
    i: usize,
    model_version: &str,
    z: f64,
    genuine: bool,
) {
    decided_case_with_features(store, i, model_version, z, genuine, None);
}

/// The same, with the networks' features recorded in its analysis.
pub fn decided_case_with_features(
    store: &mut docliveness::review::Store,
    i: usize,
    model_version: &str,
    z: f64,
    genuine: bool,
    features: Option<Vec<f32>>,
) {
    use docliveness::review::{AttackType, NewCase, NewDecision, NewSide, Origin, Verdict};
    let mut a = analysis(Some(0.3), None);
    a.model_version = Some(model_version.into());
    let live = docliveness::engine::probability::logistic(z);
    a.evidence = Some(docliveness::engine::EvidenceMap {
        columns: 4,
        rows: 4,
        values: vec![(1.0 - live) as f32; 16],
        region: [0, 0, 100, 100],
        corners: None,
        view: None,
        features,
    });
    let image = format!("photo {i}").into_bytes();
    // A session of its own on every call, as a re-import files the same photo anew.
    static FILINGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let filing = FILINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let case = NewCase {
        origin: Origin::Api,
        session_id: format!("s{i}-{filing}"),
        sides: vec![NewSide {
            side: docliveness::engine::Side::Front,
            image: &image,
            analysis: &a,
        }],
        outcome: outcome(&a),
        source: None,
    };
    let id = store.file_case(&case).unwrap();
    let decision = NewDecision {
        reviewer: "ana".into(),
        verdict: Some(if genuine {
            Verdict::Genuine
        } else {
            Verdict::Attack
        }),
        attack_type: (!genuine).then_some(AttackType::Screen),
        resubmit_reason: None,
        reason: None,
        note: None,
    };
    store.decide(id, &decision, None).unwrap();
}

/// Files one single-sided case with `image` bytes.
pub fn file(
    store: &mut docliveness::review::Store,
    origin: docliveness::review::Origin,
    image: &[u8],
    score: Option<f64>,
    error: Option<docliveness::engine::ErrorCode>,
) -> i64 {
    let a = analysis(score, error);
    let case = docliveness::review::NewCase {
        origin,
        session_id: format!("session-{}", image.len()),
        sides: vec![docliveness::review::NewSide {
            side: docliveness::engine::Side::Front,
            image,
            analysis: &a,
        }],
        outcome: outcome(&a),
        source: None,
    };
    store.file_case(&case).expect("case filed")
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A PNG whose header announces `w × h` RGB pixels but carries almost no data.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}
