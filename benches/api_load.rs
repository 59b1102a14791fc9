//! Load test of the HTTP API on loopback: 16 concurrent clients posting 1080p photos for
//! 60 s (set LOAD_SECONDS to change), against `docliveness serve` with 1 and then 2
//! analysis workers. Prints throughput, p50/p99 latency, the server's peak RSS and the
//! mix of answers. Then the server's memory under two loads on 2 workers: 32 clients
//! posting 1.2 MB bodies, and 64 clients failing to log in as fast as they can (with the
//! per-address limit lifted, so every attempt costs an Argon2 check).
//! `cargo bench --bench api_load`; `LOAD_PARTS=memory` runs only the memory part.
//!
//! The liveness model is the tiny test model (the real one is not shipped yet), so the
//! figures measure decoding, detection, the rules, the model plumbing and the queue.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;

const CLIENTS: usize = 16;
const USER: &str = "load";
const PASSWORD: &str = "load test password";

/// One load: how many clients send what to a server with how many workers.
struct Load<'a> {
    name: &'a str,
    workers: usize,
    clients: usize,
    seconds: u64,
    bodies: &'a Arc<Vec<Vec<u8>>>,
    password: &'a str,
    /// More `[server]` settings.
    server: &'a str,
}

struct Run {
    requests: usize,
    seconds: f64,
    p50: f64,
    p99: f64,
    peak_rss_mb: f64,
    statuses: std::collections::BTreeMap<u16, usize>,
}

/// Stops the server however the run ends, a panicking client included.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(load: &Load<'_>, dir: &Path) -> Run {
    let Load {
        name,
        workers,
        clients,
        seconds,
        bodies,
        password,
        server,
    } = *load;
    let config = dir.join(format!("server-{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "[server]\nworkers = {workers}\nqueue_depth = 32\n{server}\n[models]\ndir = \"{}\"\nbackend = \"tract\"\n",
            dir.join("models").display()
        ),
    )
    .unwrap();
    let mut server = ServerProcess(
        Command::new(env!("CARGO_BIN_EXE_docliveness"))
            .arg("--config")
            .arg(&config)
            .args(["serve", "--bind", "127.0.0.1:0", "--db"])
            .arg(dir.join(format!("review-{name}.db")))
            .arg("--users")
            .arg(dir.join("users"))
            .env_remove("ORT_DYLIB_PATH")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server"),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in stderr.lines() {});
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"))
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (bodies, auth, addr) = (Arc::clone(bodies), auth.clone(), addr.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut out = Vec::new();
                let mut i = c;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let resp = agent
                        .post(format!("http://{addr}/api/v1/document/liveness"))
                        .header("Authorization", &auth)
                        .header("Content-Type", "application/json")
                        .send(&bodies[i % bodies.len()][..]);
                    // Under a storm a refused connection is an answer too, not a crash.
                    let Ok(mut resp) = resp else {
                        out.push((0, t.elapsed().as_secs_f64() * 1000.0));
                        continue;
                    };
                    let _ = resp.body_mut().read_to_string();
                    out.push((resp.status().as_u16(), t.elapsed().as_secs_f64() * 1000.0));
                    i += 1;
                }
                out
            })
        })
        .collect();
    let results: Vec<(u16, f64)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.0.id())).unwrap_or_default();
    let peak_rss_mb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0);
    drop(server);
    let mut ok: Vec<f64> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, ms)| *ms)
        .collect();
    ok.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        ok.get(((ok.len() as f64 * p) as usize).min(ok.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let mut statuses = std::collections::BTreeMap::new();
    for (s, _) in &results {
        *statuses.entry(*s).or_insert(0) += 1;
    }
    Run {
        requests: ok.len(),
        seconds,
        p50: pct(0.5),
        p99: pct(0.99),
        peak_rss_mb,
        statuses,
    }
}

fn main() {
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("docliveness-load-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("models/liveness")).unwrap();
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_model");
    for f in ["tiny.onnx", "manifest.json"] {
        std::fs::copy(tiny.join(f), dir.join("models/liveness").join(f)).unwrap();
    }
    docliveness::api::auth::add_user(&dir.join("users"), USER, PASSWORD).unwrap();
    let parts = std::env::var("LOAD_PARTS").unwrap_or_else(|_| "all".into());
    let json_of = |jpeg: Vec<u8>| {
        serde_json::json!({"frontSideImageBase": base64::engine::general_purpose::STANDARD.encode(jpeg)})
            .to_string()
            .into_bytes()
    };
    if parts != "memory" {
        let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
            (0..8)
                .map(|seed| {
                    json_of(
                        docliveness_synth::render(&docliveness_synth::passing_scene(
                            900 + seed,
                            1920,
                            1080,
                        ))
                        .jpeg,
                    )
                })
                .collect(),
        );
        throughput(seconds, &bodies, &dir);
    }
    // Photos of 3264 x 2448 (8 MP) come to about 1.2 MB of JSON.
    let large: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..8)
            .map(|seed| {
                json_of(
                    docliveness_synth::render(&docliveness_synth::passing_scene(
                        950 + seed,
                        3264,
                        2448,
                    ))
                    .jpeg,
                )
            })
            .collect(),
    );
    let average = large.iter().map(Vec::len).sum::<usize>() / large.len();
    println!("\nmemory, 2 workers, {seconds} s per load");
    println!(
        "{:<34} {:>10} {:>12}  answers",
        "load", "req/s", "peak RSS MB"
    );
    let loads = [
        Load {
            name: "bodies",
            workers: 2,
            clients: 32,
            seconds,
            bodies: &large,
            password: PASSWORD,
            server: "",
        },
        Load {
            name: "storm",
            workers: 2,
            clients: 64,
            seconds,
            bodies: &Arc::new(vec![b"{}".to_vec()]),
            password: "not the password",
            server: "max_auth_failures_per_minute = 1000000000",
        },
    ];
    for (load, label) in loads.iter().zip([
        format!("32 clients x {:.2} MB bodies", average as f64 / 1e6),
        "64 clients failing logins".to_string(),
    ]) {
        let r = run(load, &dir);
        let answered: usize = r.statuses.values().sum();
        println!(
            "{label:<34} {:>10.1} {:>12.1}  {:?}",
            answered as f64 / r.seconds,
            r.peak_rss_mb,
            r.statuses
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn throughput(seconds: u64, bodies: &Arc<Vec<Vec<u8>>>, dir: &Path) {
    println!(
        "{CLIENTS} clients, {seconds} s per run, 1080p JPEGs (~{} KB of JSON each)",
        bodies[0].len() / 1024
    );
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>12}  answers",
        "workers", "req/s", "p50 ms", "p99 ms", "peak RSS MB"
    );
    let mut rates = Vec::new();
    for workers in [1, 2] {
        let r = run(
            &Load {
                name: &format!("throughput-{workers}"),
                workers,
                clients: CLIENTS,
                seconds,
                bodies,
                password: PASSWORD,
                server: "",
            },
            dir,
        );
        let rate = r.requests as f64 / r.seconds;
        rates.push(rate);
        println!(
            "{workers:<8} {rate:>10.1} {:>10.1} {:>10.1} {:>12.1}  {:?}",
            r.p50, r.p99, r.peak_rss_mb, r.statuses
        );
    }
    println!(
        "throughput 2 workers / 1 worker: {:.2} (target >= 1.8)",
        rates[1] / rates[0]
    );
}
