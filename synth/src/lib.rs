//! Synthetic scenes with known ground truth, for docliveness's tests, benchmarks, examples,
//! bundled samples and detector training data. Not used by the product itself.

pub mod card;
pub mod hazards;
pub mod queue;
pub mod rng;
pub mod scene;

pub use card::{CardStyle, DocumentFormat};
pub use hazards::{Carrier, Extras, Finger, Glare, Hazard, hard_scene};
pub use rng::Rng;
pub use scene::{Background, Placement, Scene, SceneSpec, passing_scene, place, render};
