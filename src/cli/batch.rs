//! Analysing many files on all cores while handing results back in input order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::engine::{Analysis, Engine, ErrorCode, Region, Side};
use crate::image_files::{ReadError, read_photo};

/// Reads and analyses `files` on every available core and calls `sink` for each result
/// in the order of `files`. A file that cannot be read, or is not a regular file within
/// the size limit, yields an `IMAGE_INVALID` analysis saying why; the batch goes on.
pub fn analyse_all(
    engine: &Engine,
    files: &[PathBuf],
    side: Side,
    region: Region,
    mut sink: impl FnMut(usize, &Path, Analysis),
) {
    analyse_all_keeping(
        engine,
        files,
        side,
        region,
        |_| false,
        |i, path, a, _| sink(i, path, a),
    );
}

/// `analyse_all`, also handing `sink` the bytes that were analysed wherever `keep` says
/// so (a photo to be stored): stored and analysed bytes are then the same bytes, even if
/// the file changes meanwhile, and no file is read twice.
pub fn analyse_all_keeping(
    engine: &Engine,
    files: &[PathBuf],
    side: Side,
    region: Region,
    keep: impl Fn(&Analysis) -> bool + Sync,
    mut sink: impl FnMut(usize, &Path, Analysis, Option<Vec<u8>>),
) {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let max_bytes = engine.config().image.max_file_bytes();
    let next = AtomicUsize::new(0);
    // Results are handed on in input order, so a slow file holds back the ones after it;
    // workers wait rather than run more than `window` files ahead of it, which bounds the
    // results (and kept photos) waiting in memory.
    let turn = AtomicUsize::new(0);
    let window = 2 * workers;
    let (tx, rx) = mpsc::channel::<(usize, Analysis, Option<Vec<u8>>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, keep, turn) = (&next, &keep, &turn);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    while i >= turn.load(Ordering::Acquire) + window {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    let (analysis, bytes) = match read_photo(path, max_bytes) {
                        Ok(bytes) => {
                            let a = engine.analyze(&bytes, side, region);
                            let kept = keep(&a).then_some(bytes);
                            (a, kept)
                        }
                        Err(e) => (unreadable(engine, side, region, &e), None),
                    };
                    if tx.send((i, analysis, bytes)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive in completion order; hold early ones until their turn.
        let mut pending = std::collections::BTreeMap::new();
        let mut handed = 0;
        for (i, analysis, bytes) in rx {
            pending.insert(i, (analysis, bytes));
            while let Some((a, bytes)) = pending.remove(&handed) {
                sink(handed, &files[handed], a, bytes);
                handed += 1;
                turn.store(handed, Ordering::Release);
            }
        }
    });
}

fn unreadable(engine: &Engine, side: Side, region: Region, e: &ReadError) -> Analysis {
    let mut a = Analysis::input_failed(
        side,
        region,
        ErrorCode::ImageInvalid,
        format!("cannot read file: {e}"),
    );
    a.model_version = engine.model_version();
    a.backend = engine.backend_label();
    a
}
