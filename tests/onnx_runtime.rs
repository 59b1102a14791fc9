//! Inference through ONNX Runtime proper, when a library is available.
//!
//! CI installs the `onnxruntime` wheel and points `ORT_DYLIB_PATH` at its
//! `libonnxruntime.so`; without it this test says so and checks nothing.

mod common;

use docliveness::config::BackendChoice;
use docliveness::engine::onnx::Backend;

#[test]
fn tiny_model_matches_reference_on_onnxruntime() {
    if std::env::var_os("ORT_DYLIB_PATH").is_none_or(|v| v.is_empty()) {
        eprintln!("ORT_DYLIB_PATH is not set: the ONNX Runtime path was not exercised");
        return;
    }
    let model = common::check_tiny_model(BackendChoice::Onnxruntime);
    assert!(
        matches!(model.backend(), Backend::OnnxRuntime { .. }),
        "{:?}",
        model.backend()
    );
}
