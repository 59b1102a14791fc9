//! A progress bar on stderr for long batches, only when stderr is a terminal.

use std::io::{IsTerminal, Write};

/// Draws `done/total` on one self-overwriting stderr line.
pub struct Progress {
    total: usize,
    done: usize,
    visible: bool,
}

impl Progress {
    /// A bar for `total` items; invisible for single items or when stderr is redirected.
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            visible: total > 1 && std::io::stderr().is_terminal(),
        }
    }

    /// One more item finished.
    pub fn tick(&mut self) {
        self.done += 1;
        if !self.visible {
            return;
        }
        let width = 30;
        let filled = width * self.done / self.total.max(1);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {}/{}",
            "#".repeat(filled),
            ".".repeat(width - filled),
            self.done,
            self.total
        );
        if self.done == self.total {
            let _ = write!(err, "\r{}\r", " ".repeat(width + 24));
        }
        let _ = err.flush();
    }
}
