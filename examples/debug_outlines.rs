use docliveness::config::Config;
use docliveness::engine::decode::decode;
use docliveness::engine::detector::DocumentModel;
use docliveness::synth::{hard_scene, render};
fn main() {
    let seed: u64 = std::env::args().nth(1).unwrap().parse().unwrap();
    let config = Config::default();
    let model = DocumentModel::load(&config.models.resolved_dir().join("detector"), &config.models).unwrap();
    let (spec, hazard) = hard_scene(seed, 1920, 1080);
    let scene = render(&spec);
    let image = decode(&scene.jpeg, 50_000_000).unwrap();
    let (outs, cell) = model.outlines(&image.rgb, &config.detection).unwrap();
    println!("{hazard:?} truth {:?}", scene.quads);
    for o in &outs { println!("outline {:?} sides {} conf {:.3} iou {:.3}", o.quad, o.sides_seen, o.confidence, o.quad.iou(&scene.quads[0])); }
    for d in model.detect(&image.rgb, &config.detection).unwrap() { println!("snapped {:?} iou {:.3}", d.quad, d.quad.iou(&scene.quads[0])); }
    let _ = cell;
}
