//! `docliveness queue adapt`: refit the score's scale on a database's decided cases and,
//! with `--apply`, install it as an overlay beside the liveness model.

use super::CliError;
use crate::adapt::Figures;
use crate::adapt::apply::{Proposal, ProposeError, Target, install, overlay_path, propose};
use crate::config::Thresholds;
use crate::engine::Engine;
use crate::review::Store;

/// Runs the refit and prints what it found; writes the overlay when `apply` is set.
pub fn run(
    store: &Store,
    engine: &Engine,
    thresholds: &Thresholds,
    apply: bool,
    json: bool,
) -> Result<(), CliError> {
    let target = Target::of(engine).ok_or_else(|| {
        CliError::Usage("no liveness model is installed, so there is no score to refit".into())
    })?;
    let proposal = propose(store, &target, thresholds).map_err(|e| match e {
        ProposeError::Refused { .. } => CliError::Refused(e.to_string()),
        ProposeError::Store(_) => CliError::Failure(e.to_string()),
    })?;
    let file = overlay_path(&target.dir);
    let overlay = &proposal.overlay;
    if json {
        let report = serde_json::json!({
            "baseModel": target.base_model,
            "overlay": overlay.version,
            "aggregation": proposal.refit.aggregation,
            "head": proposal.refit.head.is_some(),
            "headOutcome": proposal.overlay.fit.head,
            "leftWithoutFeatures": proposal.refit.without_features,
            "fitted": {"genuine": proposal.refit.fitted.0, "attack": proposal.refit.fitted.1},
            "placement": proposal.overlay.fit.placement,
            "heldBack": {"before": proposal.refit.before, "after": proposal.refit.after, "fitLoss": proposal.refit.fit_loss},
            "accepted": proposal.refit.why,
            "leftOut": {"otherModel": proposal.photos.1, "unscored": proposal.photos.2},
            "repeatedImages": proposal.repeated,
            "applied": apply,
        });
        println!("{report}");
    } else {
        print!("{}", render(&proposal, &target.base_model, thresholds));
    }
    if !apply {
        if !json {
            println!(
                "Nothing was changed. Run again with --apply to install it as {}.",
                file.display()
            );
        }
        return Ok(());
    }
    install(&target.dir, overlay).map_err(|e| {
        CliError::Failure(format!(
            "cannot write the overlay in {}: {e}",
            target.dir.display()
        ))
    })?;
    if !json {
        println!(
            "Installed overlay {} as {}; analyses from now on record model version {}+{}. \
             Running servers and consoles use it after a restart; delete the file to return to the shipped scale.",
            overlay.version,
            file.display(),
            target.base_model,
            overlay.version
        );
    }
    Ok(())
}

fn render(p: &Proposal, base: &str, t: &Thresholds) -> String {
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
    let r = &p.refit;
    let mut out = format!(
        "Refit on {} genuine and {} attack photos of cases decided by reviewers ({} scored by {base} in all; {} scored by another model and {} never scored left out).\n\
         Held back, never fitted on: {} genuine, {} attack.\n",
        r.fitted.0, r.fitted.1, p.photos.0, p.photos.1, p.photos.2, r.after.genuine, r.after.attack
    );
    if p.repeated > 0 {
        out += &format!(
            "{} decided photos were filed again in a later case (the same image): each is counted once, with the verdict of the latest case that holds it.\n",
            p.repeated
        );
    }
    out += "\n";
    out += &format!(
        "{:<14} {:>8} {:>14} {:>13} {:>13} {:>16}\n",
        "held back",
        "loss",
        format!("genuine <{}", t.fail_below),
        format!("genuine <{}", t.pass_from),
        format!("attack >={}", t.pass_from),
        format!("attack >={}", t.fail_below)
    );
    out += &row("scale in force", &r.before);
    out += &row("refit", &r.after);
    if let Some(words) = &p.overlay.fit.placement {
        out += &format!("\nBands: {words}.\n");
    }
    if let Some(words) = &p.overlay.fit.head {
        out += &format!("Head: {words}.\n");
    }
    if r.without_features > 0 {
        out += &format!(
            "{} decided photos analysed before the model gave its features were left out, so that the rule and the head are fitted and judged on the same photos.\n",
            r.without_features
        );
    }
    out += &format!(
        "Accepted on the held-back photos: {}. (Before its bands were placed the likelihood fit's loss was {:.4}; chance is {:.4}.)\n",
        r.why,
        r.fit_loss,
        crate::adapt::CHANCE_LOSS
    );
    out
}
