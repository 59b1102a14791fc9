//! Finding the documents in a photo: the learned detector's coverage grid
//! (`detector.rs`), outlines fitted to it (`outline.rs`) and snapped onto the photo's own
//! edges (`snap.rs`), or, without a detector model, the classical line-based search
//! (`classical.rs`).

pub(crate) mod classical;
pub(crate) mod detector;
pub(crate) mod outline;
pub(crate) mod snap;

pub use classical::{DetectedDocument, detect_documents};
pub use detector::{DocumentModel, snapped};
pub use outline::{LogitGrid, Outline, outlines};
