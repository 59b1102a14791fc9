//! The store under real processes: two writers on one file, and a writer killed with
//! SIGKILL in the middle of a batch of decisions.
//!
//! The children are this same test binary started again with `DOCLIVENESS_CHILD` set; the
//! `child` test does the child's work then and nothing otherwise.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use docliveness::review::*;

const CHILD_ENV: &str = "DOCLIVENESS_CHILD";

fn spawn_child(role: &str, db: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .env("DOCLIVENESS_CHILD_DB", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The work of a child process, selected by `DOCLIVENESS_CHILD`.
#[test]
fn child() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = std::env::var("DOCLIVENESS_CHILD_DB").unwrap();
    let mut store = Store::open(Path::new(&db)).unwrap();
    match role.as_str() {
        // A console and an API filing and deciding cases at the same time.
        "console" | "api" => {
            let origin = if role == "console" {
                Origin::Console
            } else {
                Origin::Api
            };
            for i in 0..150 {
                let id = common::file(
                    &mut store,
                    origin,
                    format!("{role} image {i}").as_bytes(),
                    Some(0.3),
                    None,
                );
                if i % 3 == 0 {
                    store.claim(id, &role, Duration::from_secs(60)).unwrap();
                    let d = NewDecision {
                        reviewer: role.clone(),
                        verdict: Some(Verdict::Genuine),
                        ..NewDecision::default()
                    };
                    store.decide(id, &d, Some(None)).unwrap();
                }
            }
        }
        // Decide every open case, reporting each one only after its commit.
        "decider" => {
            let filter = CaseFilter::default();
            loop {
                let page = store.list(&filter, SortOrder::OldestFirst, 10, 0).unwrap();
                if page.is_empty() {
                    break;
                }
                for case in page {
                    let d = NewDecision {
                        reviewer: "killed".into(),
                        verdict: Some(Verdict::Attack),
                        attack_type: Some(AttackType::Print),
                        resubmit_reason: None,
                        note: Some("x".repeat(2000)),
                        ..NewDecision::default()
                    };
                    store.decide(case.id, &d, Some(None)).unwrap();
                    println!("committed {}", case.id);
                }
            }
        }
        // A server's two workers: two connections in one process. Files cases through
        // both, reporting each only after its commit, and waits on stdin between rounds
        // so that another process can open and close the database in between.
        "workers" => {
            let mut second = Store::open(Path::new(&db)).unwrap();
            let stores = [&mut store, &mut second];
            let mut stdin = std::io::stdin().lock();
            let mut line = String::new();
            for round in 0.. {
                line.clear();
                if stdin.read_line(&mut line).unwrap() == 0 || line.trim() == "stop" {
                    break;
                }
                let n: usize = line.trim().parse().unwrap();
                for i in 0..n {
                    let store = &mut *stores[i % 2];
                    let image = format!("round {round} image {i}");
                    let id = common::file(store, Origin::Api, image.as_bytes(), Some(0.3), None);
                    println!("committed {id}");
                }
                println!("round done");
            }
        }
        other => panic!("unknown child role {other}"),
    }
}

#[test]
fn two_processes_write_one_database_without_losing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    drop(Store::open(&db).unwrap());
    let children = [spawn_child("console", &db), spawn_child("api", &db)];
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed: {stderr}");
        assert!(!stderr.contains("locked"), "{stderr}");
    }
    let store = Store::open(&db).unwrap();
    let all = CaseFilter {
        status: Status::All,
        ..Default::default()
    };
    assert_eq!(store.count(&all).unwrap(), 300);
    for origin in [Origin::Console, Origin::Api] {
        assert_eq!(
            store
                .count(&CaseFilter {
                    origin: Some(origin),
                    ..all.clone()
                })
                .unwrap(),
            150
        );
        let decided = CaseFilter {
            status: Status::Decided,
            origin: Some(origin),
            ..Default::default()
        };
        assert_eq!(store.count(&decided).unwrap(), 50);
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn sigkill_mid_batch_keeps_every_committed_decision() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    {
        let mut store = Store::open(&db).unwrap();
        for i in 0..400 {
            common::file(
                &mut store,
                Origin::Api,
                format!("image {i}").as_bytes(),
                Some(0.3),
                None,
            );
        }
    }
    let mut child = spawn_child("decider", &db);
    let stdout = child.stdout.take().unwrap();
    let mut committed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("committed ") {
            committed.push(id.parse::<i64>().unwrap());
            if committed.len() == 60 {
                // `kill` is SIGKILL on Unix: no destructors, no clean close.
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(committed.len(), 60, "the child stopped before the kill");

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let store = Store::open(&db).unwrap();
    for id in &committed {
        let case = store.case(*id).unwrap();
        assert_eq!(
            case.verdict,
            Some(Verdict::Attack),
            "case {id} lost its committed decision"
        );
        assert_eq!(store.decisions(*id).unwrap().len(), 1);
    }
    // Nothing half-written: every decided case has exactly its one decision row.
    let decided = store
        .count(&CaseFilter {
            status: Status::Decided,
            ..Default::default()
        })
        .unwrap();
    assert!((60..400).contains(&decided), "{decided}");
    let rows: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM decisions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as u64, decided);
}

/// The inode of `path`, or `None` when there is no such file.
fn inode(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// Reads committed case ids from a `workers` child until its round ends.
fn round(
    child_in: &mut std::process::ChildStdin,
    child_out: &mut impl BufRead,
    n: usize,
) -> Vec<i64> {
    writeln!(child_in, "{n}").unwrap();
    child_in.flush().unwrap();
    let mut ids = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            child_out.read_line(&mut line).unwrap() > 0,
            "the child ended early"
        );
        if line.trim() == "round done" {
            return ids;
        }
        // With --nocapture the harness's "test child ... " shares the first line.
        if let Some((_, id)) = line.trim().split_once("committed ") {
            ids.push(id.parse().unwrap());
        }
    }
}

/// A process with two connections (a server's two workers), another process that opens
/// and closes the database (`queue stats`, the console, the sqlite3 shell), more writes,
/// then SIGKILL: every acknowledged case is there, and the WAL file the workers were
/// writing into was never deleted under them. Before the fix, the second connection's
/// open read the file's header through a plain file handle, whose close dropped the
/// process's SQLite locks; the other process then took itself for the last user and
/// deleted the WAL.
#[test]
fn another_process_opening_the_database_loses_no_acknowledged_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.db");
    let wal = dir.path().join("review.db-wal");
    drop(Store::open(&db).unwrap());
    let mut child = spawn_child("workers", &db);
    let mut child_in = child.stdin.take().unwrap();
    let mut child_out = BufReader::new(child.stdout.take().unwrap());
    let mut acknowledged = round(&mut child_in, &mut child_out, 2);
    let wal_inode = inode(&wal).expect("the workers write through a WAL");

    for other in 0..3 {
        // The real command line, as a reviewer would run it beside the server.
        let out = Command::new(env!("CARGO_BIN_EXE_docliveness"))
            .args(["queue", "--db"])
            .arg(&db)
            .arg("stats")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // And a plain second SQLite client opening and closing it.
        drop(rusqlite::Connection::open(&db).unwrap());
        assert_eq!(
            inode(&wal),
            Some(wal_inode),
            "round {other}: the WAL in use was deleted by another process"
        );
        acknowledged.extend(round(&mut child_in, &mut child_out, 5));
    }
    // No destructors, no checkpoint: what is on disk now is all there is.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(acknowledged.len(), 17);

    let store = Store::open(&db).unwrap();
    let present = store
        .count(&CaseFilter {
            status: Status::All,
            ..Default::default()
        })
        .unwrap();
    for id in &acknowledged {
        assert!(store.case(*id).is_ok(), "acknowledged case {id} was lost");
    }
    assert_eq!(present, 17, "acknowledged 17, present {present}");
    drop(store);
    let check: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
