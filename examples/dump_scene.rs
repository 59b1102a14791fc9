use docliveness::synth::{hard_scene, render};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args[1].parse().unwrap();
    let (spec, hazard) = hard_scene(seed, 1920, 1080);
    let scene = render(&spec);
    std::fs::write(&args[2], &scene.jpeg).unwrap();
    println!("{hazard:?} {:?}", scene.quads);
}
