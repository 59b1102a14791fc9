//! docliveness: fully local document liveness.
//!
//! Tells a real identity document held in front of a camera from a presentation attack
//! (a photo of a screen, a printed copy, a screenshot or digital image). The `engine`
//! turns image bytes into an [`engine::Analysis`]; the command line and, later, the
//! console and HTTP API are thin edges over it.

pub mod adapt;
pub mod api;
pub mod cli;
pub mod config;
pub mod console;
pub mod engine;
pub mod eval;
pub mod image_files;
pub mod review;
pub mod synth;

pub use config::Config;
pub use engine::{Analysis, Engine};
