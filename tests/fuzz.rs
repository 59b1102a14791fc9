//! Mutation fuzzing on stable Rust: real and generated JPEG and PNG files, EXIF blocks,
//! Base64 fields and JSON request bodies, bit-flipped, truncated, spliced and
//! duplicated, through decoding, the whole engine and the API's request handling.
//! Every input must finish without a panic, within a time limit, keeping the properties
//! `targets.rs` checks; the whole run must stay within a memory bound.
//!
//! Input `i` of seed `s` is made from `(s, i)` alone, so a failure names both and is
//! replayed without the rest of the run:
//!
//! ```sh
//! cargo test --release --test fuzz                      # the short run (under a minute)
//! DOCLIVENESS_FUZZ_INPUTS=1000000 cargo test --release --test fuzz -- --nocapture
//! DOCLIVENESS_FUZZ_SEED=7 DOCLIVENESS_FUZZ_REPLAY=123 cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! Other settings: `DOCLIVENESS_FUZZ_TARGETS` (a comma-separated subset of decode, exif,
//! image_source, api, engine, full_engine; default all), `DOCLIVENESS_FUZZ_THREADS`
//! (default: one per core), `DOCLIVENESS_FUZZ_TIME_LIMIT_MS` (per input, default 5000),
//! `DOCLIVENESS_FUZZ_MAX_RSS_MB` (peak resident memory, default 1536). Failing inputs are
//! saved under `target/tmp/fuzz-failures/`.

#[path = "fuzz/corpus.rs"]
mod corpus;
#[path = "fuzz/mutate.rs"]
mod mutate;
#[path = "fuzz/targets.rs"]
mod targets;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use targets::{Harness, Target, Worker};

/// Inputs of the short run: about 40 s in release on two cores.
const DEFAULT_INPUTS: u64 = 20_000;
/// Seed of the short run; long runs may pick another.
const DEFAULT_SEED: u64 = 20_261_206;
/// A run stops collecting after this many failures: by then the first ones say enough.
const MAX_FAILURES: usize = 50;

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// Why an input failed.
#[derive(Debug)]
struct Failure {
    index: u64,
    target: Target,
    what: String,
    saved: PathBuf,
}

/// Per-target figures.
#[derive(Debug, Default, Clone)]
struct Figures {
    inputs: u64,
    /// Inputs past the target's first gate.
    deep: u64,
    seconds: f64,
    slowest: Duration,
    slowest_index: u64,
}

fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures")
}

fn save(seed: u64, index: u64, target: Target, bytes: &[u8]) -> PathBuf {
    let dir = failures_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("seed-{seed}-input-{index}-{}.bin", target.name()));
    let _ = std::fs::write(&path, bytes);
    path
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Peak resident memory of this process (`VmHWM`), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[test]
fn fuzz() {
    let seed = setting("DOCLIVENESS_FUZZ_SEED", DEFAULT_SEED);
    let inputs = setting("DOCLIVENESS_FUZZ_INPUTS", DEFAULT_INPUTS);
    let limit = Duration::from_millis(setting("DOCLIVENESS_FUZZ_TIME_LIMIT_MS", 5000));
    // Two decodes at the product's 50 MP limit at once (about 400 MB each with the
    // decoder's buffers) plus the engines fit; a leak or an unbounded buffer does not.
    // A million inputs peaked at 453 MiB, 10 000 through the shipped models at 562.
    let max_rss = setting("DOCLIVENESS_FUZZ_MAX_RSS_MB", 1536);
    let only_env = std::env::var("DOCLIVENESS_FUZZ_TARGETS").unwrap_or_default();
    let only: Vec<Target> = only_env
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| Target::named(n).unwrap_or_else(|| panic!("no fuzz target {n:?}")))
        .collect();
    // What a replay must repeat besides the seed and index.
    let replay_env = if only.is_empty() {
        format!("DOCLIVENESS_FUZZ_SEED={seed}")
    } else {
        format!("DOCLIVENESS_FUZZ_TARGETS={only_env} DOCLIVENESS_FUZZ_SEED={seed}")
    };
    let threads = setting(
        "DOCLIVENESS_FUZZ_THREADS",
        std::thread::available_parallelism().map_or(2, |n| n.get() as u64),
    ) as usize;
    let started = Instant::now();
    let harness = Harness::new(only);
    eprintln!(
        "fuzz: seed {seed}, {inputs} inputs on {threads} threads; corpus: {} small, {} scenes, \
         {} large, {} EXIF; ready in {:.1} s",
        harness.corpus.small.len(),
        harness.corpus.scenes.len(),
        harness.corpus.large.len(),
        harness.corpus.exif.len(),
        started.elapsed().as_secs_f64()
    );

    if let Ok(index) = std::env::var("DOCLIVENESS_FUZZ_REPLAY") {
        // One input, with no catch_unwind: a panic shows its own message and backtrace.
        let index: u64 = index
            .trim()
            .parse()
            .expect("DOCLIVENESS_FUZZ_REPLAY is an index");
        let (target, bytes) = harness.input(seed, index);
        let saved = save(seed, index, target, &bytes);
        eprintln!(
            "replaying input {index} ({}, {} bytes, saved to {})",
            target.name(),
            bytes.len(),
            saved.display()
        );
        let t = Instant::now();
        let outcome = harness.run(&mut Worker::default(), target, &bytes, index);
        eprintln!(
            "{outcome:?} in {:.1} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        outcome.unwrap();
        return;
    }

    // A panic's default report for the first few only: a bug hit a thousand times must
    // not bury the summary.
    let panics_seen = std::sync::Arc::new(AtomicUsize::new(0));
    let default_hook = std::panic::take_hook();
    let seen = std::sync::Arc::clone(&panics_seen);
    std::panic::set_hook(Box::new(move |info| {
        if seen.fetch_add(1, Ordering::Relaxed) < 5 {
            default_hook(info);
        }
    }));

    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let failures: Mutex<Vec<Failure>> = Mutex::new(Vec::new());
    // What each worker is running and since when, for the watchdog.
    let running: Vec<Mutex<Option<(u64, Instant)>>> =
        (0..threads).map(|_| Mutex::new(None)).collect();
    // A hang never returns to be timed: past this the watchdog ends the process.
    let hang = limit.max(Duration::from_secs(6)) * 12;
    let run_start = Instant::now();
    let figures: Vec<BTreeMap<Target, Figures>> = std::thread::scope(|scope| {
        let (harness, next, done, finished, failures, running, replay_env) = (
            &harness,
            &next,
            &done,
            &finished,
            &failures,
            &running,
            &replay_env,
        );
        scope.spawn(move || {
            let mut last_report = Instant::now();
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                for slot in running {
                    let current = *slot.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some((index, since)) = current
                        && since.elapsed() > hang
                    {
                        let (target, bytes) = harness.input(seed, index);
                        let saved = save(seed, index, target, &bytes);
                        eprintln!(
                            "fuzz: HANG: input {index} of seed {seed} ({}) still running after \
                                 {:.0} s; saved to {}; replay with {replay_env} \
                                 DOCLIVENESS_FUZZ_REPLAY={index}",
                            target.name(),
                            since.elapsed().as_secs_f64(),
                            saved.display()
                        );
                        std::process::exit(101);
                    }
                }
                if last_report.elapsed() > Duration::from_secs(60) {
                    last_report = Instant::now();
                    let n = done.load(Ordering::Relaxed);
                    eprintln!(
                        "fuzz: {n} of {inputs} inputs, {:.0}/s, {} failures, peak RSS {} MiB",
                        n as f64 / run_start.elapsed().as_secs_f64(),
                        failures.lock().unwrap_or_else(|e| e.into_inner()).len(),
                        peak_rss_mib().unwrap_or(0)
                    );
                }
            }
        });
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                scope.spawn(move || {
                    let mut worker = Worker::default();
                    let mut figures: BTreeMap<Target, Figures> = BTreeMap::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= inputs
                            || failures.lock().unwrap_or_else(|e| e.into_inner()).len()
                                >= MAX_FAILURES
                        {
                            break;
                        }
                        let (target, bytes) = harness.input(seed, index);
                        let t = Instant::now();
                        *running[w].lock().unwrap_or_else(|e| e.into_inner()) = Some((index, t));
                        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            harness.run(&mut worker, target, &bytes, index)
                        }));
                        let took = t.elapsed();
                        *running[w].lock().unwrap_or_else(|e| e.into_inner()) = None;
                        let outcome_deep =
                            outcome.as_ref().ok().and_then(|r| r.as_ref().ok()).copied();
                        let what = match outcome {
                            Ok(Ok(_)) if took <= limit => None,
                            Ok(Ok(_)) => Some(format!(
                                "took {:.1} s, over the {:.1} s limit",
                                took.as_secs_f64(),
                                limit.as_secs_f64()
                            )),
                            Ok(Err(property)) => Some(property),
                            Err(payload) => {
                                // A panic may leave the connection mid-transaction.
                                worker = Worker::default();
                                Some(format!("panic: {}", panic_message(payload.as_ref())))
                            }
                        };
                        if let Some(what) = what {
                            let saved = save(seed, index, target, &bytes);
                            failures
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(Failure {
                                    index,
                                    target,
                                    what,
                                    saved,
                                });
                        }
                        let f = figures.entry(target).or_default();
                        f.inputs += 1;
                        f.deep += u64::from(matches!(outcome_deep, Some(true)));
                        f.seconds += took.as_secs_f64();
                        if took > f.slowest {
                            f.slowest = took;
                            f.slowest_index = index;
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    figures
                })
            })
            .collect();
        let figures = workers.into_iter().map(|h| h.join().unwrap()).collect();
        finished.store(true, Ordering::Relaxed);
        figures
    });
    let wall = run_start.elapsed().as_secs_f64();
    let _ = std::panic::take_hook();

    let mut total: BTreeMap<Target, Figures> = BTreeMap::new();
    for per_worker in figures {
        for (target, f) in per_worker {
            let t = total.entry(target).or_default();
            t.inputs += f.inputs;
            t.deep += f.deep;
            t.seconds += f.seconds;
            if f.slowest > t.slowest {
                t.slowest = f.slowest;
                t.slowest_index = f.slowest_index;
            }
        }
    }
    let ran: u64 = total.values().map(|f| f.inputs).sum();
    let peak = peak_rss_mib();
    eprintln!(
        "fuzz: seed {seed}: {ran} inputs in {wall:.1} s ({:.0} inputs/s on {threads} threads), \
         peak RSS {} MiB",
        ran as f64 / wall,
        peak.map_or("unknown".to_string(), |p| p.to_string())
    );
    eprintln!("  target          inputs   mean ms    max ms  (slowest input)  past the first gate");
    for target in Target::ALL {
        let f = total.get(&target).cloned().unwrap_or_default();
        let share = |n: u64| 100.0 * n as f64 / f.inputs.max(1) as f64;
        eprintln!(
            "  {:<13} {:>8} {:>9.2} {:>9.1}  ({:>10})  {:.0}% {}",
            target.name(),
            f.inputs,
            f.seconds * 1000.0 / f.inputs.max(1) as f64,
            f.slowest.as_secs_f64() * 1000.0,
            f.slowest_index,
            share(f.deep),
            target.gate()
        );
    }
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    let report: Vec<String> = failures
        .iter()
        .take(20)
        .map(|f| {
            format!(
                "input {} ({}): {}\n    saved to {}\n    replay: {replay_env} \
                 DOCLIVENESS_FUZZ_REPLAY={} cargo test --release --test fuzz -- --nocapture",
                f.index,
                f.target.name(),
                f.what,
                f.saved.display(),
                f.index
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {ran} inputs failed (seed {seed}):\n{}",
        failures.len(),
        report.join("\n")
    );
    if let Some(peak) = peak {
        assert!(
            peak <= max_rss,
            "peak RSS {peak} MiB, over the {max_rss} MiB bound"
        );
    }
}
