//! Decode time against full-pipeline time (without a liveness model) for a generated
//! 1080p and a generated 12 MP JPEG. Prints its figures; `cargo bench`.
//!
//! Target: the pipeline costs at most twice the decode time of the same image.

use docliveness::config::Config;
use docliveness::engine::decode;
use docliveness::engine::{Engine, Region, Side};
use docliveness_synth::{passing_scene, render};

mod common;

use common::time_ms;

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let engine = Engine::without_models(Config::default()).expect("engine");
    println!(
        "{:<18} {:>10} {:>12} {:>12} {:>7}",
        "image", "bytes", "decode ms", "pipeline ms", "ratio"
    );
    let mut worst: f64 = 0.0;
    for (name, w, h, runs) in [
        ("1080p 1920x1080", 1920, 1080, 31),
        ("12 MP 4032x3024", 4032, 3024, 11),
    ] {
        let jpeg = render(&passing_scene(7, w, h)).jpeg;
        let (decode_ms, _) = time_ms(runs, || {
            decode(&jpeg, 50_000_000).expect("decodes");
        });
        let (pipeline_ms, _) = time_ms(runs, || {
            let a = engine.analyze(&jpeg, Side::Back, Region::Document);
            assert!(a.error.is_none(), "{:?}", a.error);
        });
        let ratio = pipeline_ms / decode_ms;
        worst = worst.max(ratio);
        println!(
            "{name:<18} {:>10} {decode_ms:>12.1} {pipeline_ms:>12.1} {ratio:>7.2}",
            jpeg.len()
        );
    }
    println!(
        "worst pipeline/decode ratio {worst:.2} (target <= 2.00): {}",
        if worst <= 2.0 { "met" } else { "NOT met" }
    );
}
