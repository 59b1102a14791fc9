//! Inference time of the shipped models on a 12 MP and a 1080p photo, through tract (and
//! ONNX Runtime when `ORT_DYLIB_PATH` names its library): the document detector (the
//! photo downscaled to its input, the network, then outlines fitted and snapped), the
//! liveness patches cut from inside a fixed document outline (with the whole view, when
//! its model is installed, run beside them), and the portrait search.
//! Prints its figures; `cargo bench --bench liveness`.
//!
//! Targets: a 12 MP photo scored in at most 60 ms of liveness inference, and document
//! detection in at most 30 ms of inference, with tract on 2 cores.

use std::path::Path;
use std::process::Command;

use docliveness::config::{BackendChoice, Config};
use docliveness::engine::PortraitDetector;
use docliveness::engine::geometry::{Point, Quad};
use docliveness::engine::internals::DocumentModel;
use docliveness::engine::internals::FaceDetector;
use docliveness::engine::internals::LivenessModel;
use docliveness::engine::internals::jpeg_round_trip;
use docliveness::engine::internals::{ViewModel, render};
use image::RgbImage;

mod common;

use common::time_ms;

const CHILD: &str = "DOCLIVENESS_BENCH_BACKEND";

fn measure(backend: BackendChoice) {
    let mut config = Config::default();
    config.models.backend = backend;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/liveness");
    let model = LivenessModel::load(&dir, &config.models).expect("shipped model");
    let faces = FaceDetector::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/portrait"),
        &config.models,
    )
    .expect("shipped face detector");
    let detector = DocumentModel::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/detector"),
        &config.models,
    )
    .expect("shipped document detector");
    let view_dir = dir.join("view");
    let view = view_dir
        .exists()
        .then(|| ViewModel::load(&view_dir, &config.models).expect("shipped whole-view model"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (name, w, h) in [
        ("12 MP 4032x3024", 4032u32, 3024u32),
        ("1080p 1920x1080", 1920, 1080),
    ] {
        // Textured pixels so no backend can shortcut constant input.
        let image = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x ^ y) as u8, (x * y) as u8])
        });
        let (fw, fh) = (f64::from(w), f64::from(h));
        let quad = Quad(
            [(0.2, 0.25), (0.8, 0.22), (0.82, 0.75), (0.18, 0.78)]
                .map(|(x, y)| Point::new(x * fw, y * fh)),
        );
        let (median, worst) = time_ms(21, || {
            detector
                .logits(&image, config.detection.symmetric_forms)
                .expect("runs");
        });
        println!(
            "{:<12} {name:<18} document detector    median {median:>6.1} ms  max {worst:>6.1} ms  (downscale + network, four forms)",
            detector.backend().label(),
        );
        let (median, worst) = time_ms(11, || {
            detector.detect(&image, &config.detection).expect("runs");
        });
        println!(
            "{:<12} {name:<18} detection in all     median {median:>6.1} ms  max {worst:>6.1} ms  (+ outlines, snapping)",
            detector.backend().label(),
        );
        let (median, worst) = time_ms(21, || {
            model.score(&image, &quad).expect("scores");
        });
        println!(
            "{:<12} {name:<18} liveness, {:>2} patches  median {median:>6.1} ms  max {worst:>6.1} ms  ({cores} cores)",
            model.backend().label(),
            model.manifest().patches.unwrap_or(9),
        );
        if let Some(quality) = model.manifest().resave_quality {
            let side = model.manifest().input.width;
            let count = model.manifest().patches.unwrap_or(9);
            let patch = image::imageops::crop_imm(&image, w / 2, h / 2, side, side).to_image();
            let (median, worst) = time_ms(21, || {
                for _ in 0..count {
                    jpeg_round_trip(&patch, quality).expect("re-saves");
                }
            });
            println!(
                "{:<12} {name:<18} patch re-saves      median {median:>6.1} ms  max {worst:>6.1} ms  ({count} at JPEG {quality}, one thread; within the liveness figure)",
                model.backend().label(),
            );
        }
        if let Some(view) = &view {
            let input = &view.manifest().input;
            let spec = view.manifest().view.expect("a view section");
            let (median, worst) = time_ms(21, || {
                render(
                    &image,
                    &quad,
                    input.width as usize,
                    input.height as usize,
                    &spec,
                );
            });
            println!(
                "{:<12} {name:<18} whole view: cut      median {median:>6.1} ms  max {worst:>6.1} ms  (within the liveness figure)",
                view.backend().label(),
            );
            let (median, worst) = time_ms(21, || {
                view.judge(&image, &quad).expect("scores");
            });
            println!(
                "{:<12} {name:<18} whole view: cut + 4  median {median:>6.1} ms  max {worst:>6.1} ms  (within the liveness figure)",
                view.backend().label(),
            );
        }
        let (median, worst) = time_ms(11, || {
            faces.find(&image, &quad).expect("runs");
        });
        println!(
            "{:<12} {name:<18} portrait search      median {median:>6.1} ms  max {worst:>6.1} ms",
            faces.backend().label(),
        );
    }
}

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("onnxruntime") => return measure(BackendChoice::Onnxruntime),
        Ok(_) => return measure(BackendChoice::Tract),
        Err(_) => {}
    }
    // The backend is chosen once per process, so each one runs in its own child.
    let me = std::env::current_exe().expect("own path");
    let mut backends = vec!["tract"];
    if std::env::var_os("ORT_DYLIB_PATH").is_some() {
        backends.push("onnxruntime");
    } else {
        println!("(set ORT_DYLIB_PATH to a libonnxruntime.so to time ONNX Runtime too)");
    }
    for b in backends {
        let status = Command::new(&me)
            .env(CHILD, b)
            .status()
            .expect("child runs");
        assert!(status.success(), "{b} bench failed");
    }
    println!("target: 12 MP scored in <= 60 ms with tract");
}
