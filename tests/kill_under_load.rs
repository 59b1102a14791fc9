//! Console, API and CLI on one review database under load, with the server killed
//! (SIGKILL) every few seconds: nothing acknowledged is ever lost or handed out twice.
//!
//! The real `docliveness serve` (two workers, every scored photo routed to review) takes
//! photos from three client threads; a "CLI" thread runs `queue stats`, `queue export
//! --format jsonl` and now and then `queue import --all` in their own processes (opening
//! and closing the database beside the server: what used to make SQLite delete the
//! server's WAL); a "console" thread in this process claims and decides open cases
//! through `Store`. Every 4–6 s the server is killed and started again on the same
//! database. At the end every case the API answered 200 with a `reviewCaseId` for is
//! there with its session id, every decision `Store::decide` returned Ok for is in force,
//! no case id was ever seen with two session ids, the case count covers everything
//! acknowledged, and `PRAGMA integrity_check` is "ok".
//!
//! It runs for 25 s by default; set `DOCLIVENESS_KILL_SECS` for a longer soak:
//!
//! ```text
//! DOCLIVENESS_KILL_SECS=300 cargo test --release --test kill_under_load -- --nocapture
//! ```

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine as _;
use docliveness::config::Config;
use docliveness::engine::{Engine, Region, Route, Side};
use docliveness::review::{
    AttackType, CaseFilter, NewDecision, Origin, SortOrder, Status, Store, Verdict,
};
use docliveness_synth::{passing_scene, render};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_docliveness");
const USER: &str = "loader";
const PASSWORD: &str = "kill nine under load";
const API_CLIENTS: usize = 3;
const PHOTOS: usize = 4;
const REVIEWER: &str = "console-stand-in";

/// How long the load runs: `DOCLIVENESS_KILL_SECS`, else 25 s.
fn duration() -> Duration {
    let secs = std::env::var("DOCLIVENESS_KILL_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(25.0);
    Duration::from_secs_f64(secs)
}

/// The configuration every process gets: the shipped models with tract, every score in
/// the review band (each scored photo files a case), two analysis workers.
fn config_toml() -> String {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    format!(
        "[thresholds]\nfail_below = 0.0\npass_from = 1.0\n\n\
         [server]\nworkers = 2\n\n\
         [models]\ndir = {:?}\nbackend = \"tract\"\n",
        models.display().to_string()
    )
}

/// Photos the shipped models score without a quality error on the front side, so that
/// each one files a case; checked here with the same configuration the server loads.
fn scored_photos(config_file: &Path) -> Vec<Vec<u8>> {
    let engine = Engine::new(Config::load(config_file).unwrap()).expect("the shipped models load");
    let mut photos = Vec::new();
    for seed in 9100..9160u64 {
        let jpeg = render(&passing_scene(seed, 1920, 1080)).jpeg;
        let a = engine.analyze(&jpeg, Side::Front, Region::Document);
        if a.error.is_none() && a.decision == Some(Route::Review) {
            photos.push(jpeg);
            if photos.len() == PHOTOS {
                break;
            }
        }
    }
    assert!(
        !photos.is_empty(),
        "no synthetic photo scored without an error with the shipped models"
    );
    photos
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

/// What the server's stderr said that looks like trouble, across all its lives.
type Log = Arc<Mutex<Vec<String>>>;

/// Starts `serve` on a free port; returns it with its address once it listens.
fn start_server(config: &Path, db: &Path, users: &Path, log: &Log) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--users")
        .arg(users)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let log = Arc::clone(log);
    // Drains stderr for the whole life of the process, so that it never blocks on a pipe.
    std::thread::spawn(move || {
        let mut last = VecDeque::new();
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listening on http://").nth(1)
                && let Some(tx) = tx.take()
            {
                let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(Ok(addr));
            }
            let lower = line.to_lowercase();
            if lower.contains("error") || lower.contains("warn") || lower.contains("panick") {
                let mut log = log.lock().unwrap();
                if log.len() < 200 {
                    log.push(line.clone());
                }
            }
            last.push_back(line);
            if last.len() > 30 {
                last.pop_front();
            }
        }
        if let Some(tx) = tx {
            let _ = tx.send(Err(Vec::from(last).join("\n")));
        }
    });
    match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(Ok(addr)) => (child, addr),
        Ok(Err(stderr)) => {
            let status = child.wait();
            panic!("the server ended before listening ({status:?}):\n{stderr}")
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not report its address within 180 s")
        }
    }
}

/// The shared view of the run.
#[derive(Default)]
struct Shared {
    /// Where the server listens, while it is up.
    addr: Mutex<Option<String>>,
    stop: AtomicBool,
    /// (case id, session id) of every 200 answer with a `reviewCaseId`.
    acknowledged: Mutex<Vec<(i64, String)>>,
    /// Requests cut by a kill (transport error or a body that did not arrive).
    cut: AtomicU64,
    /// Answers that were not 200 with a case: status and body, first few kept.
    unexpected: Mutex<Vec<String>>,
    unexpected_count: AtomicU64,
    /// (case id, decision id, verdict) of every decision `Store::decide` returned Ok for.
    decisions: Mutex<Vec<(i64, i64, Verdict)>>,
    console_errors: Mutex<Vec<String>>,
    /// Cases `queue import` said it filed.
    cli_filed: AtomicU64,
    cli_runs: AtomicU64,
    cli_failures: Mutex<Vec<String>>,
    /// Case id -> (origin, session id) as `queue export` showed it (committed rows).
    exported: Mutex<HashMap<i64, (String, String)>>,
    exports: AtomicU64,
    /// Contradictions found while running (one id, two sessions).
    conflicts: Mutex<Vec<String>>,
}

fn keep(list: &Mutex<Vec<String>>, item: String) {
    let mut list = list.lock().unwrap();
    if list.len() < 20 {
        list.push(item);
    }
}

fn api_client(shared: &Shared, thread: usize, bodies: &[(String, String)]) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let auth = basic();
    let mut n = 0usize;
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(addr) = shared.addr.lock().unwrap().clone() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        n += 1;
        // A fresh session id per request: a retried request is a new check.
        let session = format!("api-{}-{thread}-{n}", std::process::id());
        let (prefix, suffix) = &bodies[(thread + n) % bodies.len()];
        let body = format!("{prefix}{session}{suffix}");
        let sent = agent
            .post(format!("http://{addr}/api/v1/document/liveness"))
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(body.as_bytes());
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(_) => {
                // Cut by a kill or refused while the server restarts: not acknowledged.
                shared.cut.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let status = resp.status().as_u16();
        let Ok(text) = resp.body_mut().read_to_string() else {
            shared.cut.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        match (status, answer["reviewCaseId"].as_i64()) {
            (200, Some(id)) => {
                if answer["sessionId"] != session.as_str() {
                    keep(
                        &shared.conflicts,
                        format!("case {id}: asked as {session}, answered {answer}"),
                    );
                }
                shared.acknowledged.lock().unwrap().push((id, session));
            }
            _ => {
                shared.unexpected_count.fetch_add(1, Ordering::Relaxed);
                let mut short = answer.to_string();
                short.truncate(300);
                keep(&shared.unexpected, format!("{status}: {short}"));
            }
        }
    }
}

fn run_cli(args: &[&str], config: &Path, db: &Path) -> std::process::Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("queue")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs")
}

fn cli_loop(shared: &Shared, config: &Path, db: &Path, photo: &Path) {
    let photo = photo.to_str().unwrap();
    let mut round = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        round += 1;
        let mut commands = vec![vec!["stats"], vec!["export", "--format", "jsonl"]];
        if round % 3 == 1 {
            commands.push(vec!["import", "--all", photo]);
        }
        for args in commands {
            let out = run_cli(&args, config, db);
            shared.cli_runs.fetch_add(1, Ordering::Relaxed);
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                keep(
                    &shared.cli_failures,
                    format!(
                        "queue {}: {}: {}",
                        args[0],
                        out.status,
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                );
            }
            match args[0] {
                "import" => {
                    // "1 images analysed, 1 filed as cases in …": printed after the
                    // commits, whether or not the command then fails.
                    let filed = stdout
                        .lines()
                        .filter_map(|l| l.split(" filed as cases").next())
                        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                        .next();
                    match filed {
                        Some(n) => {
                            shared.cli_filed.fetch_add(n, Ordering::Relaxed);
                        }
                        None => keep(
                            &shared.cli_failures,
                            format!("queue import said no count: {stdout:?}"),
                        ),
                    }
                }
                "export" => {
                    shared.exports.fetch_add(1, Ordering::Relaxed);
                    let mut seen = shared.exported.lock().unwrap();
                    for line in stdout.lines() {
                        let Ok(v) = serde_json::from_str::<Value>(line) else {
                            continue;
                        };
                        let (Some(id), Some(origin), Some(session)) = (
                            v["id"].as_i64(),
                            v["origin"].as_str(),
                            v["sessionId"].as_str(),
                        ) else {
                            continue;
                        };
                        let now = (origin.to_string(), session.to_string());
                        if let Some(before) = seen.get(&id)
                            && *before != now
                        {
                            keep(
                                &shared.conflicts,
                                format!("case {id}: exported as {before:?}, later as {now:?}"),
                            );
                        }
                        seen.insert(id, now);
                    }
                }
                _ => {}
            }
            if shared.stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
}

fn console_loop(shared: &Shared, db: &Path) {
    let mut store: Option<Store> = None;
    let mut round = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        round += 1;
        // Reviewers start and close the console: most rounds open a fresh connection and
        // close it after, leaving gaps in which only the server and the CLI have the
        // database open. The gaps are what made the lost-WAL bug visible.
        if !round.is_multiple_of(4) {
            store = None;
        }
        if store.is_none() {
            match Store::open(db) {
                Ok(s) => store = Some(s),
                Err(e) => {
                    keep(&shared.console_errors, format!("open: {e}"));
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            }
        }
        let s = store.as_mut().unwrap();
        let open = match s.list(&CaseFilter::default(), SortOrder::OldestFirst, 4, 0) {
            Ok(page) => page,
            Err(e) => {
                keep(&shared.console_errors, format!("list: {e}"));
                Vec::new()
            }
        };
        for case in open {
            if let Err(e) = s.claim(case.id, REVIEWER, Duration::from_secs(600)) {
                keep(&shared.console_errors, format!("claim {}: {e}", case.id));
                continue;
            }
            let decision = if case.id % 2 == 0 {
                NewDecision {
                    reviewer: REVIEWER.into(),
                    verdict: Some(Verdict::Genuine),
                    ..NewDecision::default()
                }
            } else {
                NewDecision {
                    reviewer: REVIEWER.into(),
                    verdict: Some(Verdict::Attack),
                    attack_type: Some(AttackType::Screen),
                    resubmit_reason: None,
                    note: Some(format!("decided under load, round {round}")),
                    ..NewDecision::default()
                }
            };
            match s.decide(case.id, &decision, Some(None)) {
                Ok(record) => shared.decisions.lock().unwrap().push((
                    case.id,
                    record.id,
                    decision.verdict.unwrap(),
                )),
                Err(e) => keep(&shared.console_errors, format!("decide {}: {e}", case.id)),
            }
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// A small xorshift for the kill intervals.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn kills_under_load_lose_no_acknowledged_case() {
    let run_for = duration();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_toml()).unwrap();
    let users = dir.path().join("users");
    let mut add = Command::new(BIN)
        .args(["users", "add", USER, "--password-stdin", "--users"])
        .arg(&users)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "users add: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let photos = scored_photos(&config);
    let cli_photo = dir.path().join("cli-photo.jpg");
    std::fs::write(&cli_photo, &photos[0]).unwrap();
    // Each body split around its session id, so the Base64 is made once.
    let bodies: Vec<(String, String)> = photos
        .iter()
        .map(|p| {
            let b = json!({
                "frontSideImageBase": base64::engine::general_purpose::STANDARD.encode(p),
                "sessionId": "@@SESSION@@",
            })
            .to_string();
            let (a, z) = b.split_once("@@SESSION@@").unwrap();
            (a.to_string(), z.to_string())
        })
        .collect();

    let log: Log = Arc::default();
    let shared = Arc::new(Shared::default());
    let (mut server, addr) = start_server(&config, &db, &users, &log);
    *shared.addr.lock().unwrap() = Some(addr);

    let began = Instant::now();
    let mut workers = Vec::new();
    for thread in 0..API_CLIENTS {
        let (shared, bodies) = (Arc::clone(&shared), bodies.clone());
        workers.push(std::thread::spawn(move || {
            api_client(&shared, thread, &bodies)
        }));
    }
    {
        let (shared, config, db, photo) = (
            Arc::clone(&shared),
            config.clone(),
            db.clone(),
            cli_photo.clone(),
        );
        workers.push(std::thread::spawn(move || {
            cli_loop(&shared, &config, &db, &photo)
        }));
    }
    {
        let (shared, db) = (Arc::clone(&shared), db.clone());
        workers.push(std::thread::spawn(move || console_loop(&shared, &db)));
    }

    let mut kills = 0u32;
    let mut rng = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    loop {
        let interval = Duration::from_millis(4000 + next(&mut rng) % 2001);
        let left = run_for.saturating_sub(began.elapsed());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(interval.min(left));
        if began.elapsed() >= run_for {
            break;
        }
        *shared.addr.lock().unwrap() = None;
        // SIGKILL: no destructors, no checkpoint, requests in flight cut.
        server.kill().unwrap();
        server.wait().unwrap();
        kills += 1;
        let (s, addr) = start_server(&config, &db, &users, &log);
        server = s;
        *shared.addr.lock().unwrap() = Some(addr);
    }
    shared.stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("a load thread panicked");
    }
    let ran = began.elapsed();
    // The last life ends like the others: whatever was acknowledged must be on disk.
    server.kill().unwrap();
    server.wait().unwrap();
    kills += 1;

    let mut problems: Vec<String> = shared.conflicts.lock().unwrap().clone();
    let integrity: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    if integrity != "ok" {
        problems.push(format!("integrity_check: {integrity}"));
    }
    let store = Store::open(&db).expect("the database opens after the last kill");

    let acknowledged = shared.acknowledged.lock().unwrap().clone();
    let mut by_id: HashMap<i64, String> = HashMap::new();
    for (id, session) in &acknowledged {
        if let Some(other) = by_id.insert(*id, session.clone())
            && other != *session
        {
            problems.push(format!(
                "case {id} was acknowledged to two sessions: {other} and {session}"
            ));
        }
    }
    let mut present = 0usize;
    for (id, session) in &acknowledged {
        match store.case(*id) {
            Ok(case) if case.session_id == *session && case.origin == Origin::Api => present += 1,
            Ok(case) => problems.push(format!(
                "acknowledged case {id} ({session}) is now {:?} session {}",
                case.origin, case.session_id
            )),
            Err(e) => problems.push(format!("acknowledged case {id} ({session}) lost: {e}")),
        }
    }
    let decisions = shared.decisions.lock().unwrap().clone();
    let mut decisions_present = 0usize;
    for (case_id, decision_id, verdict) in &decisions {
        match store.case(*case_id) {
            Ok(case) if case.decision_id == Some(*decision_id) && case.verdict == Some(*verdict) => {
                decisions_present += 1
            }
            Ok(case) => problems.push(format!(
                "decision {decision_id} ({verdict:?}) on case {case_id} not in force: case has decision {:?} verdict {:?}",
                case.decision_id, case.verdict
            )),
            Err(e) => problems.push(format!(
                "decision {decision_id} on case {case_id} lost with its case: {e}"
            )),
        }
    }
    let exported = shared.exported.lock().unwrap().clone();
    for (id, (origin, session)) in &exported {
        match store.case(*id) {
            Ok(case) if case.origin.as_str() == origin && case.session_id == *session => {}
            Ok(case) => problems.push(format!(
                "case {id} exported as {origin} {session} is now {} {}",
                case.origin.as_str(),
                case.session_id
            )),
            Err(e) => problems.push(format!("case {id} seen by an export is lost: {e}")),
        }
    }
    let count = |origin: Option<Origin>| {
        store
            .count(&CaseFilter {
                status: Status::All,
                origin,
                ..CaseFilter::default()
            })
            .unwrap()
    };
    let (cases, api_cases, cli_cases) = (
        count(None),
        count(Some(Origin::Api)),
        count(Some(Origin::Cli)),
    );
    let cli_filed = shared.cli_filed.load(Ordering::Relaxed);
    let distinct_acks = by_id.len() as u64;
    if api_cases < distinct_acks {
        problems.push(format!(
            "{api_cases} API cases for {distinct_acks} acknowledged"
        ));
    }
    if cli_cases < cli_filed {
        problems.push(format!("{cli_cases} CLI cases for {cli_filed} filed"));
    }
    if cases < distinct_acks + cli_filed {
        problems.push(format!(
            "{cases} cases for {distinct_acks} acknowledged + {cli_filed} CLI filed"
        ));
    }
    // Every session id belongs to at most one case.
    let sessions: Vec<(String, i64)> = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT session_id, COUNT(*) FROM cases GROUP BY session_id HAVING COUNT(*) > 1",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    for (session, n) in sessions {
        problems.push(format!("session {session} has {n} cases"));
    }

    let console_errors = shared.console_errors.lock().unwrap().clone();
    let cli_failures = shared.cli_failures.lock().unwrap().clone();
    let unexpected = shared.unexpected.lock().unwrap().clone();
    let server_log = log.lock().unwrap().clone();
    println!(
        "kill_under_load: acknowledged API cases {}, present {present}, CLI filed {cli_filed}, \
         decisions {} (in force {decisions_present}), kills {kills}, duration {:.1} s; \
         cases in db {cases} (api {api_cases}, cli {cli_cases}), requests cut {}, other answers {}, \
         CLI runs {} ({} failed), exports {} ({} ids seen), console errors {}, server log lines {}",
        acknowledged.len(),
        decisions.len(),
        ran.as_secs_f64(),
        shared.cut.load(Ordering::Relaxed),
        shared.unexpected_count.load(Ordering::Relaxed),
        shared.cli_runs.load(Ordering::Relaxed),
        cli_failures.len(),
        shared.exports.load(Ordering::Relaxed),
        exported.len(),
        console_errors.len(),
        server_log.len(),
    );
    for (what, list) in [
        ("other answer", &unexpected),
        ("CLI failure", &cli_failures),
        ("console error", &console_errors),
        ("server log", &server_log),
    ] {
        for item in list.iter().take(10) {
            println!("  {what}: {item}");
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "the API acknowledged no case: the load never ran"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
