//! Turning paths given by a user (command line, dialog, drag and drop) into the list of
//! image files they mean.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

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

/// Why a photo file was not read. Each becomes the file's `IMAGE_INVALID` row, so the
/// batch goes on.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The path names something other than a regular file: reading a named pipe or a
    /// terminal would wait for a writer forever, and `/dev/zero` would never end.
    #[error("not a regular file but {0}; only image files can be checked")]
    NotAFile(&'static str),
    /// The file is larger than any image within the pixel limit can be.
    #[error(
        "the file is {size} bytes, more than the {limit} bytes an image within the \
         pixel limit can take; it was not read"
    )]
    TooLarge {
        /// Size of the file, or at least how much of it was there.
        size: u64,
        /// The limit (`ImageConfig::max_file_bytes`).
        limit: u64,
    },
}

/// Reads a photo file named by a user: a regular file (links followed) of at most
/// `max_bytes` bytes. Anything else is refused without waiting on it or reading it.
pub fn read_photo(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    // Opening a named pipe for reading blocks until a writer comes, and opening a device
    // can have effects of its own, so the kind is checked before opening...
    let before = std::fs::metadata(path)?;
    regular(&before, max_bytes)?;
    let file = open_nonblocking(path)?;
    // ...and again on what was opened, in case the path was replaced in between.
    let meta = file.metadata()?;
    regular(&meta, max_bytes)?;
    // The size can grow while the file is read: never take more than the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

fn regular(meta: &std::fs::Metadata, max_bytes: u64) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotAFile(kind_of(&meta.file_type())));
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit: max_bytes,
        });
    }
    Ok(())
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK makes opening a pipe return at once (reads of a regular file ignore
    // it); O_NOCTTY keeps a terminal from becoming this process's controlling one.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// A few words naming what a path is, for the refusal.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// A path as one line of a table: control characters (a newline would start a new row)
/// and the bidirectional overrides (which can reorder what a reader sees) are written
/// as escapes such as `\n` and `\u{202e}`.
pub fn display_escaped(path: &Path) -> String {
    let mut out = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
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

    #[test]
    fn photos_are_read_up_to_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, b"0123456789").unwrap();
        assert_eq!(read_photo(&photo, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_photo(&photo, 9),
            Err(ReadError::TooLarge { size: 10, limit: 9 })
        ));
        assert!(matches!(
            read_photo(dir.path(), 10),
            Err(ReadError::NotAFile("a folder"))
        ));
        assert!(matches!(
            read_photo(&dir.path().join("gone.jpg"), 10),
            Err(ReadError::Io(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_unread() {
        assert!(matches!(
            read_photo(Path::new("/dev/zero"), 1 << 20),
            Err(ReadError::NotAFile("a device"))
        ));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.jpg");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(matches!(
                read_photo(&fifo, 1 << 20),
                Err(ReadError::NotAFile("a named pipe (FIFO)"))
            ));
        }
    }

    #[test]
    fn table_names_stay_on_one_line() {
        assert_eq!(
            display_escaped(Path::new("a\nb\tc\r\u{1b}[31m\u{202e}gpj.exe")),
            "a\\nb\\tc\\r\\u{1b}[31m\\u{202e}gpj.exe"
        );
        assert_eq!(
            display_escaped(Path::new("photos/Zoë 1.jpg")),
            "photos/Zoë 1.jpg"
        );
    }
}
