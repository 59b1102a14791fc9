//! Every keyboard shortcut of the console, in one list: the key handler and the help
//! overlay (`?`) both read it, so they cannot disagree.

use egui::{Key, KeyboardShortcut, Modifiers};

/// What a shortcut does. Every action has at least one shortcut (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Decide: genuine document.
    Genuine,
    /// Decide: photo of a screen.
    Screen,
    /// Decide: printed copy.
    Print,
    /// Decide: digital image.
    Digital,
    /// Decide: another attack.
    OtherAttack,
    /// Decide: the photo cannot be judged; ask for a new one.
    Resubmit,
    /// Undo the decision in force on the selected case.
    Undo,
    /// Next case.
    Next,
    /// Previous case.
    Previous,
    /// Fit the image to the view.
    Fit,
    /// One image pixel per screen pixel.
    ActualSize,
    /// Zoom in.
    ZoomIn,
    /// Zoom out.
    ZoomOut,
    /// Pan left.
    PanLeft,
    /// Pan right.
    PanRight,
    /// Pan up.
    PanUp,
    /// Pan down.
    PanDown,
    /// Show or hide the document outline.
    ToggleOutline,
    /// Show or hide the evidence heat-map.
    ToggleHeatmap,
    /// Show or hide the portrait box.
    TogglePortrait,
    /// Correct the shown case's document outline (again: the other side).
    EditOutline,
    /// Analyse the photo again on the edited outline and record it.
    ApplyOutline,
    /// Close the help, or stop editing the outline (nothing is recorded).
    Cancel,
    /// File the selected intake photo as a case.
    FileCase,
    /// Open photos.
    OpenFiles,
    /// Open a folder of photos.
    OpenFolder,
    /// Queue view.
    ShowQueue,
    /// Intake view.
    ShowIntake,
    /// Analyst view.
    ShowAnalyst,
    /// Show or hide this help.
    Help,
}

/// A shortcut: the keys, what they do, and how the help overlay says it.
pub struct Shortcut {
    /// The keys.
    pub keys: KeyboardShortcut,
    /// The action.
    pub action: Action,
    /// Help text.
    pub help: &'static str,
}

const fn plain(key: Key, action: Action, help: &'static str) -> Shortcut {
    Shortcut {
        keys: KeyboardShortcut::new(Modifiers::NONE, key),
        action,
        help,
    }
}

const fn with(modifiers: Modifiers, key: Key, action: Action, help: &'static str) -> Shortcut {
    Shortcut {
        keys: KeyboardShortcut::new(modifiers, key),
        action,
        help,
    }
}

/// The shortcuts. Single keys act only while no text field has the keyboard.
pub const SHORTCUTS: &[Shortcut] = &[
    plain(
        Key::G,
        Action::Genuine,
        "decide: genuine document, go to next",
    ),
    plain(
        Key::S,
        Action::Screen,
        "decide: photo of a screen, go to next",
    ),
    plain(Key::P, Action::Print, "decide: printed copy, go to next"),
    plain(
        Key::D,
        Action::Digital,
        "decide: digital image or screenshot, go to next",
    ),
    plain(
        Key::O,
        Action::OtherAttack,
        "decide: another kind of attack, go to next",
    ),
    plain(
        Key::N,
        Action::Resubmit,
        "decide: cannot be judged, ask for a new photo (the form's reason), go to next",
    ),
    plain(
        Key::U,
        Action::Undo,
        "undo the decision in force on this case",
    ),
    with(
        Modifiers::COMMAND,
        Key::Z,
        Action::Undo,
        "undo the decision in force on this case",
    ),
    plain(Key::J, Action::Next, "next case"),
    plain(Key::K, Action::Previous, "previous case"),
    plain(Key::F, Action::Fit, "fit the image to the view"),
    plain(
        Key::Num1,
        Action::ActualSize,
        "actual size (1:1, to see screen pixels and print dots)",
    ),
    plain(
        Key::Plus,
        Action::ZoomIn,
        "zoom in (or the mouse wheel, at the cursor)",
    ),
    plain(Key::Equals, Action::ZoomIn, "zoom in"),
    plain(Key::Minus, Action::ZoomOut, "zoom out"),
    plain(
        Key::ArrowLeft,
        Action::PanLeft,
        "pan left (or drag the image)",
    ),
    plain(Key::ArrowRight, Action::PanRight, "pan right"),
    plain(Key::ArrowUp, Action::PanUp, "pan up"),
    plain(Key::ArrowDown, Action::PanDown, "pan down"),
    plain(
        Key::Q,
        Action::ToggleOutline,
        "show or hide the document outline",
    ),
    plain(
        Key::H,
        Action::ToggleHeatmap,
        "show or hide the evidence heat-map",
    ),
    plain(
        Key::R,
        Action::TogglePortrait,
        "show or hide the portrait box",
    ),
    plain(
        Key::E,
        Action::EditOutline,
        "correct the document outline: drag a corner, or click four new ones (again: the other side)",
    ),
    plain(
        Key::Enter,
        Action::ApplyOutline,
        "while correcting an outline: analyse the photo again on it and record it",
    ),
    plain(
        Key::Escape,
        Action::Cancel,
        "close this help; while correcting an outline: cancel",
    ),
    plain(
        Key::A,
        Action::FileCase,
        "add the selected intake photo to the review queue",
    ),
    with(Modifiers::COMMAND, Key::O, Action::OpenFiles, "open photos"),
    with(
        Modifiers::COMMAND.plus(Modifiers::SHIFT),
        Key::O,
        Action::OpenFolder,
        "open a folder of photos",
    ),
    plain(Key::F1, Action::ShowQueue, "queue view"),
    plain(
        Key::F2,
        Action::ShowIntake,
        "intake view (photos opened or dropped here)",
    ),
    plain(
        Key::F3,
        Action::ShowAnalyst,
        "analyst view (score histogram, threshold what-if)",
    ),
    plain(Key::Questionmark, Action::Help, "show or hide this help"),
    with(
        Modifiers::SHIFT,
        Key::Slash,
        Action::Help,
        "show or hide this help",
    ),
];

/// The keys of an action's first shortcut as this platform writes them ("G", "Ctrl+O").
pub fn keys(ctx: &egui::Context, action: Action) -> String {
    SHORTCUTS
        .iter()
        .find(|s| s.action == action)
        .map(|s| written(ctx, &s.keys))
        .unwrap_or_default()
}

/// A shortcut as this platform writes it, a punctuation key by its sign: egui spells
/// out "Questionmark" and "Minus" where a reviewer looks for "?" and "−". Arrow keys
/// keep their names (their signs are not in every font).
fn written(ctx: &egui::Context, keys: &KeyboardShortcut) -> String {
    let text = ctx.format_shortcut(keys);
    let (name, sign) = (keys.logical_key.name(), keys.logical_key.symbol_or_name());
    let arrow = matches!(
        keys.logical_key,
        Key::ArrowDown | Key::ArrowLeft | Key::ArrowRight | Key::ArrowUp
    );
    let punctuation = sign.chars().count() == 1 && !arrow;
    match text.strip_suffix(name) {
        Some(modifiers) if punctuation && sign != name => format!("{modifiers}{sign}"),
        _ => text,
    }
}

/// A button or tab label with its shortcut: "Genuine (G)".
pub fn label(ctx: &egui::Context, name: &str, action: Action) -> String {
    format!("{name} ({})", keys(ctx, action))
}

/// Actions whose shortcuts were pressed this frame. Shortcuts without a modifier are
/// ignored while a text field has the keyboard, so typing a note never decides a case.
/// Enter and Esc act on the outline only while one is being edited (`editing`), and are
/// otherwise left to the dialogs that read them.
pub fn pressed(ctx: &egui::Context, editing: bool, help_open: bool) -> Vec<Action> {
    let typing = ctx.egui_wants_keyboard_input();
    let mut out = Vec::new();
    ctx.input_mut(|input| {
        // Longest modifier sets first, so Ctrl+Shift+O is not taken as Ctrl+O.
        let mut order: Vec<&Shortcut> = SHORTCUTS.iter().collect();
        order.sort_by_key(|s| std::cmp::Reverse(modifier_count(s.keys.modifiers)));
        for s in order {
            // While typing, keys belong to the text field (Ctrl+Z undoes typing, not a
            // decision); only opening photos stays available.
            if typing && !matches!(s.action, Action::OpenFiles | Action::OpenFolder) {
                continue;
            }
            if !editing && s.action == Action::ApplyOutline
                || !(editing || help_open) && s.action == Action::Cancel
            {
                continue;
            }
            if input.consume_shortcut(&s.keys) && !out.contains(&s.action) {
                out.push(s.action);
            }
        }
    });
    out
}

fn modifier_count(m: Modifiers) -> u8 {
    u8::from(m.alt)
        + u8::from(m.ctrl)
        + u8::from(m.shift)
        + u8::from(m.command)
        + u8::from(m.mac_cmd)
}

/// The help overlay.
pub fn help_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for s in SHORTCUTS {
                    ui.monospace(written(ctx, &s.keys));
                    ui.label(s.help);
                    ui.end_row();
                }
            });
            ui.label("Single-key shortcuts are off while you type in a text field.");
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_shortcut_and_labels_carry_its_keys() {
        use Action::*;
        let all = [
            Genuine,
            Screen,
            Print,
            Digital,
            OtherAttack,
            Resubmit,
            Undo,
            Next,
            Previous,
            Fit,
            ActualSize,
            ZoomIn,
            ZoomOut,
            PanLeft,
            PanRight,
            PanUp,
            PanDown,
            ToggleOutline,
            ToggleHeatmap,
            TogglePortrait,
            EditOutline,
            ApplyOutline,
            Cancel,
            FileCase,
            OpenFiles,
            OpenFolder,
            ShowQueue,
            ShowIntake,
            ShowAnalyst,
            Help,
        ];
        // A new action must be added here, or this match stops compiling.
        for a in all {
            match a {
                Genuine | Screen | Print | Digital | OtherAttack | Resubmit | Undo | Next
                | Previous | Fit | ActualSize | ZoomIn | ZoomOut | PanLeft | PanRight | PanUp
                | PanDown | ToggleOutline | ToggleHeatmap | TogglePortrait | EditOutline
                | ApplyOutline | Cancel | FileCase | OpenFiles | OpenFolder | ShowQueue
                | ShowIntake | ShowAnalyst | Help => {}
            }
            assert!(
                SHORTCUTS.iter().any(|s| s.action == a),
                "{a:?} has no shortcut"
            );
        }
        let ctx = egui::Context::default();
        assert_eq!(label(&ctx, "Genuine", Genuine), "Genuine (G)");
        assert_eq!(keys(&ctx, ShowAnalyst), "F3");
        assert!(keys(&ctx, OpenFiles).ends_with('O'));
        // Punctuation by its sign, as on the keyboard; before, "Questionmark".
        assert_eq!(keys(&ctx, Help), "?");
        assert_eq!(keys(&ctx, ZoomOut), "\u{2212}");
        assert_eq!(keys(&ctx, ZoomIn), "+");
        assert_eq!(
            keys(&ctx, PanLeft),
            ctx.format_shortcut(&KeyboardShortcut::new(Modifiers::NONE, Key::ArrowLeft))
        );
    }
}
