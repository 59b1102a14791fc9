//! Writes document-detector training scenes from the Rust scene generator, for the
//! Python trainer (`models/training`, step `detector-data`).
//!
//! `cargo run --release --example detector_data -- OUT_DIR FIRST_SEED COUNT SIDE`
//! writes `OUT_DIR/images.u8` (COUNT × SIDE × SIDE × 3 bytes: each photo stretched to
//! the model's square input exactly as the engine does) and `OUT_DIR/scenes.jsonl`
//! (per scene: seed, kind, frame size and every document's corners in frame pixels).

use std::io::Write;

use docliveness::engine::geometry::Point;
use docliveness::engine::internals::WorkImage;
use docliveness_synth::scene::render_rgb;
use docliveness_synth::{
    Background, CardStyle, DocumentFormat, Extras, Placement, Rng, SceneSpec, hard_scene,
    passing_scene, place,
};

const FRAMES: [(u32, u32); 5] = [(960, 540), (1280, 720), (720, 960), (1024, 768), (640, 480)];

/// A scene whose right answer is one of the geometry codes (or no document at all).
fn edge_case(seed: u64, (w, h): (u32, u32)) -> (SceneSpec, &'static str) {
    let mut rng = Rng::new(seed ^ 0xC0DE);
    let (fw, fh) = (f64::from(w), f64::from(h));
    let format = if rng.chance(0.6) {
        DocumentFormat::Id1
    } else {
        DocumentFormat::Passport
    };
    let style = CardStyle {
        format,
        front: rng.chance(0.5),
        pale: false,
        portrait: true,
    };
    let kind = rng.int(0, 3);
    let (documents, label) = match kind {
        0 => (vec![], "empty"),
        1 => {
            // Filling most of the frame, up to touching its edges.
            let short = fw.min(fh);
            let span = rng.range(0.7, 0.99) * short;
            let long = span * format.aspect();
            let area = (long * span / (fw * fh)).min(0.95);
            let centre = Point::new(fw / 2.0 + rng.range(-0.02, 0.02) * fw, fh / 2.0);
            let turn = if fw >= fh {
                rng.range(-3.0, 3.0)
            } else {
                90.0 + rng.range(-3.0, 3.0)
            };
            (
                vec![Placement {
                    style,
                    quad: place(&mut rng, format, (w, h), area, centre, turn, 0.01),
                }],
                "large",
            )
        }
        2 => {
            let centre = Point::new(rng.range(0.2, 0.8) * fw, rng.range(0.2, 0.8) * fh);
            let turn = rng.range(0.0, 360.0);
            let area = rng.range(0.01, 0.06);
            (
                vec![Placement {
                    style,
                    quad: place(&mut rng, format, (w, h), area, centre, turn, 0.02),
                }],
                "small",
            )
        }
        _ => {
            // Close to one edge of the frame, inside or just over it.
            let area = rng.range(0.1, 0.35);
            let turn = rng.range(-10.0, 10.0);
            let q = place(
                &mut rng,
                format,
                (w, h),
                area,
                Point::new(fw / 2.0, fh / 2.0),
                turn,
                0.02,
            );
            let (x0, y0, x1, y1) = q.bounds();
            let gap = rng.range(-0.01, 0.02) * fw.min(fh);
            let (dx, dy) = match rng.int(0, 3) {
                0 => (gap - x0, rng.range(-0.2, 0.2) * fh),
                1 => (fw - gap - x1, rng.range(-0.2, 0.2) * fh),
                2 => (rng.range(-0.2, 0.2) * fw, gap - y0),
                _ => (rng.range(-0.2, 0.2) * fw, fh - gap - y1),
            };
            let quad = q.translated(dx, dy);
            (vec![Placement { style, quad }], "border")
        }
    };
    let spec = SceneSpec {
        seed,
        width: w,
        height: h,
        background: Background::ALL[rng.int(0, 4) as usize],
        documents,
        blur_sigma: rng.range(0.3, 1.6) as f32,
        noise_sigma: rng.range(1.0, 5.0),
        light_gradient: rng.range(0.0, 0.35),
        jpeg_quality: 90,
        extras: Extras::default(),
    };
    (spec, label)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: detector_data OUT_DIR FIRST_SEED COUNT SIDE");
        std::process::exit(2);
    }
    let out = std::path::Path::new(&args[1]);
    let first: u64 = args[2].parse().expect("FIRST_SEED is a number");
    let count: u64 = args[3].parse().expect("COUNT is a number");
    let side: usize = args[4].parse().expect("SIDE is a number");
    std::fs::create_dir_all(out)?;
    let mut images = std::io::BufWriter::new(std::fs::File::create(out.join("images.u8"))?);
    let mut scenes = std::io::BufWriter::new(std::fs::File::create(out.join("scenes.jsonl"))?);
    for seed in first..first + count {
        let frame = FRAMES[(seed % FRAMES.len() as u64) as usize];
        let (spec, kind) = match seed % 20 {
            0..=10 => {
                let (spec, hazard) = hard_scene(seed, frame.0, frame.1);
                (spec, format!("{hazard:?}"))
            }
            11..=14 => (passing_scene(seed, frame.0, frame.1), "Passing".to_string()),
            _ => {
                let (spec, label) = edge_case(seed, frame);
                (spec, label.to_string())
            }
        };
        let rgb = render_rgb(&spec);
        let work = WorkImage::stretched(&rgb, side, side);
        let mut bytes = Vec::with_capacity(side * side * 3);
        for i in 0..side * side {
            for plane in &work.planes {
                bytes.push(plane[i].round().clamp(0.0, 255.0) as u8);
            }
        }
        images.write_all(&bytes)?;
        let quads: Vec<Vec<[f64; 2]>> = spec
            .documents
            .iter()
            .map(|d| d.quad.0.iter().map(|p| [p.x, p.y]).collect())
            .collect();
        let line = serde_json::json!({
            "seed": seed, "kind": kind, "width": spec.width, "height": spec.height, "quads": quads,
        });
        writeln!(scenes, "{line}")?;
    }
    images.flush()?;
    scenes.flush()
}
