//! Writes a seeded synthetic scene as a JPEG and prints its true corners.
//! `cargo run --release --example synth_scene -- SEED OUT.jpg [WIDTH HEIGHT]`
//! The bundled samples in `assets/samples/` were made with it.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: synth_scene SEED OUT.jpg [WIDTH HEIGHT]");
        std::process::exit(2);
    }
    let seed: u64 = args[1].parse().expect("seed is a number");
    let width = args.get(3).map_or(1920, |v| v.parse().expect("width"));
    let height = args.get(4).map_or(1080, |v| v.parse().expect("height"));
    let spec = docliveness_synth::passing_scene(seed, width, height);
    let scene = docliveness_synth::render(&spec);
    std::fs::write(&args[2], &scene.jpeg).expect("write the JPEG");
    println!("{:?} {:?}", spec.background, scene.quads);
}
