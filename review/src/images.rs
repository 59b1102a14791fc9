//! Content-addressed image files beside the database.
//!
//! An image is stored once under its SHA-256, whichever cases refer to it. It is
//! written to a temporary file, flushed, and renamed into place, so a reader never sees
//! a half-written image, and a crash leaves at most a stray temporary file.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The image folder of one database.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl ImageStore {
    /// The image folder for the database at `db_path`: `<db file name>.images/` beside it.
    pub fn beside(db_path: &Path) -> ImageStore {
        let mut name = db_path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".images");
        ImageStore {
            root: db_path.with_file_name(name),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the image with this hash lives.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Stores `bytes` (once) and returns their hash.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = sha256_hex(bytes);
        self.put_hashed(&sha, bytes)?;
        Ok(sha)
    }

    /// Stores `bytes` (once) under `sha`, their hash (`sha256_hex`), for a caller that
    /// has it already.
    pub fn put_hashed(&self, sha: &str, bytes: &[u8]) -> std::io::Result<()> {
        let target = self.path_of(sha);
        if target.is_file() {
            return Ok(());
        }
        let dir = target.parent().expect("image path has a parent");
        std::fs::create_dir_all(dir)?;
        // Unique per writer: two threads storing the same image must not share a temp file.
        let tmp = dir.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &target)?;
        // The rename is only durable once the folder's entry is on disk; without this a
        // power cut could leave a filed case pointing at no image.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    }

    /// Reads an image back.
    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path_of(sha256))
    }

    /// Deletes an image file; a missing file is not an error.
    pub fn remove(&self, sha256: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path_of(sha256)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_stored_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::beside(&dir.path().join("review.db"));
        let a = store.put(b"image one").unwrap();
        let b = store.put(b"image one").unwrap();
        assert_eq!(a, b);
        assert_eq!(store.get(&a).unwrap(), b"image one");
        assert!(store.root().ends_with("review.db.images"));
        let files: Vec<_> = walk(store.root());
        assert_eq!(files.len(), 1, "{files:?}");
        store.remove(&a).unwrap();
        store.remove(&a).unwrap();
        assert!(store.get(&a).is_err());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
        out
    }
}
