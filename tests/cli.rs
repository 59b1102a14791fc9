//! The command line as a user runs it: real files, real process, exit codes.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use docliveness_synth::{passing_scene, render};

fn docliveness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docliveness"));
    // No liveness model: the tests must not depend on what is installed.
    cmd.arg("--models")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/no_models"));
    cmd.env_remove("ORT_DYLIB_PATH");
    cmd
}

/// The command exited 0; otherwise its stderr is the failure message.
fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd` to its end, or kills it after `limit` and fails: a command that hangs must
/// fail its test rather than stall the suite.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Drained alongside, so that a full pipe cannot stall the child.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// `docliveness` under a 2 GiB address-space limit, so that a regression which reads an
/// endless file fails at once instead of taking the machine's memory with it.
#[cfg(unix)]
fn docliveness_in_2gib(args: &[&std::ffi::OsStr]) -> Command {
    let inner = docliveness();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
        .arg(inner.get_program())
        .args(inner.get_args())
        .args(args);
    cmd.env_remove("ORT_DYLIB_PATH");
    cmd
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write_scene(dir: &Path, name: &str, seed: u64) {
    std::fs::write(
        dir.join(name),
        render(&passing_scene(seed, 1920, 1080)).jpeg,
    )
    .unwrap();
}

#[test]
fn check_json_reports_every_file_and_goes_on_after_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    write_scene(dir.path(), "a.jpg", 60);
    std::fs::write(dir.path().join("b.jpg"), b"").unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    write_scene(&dir.path().join("nested"), "c.JPG", 61);
    std::fs::write(dir.path().join("notes.txt"), b"not picked up from a folder").unwrap();

    let out = docliveness()
        .args(["check", "--json", "--side", "back"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let good = &lines[0];
    assert!(good["path"].as_str().unwrap().ends_with("a.jpg"));
    assert_eq!(good["hasError"], false);
    assert_eq!(good["error"], serde_json::Value::Null);
    assert_eq!(good["score"], serde_json::Value::Null);
    assert_eq!(good["decision"], serde_json::Value::Null);
    assert_eq!(good["liveness"]["status"], "noModel");
    // No model, no evidence: the field is left out rather than invented.
    assert!(good.get("evidence").is_none());
    assert_eq!(good["image"]["width"], 1920);
    assert_eq!(good["image"]["orientation"], 1);
    assert!(good["image"]["jpegQuality"].as_u64().unwrap() >= 70);
    assert_eq!(good["documents"].as_array().unwrap().len(), 1);
    assert_eq!(good["documents"][0]["quad"].as_array().unwrap().len(), 4);
    assert_eq!(good["sessionId"].as_str().unwrap().len(), 36);
    assert!(good["timingsMs"]["total"].as_f64().unwrap() > 0.0);

    let bad = &lines[1];
    assert!(bad["path"].as_str().unwrap().ends_with("b.jpg"));
    assert_eq!(bad["hasError"], true);
    assert_eq!(bad["error"], "IMAGE_INVALID");
    assert!(bad["errorDetail"].as_str().unwrap().contains("empty"));
    assert!(lines[2]["path"].as_str().unwrap().ends_with("c.JPG"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no liveness model"));
    // A well-lit, sharp scene: its measures are reported and nothing is raised.
    assert!(good["quality"]["blur"].as_f64().unwrap() < 0.5, "{good}");
    assert_eq!(good["warnings"], serde_json::json!([]));
}

#[test]
fn check_reports_glare_where_it_is_and_still_judges_the_photo() {
    let dir = tempfile::tempdir().unwrap();
    // A passing scene with a lamp's reflection blown out over its middle.
    let mut photo = image::load_from_memory(&render(&passing_scene(60, 1920, 1080)).jpeg)
        .unwrap()
        .to_rgb8();
    for y in 460..620 {
        for x in 840..1100 {
            photo.put_pixel(x, y, image::Rgb([255, 255, 255]));
        }
    }
    photo.save(dir.path().join("glare.png")).unwrap();
    let out = docliveness()
        .args(["check", "--json", "--region", "whole"])
        .arg(dir.path().join("glare.png"))
        .output()
        .unwrap();
    assert_success(&out);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["hasError"], false, "{line}");
    let warnings = line["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{line}");
    assert_eq!(warnings[0]["code"], "GLARE");
    let [x, y, w, h] = [0, 1, 2, 3].map(|i| warnings[0]["regions"][0][i].as_u64().unwrap());
    // The reported area is the reflection's, to within a cell (27 px here).
    assert!(x.abs_diff(840) <= 27 && y.abs_diff(460) <= 27, "{line}");
    assert!(
        (x + w).abs_diff(1100) <= 27 && (y + h).abs_diff(620) <= 27,
        "{line}"
    );
    // The table says so too.
    let out = docliveness()
        .args(["check", "--region", "whole"])
        .arg(dir.path().join("glare.png"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("warnings: GLARE"));
}

#[test]
fn check_table_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    write_scene(dir.path(), "a.jpg", 62);
    let out = docliveness()
        .arg("check")
        .arg(dir.path().join("a.jpg"))
        .arg(dir.path().join("missing.jpg"))
        .output()
        .unwrap();
    // Every file gets its row, but a typo must not pass for a finished batch.
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or folder"));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("FILE"));
    assert!(text.contains("ok (no liveness model)"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("missing.jpg")
            && l.contains("IMAGE_INVALID")
            && l.contains("cannot read file")),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_with_two() {
    let out = docliveness()
        .args(["check", "--side", "sideways", "x.jpg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = docliveness().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let empty = tempfile::tempdir().unwrap();
    let out = docliveness()
        .arg("check")
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no JPEG or PNG"));
}

#[test]
fn eval_refuses_unknown_folders_and_reports_counts() {
    let dir = tempfile::tempdir().unwrap();
    for label in ["genuine", "screen"] {
        std::fs::create_dir(dir.path().join(label)).unwrap();
    }
    write_scene(&dir.path().join("genuine"), "g.jpg", 63);
    std::fs::write(dir.path().join("screen/s.jpg"), b"garbage").unwrap();

    let out = docliveness()
        .args(["eval", "--json", "--side", "back"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["images"]["genuine"], 1);
    assert_eq!(report["images"]["screen"], 1);
    assert_eq!(report["errors"]["screen"]["IMAGE_INVALID"], 1);
    assert_eq!(report["bpcer"], serde_json::Value::Null);

    let out = docliveness()
        .args(["eval", "--side", "back"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no liveness model is installed"), "{text}");

    std::fs::create_dir(dir.path().join("scren")).unwrap();
    let out = docliveness().arg("eval").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scren"));
}

#[test]
fn logs_into_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    write_scene(dir.path(), "a.jpg", 64);
    let out = docliveness()
        .args(["-v", "check"])
        .arg(dir.path().join("a.jpg"))
        .output()
        .unwrap();
    assert_success(&out);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("INFO"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}

#[test]
fn bad_config_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[thresholds]\nfail_below = 0.9\npass_from = 0.5\n").unwrap();
    write_scene(dir.path(), "a.jpg", 64);
    let out = docliveness()
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("thresholds"));
}

#[test]
fn queue_import_export_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_scene(&photos, "a.jpg", 65);
    write_scene(&photos, "b.jpg", 66);
    std::fs::write(photos.join("broken.jpg"), b"\xFF\xD8 not really").unwrap();
    let db = dir.path().join("queue/review.db");

    // Without a model nothing is in the review band; the command says so.
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["import"])
        .arg(&photos)
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("3 images analysed, 0 filed"), "{text}");
    assert!(text.contains("--all"), "{text}");

    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["import", "--all", "--side", "back"])
        .arg(&photos)
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("3 images analysed, 3 filed")
    );

    let csv = dir.path().join("cases.csv");
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_success(&out);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("id,origin,session_id"));
    assert!(lines.iter().any(|l| l.contains("IMAGE_INVALID")));
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(",cli,") && l.contains(",open,"))
    );
    // Each case names the file it was read from, so the folder can be joined back.
    assert!(lines[0].ends_with(",source"), "{}", lines[0]);
    for name in ["a.jpg", "b.jpg", "broken.jpg"] {
        let path = photos.join(name).display().to_string();
        assert!(
            lines[1..].iter().any(|l| l.ends_with(&path)),
            "{name} not named: {text}"
        );
    }

    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["export", "--format", "jsonl"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["status"], "open");
    assert_eq!(rows[0]["origin"], "cli");
    assert!(
        rows.iter()
            .any(|r| r["source"] == photos.join("a.jpg").display().to_string()),
        "{rows:?}"
    );

    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["cases"], 3);
    assert_eq!(stats["open"], 3);
    assert_eq!(stats["errors"]["IMAGE_INVALID"], 1);
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["stats"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("cases 3  open 3")
    );

    // A resubmit verdict is exported with its reason and counted on its own.
    {
        use docliveness::review::{NewDecision, ResubmitReason, Store, Verdict};
        let mut store = Store::open(&db).unwrap();
        let resubmit = NewDecision {
            reviewer: "ana".into(),
            verdict: Some(Verdict::Resubmit),
            resubmit_reason: Some(ResubmitReason::Blurred),
            ..NewDecision::default()
        };
        store.decide(1, &resubmit, None).unwrap();
    }
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["export", "--format", "csv"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(",note,resubmit_reason,warnings,source")
    );
    assert!(
        text.lines().any(|l| l.starts_with("1,")
            && l.contains(",decided,resubmit,")
            && l.contains(",blurred,")),
        "{text}"
    );
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["verdicts"]["resubmit"], 1);

    // A file that is not a database is refused and left alone.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "keep me").unwrap();
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&notes)
        .arg("stats")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a docliveness review database"));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "keep me");
}

#[test]
fn eval_with_the_shipped_model_separates_the_fixture_captures() {
    // The default build's models (no --models): the held-out captures the training
    // pipeline made, laid out as `docliveness eval` expects.
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures");
    for label in ["genuine", "screen", "print"] {
        std::fs::create_dir(dir.path().join(label)).unwrap();
        std::fs::copy(
            fixtures.join(format!("{label}.jpg")),
            dir.path().join(label).join("capture.jpg"),
        )
        .unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_docliveness"))
        .args(["eval", "--json", "--side", "back"])
        .arg(dir.path())
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for label in ["genuine", "screen", "print"] {
        assert_eq!(report["scored"][label], 1, "{report}");
    }
    assert_eq!(report["bpcer"], 0.0, "{report}");
    assert_eq!(report["apcerMax"], 0.0, "{report}");
}

#[test]
fn check_json_carries_the_evidence_behind_the_score() {
    // The per-patch values are what the calibration fit reads and what an analyst maps;
    // the score is the manifest's rule applied to them.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/screen.jpg");
    let out = Command::new(env!("CARGO_BIN_EXE_docliveness"))
        .args(["check", "--json", "--side", "back"])
        .arg(&fixture)
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    assert_success(&out);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let evidence = &line["evidence"];
    assert_eq!(
        (evidence["columns"].as_u64(), evidence["rows"].as_u64()),
        (Some(4), Some(4))
    );
    let values = evidence["values"].as_array().unwrap();
    assert_eq!(values.len(), 16);
    assert!(
        values
            .iter()
            .all(|v| (0.0..=1.0).contains(&v.as_f64().unwrap()))
    );
    assert_eq!(evidence["corners"].as_array().unwrap().len(), 4);
    // A screen: the patches' attack evidence is high.
    let mean = values.iter().map(|v| v.as_f64().unwrap()).sum::<f64>() / 16.0;
    assert!(mean > 0.5, "{evidence}");
    // The whole view's live probability rides along, for the fit and for analysts.
    let view = evidence["view"]
        .as_f64()
        .expect("the whole view's probability");
    assert!(view < 0.5, "{evidence}");
}

#[cfg(unix)]
#[test]
fn special_files_named_directly_get_their_row_and_the_batch_ends() {
    // A named pipe used to hang the batch in open(); /dev/zero used to be read until
    // memory ran out (8.8 GB in 14 s).
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.jpg");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    write_scene(dir.path(), "after.jpg", 67);
    let zero = Path::new("/dev/zero");
    let after = dir.path().join("after.jpg");
    let out = output_within(
        docliveness_in_2gib(&[
            "check".as_ref(),
            "--json".as_ref(),
            fifo.as_os_str(),
            zero.as_os_str(),
            after.as_os_str(),
        ]),
        Duration::from_secs(60),
    );
    assert_success(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (line, what) in lines[..2].iter().zip(["named pipe", "a device"]) {
        assert_eq!(line["error"], "IMAGE_INVALID", "{line}");
        let detail = line["errorDetail"].as_str().unwrap();
        assert!(
            detail.contains(what) && detail.contains("not a regular file"),
            "{detail}"
        );
    }
    assert_eq!(lines[1]["path"], "/dev/zero");
    assert!(lines[2]["path"].as_str().unwrap().ends_with("after.jpg"));
    assert_eq!(lines[2]["hasError"], false, "{}", lines[2]);
}

#[cfg(unix)]
#[test]
fn an_oversize_file_is_refused_without_being_read() {
    // A 1 MP limit allows files of 4 MB of pixels plus 64 MiB; the sparse file claims
    // 200 MB and holds nothing, so reading it would show as memory, and take a while.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[image]\nmax_pixels = 1000000\n").unwrap();
    let big = dir.path().join("big.jpg");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(200_000_000)
        .unwrap();
    let out = output_within(
        docliveness_in_2gib(&[
            "--config".as_ref(),
            cfg.as_os_str(),
            "check".as_ref(),
            "--json".as_ref(),
            big.as_os_str(),
        ]),
        Duration::from_secs(60),
    );
    assert_success(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["error"], "IMAGE_INVALID");
    let detail = lines[0]["errorDetail"].as_str().unwrap();
    assert!(
        detail.contains("200000000 bytes") && detail.contains("not read"),
        "{detail}"
    );
}

#[cfg(unix)]
#[test]
fn a_newline_in_a_file_name_stays_in_its_table_row() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("two\nlines.jpg");
    std::fs::write(&odd, b"not a photo").unwrap();
    let out = output_within(
        {
            let mut cmd = docliveness();
            cmd.arg("check").arg(&odd);
            cmd
        },
        Duration::from_secs(60),
    );
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains("two\\nlines.jpg"), "{text}");
    assert!(lines[1].contains("IMAGE_INVALID"), "{text}");
    // JSON keeps the real name, escaped by JSON itself.
    let out = docliveness()
        .args(["check", "--json"])
        .arg(&odd)
        .output()
        .unwrap();
    let lines = json_lines(&out);
    assert!(
        lines[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("two\nlines.jpg")
    );
}

/// Reading commands never create or change anything, and an export never overwrites the
/// database it reads.
#[test]
fn queue_reading_commands_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/review.db");
    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["export", "--format", "jsonl"],
        &["purge", "--days", "30"],
    ] {
        let out = docliveness()
            .args(["queue", "--db"])
            .arg(&missing)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no review database"), "{args:?}: {stderr}");
        assert!(!dir.path().join("nowhere").exists(), "{args:?} created it");
    }

    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_scene(&photos, "a.jpg", 67);
    let db = dir.path().join("review.db");
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["import", "--all"])
        .arg(&photos)
        .output()
        .unwrap();
    assert_success(&out);
    let wal = dir.path().join("review.db-wal");
    let spelled_otherwise = dir.path().join("photos/../review.db");
    for target in [&db, &wal, &spelled_otherwise] {
        let before = std::fs::read(&db).unwrap();
        let out = docliveness()
            .args(["queue", "--db"])
            .arg(&db)
            .args(["export", "--out"])
            .arg(target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", target.display());
        assert_eq!(std::fs::read(&db).unwrap(), before);
    }
    let out = docliveness()
        .args(["queue", "--db"])
        .arg(&db)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert_success(&out);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["cases"], 1);
    // --db after the queue command, where people write it, names the same database.
    let out = docliveness()
        .args(["queue", "stats", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_success(&out);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["cases"], 1);
}

#[test]
fn check_with_a_given_outline_skips_the_detector() {
    let dir = tempfile::tempdir().unwrap();
    write_scene(dir.path(), "a.jpg", 65);
    let photo = dir.path().join("a.jpg");
    let out = docliveness()
        .args([
            "check",
            "--json",
            "--quad",
            "600,300,1300,300,1300,750,600,750",
        ])
        .arg(&photo)
        .output()
        .unwrap();
    assert_success(&out);
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["detector"], docliveness::engine::GIVEN_OUTLINE);
    assert_eq!(
        row["documents"][0]["quad"],
        serde_json::json!([
            [600.0, 300.0],
            [1300.0, 300.0],
            [1300.0, 750.0],
            [600.0, 750.0]
        ]),
        "{row}"
    );
    // A corner outside the photo is a cut-off document, judged as such.
    let out = docliveness()
        .args([
            "check",
            "--json",
            "--quad",
            "-200,300,700,300,700,750,-200,750",
        ])
        .arg(&photo)
        .output()
        .unwrap();
    assert_success(&out);
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["error"], "DOCUMENT_CROPPED", "{row}");
    // Refused with a clear word: a bow tie, a corner too few, two photos.
    for (quad, says) in [
        ("600,300,1300,750,1300,300,600,750", "convex"),
        ("600,300,1300,300,1300,750", "got 6"),
    ] {
        let out = docliveness()
            .args(["check", "--quad", quad])
            .arg(&photo)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(says));
    }
    let out = docliveness()
        .args(["check", "--quad", "600,300,1300,300,1300,750,600,750"])
        .arg(&photo)
        .arg(&photo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly one file"));
}

#[test]
fn without_a_display_the_bundled_samples_are_checked_from_any_folder() {
    // The installed binary run from a home folder, not the source tree.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_docliveness"))
        .current_dir(elsewhere.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("checking the bundled samples"), "{stderr}");
    assert!(stdout.contains("printed-copy.jpg"), "{stdout}");
}
