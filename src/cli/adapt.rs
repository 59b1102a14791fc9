//! `docliveness queue adapt`: refit the score's scale on a database's decided cases and,
//! with `--apply`, install it as an overlay beside the liveness model.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::CliError;
use crate::adapt::{self, Figures, Refit, Settings};
use crate::config::Thresholds;
use crate::engine::Engine;
use crate::engine::overlay::{FitRecord, OVERLAY_FILE, Overlay};
use crate::review::Store;

/// Runs the refit and prints what it found; writes the overlay when `apply` is set.
pub fn run(
    store: &Store,
    engine: &Engine,
    thresholds: &Thresholds,
    apply: bool,
    json: bool,
) -> Result<(), CliError> {
    let model = engine.liveness_model().ok_or_else(|| {
        CliError::Usage("no liveness model is installed, so there is no score to refit".into())
    })?;
    let base = model.manifest().version.clone();
    let decided = store
        .decided_sides()
        .map_err(|e| CliError::Failure(e.to_string()))?;
    let gathered = adapt::gather(&decided, &base);
    let settings = Settings::default();
    let current = model.aggregation();
    let refit = adapt::refit(
        &gathered.samples,
        &current,
        model.has_view(),
        thresholds,
        &settings,
    );
    let skipped = format!(
        "{} decided photos scored by {base}; {} scored by another model and {} never scored were left out",
        gathered.samples.len(),
        gathered.other_model,
        gathered.unscored
    );
    let refit = match refit {
        Ok(r) => r,
        Err(e) => return Err(CliError::Failure(format!("{e}\n({skipped})"))),
    };
    let dir = engine.config().models.resolved_dir().join("liveness");
    let overlay = overlay_for(&refit, &base, store.path());
    if json {
        let report = serde_json::json!({
            "baseModel": base,
            "overlay": overlay.version,
            "aggregation": refit.aggregation,
            "fitted": {"genuine": refit.fitted.0, "attack": refit.fitted.1},
            "heldBack": {"before": refit.before, "after": refit.after},
            "leftOut": {"otherModel": gathered.other_model, "unscored": gathered.unscored},
            "applied": apply,
        });
        println!("{report}");
    } else {
        print!("{}", render(&refit, &skipped, thresholds));
    }
    if !apply {
        if !json {
            println!(
                "Nothing was changed. Run again with --apply to install it as {}.",
                dir.join(OVERLAY_FILE).display()
            );
        }
        return Ok(());
    }
    install(&dir, &overlay).map_err(|e| {
        CliError::Failure(format!(
            "cannot write the overlay in {}: {e}",
            dir.display()
        ))
    })?;
    if !json {
        println!(
            "Installed overlay {} in {}; analyses from now on record model version {base}+{}. \
             Running servers and consoles use it after a restart; delete the file to return to the shipped scale.",
            overlay.version,
            dir.join(OVERLAY_FILE).display(),
            overlay.version
        );
    }
    Ok(())
}

fn overlay_for(refit: &Refit, base: &str, db: &Path) -> Overlay {
    let created = chrono::Utc::now();
    let params = serde_json::to_string(&refit.aggregation).unwrap_or_default();
    let digest = Sha256::digest(format!("{base}\n{params}\n{}", db.display()).as_bytes());
    let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Overlay {
        version: format!("adapt-{}-{short}", created.format("%Y%m%dT%H%M%SZ")),
        base_model: base.to_string(),
        aggregation: refit.aggregation,
        created_at: created.to_rfc3339(),
        fit: FitRecord {
            database: db.display().to_string(),
            fitted_genuine: refit.fitted.0,
            fitted_attack: refit.fitted.1,
            held_back_genuine: refit.after.genuine,
            held_back_attack: refit.after.attack,
            held_back_loss_before: refit.before.loss,
            held_back_loss_after: refit.after.loss,
        },
    }
}

/// Writes the overlay atomically (a temporary sibling, flushed, renamed) so an engine
/// starting meanwhile reads the old one or the new one, never half; every overlay ever
/// applied is also kept under `overlays/` to roll back to.
fn install(dir: &Path, overlay: &Overlay) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(overlay).map_err(std::io::Error::other)? + "\n";
    let history = dir.join("overlays");
    std::fs::create_dir_all(&history)?;
    write_atomic(&history.join(format!("{}.json", overlay.version)), &text)?;
    write_atomic(&dir.join(OVERLAY_FILE), &text)
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(name);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::File::open(dir)?.sync_all()
}

fn render(refit: &Refit, skipped: &str, t: &Thresholds) -> String {
    let row = |name: &str, f: &Figures| {
        format!(
            "{name:<14} {:>8.4} {:>14} {:>13} {:>13} {:>16}\n",
            f.loss,
            format!("{}/{}", f.genuine_failed, f.genuine),
            format!("{}/{}", f.genuine_not_passed, f.genuine),
            format!("{}/{}", f.attack_passed, f.attack),
            format!("{}/{}", f.attack_not_failed, f.attack),
        )
    };
    let mut out = format!(
        "Refit on {} genuine and {} attack photos ({skipped}).\nHeld back, never fitted on: {} genuine, {} attack.\n\n",
        refit.fitted.0, refit.fitted.1, refit.after.genuine, refit.after.attack
    );
    out += &format!(
        "{:<14} {:>8} {:>14} {:>13} {:>13} {:>16}\n",
        "held back",
        "loss",
        format!("genuine <{}", t.fail_below),
        format!("genuine <{}", t.pass_from),
        format!("attack >={}", t.pass_from),
        format!("attack >={}", t.fail_below)
    );
    out += &row("scale in force", &refit.before);
    out += &row("refit", &refit.after);
    out
}
