//! `docliveness check`: one result per image, as JSON lines or a readable table.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::args::Framing;
use super::batch::analyse_all;
use super::progress::Progress;
use super::{CliError, refuse_missing};
use crate::engine::{Analysis, Engine, ErrorCode, LivenessStatus, Quad, Region, Side};
use crate::image_files::{display_escaped, expand, read_photo};
use crate::review::WarningSet;

/// One line of `check --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckRecord<'a> {
    path: String,
    session_id: String,
    has_error: bool,
    error: Option<ErrorCode>,
    error_detail: Option<String>,
    score: Option<f64>,
    decision: Option<crate::engine::Route>,
    attack_scores: Option<crate::engine::AttackScores>,
    /// The per-patch attack evidence behind the score, for analysts who want to see
    /// where on the document it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a crate::engine::EvidenceMap>,
    documents: Vec<DocumentRecord>,
    /// Blur, glare and exposure of the judged region, and the warnings they raised.
    quality: Option<&'a crate::engine::QualityMeasures>,
    warnings: &'a [crate::engine::QualityWarning],
    image: Option<ImageRecord>,
    portrait: &'a crate::engine::PortraitCheck,
    liveness: &'a LivenessStatus,
    detector: Option<&'a str>,
    backend: Option<&'a str>,
    model_version: Option<&'a str>,
    timings_ms: crate::engine::Timings,
}

#[derive(Debug, Serialize)]
struct DocumentRecord {
    quad: [[f64; 2]; 4],
    confidence: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageRecord {
    width: u32,
    height: u32,
    orientation: u8,
    jpeg_quality: Option<u8>,
}

/// Builds the JSON record of one analysed file.
pub fn record<'a>(path: &Path, a: &'a Analysis) -> CheckRecord<'a> {
    let round = |v: f64| (v * 10.0).round() / 10.0;
    CheckRecord {
        path: path.display().to_string(),
        session_id: uuid::Uuid::new_v4().to_string(),
        has_error: a.has_error(),
        error: a.error,
        error_detail: a.error.map(|e| {
            a.invalid_reason
                .clone()
                .unwrap_or_else(|| e.explanation().to_string())
        }),
        score: a.score,
        decision: a.decision,
        attack_scores: a.attack_scores,
        evidence: a.evidence.as_ref(),
        documents: a
            .documents
            .iter()
            .map(|d| DocumentRecord {
                quad: d.quad.0.map(|p| [round(p.x), round(p.y)]),
                confidence: (d.confidence * 1000.0).round() / 1000.0,
            })
            .collect(),
        quality: a.quality.as_ref(),
        warnings: &a.warnings,
        image: a.image.as_ref().map(|f| ImageRecord {
            width: f.width,
            height: f.height,
            orientation: f.orientation,
            jpeg_quality: f.jpeg_quality,
        }),
        portrait: &a.portrait,
        liveness: &a.liveness,
        detector: a.detector.as_deref(),
        backend: a.backend.as_deref(),
        model_version: a.model_version.as_deref(),
        timings_ms: a.timings_ms,
    }
}

/// Runs the command on one photo with the outline given on the command line.
pub fn run_with_outline(
    engine: &Engine,
    paths: &[PathBuf],
    framing: Framing,
    quad: Quad,
    json: bool,
) -> Result<(), CliError> {
    let [path] = paths else {
        return Err(CliError::Usage(
            "--quad outlines the document in one photo: give exactly one file".into(),
        ));
    };
    if framing.region == Region::Whole {
        return Err(CliError::Usage(
            "--quad judges the outlined document; it cannot go with --region whole".into(),
        ));
    }
    let bytes = read_photo(path, engine.config().image.max_file_bytes())
        .map_err(|e| CliError::Usage(format!("{}: {e}", display_escaped(path))))?;
    let analysis = engine.analyze_with_outline(&bytes, framing.side, quad);
    let mut out = std::io::stdout().lock();
    write_header(&mut out, json)
        .and_then(|()| write_row(&mut out, path, &analysis, json))
        .map_err(|e| CliError::Failure(format!("cannot write the result: {e}")))
}

/// The table's column names (nothing for JSON lines).
fn write_header(out: &mut impl Write, json: bool) -> std::io::Result<()> {
    if json {
        return Ok(());
    }
    writeln!(
        out,
        "{:<40} {:<30} {:>6} {:>5} {:>11} {:>4} {:>7}",
        "FILE", "RESULT", "SCORE", "DOCS", "SIZE", "JPEG", "MS"
    )
}

/// One photo's line: a JSON object, or a table row.
fn write_row(out: &mut impl Write, path: &Path, a: &Analysis, json: bool) -> std::io::Result<()> {
    if json {
        let line = serde_json::to_string(&record(path, a)).map_err(std::io::Error::other)?;
        writeln!(out, "{line}")
    } else {
        writeln!(out, "{}", table_row(path, a))
    }
}

/// Runs the command.
pub fn run(
    engine: &Engine,
    paths: &[PathBuf],
    side: Side,
    region: Region,
    json: bool,
) -> Result<(), CliError> {
    let files = expand(paths);
    if files.is_empty() {
        return Err(CliError::Usage(
            "no JPEG or PNG files found in the given paths".into(),
        ));
    }
    let mut out = std::io::stdout().lock();
    let mut progress = Progress::new(files.len());
    let mut write_error = None;
    let mut no_model = false;
    let _ = write_header(&mut out, json);
    analyse_all(engine, &files, side, region, |_, path, analysis| {
        progress.tick();
        no_model |= analysis.liveness == LivenessStatus::NoModel;
        if let Err(e) = write_row(&mut out, path, &analysis, json) {
            write_error.get_or_insert(e);
        }
    });
    if let Some(e) = write_error {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(CliError::Failure(format!("cannot write results: {e}")));
        }
    }
    if no_model {
        eprintln!(
            "note: no liveness model is installed (expected {}), so no score was given; \
             image and document checks were done.",
            engine
                .config()
                .models
                .resolved_dir()
                .join("liveness/manifest.json")
                .display()
        );
    }
    // Every named file has its row; a path that names nothing still fails the run.
    refuse_missing(paths)
}

fn table_row(path: &Path, a: &Analysis) -> String {
    // One file, one line, whatever its name holds.
    let name = display_escaped(path);
    let name = if name.chars().count() > 40 {
        format!(
            "…{}",
            name.chars()
                .rev()
                .take(39)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
        )
    } else {
        name
    };
    let result = match (a.error, a.decision, &a.liveness) {
        (Some(code), _, _) => code.as_str().to_string(),
        (None, Some(route), _) => route.to_string(),
        (None, None, LivenessStatus::NoModel) => "ok (no liveness model)".to_string(),
        (None, None, LivenessStatus::Failed { .. }) => "model failed".to_string(),
        _ => "-".to_string(),
    };
    let score = a.score.map_or("-".to_string(), |s| format!("{s:.3}"));
    let size = a
        .image
        .as_ref()
        .map_or("-".to_string(), |f| format!("{}x{}", f.width, f.height));
    let quality = a
        .image
        .as_ref()
        .and_then(|f| f.jpeg_quality)
        .map_or("-".to_string(), |q| q.to_string());
    let row = format!(
        "{:<40} {:<30} {:>6} {:>5} {:>11} {:>4} {:>7.0}",
        name,
        result,
        score,
        a.documents.len(),
        size,
        quality,
        a.timings_ms.total
    );
    // A refused file says why (empty, truncated, too large…); the code alone cannot.
    let row = match &a.invalid_reason {
        Some(reason) if a.error.is_some() => format!("{row}  {reason}"),
        _ => row,
    };
    if a.warnings.is_empty() {
        return row;
    }
    format!("{row}  warnings: {}", WarningSet::of([a]).joined())
}
