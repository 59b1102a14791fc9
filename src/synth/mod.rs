//! Synthetic scenes with known ground truth, for tests, benchmarks and the bundled
//! samples. Not used by the engine itself.

pub mod card;
pub mod hazards;
pub mod queue;
pub mod rng;
pub mod scene;

pub use card::{CardStyle, DocumentFormat};
pub use hazards::{Carrier, Extras, Finger, Glare, Hazard, hard_scene};
pub use rng::Rng;
pub use scene::{Background, Placement, Scene, SceneSpec, passing_scene, place, render};
