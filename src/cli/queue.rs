//! `docliveness queue …`: filing analysed folders, exporting cases, analyst statistics.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::args::Framing;
use super::batch::analyse_all_keeping;
use super::progress::Progress;
use super::{CliError, refuse_missing};
use crate::config::Thresholds;
use crate::engine::{Analysis, Engine, Route};
use crate::image_files::expand;
use crate::review::images::ImageStore;
use crate::review::{CaseFilter, NewCase, NewSide, Origin, SortOrder, Statistics, Status, Store};

/// Queue commands.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Analyse a folder and file the review-band results as cases.
    Import {
        /// Folder (or files) of photos.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// File every analysed image, not only the review band.
        #[arg(long)]
        all: bool,
        /// Which side, and what part of the photo is judged.
        #[command(flatten)]
        framing: Framing,
    },
    /// Write cases with their decision in force.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Output file (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Which cases.
        #[arg(long, default_value = "all", value_parser = super::args::status_words())]
        status: Status,
    },
    /// Retention: delete the images of cases decided more than DAYS days ago (decisions
    /// and analyses stay; images still used by other cases stay).
    Purge {
        /// Age in days of the decisions whose images go.
        #[arg(long, value_name = "DAYS")]
        days: u32,
    },
    /// Refit the score's scale on this database's decided cases and place its bands on
    /// them, judged on a held-back share they never saw; refused with too few cases, when
    /// the evidence predicts their verdicts no better than chance, or when it routes them
    /// no better than the scale in force.
    /// --apply installs it as an overlay beside the liveness model (recorded in every
    /// analysis's model version).
    Adapt {
        /// Install the refit (default: only report what it would do).
        #[arg(long)]
        apply: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Analyst statistics: verdicts, reviewer throughput, scores, route against verdict.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Fail threshold for the route-against-verdict table (default: configured).
        #[arg(long)]
        fail_below: Option<f64>,
        /// Pass threshold for the route-against-verdict table (default: configured).
        #[arg(long)]
        pass_from: Option<f64>,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

fn open(db: &Path) -> Result<Store, CliError> {
    Store::open(db).map_err(|e| CliError::Failure(e.to_string()))
}

/// For commands that must not create or upgrade anything: stats, export, purge.
fn open_existing(db: &Path) -> Result<Store, CliError> {
    Store::open_existing(db).map_err(|e| CliError::Failure(e.to_string()))
}

/// Refuses an export target that is the database, its journal files or its image folder:
/// truncating it would destroy the queue, and even opening it outside SQLite would drop
/// the locks of this process's connection.
fn refuse_own_files(out: &Path, db: &Path) -> Result<(), CliError> {
    let db = resolved(db);
    let target = resolved(out);
    let journal = |suffix: &str| {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    let own = target == db
        || ["-wal", "-shm", "-journal"]
            .iter()
            .any(|suffix| target == journal(suffix))
        || target.starts_with(ImageStore::beside(&db).root());
    if own {
        return Err(CliError::Usage(format!(
            "--out {} is the review database or one of its files; choose another path",
            out.display()
        )));
    }
    Ok(())
}

/// `path` made absolute with links resolved as far as it exists, so that two spellings
/// of one file compare equal.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.canonicalize().unwrap_or_else(|_| parent.to_owned());
    path.file_name().map_or(dir.clone(), |name| dir.join(name))
}

fn failure(e: impl std::fmt::Display) -> CliError {
    CliError::Failure(e.to_string())
}

/// Runs a queue command against the database at `db`.
pub fn run(
    command: QueueCommand,
    db: &Path,
    engine: impl FnOnce() -> Result<Engine, CliError>,
    thresholds: Thresholds,
) -> Result<(), CliError> {
    match command {
        QueueCommand::Import {
            paths,
            all,
            framing: Framing { side, region },
        } => {
            refuse_missing(&paths)?;
            let files = expand(&paths);
            if files.is_empty() {
                return Err(CliError::Usage(
                    "no JPEG or PNG files found in the given paths".into(),
                ));
            }
            let mut store = open(db)?;
            let engine = engine()?;
            let (mut analysed, mut filed, mut errors) = (0usize, Vec::new(), Vec::new());
            let mut progress = Progress::new(files.len());
            let filed_here = |a: &Analysis| all || a.decision == Some(Route::Review);
            let sink = |_, path: &Path, analysis: Analysis, bytes: Option<Vec<u8>>| {
                progress.tick();
                analysed += 1;
                if !filed_here(&analysis) {
                    return;
                }
                // An unreadable file was analysed as IMAGE_INVALID and has no bytes.
                let Some(bytes) = bytes else {
                    errors.push(format!(
                        "{}: {}",
                        path.display(),
                        analysis
                            .invalid_reason
                            .as_deref()
                            .unwrap_or("the file could not be read")
                    ));
                    return;
                };
                let case = NewCase {
                    origin: Origin::Cli,
                    session_id: uuid::Uuid::new_v4().to_string(),
                    sides: vec![NewSide {
                        side,
                        image: &bytes,
                        analysis: &analysis,
                    }],
                    outcome: engine.outcome([&analysis]),
                    source: Some(path.display().to_string()),
                };
                match store.file_case(&case) {
                    Ok(id) => filed.push(id),
                    Err(e) => errors.push(format!("{}: {e}", path.display())),
                }
            };
            analyse_all_keeping(&engine, &files, side, region, filed_here, sink);
            println!(
                "{analysed} images analysed, {} filed as cases in {}",
                filed.len(),
                db.display()
            );
            if !all && engine.model_version().is_none() {
                println!(
                    "no liveness model is installed, so no image has a review-band score; use --all to file every image"
                );
            }
            for e in &errors {
                eprintln!("error: {e}");
            }
            if errors.is_empty() {
                Ok(())
            } else {
                Err(CliError::Failure(format!(
                    "{} images could not be filed",
                    errors.len()
                )))
            }
        }
        QueueCommand::Export {
            format,
            out,
            status,
        } => {
            if let Some(path) = &out {
                refuse_own_files(path, db)?;
            }
            let store = open_existing(db)?;
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(failure)?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let n = export(&store, status, format, &mut sink)?;
            sink.flush().map_err(failure)?;
            if out.is_some() {
                eprintln!("{n} cases written");
            }
            Ok(())
        }
        QueueCommand::Purge { days } => {
            let mut store = open_existing(db)?;
            let report = store.purge_images(days, "cli").map_err(failure)?;
            println!(
                "{} images removed ({} sides marked purged); decisions and analyses are kept",
                report.images_removed, report.sides_marked
            );
            Ok(())
        }
        QueueCommand::Adapt { apply, json } => {
            let store = open_existing(db)?;
            let engine = engine()?;
            super::adapt::run(&store, &engine, &thresholds, apply, json)
        }
        QueueCommand::Stats {
            json,
            fail_below,
            pass_from,
        } => {
            let store = open_existing(db)?;
            let t = Thresholds {
                fail_below: fail_below.unwrap_or(thresholds.fail_below),
                pass_from: pass_from.unwrap_or(thresholds.pass_from),
            };
            t.validate().map_err(|e| CliError::Usage(e.to_string()))?;
            let stats = store
                .statistics(
                    &CaseFilter {
                        status: Status::All,
                        ..CaseFilter::default()
                    },
                    t,
                )
                .map_err(failure)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats).map_err(failure)?);
            } else {
                print!("{}", render_stats(&stats));
            }
            Ok(())
        }
    }
}

const EXPORT_PAGE: u32 = 1000;

/// Writes every case with `status` and its decision in force; returns how many.
pub fn export(
    store: &Store,
    status: Status,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, CliError> {
    let filter = CaseFilter {
        status,
        ..CaseFilter::default()
    };
    if format == ExportFormat::Csv {
        writeln!(
            out,
            "id,origin,session_id,created_at,score,route,error_code,model_version,status,verdict,attack_type,decided_by,decided_at,reason,note,resubmit_reason,warnings,source"
        )
        .map_err(failure)?;
    }
    let mut offset = 0u64;
    let mut written = 0u64;
    loop {
        let page = store
            .list(&filter, SortOrder::OldestFirst, EXPORT_PAGE, offset)
            .map_err(failure)?;
        if page.is_empty() {
            break;
        }
        let ids: Vec<i64> = page.iter().filter_map(|c| c.decision_id).collect();
        let rows = store.decision_rows(&ids).map_err(failure)?;
        for case in &page {
            let decision = case
                .decision_id
                .and_then(|d| rows.iter().find(|r| r.id == d));
            let (reason, note) =
                decision.map_or((None, None), |d| (d.reason.clone(), d.note.clone()));
            match format {
                ExportFormat::Jsonl => {
                    let mut value = serde_json::to_value(case).map_err(failure)?;
                    value["status"] = if case.is_open() { "open" } else { "decided" }.into();
                    value["reason"] = reason.into();
                    value["note"] = note.into();
                    writeln!(out, "{value}").map_err(failure)?;
                }
                ExportFormat::Csv => {
                    let fields = [
                        case.id.to_string(),
                        case.origin.as_str().to_string(),
                        case.session_id.clone(),
                        case.created_at.clone(),
                        case.score.map(|s| format!("{s:.6}")).unwrap_or_default(),
                        case.route
                            .map(|r| r.as_str().to_string())
                            .unwrap_or_default(),
                        case.error_code
                            .map(|e| e.as_str().to_string())
                            .unwrap_or_default(),
                        case.model_version.clone().unwrap_or_default(),
                        if case.is_open() { "open" } else { "decided" }.to_string(),
                        case.verdict
                            .map(|v| v.as_str().to_string())
                            .unwrap_or_default(),
                        case.attack_type
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                        case.decided_by.clone().unwrap_or_default(),
                        case.decided_at.clone().unwrap_or_default(),
                        reason.unwrap_or_default(),
                        note.unwrap_or_default(),
                        case.resubmit_reason
                            .map(|r| r.as_str().to_string())
                            .unwrap_or_default(),
                        case.warnings
                            .as_ref()
                            .map(|w| w.joined())
                            .unwrap_or_default(),
                        case.source.clone().unwrap_or_default(),
                    ];
                    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                    writeln!(out, "{}", line.join(",")).map_err(failure)?;
                }
            }
            written += 1;
        }
        offset += u64::from(EXPORT_PAGE);
    }
    Ok(written)
}

/// Quotes a CSV field when it holds a separator, quote or line break; a leading
/// `= + - @` is prefixed with `'` so a spreadsheet does not run a reviewer's note as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn render_stats(s: &Statistics) -> String {
    let mut out = format!(
        "cases {}  open {}  decided {}\n",
        s.cases,
        s.open,
        s.cases - s.open
    );
    out.push_str("verdicts in force:\n");
    for (k, v) in &s.verdicts {
        out.push_str(&format!("  {k:<8} {v}\n"));
    }
    if !s.errors.is_empty() {
        out.push_str("error codes:\n");
        for (k, v) in &s.errors {
            out.push_str(&format!("  {k:<30} {v}\n"));
        }
    }
    out.push_str("reviewers:\n");
    for r in &s.reviewers {
        let rate = r.per_hour.map_or("-".to_string(), |p| format!("{p:.1}/h"));
        out.push_str(&format!(
            "  {:<20} {:>6} decisions {:>4} undos {:>9}  {} .. {}\n",
            r.reviewer, r.decisions, r.undos, rate, r.first_at, r.last_at
        ));
    }
    out.push_str("score histogram:\n");
    for (i, n) in s.histogram.iter().enumerate() {
        out.push_str(&format!(
            "  {:.1}-{:.1} {n}\n",
            i as f64 / 10.0,
            (i + 1) as f64 / 10.0
        ));
    }
    let c = &s.confusion;
    out.push_str(&format!(
        "decided cases routed at fail < {} <= review < {} <= pass (genuine / attack by reviewers):\n",
        c.thresholds.fail_below, c.thresholds.pass_from
    ));
    out.push_str(&format!(
        "  pass   {:>6} / {}\n  review {:>6} / {}\n  fail   {:>6} / {}\n",
        c.pass.genuine,
        c.pass.attack,
        c.review.genuine,
        c.review.attack,
        c.fail.genuine,
        c.fail.attack
    ));
    out.push_str(&format!(
        "  attacks that would pass automatically: {}\n",
        c.attacks_passed()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-0.5"), "-0.5");
    }
}
