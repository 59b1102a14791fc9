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

/// The first of `paths` that names nothing on disk that this user can see (a dangling
/// link included): most likely a typo, which the user must hear about.
pub fn first_missing(paths: &[PathBuf]) -> Option<&PathBuf> {
    paths.iter().find(|p| !p.exists())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "cannot read folder");
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // `file_type` does not follow symbolic links, so a link to a parent folder cannot
        // send the walk round in circles; a link to a file is followed, since folders
        // of linked photos are a common way to assemble a batch.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, out);
        } else if is_image_name(&path)
            && (kind.is_file() || (kind.is_symlink() && path.metadata().is_ok_and(|m| m.is_file())))
        {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn folders_yield_linked_photos_but_never_loop() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("batch")).unwrap();
        std::fs::write(root.join("a.jpg"), b"x").unwrap();
        std::fs::write(root.join("batch/b.PNG"), b"x").unwrap();
        std::fs::write(root.join("batch/notes.txt"), b"x").unwrap();
        std::os::unix::fs::symlink(root.join("a.jpg"), root.join("batch/linked.jpg")).unwrap();
        std::os::unix::fs::symlink(root.join("gone.jpg"), root.join("batch/dangling.jpg")).unwrap();
        std::os::unix::fs::symlink(root, root.join("batch/loop")).unwrap();
        let found = expand(&[root.join("batch")]);
        assert_eq!(
            found,
            vec![root.join("batch/b.PNG"), root.join("batch/linked.jpg")]
        );
        let missing = [root.join("a.jpg"), root.join("typo.jpg")];
        assert_eq!(first_missing(&missing), Some(&root.join("typo.jpg")));
        assert_eq!(first_missing(&missing[..1]), None);
    }
}
