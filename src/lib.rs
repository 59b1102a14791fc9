//! docliveness: fully local document liveness.
//!
//! Tells a real identity document held in front of a camera from a presentation attack
//! (a photo of a screen, a printed copy, a screenshot or digital image).
//!
//! One direction of flow, and every part a crate of its own (re-exported here under its
//! name), so that none can reach what sits beside or above it. The [`engine`] is pure:
//! image bytes in, an [`engine::Analysis`] per side and an [`engine::Outcome`] per check
//! out; it knows nothing of HTTP, SQL or widgets, and reads no file but its models. The
//! [`review`] store keeps the queue of cases in SQLite, on the engine only. The edges sit
//! on both: the review console ([`console`], no HTTP), the HTTP API ([`api`], no
//! widgets), and the refit of the score from reviewers' decisions ([`adapt`]); photo
//! files are read by [`image_files`]. This crate is the command line ([`cli`]) over them,
//! and the one configuration file ([`config`]) that gathers every part's settings, each
//! threshold and limit with its reason.
//! The scene generator that the tests and benchmarks use is the `docliveness-synth`
//! crate (`synth/`), not part of this library.

pub use docliveness_adapt as adapt;
pub use docliveness_api as api;
pub mod cli;
pub mod config;
pub use docliveness_console as console;
pub use docliveness_engine as engine;
pub mod eval;
pub use docliveness_files as image_files;
pub use docliveness_review as review;

pub use config::Config;
pub use engine::{Analysis, Engine};
