//! The console's background threads: one owns the review database, a pool analyses
//! incoming photos. The UI thread only sends requests and picks up replies; every
//! reply asks for a repaint so it shows at once.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use egui::ColorImage;

use docliveness_adapt::apply::{Proposal, Target, install, propose};
use docliveness_engine::config::Thresholds;
use docliveness_engine::{Analysis, Engine, Outcome, Quad, Region, Side, decode};
use docliveness_review::{
    AuditEntry, CaseFilter, Correction, DecisionRecord, NewCase, NewDecision, NewSide, Origin,
    ReviewCase, SortOrder, Statistics, Store, StoredSide,
};

/// Something the UI asks of the database thread.
#[derive(Debug, Clone)]
pub enum DbRequest {
    /// A page of the queue; `generation` ties the answer to the filter it was asked with.
    Page {
        /// Filter.
        filter: CaseFilter,
        /// Order.
        order: SortOrder,
        /// First row.
        offset: u64,
        /// Rows.
        limit: u32,
        /// Filter generation.
        generation: u64,
    },
    /// How many cases match.
    Count {
        /// Filter.
        filter: CaseFilter,
        /// Filter generation.
        generation: u64,
    },
    /// Everything about one case, images decoded.
    Open {
        /// Case.
        id: i64,
    },
    /// Analyse a side of a case again on the outline a reviewer drew, and record it.
    Correct {
        /// Case.
        id: i64,
        /// Which side.
        side: Side,
        /// The outline, in upright photo pixels.
        outline: Quad,
        /// Who drew it.
        reviewer: String,
    },
    /// Record the analysis a correction produced (sent by the re-scoring thread).
    RecordCorrection {
        /// Case.
        id: i64,
        /// The analysis on the corrected outline.
        analysis: Box<Analysis>,
        /// Who drew the outline.
        reviewer: String,
    },
    /// Record a decision.
    Decide {
        /// Case.
        id: i64,
        /// The decision.
        decision: NewDecision,
        /// Decision in force when the reviewer looked.
        expected: Option<i64>,
    },
    /// Undo the decision in force.
    Undo {
        /// Case.
        id: i64,
        /// Reviewer.
        reviewer: String,
        /// The decision meant to be undone.
        expected: Option<i64>,
    },
    /// File an analysed photo as a case.
    File {
        /// Where the photo came from (for messages).
        path: PathBuf,
        /// The photo.
        bytes: Arc<Vec<u8>>,
        /// Its analysis.
        analysis: Box<Analysis>,
    },
    /// Statistics with the what-if thresholds.
    Stats {
        /// Filter.
        filter: CaseFilter,
        /// Thresholds.
        thresholds: Thresholds,
    },
    /// Refit the score's scale on the decided cases (nothing is written).
    Adapt {
        /// The installed model.
        target: Target,
    },
    /// Install a refit the analyst was shown, exactly as shown.
    Install {
        /// The liveness model's folder.
        dir: PathBuf,
        /// The refit.
        proposal: Box<Proposal>,
    },
}

/// A case opened for inspection.
pub struct OpenedCase {
    /// The case.
    pub case: ReviewCase,
    /// Its sides with decoded pixels (None when the image was purged or is unreadable).
    pub sides: Vec<(StoredSide, Option<ColorImage>)>,
    /// Audit trail.
    pub history: Vec<AuditEntry>,
    /// Decision rows.
    pub decisions: Vec<DecisionRecord>,
    /// Outlines corrected by reviewers, oldest first.
    pub corrections: Vec<Correction>,
}

impl OpenedCase {
    /// The latest correction of a side's outline, if a reviewer made one.
    pub fn correction(&self, side: Side) -> Option<&Correction> {
        self.corrections.iter().rev().find(|c| c.side == side)
    }

    /// What to show for each side: the analysis on the latest corrected outline, else the
    /// filed one.
    pub fn current(&self) -> Vec<&Analysis> {
        self.sides
            .iter()
            .map(|(stored, _)| {
                self.correction(stored.side)
                    .map_or(&stored.analysis, |c| &c.analysis)
            })
            .collect()
    }
}

/// The database thread's answers.
pub enum DbReply {
    /// A page.
    Page {
        /// Filter generation.
        generation: u64,
        /// First row.
        offset: u64,
        /// Rows, or why the store could not list them.
        rows: Result<Vec<ReviewCase>, String>,
    },
    /// A count.
    Count {
        /// Filter generation.
        generation: u64,
        /// Matches, or why the store could not count them.
        count: Result<u64, String>,
    },
    /// An opened case.
    Opened(Box<OpenedCase>),
    /// A case that could not be opened, and why.
    OpenFailed {
        /// Case.
        id: i64,
        /// Why.
        error: String,
    },
    /// A decision or undo was recorded (or refused, with the reason).
    Changed {
        /// Case.
        id: i64,
        /// The decision row written, for a decision.
        decision: Option<i64>,
        /// What happened.
        result: Result<String, String>,
    },
    /// A corrected outline was analysed and recorded (or could not be, and why).
    Corrected {
        /// Case.
        id: i64,
        /// What happened.
        result: Result<String, String>,
    },
    /// A photo was filed.
    Filed {
        /// The photo.
        path: PathBuf,
        /// The case number or the error.
        result: Result<i64, String>,
    },
    /// Statistics.
    Stats(Result<Statistics, String>),
    /// A refit (installed when `applied`), or why there is none.
    Adapt {
        /// The refit.
        result: Result<Box<Proposal>, String>,
        /// Whether it was installed.
        applied: bool,
    },
}

/// Handle of the database thread.
pub struct Database {
    sender: Sender<DbRequest>,
    /// Replies, polled by the UI every frame.
    pub replies: Receiver<DbReply>,
}

impl Database {
    /// Moves the open store to its own thread, with a second thread that decodes the
    /// photos of opened cases, so that a 12 MP decode never holds up a decision or a
    /// page of the queue. Fails only when no thread can be started.
    pub fn start(
        mut store: Store,
        engine: Arc<Engine>,
        thresholds: Thresholds,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> Result<Database, String> {
        let repaint = Arc::new(repaint);
        let (sender, requests) = channel::<DbRequest>();
        let (reply_tx, replies) = channel();
        // Re-scoring a corrected outline takes a few hundred milliseconds on a 12 MP
        // photo: its own thread, so decisions and pages never wait behind it. It hands
        // the analysis back to the database thread to record.
        let (rescore_tx, to_rescore) = channel::<Rescore>();
        let record = sender.clone();
        std::thread::Builder::new()
            .name("re-score".into())
            .spawn(move || {
                for job in to_rescore {
                    let analysis = engine.analyze_with_outline(&job.image, job.side, job.outline);
                    let request = DbRequest::RecordCorrection {
                        id: job.id,
                        analysis: Box::new(analysis),
                        reviewer: job.reviewer,
                    };
                    if record.send(request).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        let (decode_tx, to_decode) = channel::<ToDecode>();
        let decoded_tx = reply_tx.clone();
        let repaint_decoded = Arc::clone(&repaint);
        std::thread::Builder::new()
            .name("case-photos".into())
            .spawn(move || {
                for ToDecode { mut case, images } in to_decode {
                    for ((_, pixels), bytes) in case.sides.iter_mut().zip(images) {
                        *pixels = bytes
                            .and_then(|b| decode(&b, u64::MAX).ok())
                            .map(|d| to_color_image(&d.rgb));
                    }
                    if decoded_tx.send(DbReply::Opened(case)).is_err() {
                        break;
                    }
                    repaint_decoded();
                }
            })
            .map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name("review-db".into())
            .spawn(move || {
                for request in requests {
                    let reply = match serve(&mut store, request, &thresholds) {
                        Served::Reply(reply) => reply,
                        Served::Decode(job) => {
                            if decode_tx.send(job).is_err() {
                                break;
                            }
                            continue;
                        }
                        Served::Rescore(job) => {
                            if rescore_tx.send(job).is_err() {
                                break;
                            }
                            continue;
                        }
                    };
                    if reply_tx.send(reply).is_err() {
                        break;
                    }
                    repaint();
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Database { sender, replies })
    }

    /// Sends a request; a closed database thread is reported by the missing answer.
    pub fn send(&self, request: DbRequest) {
        let _ = self.sender.send(request);
    }

    /// A database with no thread behind it: the test reads what the console asks and
    /// answers, or does not, as it likes.
    #[cfg(test)]
    pub(super) fn detached() -> (Database, Receiver<DbRequest>, Sender<DbReply>) {
        let (sender, requests) = channel();
        let (answer, replies) = channel();
        (Database { sender, replies }, requests, answer)
    }
}

/// A case read from the store whose photos still need decoding.
struct ToDecode {
    case: Box<OpenedCase>,
    /// Each side's stored image bytes (`None` when purged or unreadable).
    images: Vec<Option<Vec<u8>>>,
}

/// A side's photo to analyse again on a corrected outline.
struct Rescore {
    id: i64,
    side: Side,
    outline: Quad,
    reviewer: String,
    image: Vec<u8>,
}

/// What the database thread does with a request: answer it, hand a case on to the photo
/// decoder, which answers, or hand a corrected outline on to the re-scoring thread,
/// which sends its analysis back to be recorded.
enum Served {
    Reply(DbReply),
    Decode(ToDecode),
    Rescore(Rescore),
}

fn serve(store: &mut Store, request: DbRequest, thresholds: &Thresholds) -> Served {
    Served::Reply(match request {
        DbRequest::Page {
            filter,
            order,
            offset,
            limit,
            generation,
        } => DbReply::Page {
            generation,
            offset,
            rows: store
                .list(&filter, order, limit, offset)
                .map_err(|e| e.to_string()),
        },
        DbRequest::Count { filter, generation } => DbReply::Count {
            generation,
            count: store.count(&filter).map_err(|e| e.to_string()),
        },
        DbRequest::Open { id } => return open(store, id),
        DbRequest::Correct {
            id,
            side,
            outline,
            reviewer,
        } => {
            let image = store
                .sides(id)
                .map_err(|e| e.to_string())
                .and_then(|sides| {
                    let stored = sides
                        .iter()
                        .find(|s| s.side == side)
                        .ok_or_else(|| format!("case {id} has no such side"))?;
                    store
                        .images()
                        .get(&stored.image_sha256)
                        .map_err(|e| format!("its photo is no longer stored ({e})"))
                });
            match image {
                Ok(image) => {
                    return Served::Rescore(Rescore {
                        id,
                        side,
                        outline,
                        reviewer,
                        image,
                    });
                }
                Err(e) => DbReply::Corrected {
                    id,
                    result: Err(format!("case {id}: the outline cannot be corrected: {e}")),
                },
            }
        }
        DbRequest::RecordCorrection {
            id,
            analysis,
            reviewer,
        } => DbReply::Corrected {
            id,
            result: store
                .record_correction(id, &analysis, &reviewer)
                .map(|_| {
                    format!(
                        "case {id}: outline corrected and analysed again: {}",
                        result_words(&analysis)
                    )
                })
                .map_err(|e| e.to_string()),
        },
        DbRequest::Decide {
            id,
            decision,
            expected,
        } => match store.decide(id, &decision, Some(expected)) {
            Ok(d) => DbReply::Changed {
                id,
                decision: Some(d.id),
                result: Ok(format!("case {id} decided: {}", verdict_words(&d))),
            },
            Err(e) => DbReply::Changed {
                id,
                decision: None,
                result: Err(e.to_string()),
            },
        },
        DbRequest::Undo {
            id,
            reviewer,
            expected,
        } => DbReply::Changed {
            id,
            decision: None,
            result: store
                .undo(id, &reviewer, expected)
                .map(|_| format!("case {id}: decision undone"))
                .map_err(|e| e.to_string()),
        },
        DbRequest::File {
            path,
            bytes,
            analysis,
        } => DbReply::Filed {
            result: store
                .file_case(&NewCase {
                    origin: Origin::Console,
                    session_id: uuid::Uuid::new_v4().to_string(),
                    sides: vec![NewSide {
                        side: analysis.side,
                        image: &bytes,
                        analysis: &analysis,
                    }],
                    outcome: Outcome::of([&*analysis], thresholds),
                    source: Some(path.display().to_string()),
                })
                .map_err(|e| e.to_string()),
            path,
        },
        DbRequest::Stats { filter, thresholds } => DbReply::Stats(
            store
                .statistics(&filter, thresholds)
                .map_err(|e| e.to_string()),
        ),
        DbRequest::Adapt { target } => DbReply::Adapt {
            result: propose(store, &target, thresholds)
                .map(Box::new)
                .map_err(|e| e.to_string()),
            applied: false,
        },
        DbRequest::Install { dir, proposal } => match install(&dir, &proposal.overlay) {
            Ok(()) => DbReply::Adapt {
                result: Ok(proposal),
                applied: true,
            },
            Err(e) => DbReply::Adapt {
                result: Err(format!(
                    "cannot write the overlay in {}: {e}",
                    dir.display()
                )),
                applied: false,
            },
        },
    })
}

/// A case with its sides, history and decisions, read under one request; its photos go
/// to the decoder.
fn open(store: &Store, id: i64) -> Served {
    let read = || -> Result<ToDecode, docliveness_review::StoreError> {
        let case = store.case(id)?;
        let stored = store.sides(id)?;
        let images = stored
            .iter()
            .map(|s| store.images().get(&s.image_sha256).ok())
            .collect();
        Ok(ToDecode {
            case: Box::new(OpenedCase {
                case,
                sides: stored.into_iter().map(|s| (s, None)).collect(),
                history: store.history(id)?,
                decisions: store.decisions(id)?,
                corrections: store.corrections(id)?,
            }),
            images,
        })
    };
    match read() {
        Ok(job) => Served::Decode(job),
        Err(e) => Served::Reply(DbReply::OpenFailed {
            id,
            error: e.to_string(),
        }),
    }
}

/// A score or the error that stopped one, in a few words.
pub fn result_words(a: &Analysis) -> String {
    match (a.error, a.score) {
        (Some(code), _) => code.as_str().to_string(),
        (None, Some(s)) => format!("score {s:.3}"),
        (None, None) => "no score".to_string(),
    }
}

/// Words for a decision row.
pub fn verdict_words(d: &DecisionRecord) -> String {
    match (d.verdict, d.attack_type) {
        (Some(docliveness_review::Verdict::Genuine), _) => "genuine".into(),
        (Some(docliveness_review::Verdict::Attack), Some(a)) => format!("attack ({})", a.as_str()),
        (Some(docliveness_review::Verdict::Attack), None) => "attack".into(),
        (Some(docliveness_review::Verdict::Resubmit), _) => format!(
            "new photo needed ({})",
            d.resubmit_reason.map_or("no reason", |r| r.words())
        ),
        (None, _) => "undone".into(),
    }
}

/// Pixels as egui wants them; done on worker threads so the UI only uploads.
pub fn to_color_image(rgb: &image::RgbImage) -> ColorImage {
    ColorImage::from_rgb([rgb.width() as usize, rgb.height() as usize], rgb.as_raw())
}

/// One analysed photo from intake.
pub struct IntakeResult {
    /// Where it came from.
    pub path: PathBuf,
    /// The photo.
    pub bytes: Arc<Vec<u8>>,
    /// The engine's analysis.
    pub analysis: Analysis,
    /// Decoded pixels, when decodable.
    pub pixels: Option<ColorImage>,
}

/// The analysis pool for photos opened, dropped or pasted into the console.
pub struct Intake {
    queue: Arc<Mutex<std::collections::VecDeque<PathBuf>>>,
    wake: Sender<()>,
    /// Results, polled by the UI.
    pub results: Receiver<IntakeResult>,
    /// Photos queued in the current batch.
    pub total: Arc<AtomicUsize>,
    /// Photos finished in the current batch.
    pub done: Arc<AtomicUsize>,
    /// Bumped by every cancel, under the queue's lock: a folder whose walk began before
    /// a cancel must not queue its photos after it.
    cancels: Arc<AtomicU64>,
}

/// Queues the photos found in a folder whose walk began at cancel count `walk_began`,
/// unless a cancel came since; returns how many were queued. Checked under the queue's
/// lock, the lock `cancel` clears the queue under, so the two cannot interleave.
fn admit_folder(
    photos: Vec<PathBuf>,
    walk_began: u64,
    cancels: &AtomicU64,
    queue: &Mutex<std::collections::VecDeque<PathBuf>>,
    total: &AtomicUsize,
) -> usize {
    let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
    if cancels.load(Ordering::SeqCst) != walk_began {
        return 0;
    }
    let n = photos.len();
    total.fetch_add(n, Ordering::Relaxed);
    for photo in photos.into_iter().rev() {
        q.push_front(photo);
    }
    n
}

impl Intake {
    /// Starts `workers` analysis threads.
    pub fn start(
        engine: Arc<Engine>,
        workers: usize,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> Intake {
        let queue = Arc::new(Mutex::new(std::collections::VecDeque::<PathBuf>::new()));
        let (wake, wakes) = channel::<()>();
        let wakes = Arc::new(Mutex::new(wakes));
        let (result_tx, results) = channel();
        let total = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let cancels = Arc::new(AtomicU64::new(0));
        let repaint = Arc::new(repaint);
        for i in 0..workers.max(1) {
            let cancels = Arc::clone(&cancels);
            let (queue, wakes, wake, result_tx, total, done, engine, repaint) = (
                Arc::clone(&queue),
                Arc::clone(&wakes),
                wake.clone(),
                result_tx.clone(),
                Arc::clone(&total),
                Arc::clone(&done),
                Arc::clone(&engine),
                Arc::clone(&repaint),
            );
            std::thread::Builder::new()
                .name(format!("intake-{i}"))
                .spawn(move || {
                    loop {
                        // The cancel count is read with the pop, under the same lock, so
                        // a cancel after this pop is always seen as one.
                        let (next, walk_began) = {
                            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
                            (q.pop_front(), cancels.load(Ordering::SeqCst))
                        };
                        let Some(path) = next else {
                            // Sleep until more work arrives; a closed channel means the console is gone.
                            if wakes
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .recv()
                                .is_err()
                            {
                                break;
                            }
                            continue;
                        };
                        if path.is_dir() {
                            // Walked here, not on the UI thread: a folder can hold a
                            // whole tree. Its photos go first, in order, and stand in
                            // for the folder in the batch's count.
                            let photos = docliveness_files::expand(&[path]);
                            let n = admit_folder(photos, walk_began, &cancels, &queue, &total);
                            for _ in 0..n {
                                let _ = wake.send(());
                            }
                            done.fetch_add(1, Ordering::Release);
                            repaint();
                            continue;
                        }
                        let result = analyse(&engine, path);
                        done.fetch_add(1, Ordering::Release);
                        if result_tx.send(result).is_err() {
                            break;
                        }
                        repaint();
                    }
                })
                .expect("spawning an intake thread");
        }
        Intake {
            queue,
            wake,
            results,
            total,
            done,
            cancels,
        }
    }

    /// Queues photos for analysis; a folder is searched recursively for photos by the
    /// analysis threads.
    pub fn add(&self, paths: Vec<PathBuf>) {
        if self.idle() {
            self.total.store(0, Ordering::Relaxed);
            self.done.store(0, Ordering::Relaxed);
        }
        let n = paths.len();
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(paths);
        self.total.fetch_add(n, Ordering::Relaxed);
        for _ in 0..n {
            let _ = self.wake.send(());
        }
    }

    /// Drops every photo not yet started, and the photos of any folder being walked now.
    pub fn cancel(&self) {
        let dropped = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            self.cancels.fetch_add(1, Ordering::SeqCst);
            let n = q.len();
            q.clear();
            n
        };
        // Saturating: a count that slipped below zero would wrap and leave the batch
        // busy for ever.
        let _ = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_sub(dropped))
            });
    }

    /// True when nothing is queued or running.
    pub fn idle(&self) -> bool {
        // `done` first, with Acquire: a folder's photos are added to `total` before the
        // folder counts as done, so a finished folder is never seen without its photos.
        self.done.load(Ordering::Acquire) >= self.total.load(Ordering::Acquire)
    }
}

fn analyse(engine: &Engine, path: PathBuf) -> IntakeResult {
    match docliveness_files::read_photo(&path, engine.config().image.max_file_bytes()) {
        Ok(bytes) => {
            let (analysis, image) =
                engine.analyze_keeping_image(&bytes, Side::Front, Region::Document);
            let pixels = image.map(|d| to_color_image(&d.rgb));
            IntakeResult {
                path,
                bytes: Arc::new(bytes),
                analysis,
                pixels,
            }
        }
        Err(e) => IntakeResult {
            analysis: Analysis::input_failed(
                Side::Front,
                Region::Document,
                docliveness_engine::ErrorCode::ImageInvalid,
                format!("cannot read file: {e}"),
            ),
            path,
            bytes: Arc::new(Vec::new()),
            pixels: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photos(n: usize) -> Vec<PathBuf> {
        (0..n).map(|i| PathBuf::from(format!("p{i}.jpg"))).collect()
    }

    #[test]
    fn a_folder_walked_across_a_cancel_queues_nothing() {
        let queue = Mutex::new(std::collections::VecDeque::new());
        let (total, cancels) = (AtomicUsize::new(1), AtomicU64::new(0));
        let walk_began = cancels.load(Ordering::SeqCst);
        // The reviewer cancels while the folder is being walked.
        cancels.fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            admit_folder(photos(3), walk_began, &cancels, &queue, &total),
            0
        );
        assert!(queue.lock().unwrap().is_empty());
        assert_eq!(total.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_folder_walked_undisturbed_goes_first_in_order() {
        let queue = Mutex::new(std::collections::VecDeque::from([PathBuf::from(
            "later.jpg",
        )]));
        let (total, cancels) = (AtomicUsize::new(2), AtomicU64::new(4));
        assert_eq!(admit_folder(photos(2), 4, &cancels, &queue, &total), 2);
        let q: Vec<_> = queue.lock().unwrap().iter().cloned().collect();
        assert_eq!(
            q,
            [PathBuf::from("p0.jpg"), "p1.jpg".into(), "later.jpg".into()]
        );
        assert_eq!(total.load(Ordering::Relaxed), 4);
    }
}
