//! From a review database to an installed overlay: gather the decided photos, refit,
//! and write the overlay beside the model. The command line (`queue adapt`) and the
//! console's analyst view both go through here.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::{AdaptError, Figures, Refit, Settings, gather, placement, refit};
use docliveness_engine::Engine;
use docliveness_engine::Scale;
use docliveness_engine::config::Thresholds;
use docliveness_engine::{FitRecord, HeldBackRoutes, OVERLAY_FILE, Overlay};
use docliveness_review::{Store, StoreError};

/// The installed model a refit is for: taken from the engine on the caller's thread,
/// so that the work itself needs no engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The liveness model's own version (without any overlay).
    pub base_model: String,
    /// The scale in force (the overlay's rule and head, else the manifest's rule).
    pub current: Scale,
    /// Whether a whole-view model is installed.
    pub with_view: bool,
    /// The liveness model's folder, where the overlay goes.
    pub dir: PathBuf,
}

impl Target {
    /// The engine's liveness model as a target; `None` without one.
    pub fn of(engine: &Engine) -> Option<Target> {
        let model = engine.liveness_model()?;
        Some(Target {
            base_model: model.manifest().version.clone(),
            current: model.scale(),
            with_view: model.has_view(),
            dir: engine.config().models.resolved_dir().join("liveness"),
        })
    }
}

/// A refit ready to install.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The refit and its held-back figures.
    pub refit: Refit,
    /// The overlay it would install.
    pub overlay: Overlay,
    /// Decided photos used, scored by another model, and never scored.
    pub photos: (usize, usize, usize),
    /// Photos filed again in a later case, counted once (see `Gathered::repeated`).
    pub repeated: usize,
}

/// Why no refit is proposed.
#[derive(Debug, Error)]
pub enum ProposeError {
    /// The database could not be read.
    #[error("cannot read the decided cases: {0}")]
    Store(#[from] StoreError),
    /// The refit was refused.
    #[error(
        "{error} ({used} decided photos scored by {base}; {other_model} scored by another model and {unscored} never scored were left out; {repeated} filed again in a later case were counted once)"
    )]
    Refused {
        /// Why.
        error: Box<AdaptError>,
        /// The installed model.
        base: String,
        /// Photos used.
        used: usize,
        /// Photos scored by another model.
        other_model: usize,
        /// Photos never scored.
        unscored: usize,
        /// Photos filed again in a later case, counted once.
        repeated: usize,
    },
}

/// Refits on the decided cases of `store` for `target` (read only; nothing is written).
pub fn propose(
    store: &Store,
    target: &Target,
    thresholds: &Thresholds,
) -> Result<Proposal, ProposeError> {
    let gathered = gather(&store.decided_sides()?, &target.base_model);
    let photos = (
        gathered.samples.len(),
        gathered.other_model,
        gathered.unscored,
    );
    let settings = Settings::default();
    let refit = refit(
        &gathered.samples,
        target.current.clone(),
        target.with_view,
        thresholds,
        &settings,
    )
    .map_err(|error| ProposeError::Refused {
        error: Box::new(error),
        base: target.base_model.clone(),
        used: photos.0,
        other_model: photos.1,
        unscored: photos.2,
        repeated: gathered.repeated,
    })?;
    let overlay = overlay_for(
        &refit,
        &target.base_model,
        store.path(),
        thresholds,
        &settings,
    );
    Ok(Proposal {
        refit,
        overlay,
        photos,
        repeated: gathered.repeated,
    })
}

fn overlay_for(
    refit: &Refit,
    base: &str,
    db: &Path,
    thresholds: &Thresholds,
    settings: &Settings,
) -> Overlay {
    let created = chrono::Utc::now();
    let params = format!(
        "{}{}",
        serde_json::to_string(&refit.aggregation).unwrap_or_default(),
        serde_json::to_string(&refit.head).unwrap_or_default()
    );
    let digest = Sha256::digest(format!("{base}\n{params}\n{}", db.display()).as_bytes());
    let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Overlay {
        version: format!("adapt-{}-{short}", created.format("%Y%m%dT%H%M%SZ")),
        base_model: base.to_string(),
        aggregation: refit.aggregation,
        head: refit.head.clone(),
        created_at: created.to_rfc3339(),
        fit: FitRecord {
            database: db.display().to_string(),
            fitted_genuine: refit.fitted.0,
            fitted_attack: refit.fitted.1,
            held_back_genuine: refit.after.genuine,
            held_back_attack: refit.after.attack,
            held_back_loss_before: refit.before.loss,
            held_back_loss_after: refit.after.loss,
            placement: Some(placement::words(&refit.placement, refit.fitted, settings)),
            head: Some(refit.head_outcome.words()),
            held_back_routes_before: Some(routes(&refit.before)),
            held_back_routes_after: Some(routes(&refit.after)),
            fail_below: Some(thresholds.fail_below),
            pass_from: Some(thresholds.pass_from),
        },
    }
}

fn routes(f: &Figures) -> HeldBackRoutes {
    HeldBackRoutes {
        genuine_not_passed: f.genuine_not_passed,
        genuine_failed: f.genuine_failed,
        attack_passed: f.attack_passed,
        attack_not_failed: f.attack_not_failed,
    }
}

/// Where the overlay of the model in `dir` lives.
pub fn overlay_path(dir: &Path) -> PathBuf {
    dir.join(OVERLAY_FILE)
}

/// Writes the overlay into `dir` atomically (a temporary sibling, flushed, renamed), so
/// an engine starting meanwhile reads the old one or the new one, never half; every
/// overlay ever applied is also kept under `overlays/` to roll back to.
pub fn install(dir: &Path, overlay: &Overlay) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(overlay).map_err(std::io::Error::other)? + "\n";
    let history = dir.join("overlays");
    std::fs::create_dir_all(&history)?;
    write_atomic(&history.join(format!("{}.json", overlay.version)), &text)?;
    write_atomic(&overlay_path(dir), &text)
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
