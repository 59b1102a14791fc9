//! Finding the documents in a photo: the learned detector's coverage grid
//! (`detector.rs`), outlines fitted to it (`outline.rs`) and snapped onto the photo's own
//! edges (`snap.rs`), or, without a detector model, the classical line-based search
//! (`classical.rs`).

pub(in crate::engine) mod classical;
pub(in crate::engine) mod detector;
pub(in crate::engine) mod outline;
pub(in crate::engine) mod snap;

pub use classical::{DetectedDocument, detect_documents};
pub use detector::{DocumentModel, snapped};
pub use outline::{LogitGrid, Outline, outlines};
