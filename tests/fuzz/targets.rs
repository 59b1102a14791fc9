//! What is fuzzed: how each target's inputs are made from the corpus, and what each
//! input is run through and checked against beyond "no panic, no hang".

use std::sync::Arc;

use base64::Engine as _;
use docliveness::api::service::{ServiceContext, process};
use docliveness::api::wire::{ImageSource, LivenessRequest, image_source};
use docliveness::config::{BackendChoice, Config};
use docliveness::engine::internals;
use docliveness::engine::{Analysis, Engine, LivenessStatus, Region, Side, decode};
use docliveness::review::Store;
use docliveness_synth::Rng;

use super::corpus::Corpus;
use super::mutate::mutate;

/// The pixel limit of the cheap targets: mutated headers announce images of up to
/// this size and the decoder really makes them, so it bounds the time per input.
/// Inputs of the `decode` target use the product's default limit now and then.
const FUZZ_MAX_PIXELS: u64 = 4_000_000;

/// The fuzzed entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `engine::decode` with `jpeg_quality` on the same bytes.
    Decode,
    /// `engine::internals::read_text_tags` on EXIF blocks.
    Exif,
    /// `api::wire::image_source` on request fields.
    ImageSource,
    /// `api::service::process` on request bodies (tiny liveness model, a temp database).
    Api,
    /// `Engine::analyze` without models (the classical detector).
    Engine,
    /// `Engine::analyze` with the shipped detector, portrait and liveness models.
    FullEngine,
}

impl Target {
    /// All targets, in report order.
    pub const ALL: [Target; 6] = [
        Target::Decode,
        Target::Exif,
        Target::ImageSource,
        Target::Api,
        Target::Engine,
        Target::FullEngine,
    ];

    /// What counts as getting past the first gate, in the report.
    pub fn gate(self) -> &'static str {
        match self {
            Target::Decode | Target::Engine => "decoded",
            Target::Exif => "text found",
            Target::ImageSource => "accepted",
            Target::Api | Target::FullEngine => "scored",
        }
    }

    /// The target of `name` (as in reports).
    pub fn named(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The name in reports and saved file names.
    pub fn name(self) -> &'static str {
        match self {
            Target::Decode => "decode",
            Target::Exif => "exif",
            Target::ImageSource => "image_source",
            Target::Api => "api",
            Target::Engine => "engine",
            Target::FullEngine => "full_engine",
        }
    }

    /// Picks the target of one input. Shares in 2000ths, set by cost (on two cores):
    /// the full engine needs about 150 ms an input, the engine without models and a
    /// scored API request about 20, decoding a small image about one. So decode 67%,
    /// EXIF 10%, image fields 14%, API 5%, engine 6%, full engine 0.5%.
    fn pick(rng: &mut Rng) -> Target {
        match rng.int(0, 1999) {
            0..=1289 => Target::Decode,
            1290..=1489 => Target::Exif,
            1490..=1769 => Target::ImageSource,
            1770..=1869 => Target::Api,
            1870..=1989 => Target::Engine,
            _ => Target::FullEngine,
        }
    }
}

/// Engines and contexts shared by the workers.
pub struct Harness {
    pub corpus: Corpus,
    /// The targets to run; empty for all.
    only: Vec<Target>,
    classical: Engine,
    full: Engine,
    service: ServiceContext,
    _db_dir: tempfile::TempDir,
    _tiny_models: tempfile::TempDir,
}

/// Per-worker state: the review store connection, as each API worker has its own.
#[derive(Default)]
pub struct Worker {
    store: Option<Store>,
}

/// The settings that let small inputs reach every stage: the product's limits stop
/// small or heavily compressed photos before detection, which would leave detection,
/// the portrait check and scoring unfuzzed. A user may lower both rules the same way.
fn permissive(models: Option<&std::path::Path>) -> Config {
    let mut config = Config::default();
    config.image.max_pixels = FUZZ_MAX_PIXELS;
    config.image.min_short_side = 16;
    config.image.min_jpeg_quality = 0;
    config.models.dir = models.map(std::path::Path::to_path_buf);
    config.models.backend = BackendChoice::Tract;
    config
}

impl Harness {
    /// Builds the corpus and loads the engines; inputs go to the targets in `only`
    /// (all when empty).
    pub fn new(only: Vec<Target>) -> Harness {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let classical = Engine::without_models(permissive(None)).unwrap();
        let full = Engine::new(permissive(Some(&root.join("models")))).unwrap();
        assert!(full.model_version().is_some() && full.detector_version().is_some());
        // The API runs the tiny liveness model: every analysis that gets that far is
        // scored (and filed when in the review band) at a fraction of the real model's cost.
        let tiny = tempfile::tempdir().unwrap();
        let liveness = tiny.path().join("liveness");
        std::fs::create_dir_all(&liveness).unwrap();
        for f in ["tiny.onnx", "manifest.json"] {
            std::fs::copy(
                root.join("tests/fixtures/tiny_model").join(f),
                liveness.join(f),
            )
            .unwrap();
        }
        let api_config = permissive(Some(tiny.path()));
        let db_dir = tempfile::tempdir().unwrap();
        let service = ServiceContext {
            engine: Arc::new(Engine::new(api_config.clone()).unwrap()),
            db_path: db_dir.path().join("review.db"),
            url_policy: api_config.server.url_inputs.clone(),
        };
        Harness {
            corpus: Corpus::build(),
            only,
            classical,
            full,
            service,
            _db_dir: db_dir,
            _tiny_models: tiny,
        }
    }

    /// The target and bytes of input `index` under `seed`: the same every time, so a
    /// failure is reproduced from the two numbers alone.
    pub fn input(&self, seed: u64, index: u64) -> (Target, Vec<u8>) {
        let mut rng = Rng::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut target = Target::pick(&mut rng);
        while !self.only.is_empty() && !self.only.contains(&target) {
            target = Target::pick(&mut rng);
        }
        let bytes = match target {
            Target::Decode => self.image(&mut rng, 0.03),
            Target::Exif => {
                let c = &self.corpus.exif;
                let seed = &c[rng.int(0, c.len() as i64 - 1) as usize];
                if rng.chance(0.05) {
                    seed.clone()
                } else {
                    mutate(&mut rng, seed, seed)
                }
            }
            Target::ImageSource => self.field(&mut rng).into_bytes(),
            Target::Api => self.body(&mut rng),
            Target::Engine => self.scene_or_image(&mut rng, 0.5, 0.02),
            Target::FullEngine => self.scene_or_image(&mut rng, 0.8, 0.15),
        };
        (target, bytes)
    }

    /// Runs one input. `Ok(true)` when it got past the first gate (see `Target::gate`),
    /// which tells how deep the mutants reach; `Err` names a property it broke (a panic
    /// is caught by the caller).
    pub fn run(
        &self,
        worker: &mut Worker,
        target: Target,
        bytes: &[u8],
        index: u64,
    ) -> Result<bool, String> {
        match target {
            Target::Decode => {
                // One input in twenty gets the product's default limit (50 MP), so that
                // bombs are refused, or decoded, at the size the product allows.
                let max_pixels = if index.is_multiple_of(20) {
                    50_000_000
                } else {
                    FUZZ_MAX_PIXELS
                };
                let _ = internals::read_quant_tables(bytes);
                if let Some(q) = internals::estimate_quality(bytes) {
                    check((1..=100).contains(&q), || format!("JPEG quality {q}"))?;
                }
                let decoded = decode(bytes, max_pixels);
                if let Ok(image) = &decoded {
                    let f = &image.facts;
                    check(
                        (image.rgb.width(), image.rgb.height()) == (f.width, f.height)
                            && u64::from(f.width) * u64::from(f.height) <= max_pixels
                            && f.width > 0
                            && f.height > 0
                            && (1..=8).contains(&f.orientation)
                            && f.byte_size == bytes.len(),
                        || format!("decoded image facts {f:?} vs {:?}", image.rgb.dimensions()),
                    )?;
                }
                Ok(decoded.is_ok())
            }
            Target::Exif => {
                let text = internals::read_text_tags(bytes);
                let longest = text
                    .camera
                    .iter()
                    .chain(&text.software)
                    .map(String::len)
                    .max();
                // Tags are at most 256 bytes, and lossy UTF-8 at most triples that.
                check(longest.unwrap_or(0) <= 2 * 3 * 256 + 1, || {
                    format!("EXIF text too long: {text:?}")
                })?;
                Ok(longest.is_some())
            }
            Target::ImageSource => {
                let field = String::from_utf8_lossy(bytes);
                let read = image_source(&field);
                // Clean fields were made from known bytes: they must come back.
                match clean_field(&field) {
                    Some(Expected::Bytes(want)) => {
                        check(read == Ok(ImageSource::Bytes(want.clone())), || {
                            format!(
                                "a clean Base64 field of {} bytes did not decode to them",
                                want.len()
                            )
                        })
                    }
                    Some(Expected::Url(url)) => {
                        check(read == Ok(ImageSource::Url(url.clone())), || {
                            format!("URL {url:?} not recognised")
                        })
                    }
                    None => Ok(()),
                }?;
                Ok(read.is_ok())
            }
            Target::Api => {
                let reply = process(&self.service, &mut worker.store, bytes);
                let (status, r) = match &reply {
                    Ok(r) => (200, r),
                    Err(rejection) => (rejection.error.status().as_u16(), &*rejection.response),
                };
                check(matches!(status, 200 | 400), || {
                    format!("status {status} ({:?}: {:?})", r.error, r.message)
                })?;
                if let Ok(LivenessRequest {
                    session_id: Some(session),
                    ..
                }) = serde_json::from_slice::<LivenessRequest>(bytes)
                {
                    check(r.session_id == session, || {
                        "session id not echoed".to_string()
                    })?;
                }
                if status == 200 && !r.has_error {
                    check(
                        r.score.is_some_and(|s| (0.0..=1.0).contains(&s)) && r.decision.is_some(),
                        || format!("a success without a valid score: {r:?}"),
                    )?;
                }
                serde_json::to_vec(r).map_err(|e| e.to_string())?;
                Ok(r.score.is_some())
            }
            Target::Engine | Target::FullEngine => {
                let engine = if target == Target::Engine {
                    &self.classical
                } else {
                    &self.full
                };
                let side = if index.is_multiple_of(2) {
                    Side::Front
                } else {
                    Side::Back
                };
                let region = if index.is_multiple_of(7) {
                    Region::Whole
                } else {
                    Region::Document
                };
                let a = engine.analyze(bytes, side, region);
                analysis_sane(&a, engine.config().image.max_pixels)?;
                Ok(if target == Target::Engine {
                    a.image.is_some()
                } else {
                    a.score.is_some()
                })
            }
        }
    }

    /// A mutant of a small image, or of a large one with probability `large`.
    fn image(&self, rng: &mut Rng, large: f64) -> Vec<u8> {
        let pool = if rng.chance(large) {
            &self.corpus.large
        } else {
            &self.corpus.small
        };
        let seed = &pool[rng.int(0, pool.len() as i64 - 1) as usize];
        let other = &self.corpus.small[rng.int(0, self.corpus.small.len() as i64 - 1) as usize];
        if rng.chance(0.03) {
            return seed.clone();
        }
        mutate(rng, seed, other)
    }

    /// A mutant of a document scene with probability `scene`, else of an image.
    fn scene_or_image(&self, rng: &mut Rng, scene: f64, large: f64) -> Vec<u8> {
        if rng.chance(scene) {
            let c = &self.corpus.scenes;
            let seed = &c[rng.int(0, c.len() as i64 - 1) as usize];
            // Some scenes go in unchanged, so that the whole pipeline runs to the score.
            if rng.chance(0.1) {
                return seed.clone();
            }
            let other = &c[rng.int(0, c.len() as i64 - 1) as usize];
            return mutate(rng, seed, other);
        }
        self.image(rng, large)
    }

    /// An image field of a request: Base64 in its accepted forms (of an image or of
    /// random bytes), a URL, junk, or one of these mutated.
    fn field(&self, rng: &mut Rng) -> String {
        let bytes = if rng.chance(0.5) {
            self.image(rng, 0.0)
        } else {
            (0..rng.int(0, 48)).map(|_| rng.next_u64() as u8).collect()
        };
        let clean = clean_form(rng, &bytes);
        match rng.int(0, 9) {
            0..=5 => clean,
            6 => {
                let junk = [
                    "",
                    " ",
                    "=",
                    "==",
                    "data:",
                    "data:,",
                    "data:;base64,",
                    "http://",
                    "\u{0}",
                    "é",
                    "🦀",
                ];
                let mut s = String::new();
                for _ in 0..rng.int(1, 6) {
                    let piece: &&str = rng.pick(&junk);
                    s.push_str(piece);
                    if rng.chance(0.5) {
                        s.push(char::from(rng.int(32, 126) as u8));
                    }
                }
                s
            }
            _ => String::from_utf8_lossy(&mutate(rng, clean.as_bytes(), b"==\n-_/+")).into_owned(),
        }
    }

    /// A request body: the spec's JSON with fields of every kind, often mutated.
    fn body(&self, rng: &mut Rng) -> Vec<u8> {
        if rng.chance(0.05) {
            return (0..rng.int(0, 200)).map(|_| rng.next_u64() as u8).collect();
        }
        let mut map = serde_json::Map::new();
        for key in [
            "sessionId",
            "frontSideImageBase",
            "backSideImageBase",
            "documentImageBase",
            "extra",
        ] {
            let present = match key {
                "frontSideImageBase" => 0.85,
                "sessionId" => 0.6,
                _ => 0.2,
            };
            if !rng.chance(present) {
                continue;
            }
            let value = match rng.int(0, 19) {
                0 => serde_json::Value::Null,
                1 => serde_json::json!(rng.next_u64()),
                2 => serde_json::json!([1, "a", null]),
                3 => serde_json::json!({"nested": key}),
                4 => serde_json::json!(""),
                5 => serde_json::json!(" \n"),
                _ if key.ends_with("Base") => {
                    // Half the images are whole scenes, so that requests get scored and
                    // filed for review, not only refused.
                    let image = if rng.chance(0.5) {
                        let c = &self.corpus.scenes;
                        c[rng.int(0, c.len() as i64 - 1) as usize].clone()
                    } else {
                        self.scene_or_image(rng, 0.6, 0.0)
                    };
                    serde_json::Value::String(clean_form(rng, &image))
                }
                _ => serde_json::Value::String(
                    (0..rng.int(0, 40))
                        .map(|_| char::from_u32(rng.int(1, 0x2FFF) as u32).unwrap_or('?'))
                        .collect(),
                ),
            };
            map.insert(key.to_string(), value);
        }
        let body = serde_json::to_vec(&serde_json::Value::Object(map)).unwrap();
        if rng.chance(0.3) {
            // Mostly in the JSON, not deep in a Base64 field.
            mutate(rng, &body, b"{\"sessionId\":\"\\ud800\",\"a\":1e999}")
        } else {
            body
        }
    }
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// What every analysis must satisfy whatever its input.
fn analysis_sane(a: &Analysis, max_pixels: u64) -> Result<(), String> {
    if let Some(f) = &a.image {
        check(
            u64::from(f.width) * u64::from(f.height) <= max_pixels,
            || {
                format!(
                    "an image of {}×{} passed the pixel limit",
                    f.width, f.height
                )
            },
        )?;
    }
    check(a.error.is_some() == a.has_error(), || {
        "has_error disagrees".into()
    })?;
    if let Some(s) = a.score {
        check((0.0..=1.0).contains(&s) && a.decision.is_some(), || {
            format!("score {s}")
        })?;
        check(a.liveness == LivenessStatus::Scored, || {
            format!("a score with {:?}", a.liveness)
        })?;
    }
    for d in &a.documents {
        check(
            d.quad.0.iter().all(|p| p.x.is_finite() && p.y.is_finite()) && d.confidence.is_finite(),
            || format!("document {d:?}"),
        )?;
    }
    if let Some(e) = &a.evidence {
        check(e.values.iter().all(|v| v.is_finite()), || {
            format!("evidence {e:?}")
        })?;
    }
    if let LivenessStatus::Failed { message } = &a.liveness {
        return Err(format!("the liveness model failed: {message}"));
    }
    serde_json::to_string(a)
        .map(drop)
        .map_err(|e| e.to_string())
}

enum Expected {
    Bytes(Vec<u8>),
    Url(String),
}

/// `bytes` as an image field in one of the forms the API accepts.
fn clean_form(rng: &mut Rng, bytes: &[u8]) -> String {
    let k = rng.int(0, 7) as usize;
    if k == 7 {
        let scheme = rng.pick(&["https", "http", "HTTPS"]);
        return format!("{scheme}://example.org/{}.jpg", bytes.len());
    }
    clean_forms(bytes).swap_remove(k)
}

/// The Base64 forms of `bytes`: padded or not, either alphabet, wrapped in lines, as a
/// `data:` URL, between blanks.
fn clean_forms(bytes: &[u8]) -> Vec<String> {
    let std = base64::engine::general_purpose::STANDARD;
    let url = base64::engine::general_purpose::URL_SAFE;
    let text = std.encode(bytes);
    let mut wrapped = String::new();
    for (i, c) in text.chars().enumerate() {
        if i.is_multiple_of(76) && i > 0 {
            wrapped.push_str(if i.is_multiple_of(152) { "\r\n" } else { "\n" });
        }
        wrapped.push(c);
    }
    vec![
        text.clone(),
        text.trim_end_matches('=').to_string(),
        url.encode(bytes),
        wrapped,
        format!("data:image/jpeg;base64,{text}"),
        format!("DATA:image/png;BASE64,{}", url.encode(bytes)),
        format!(" \t{text}\n "),
    ]
}

/// What a field must decode to when it is exactly one of the clean forms (mutants
/// rarely are); `None` for every other field. Worked out without the parser under test:
/// decode by a guess, then check that encoding the guess again gives the field.
fn clean_field(field: &str) -> Option<Expected> {
    if let Some((scheme, rest)) = field.split_once("://") {
        let digits = rest.strip_prefix("example.org/")?.strip_suffix(".jpg")?;
        let clean = ["https", "http", "HTTPS"].contains(&scheme)
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit());
        return clean.then(|| Expected::Url(field.to_string()));
    }
    let trimmed = field.trim_matches([' ', '\t', '\n']);
    let payload = trimmed
        .strip_prefix("data:image/jpeg;base64,")
        .or_else(|| trimmed.strip_prefix("DATA:image/png;BASE64,"))
        .unwrap_or(trimmed);
    let compact: String = payload
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect();
    let padded = match compact.len() % 4 {
        2 => format!("{compact}=="),
        3 => format!("{compact}="),
        _ => compact,
    };
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let bytes = engines.iter().find_map(|e| e.decode(&padded).ok())?;
    (!bytes.is_empty() && clean_forms(&bytes).iter().any(|f| f == field))
        .then_some(Expected::Bytes(bytes))
}
