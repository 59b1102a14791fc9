//! The decision form: reason, note, the verdict buttons, undo, the case's history, and
//! the one-time "Who is reviewing?" prompt. A decision is only ever for the case on
//! screen.

use egui::RichText;

use super::app::{ConsoleApp, PendingDecision, Tab};
use super::jobs::DbRequest;
use super::shortcuts::{self, Action};
use docliveness_review::{AttackType, NewDecision, ResubmitReason, ReviewCase, Verdict};

/// The decision being written and what the form must remember between frames.
#[derive(Default)]
pub struct DecisionForm {
    pub(super) reason: String,
    pub(super) note: String,
    /// Why a new photo is needed, for the resubmit verdict.
    pub(super) resubmit_reason: ResubmitReason,
    pub(super) name_prompt: Option<PendingDecision>,
    pub(super) name_input: String,
    /// The last decision this console wrote: (case, decision row).
    pub(super) last_decided: Option<(i64, i64)>,
    /// A case asked for and not yet shown; deciding waits for it.
    pub(super) awaiting_open: Option<i64>,
}

impl ConsoleApp {
    pub(super) fn decision_form(&mut self, ui: &mut egui::Ui, case: &ReviewCase) {
        ui.separator();
        ui.label(RichText::new("Decision").strong());
        match (case.verdict, case.decided_by.as_deref()) {
            (Some(v), Some(by)) => {
                let kind = match (case.attack_type, case.resubmit_reason) {
                    (Some(a), _) => a.as_str(),
                    (None, Some(r)) => r.words(),
                    (None, None) => "",
                };
                ui.label(format!(
                    "{} {kind} by {by} at {}",
                    v.as_str(),
                    case.decided_at.as_deref().unwrap_or("")
                ));
            }
            _ => {
                ui.label("open");
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label("reason").id;
            egui::ComboBox::from_id_salt("reason")
                .selected_text(if self.form.reason.is_empty() {
                    "-"
                } else {
                    self.form.reason.as_str()
                })
                .show_ui(ui, |ui| {
                    for r in REASONS {
                        ui.selectable_value(&mut self.form.reason, r.to_string(), *r);
                    }
                })
                .response
                .labelled_by(label);
        });
        ui.horizontal(|ui| {
            let label = ui.label("new photo because").id;
            egui::ComboBox::from_id_salt("resubmit reason")
                .selected_text(self.form.resubmit_reason.words())
                .show_ui(ui, |ui| {
                    for r in ResubmitReason::ALL {
                        ui.selectable_value(&mut self.form.resubmit_reason, r, r.words());
                    }
                })
                .response
                .labelled_by(label);
        });
        let label = ui.label("note").id;
        ui.add(
            egui::TextEdit::multiline(&mut self.form.note)
                .hint_text("hotkeys are off while typing")
                .desired_rows(2),
        )
        .labelled_by(label);
        ui.horizontal_wrapped(|ui| {
            for (name, action) in [
                ("Genuine", Action::Genuine),
                ("Screen", Action::Screen),
                ("Print", Action::Print),
                ("Digital", Action::Digital),
                ("Other", Action::OtherAttack),
                ("New photo", Action::Resubmit),
                ("Undo", Action::Undo),
            ] {
                if ui
                    .button(shortcuts::label(ui.ctx(), name, action))
                    .clicked()
                {
                    self.act(action);
                }
            }
        });
        if let Some(shown) = &self.inspector.shown {
            ui.separator();
            ui.label(RichText::new("History").strong());
            for e in &shown.data.history {
                ui.label(
                    RichText::new(format!(
                        "{}  {}  {}  {}",
                        e.at,
                        e.actor,
                        e.action,
                        e.detail.as_deref().map(detail_words).unwrap_or_default()
                    ))
                    .small(),
                );
            }
        }
    }

    pub(super) fn decide(
        &mut self,
        action: Action,
        verdict: Verdict,
        attack_type: Option<AttackType>,
    ) {
        if self.tab != Tab::Queue {
            return;
        }
        let Some(shown) = &self.inspector.shown else {
            self.status = "select a case to decide".into();
            return;
        };
        // A decision is for the case on screen: while another is being fetched (the
        // reviewer moved on), wait rather than decide the one still shown.
        if self.form.awaiting_open.is_some() || self.queue.open_selected_when_loaded {
            self.status = "loading the next case...".into();
            return;
        }
        if self.settings.reviewer.is_empty() {
            self.form.name_prompt = Some(PendingDecision(action));
            return;
        }
        let id = shown.data.case.id;
        let expected = shown.data.case.decision_id;
        self.db.send(DbRequest::Decide {
            id,
            decision: NewDecision {
                reviewer: self.settings.reviewer.clone(),
                verdict: Some(verdict),
                attack_type,
                resubmit_reason: (verdict == Verdict::Resubmit)
                    .then_some(self.form.resubmit_reason),
                reason: Some(self.form.reason.trim().to_string()).filter(|s| !s.is_empty()),
                note: Some(self.form.note.trim().to_string()).filter(|s| !s.is_empty()),
            },
            expected,
        });
        self.form.reason.clear();
        self.form.resubmit_reason = ResubmitReason::default();
        self.form.note.clear();
        // Advance: with the open filter the next case moves up into this row.
        let row = self.queue.selected_row.unwrap_or(0);
        let next = if self.queue.filter.status == docliveness_review::Status::Open {
            row
        } else {
            row + 1
        };
        self.queue.selected_row = Some(next);
        self.queue.open_selected_when_loaded = true;
        self.forget_reads_in_flight();
    }

    pub(super) fn undo(&mut self) {
        // The decision on screen if the shown case has one, else this console's last one;
        // either way the store refuses if someone else's decision is in force by now.
        let target = self
            .inspector
            .shown
            .as_ref()
            .and_then(|s| s.data.case.decision_id.map(|d| (s.data.case.id, d)))
            .or(self.form.last_decided);
        let Some((id, decision)) = target else {
            self.status = "nothing to undo".into();
            return;
        };
        if self.settings.reviewer.is_empty() {
            self.status = "set your name first".into();
            return;
        }
        self.db.send(DbRequest::Undo {
            id,
            reviewer: self.settings.reviewer.clone(),
            expected: Some(decision),
        });
        self.open_case(id);
        self.queue.open_selected_when_loaded = false;
        self.forget_reads_in_flight();
    }

    /// Drops the answers to list reads sent before a decision or an undo: read before it
    /// was saved, they would show (and open) the case as it was. The list is read again
    /// when the store answers the decision.
    fn forget_reads_in_flight(&mut self) {
        self.queue.generation += 1;
        self.queue.requested.clear();
    }

    pub(super) fn name_window(&mut self, ctx: &egui::Context) {
        let Some(pending) = self.form.name_prompt else {
            return;
        };
        let mut close = false;
        egui::Window::new("Who is reviewing?")
            .collapsible(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label("Your name is recorded with every decision. It is asked once and kept.");
                let label = ui.label("Your name").id;
                let r = ui
                    .text_edit_singleline(&mut self.form.name_input)
                    .labelled_by(label);
                // Read before focus is asked for again: asking makes the field focused
                // once more, and a field that still has focus never "lost" it to Enter.
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if !enter && !escape {
                    r.request_focus();
                }
                ui.horizontal(|ui| {
                    if (ui.button("Save").clicked() || enter)
                        && !self.form.name_input.trim().is_empty()
                    {
                        self.settings.reviewer = self.form.name_input.trim().to_string();
                        close = true;
                    }
                    if ui.button("Cancel").clicked() || escape {
                        self.form.name_prompt = None;
                        self.form.name_input.clear();
                    }
                });
            });
        if close {
            self.form.name_prompt = None;
            self.act(pending.0);
        }
    }
}

const REASONS: &[&str] = &[
    "moiré / pixel grid",
    "halftone dots",
    "paper texture",
    "no lamination glare",
    "screen bezel or glare",
    "UI or editing traces",
    "looks genuine",
    "other",
];

/// An audit entry's details (a JSON object) as a reviewer reads them: `score 0.333,
/// error DOCUMENT_CROPPED`, leaving out what is empty; anything else as it is.
fn detail_words(detail: &str) -> String {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(detail) else {
        return detail.to_string();
    };
    fields
        .iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::Null => return None,
                serde_json::Value::String(s) if s.is_empty() => return None,
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if f.fract() != 0.0 => format!("{f:.3}"),
                    _ => n.to_string(),
                },
                other => other.to_string(),
            };
            Some(format!("{key} {text}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::detail_words;

    #[test]
    fn history_details_read_as_words() {
        assert_eq!(
            detail_words(r#"{"score":0.33333333,"error":null}"#),
            "score 0.333"
        );
        assert_eq!(
            detail_words(r#"{"verdict":"attack","attackType":"screen","reason":""}"#),
            "attackType screen, verdict attack"
        );
        assert_eq!(detail_words("not json"), "not json");
    }
}
