//! The photo: bytes decoded upright (EXIF orientation), the facts the image rules need
//! (size, JPEG quality), and the working rasters the later stages look at.

pub(crate) mod decode;
pub(crate) mod exif;
pub(crate) mod jpeg_quality;
pub(crate) mod raster;

pub use decode::{DecodeError, DecodedImage, ImageFacts, ImageKind, decode};
pub use jpeg_quality::estimate_quality;
pub use raster::{WorkImage, blur_plane};
