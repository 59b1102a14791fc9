//! docliveness: fully local document liveness.
//!
//! Tells a real identity document held in front of a camera from a presentation attack
//! (a photo of a screen, a printed copy, a screenshot or digital image).
//!
//! One direction of flow. The [`engine`] is pure: image bytes in, an
//! [`engine::Analysis`] per side and an [`engine::Outcome`] per check out; it knows
//! nothing of HTTP, SQL or widgets, and reads no file but its models. The [`review`]
//! store keeps the queue of cases in SQLite. Both are crates of their own (`engine/`,
//! `review/`), re-exported here, so that neither can reach what sits above it. The edges
//! sit on both: the command line ([`cli`]), the review console
//! ([`console`]), the HTTP API ([`api`]), and the refit of the score from reviewers'
//! decisions ([`adapt`]). Every threshold and limit is in [`config`], with its reason.
//! The scene generator that the tests and benchmarks use is the `docliveness-synth`
//! crate (`synth/`), not part of this library.

pub mod adapt;
pub mod api;
pub mod cli;
pub mod config;
pub mod console;
pub use docliveness_engine as engine;
pub mod eval;
pub mod image_files;
pub use docliveness_review as review;

pub use config::Config;
pub use engine::{Analysis, Engine};
