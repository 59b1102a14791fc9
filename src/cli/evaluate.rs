//! `docliveness eval`: error rates on a labelled folder.

use std::path::{Path, PathBuf};

use super::CliError;
use super::batch::analyse_all;
use super::progress::Progress;
use crate::engine::{Engine, Region, Side};
use crate::eval::{EvalReport, Label, Sample, evaluate};
use crate::image_files::expand;

/// Lists the images of a labelled folder. Its entries must be the label folders
/// `genuine/`, `screen/`, `print/`, `digital/`; anything else (bar hidden files) is a
/// usage error, because a misspelt folder would silently drop a class from the rates.
pub fn labelled_files(dir: &Path) -> Result<Vec<(Label, PathBuf)>, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.starts_with('.') {
            continue;
        }
        let label = Label::from_folder(&name)
            .filter(|_| path.is_dir())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "unexpected entry {} in the labelled folder: only genuine/, screen/, print/ and digital/ are allowed",
                    path.display()
                ))
            })?;
        out.extend(
            expand(std::slice::from_ref(&path))
                .into_iter()
                .map(|p| (label, p)),
        );
    }
    if out.is_empty() {
        return Err(CliError::Usage(format!(
            "no images found under {}",
            dir.display()
        )));
    }
    Ok(out)
}

/// Runs the command.
pub fn run(
    engine: &Engine,
    labelled: &[(Label, PathBuf)],
    side: Side,
    region: Region,
    json: bool,
) -> Result<(), CliError> {
    let files: Vec<PathBuf> = labelled.iter().map(|(_, p)| p.clone()).collect();
    let mut samples = Vec::with_capacity(files.len());
    let mut progress = Progress::new(files.len());
    analyse_all(engine, &files, side, region, |i, _, a| {
        progress.tick();
        samples.push(Sample {
            label: labelled[i].0,
            score: a.score,
            error: a.error,
        });
    });
    let report = evaluate(&samples, engine.config().thresholds.fail_below);
    if json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failure(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", render(&report, engine.model_version().is_none()));
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{:.2}%", v * 100.0))
}

/// The human-readable report.
pub fn render(r: &EvalReport, no_model: bool) -> String {
    let mut s = String::new();
    s.push_str("images per label (scored / all):\n");
    for (label, n) in &r.images {
        s.push_str(&format!(
            "  {:<8} {:>6} / {}\n",
            label.folder(),
            r.scored.get(label).unwrap_or(&0),
            n
        ));
    }
    if no_model {
        s.push_str("no liveness model is installed: no scores, so no error rates.\n");
    } else {
        s.push_str(&format!(
            "at threshold {:.3} (accepted as live when score >= threshold):\n",
            r.threshold
        ));
        for attack in Label::ATTACKS {
            s.push_str(&format!(
                "  APCER {:<8} {}\n",
                attack.folder(),
                pct(r.apcer.get(&attack).copied())
            ));
        }
        // A worst case over some attack types only must say so, or an unscored type
        // reads as a perfect one.
        let unscored: Vec<&str> = Label::ATTACKS
            .iter()
            .filter(|a| r.images.get(a).is_some_and(|&n| n > 0) && !r.apcer.contains_key(a))
            .map(|a| a.folder())
            .collect();
        let caveat = if unscored.is_empty() {
            String::new()
        } else {
            format!(" (without {}: no image scored)", unscored.join(", "))
        };
        s.push_str(&format!(
            "  APCER worst    {}{caveat}\n  BPCER          {}\n",
            pct(r.apcer_max),
            pct(r.bpcer)
        ));
        match r.eer {
            Some((eer, t)) => s.push_str(&format!("EER {} at threshold {t:.3}\n", pct(Some(eer)))),
            None => s.push_str("EER n/a (needs scored genuine and attack images)\n"),
        }
        for p in &r.bpcer_at_apcer {
            s.push_str(&format!(
                "BPCER at APCER {:>4}: {} (threshold {:.3})\n",
                pct(Some(p.apcer_target)),
                pct(Some(p.bpcer)),
                p.threshold
            ));
        }
        s.push_str("score histogram (genuine / attack):\n");
        for b in &r.histogram {
            s.push_str(&format!(
                "  {:.1}-{:.1} {:>6} / {}\n",
                b.lo, b.hi, b.genuine, b.attack
            ));
        }
    }
    if r.errors.is_empty() {
        s.push_str("no error codes raised\n");
    } else {
        s.push_str("error codes:\n");
        for (label, codes) in &r.errors {
            for (code, n) in codes {
                s.push_str(&format!(
                    "  {:<8} {:<30} {n}\n",
                    label.folder(),
                    code.as_str()
                ));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worst_case_over_some_attack_types_names_the_unscored_ones() {
        let sample = |label, score| Sample {
            label,
            score,
            error: None,
        };
        let report = evaluate(
            &[
                sample(Label::Genuine, Some(0.9)),
                sample(Label::Print, Some(0.1)),
                sample(Label::Screen, None),
            ],
            0.25,
        );
        let text = render(&report, false);
        assert!(
            text.contains("APCER worst    0.00% (without screen: no image scored)"),
            "{text}"
        );
    }
}
