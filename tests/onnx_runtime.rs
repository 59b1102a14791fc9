//! Inference through ONNX Runtime proper, when a library is available.
//!
//! CI installs the `onnxruntime` wheel and points `ORT_DYLIB_PATH` at its
//! `libonnxruntime.so`. Elsewhere, without it, the test reports itself skipped and
//! checks nothing; under CI (`CI` set) a missing library is a failure, so the ONNX
//! Runtime path can never go unexercised there unnoticed.

mod common;

use docliveness::config::BackendChoice;
use docliveness::engine::Backend;

#[test]
fn tiny_model_matches_reference_on_onnxruntime() {
    if std::env::var_os("ORT_DYLIB_PATH").is_none_or(|v| v.is_empty()) {
        let under_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
        assert!(
            !under_ci,
            "CI must set ORT_DYLIB_PATH (see .ci/run): the ONNX Runtime path was not exercised"
        );
        eprintln!("SKIPPED: ORT_DYLIB_PATH is not set, so the ONNX Runtime path was not exercised");
        return;
    }
    let model = common::check_tiny_model(BackendChoice::Onnxruntime);
    assert!(
        matches!(model.backend(), Backend::OnnxRuntime { .. }),
        "{:?}",
        model.backend()
    );
}
