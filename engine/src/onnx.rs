//! Loading ONNX models from `models/<name>/` and running them through `ort`.
//!
//! Two backends sit behind the same `ort` API: tract (pure Rust, compiled in, the default
//! that works from a fresh clone) and ONNX Runtime proper, loaded at run time from a
//! `libonnxruntime.so` (for example the one inside the PyPI `onnxruntime` wheel) when the
//! configuration or `ORT_DYLIB_PATH` names one. `ort` holds one backend per process, so
//! the first engine built in a process decides it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::ArrayView4;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::ModelsConfig;
use crate::liveness::aggregate::Aggregation;
use crate::liveness::resave;

/// Which inference backend runs the models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Backend {
    /// tract, compiled into the binary.
    Tract,
    /// ONNX Runtime loaded from a shared library.
    OnnxRuntime {
        /// The library that was loaded.
        library: PathBuf,
        /// Its version string.
        version: String,
    },
}

impl Backend {
    /// Short name for logs and reports.
    pub fn label(&self) -> String {
        match self {
            Backend::Tract => "tract".to_string(),
            Backend::OnnxRuntime { version, .. } => format!("onnxruntime {version}"),
        }
    }
}

/// Why a model could not be loaded or run.
#[derive(Debug, Error)]
pub enum OnnxError {
    /// The ONNX Runtime library could not be loaded.
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    Library {
        /// The library path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The backend could not create its environment.
    #[error("inference backend failed to start: {0}")]
    Environment(String),
    /// A model's manifest is missing or invalid.
    #[error("invalid manifest {path}: {message}")]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The ONNX file could not be turned into a session.
    #[error("cannot load model {path}: {message}")]
    Load {
        /// The ONNX file.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// Running the model failed.
    #[error("model run failed: {0}")]
    Run(String),
    /// A patch could not be prepared as the manifest asks.
    #[error("cannot prepare a patch for the model: {0}")]
    Patch(#[from] resave::ResaveError),
}

/// How an image patch becomes the model's input tensor (NCHW, RGB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputSpec {
    /// Input tensor name.
    pub name: String,
    /// Patch width in pixels.
    pub width: u32,
    /// Patch height in pixels.
    pub height: u32,
    /// Per-channel mean subtracted after scaling to 0..1.
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by after the mean.
    pub std: [f32; 3],
}

impl InputSpec {
    /// A channel value scaled to 0..1, normalised the way the model expects.
    pub fn normalise(&self, channel: usize, value: f32) -> f32 {
        (value - self.mean[channel]) / self.std[channel]
    }
}

/// One output tensor and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputSpec {
    /// Output tensor name.
    pub name: String,
    /// What the values mean (for example `liveness` or `attacks:screen,print,digital`).
    pub meaning: String,
}

/// How the whole view is cut from the photo (`engine/src/liveness/view.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewSpec {
    /// How many times wider and taller than the document's outline the view is, about
    /// its centre.
    pub expand: f64,
    /// Samples per view pixel along each axis, averaged in linear light.
    pub samples: u32,
    /// sRGB colour of view pixels that lie wholly outside the photo.
    pub fill: [u8; 3],
}

/// `manifest.json`: everything the engine needs to use a model without code changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Model name (the folder name).
    pub name: String,
    /// Version reported in every analysis.
    pub version: String,
    /// ONNX file name inside the model folder.
    pub file: String,
    /// Input geometry and normalisation.
    pub input: InputSpec,
    /// Outputs in the order the model produces them.
    pub outputs: Vec<OutputSpec>,
    /// How many patches to score per image (models that look at patches).
    #[serde(default)]
    pub patches: Option<u32>,
    /// Fixed batch size of the exported graph (patches per run); 1 when absent.
    #[serde(default)]
    pub batch: Option<u32>,
    /// Description of the training data.
    #[serde(default)]
    pub training_data: Option<String>,
    /// JPEG quality each patch is saved at and decoded again before the model sees it
    /// (patch models only; `engine/src/liveness/resave.rs` says why); patches go in as cut when
    /// absent.
    #[serde(default)]
    pub resave_quality: Option<u8>,
    /// How a patch model's per-patch values become the image's score; the plain mean
    /// when absent.
    #[serde(default)]
    pub aggregation: Option<Aggregation>,
    /// How a whole-view model's input is made from the photo (whole-view models only).
    #[serde(default)]
    pub view: Option<ViewSpec>,
    /// Measured error rates, as the model card states them.
    #[serde(default)]
    pub error_rates: Option<serde_json::Value>,
}

/// Output tensors of one run: name, shape and values.
pub type Outputs = Vec<(String, Vec<usize>, Vec<f32>)>;

struct BackendState {
    backend: Backend,
    environment: ort::environment::Environment,
}

static BACKEND: OnceLock<Result<BackendState, String>> = OnceLock::new();

/// Starts the process-wide backend (once) and says which one is active.
///
/// A later call asking for a different backend gets the active one; the caller sees
/// which in the returned value and in the log.
pub fn init_backend(cfg: &ModelsConfig) -> Result<Backend, OnnxError> {
    let request = cfg
        .onnxruntime_request()
        .map_err(|e| OnnxError::Environment(e.to_string()))?;
    let state = BACKEND.get_or_init(|| start_backend(request.clone()).map_err(|e| e.to_string()));
    match state {
        Ok(s) => {
            let wanted_ort = request.is_some();
            let have_ort = matches!(s.backend, Backend::OnnxRuntime { .. });
            if wanted_ort != have_ort {
                tracing::warn!(active = %s.backend.label(), "another backend was asked for, but one process runs one backend");
            }
            Ok(s.backend.clone())
        }
        Err(message) => Err(OnnxError::Environment(message.clone())),
    }
}

fn start_backend(library: Option<PathBuf>) -> Result<BackendState, OnnxError> {
    let backend = match library {
        None => {
            ort::set_api(ort_tract::api());
            Backend::Tract
        }
        Some(path) => {
            let (api, version) = load_onnxruntime(&path)?;
            ort::set_api(api);
            Backend::OnnxRuntime {
                library: path,
                version,
            }
        }
    };
    let environment = ort::init()
        .with_name("docliveness")
        .build()
        .map_err(|e| OnnxError::Environment(e.to_string()))?;
    tracing::info!(backend = %backend.label(), "inference backend ready");
    Ok(BackendState {
        backend,
        environment,
    })
}

// Loading a shared library and calling into it cannot be done without `unsafe`.
#[allow(unsafe_code)]
fn load_onnxruntime(path: &Path) -> Result<(ort::sys::OrtApi, String), OnnxError> {
    let err = |message: String| OnnxError::Library {
        path: path.to_owned(),
        message,
    };
    // SAFETY: loading a shared library runs its initialisers; the path is one the operator
    // configured explicitly to be ONNX Runtime.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| err(e.to_string()))?;
    // The library must stay loaded for the life of the process: `ort` keeps pointers into it.
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release.
    let get_base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
        unsafe { lib.get(b"OrtGetApiBase") }
            .map_err(|_| err("no OrtGetApiBase symbol: not ONNX Runtime".into()))?;
    // SAFETY: the base and the API table are static data owned by the loaded library.
    unsafe {
        let base = get_base();
        if base.is_null() {
            return Err(err("OrtGetApiBase returned null".into()));
        }
        let version = std::ffi::CStr::from_ptr(((*base).GetVersionString)())
            .to_string_lossy()
            .into_owned();
        let api = ((*base).GetApi)(ort::sys::ORT_API_VERSION);
        if api.is_null() {
            return Err(err(format!(
                "version {version} does not offer API {} (ONNX Runtime 1.{} or newer is needed)",
                ort::sys::ORT_API_VERSION,
                ort::sys::ORT_API_VERSION
            )));
        }
        Ok((std::ptr::read(api), version))
    }
}

/// A loaded model with its manifest and a few sessions, so that parallel callers (the
/// CLI's and the server's worker threads) do not queue behind one another.
pub struct OnnxModel {
    manifest: Manifest,
    sessions: Vec<Mutex<Session>>,
    next: std::sync::atomic::AtomicUsize,
    backend: Backend,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("manifest", &self.manifest)
            .field("backend", &self.backend)
            .finish()
    }
}

impl OnnxModel {
    /// Loads `dir/manifest.json` and the ONNX file it names.
    pub fn load(dir: &Path, cfg: &ModelsConfig) -> Result<OnnxModel, OnnxError> {
        let manifest = read_manifest(dir)?;
        let backend = init_backend(cfg)?;
        let Some(Ok(state)) = BACKEND.get() else {
            return Err(OnnxError::Environment("backend not started".into()));
        };
        let file = dir.join(&manifest.file);
        let load_err = |message: String| OnnxError::Load {
            path: file.clone(),
            message,
        };
        let bytes = std::fs::read(&file).map_err(|e| load_err(e.to_string()))?;
        let count = if cfg.sessions == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            cfg.sessions
        };
        let mut sessions = Vec::with_capacity(count);
        for _ in 0..count {
            // tract runs about ten times slower without its full optimisation pass.
            let session = Session::builder(&state.environment)
                .map_err(|e| load_err(e.to_string()))?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(|e| load_err(e.to_string()))?
                .with_intra_threads(cfg.intra_threads.max(1))
                .map_err(|e| load_err(e.to_string()))?
                .commit_from_memory(&bytes)
                .map_err(|e| load_err(e.to_string()))?;
            sessions.push(Mutex::new(session));
        }
        tracing::info!(model = %manifest.name, version = %manifest.version, backend = %backend.label(), sessions = count, "model loaded");
        Ok(OnnxModel {
            manifest,
            sessions,
            next: std::sync::atomic::AtomicUsize::new(0),
            backend,
        })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The backend that runs this model.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// How many runs of this model can go at once (one per session).
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Runs the model on one NCHW batch and returns every output as `f32`.
    pub fn run(&self, input: ArrayView4<'_, f32>) -> Result<Outputs, OnnxError> {
        let run_err = |e: ort::Error| OnnxError::Run(e.to_string());
        let tensor = TensorRef::from_array_view(input).map_err(run_err)?;
        // Take a free session if there is one, else wait for the next in turn.
        let mut session = match self.sessions.iter().find_map(|s| s.try_lock().ok()) {
            Some(s) => s,
            None => {
                let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    % self.sessions.len();
                self.sessions[i]
                    .lock()
                    .map_err(|_| OnnxError::Run("a previous run panicked".into()))?
            }
        };
        let outputs = session
            .run(ort::inputs![self.manifest.input.name.as_str() => tensor])
            .map_err(run_err)?;
        let mut result = Vec::new();
        for spec in &self.manifest.outputs {
            let value = outputs.get(spec.name.as_str()).ok_or_else(|| {
                OnnxError::Run(format!("model has no output named {}", spec.name))
            })?;
            let array = value.try_extract_array::<f32>().map_err(run_err)?;
            result.push((
                spec.name.clone(),
                array.shape().to_vec(),
                array.iter().copied().collect(),
            ));
        }
        Ok(result)
    }
}

/// Reads and checks a model folder's manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, OnnxError> {
    let path = dir.join("manifest.json");
    let err = |message: String| OnnxError::Manifest {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    if manifest.outputs.is_empty() {
        return Err(err("no outputs listed".into()));
    }
    if manifest.input.width == 0 || manifest.input.height == 0 || manifest.input.std.contains(&0.0)
    {
        return Err(err("input width, height and std must be non-zero".into()));
    }
    if let Some(problem) = manifest.aggregation.as_ref().and_then(Aggregation::problem) {
        return Err(err(problem));
    }
    if let Some(quality) = manifest.resave_quality {
        if !resave::QUALITIES.contains(&quality) {
            return Err(err(format!(
                "resaveQuality is a JPEG quality from 1 to 100, not {quality}"
            )));
        }
        if manifest.input.width.max(manifest.input.height) > resave::MAX_SIDE {
            return Err(err(format!(
                "a patch saved as JPEG (resaveQuality) is at most {} pixels a side",
                resave::MAX_SIDE
            )));
        }
    }
    if let Some(view) = manifest.view
        && !(view.expand.is_finite() && view.expand >= 1.0 && (1..=16).contains(&view.samples))
    {
        return Err(err(format!(
            "view expand must be at least 1 and samples 1 to 16, not {} and {}",
            view.expand, view.samples
        )));
    }
    Ok(manifest)
}
