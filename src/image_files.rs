//! Turning paths given by a user (command line, dialog, drag and drop) into the list of
//! image files they mean.

use std::path::{Path, PathBuf};

/// Extensions picked up when walking a folder (files named explicitly are always taken).
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Expands folders recursively into their image files, sorted; files given directly are
/// kept as they are, even without an image extension or when missing, so that each one
/// gets a row saying what is wrong with it.
pub fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found);
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "cannot read folder");
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // `file_type` does not follow symbolic links, so a link to a parent folder cannot
        // send the walk round in circles.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, out);
        } else if kind.is_file() && is_image_name(&path) {
            out.push(path);
        }
    }
}

/// True for names ending in an image extension (any case).
pub fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}
