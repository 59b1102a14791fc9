//! The HTTP API end to end over loopback: the seed's request and responses, every error
//! the spec lists, authentication, limits, URL policy and the review queue.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use docliveness::api::{ServeOptions, Server, auth};
use docliveness::config::{BackendChoice, Config};
use docliveness::engine::Engine;
use docliveness::review::{CaseFilter, Origin, Status, Store};
use docliveness::synth::{Background, SceneSpec, passing_scene, render};
use serde_json::{Value, json};

const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";

struct TestServer {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    _models: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(with_model: bool, adjust: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let models = if with_model {
        common::models_with_tiny_liveness()
    } else {
        tempfile::tempdir().unwrap()
    };
    let users = dir.path().join("users");
    auth::add_user(&users, USER, PASSWORD).unwrap();
    let mut config = Config::default();
    config.models.dir = Some(models.path().to_owned());
    config.models.backend = BackendChoice::Tract;
    config.server.bind = "127.0.0.1:0".into();
    // Every scored check lands in the review band, so each one files a case.
    config.thresholds.fail_below = 0.0;
    config.thresholds.pass_from = 1.0;
    adjust(&mut config);
    let engine = Arc::new(Engine::new(config.clone()).unwrap());
    let options = ServeOptions {
        db_path: dir.path().join("review.db"),
        users_file: users,
    };
    let server = Server::bind(&config, engine, &options).unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        server
            .run(async {
                let _ = stopped.await;
            })
            .unwrap();
    });
    TestServer {
        addr,
        dir,
        _models: models,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Value,
}

fn post_raw(server: &TestServer, auth: Option<String>, body: Vec<u8>) -> Answer {
    let mut req = agent()
        .post(format!("http://{}/api/v1/document/liveness", server.addr))
        .header("Content-Type", "application/json");
    if let Some(a) = auth {
        req = req.header("Authorization", &a);
    }
    let mut resp = req.send(&body[..]).unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.body_mut().read_to_string().unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn post(server: &TestServer, body: Value) -> Answer {
    post_raw(
        server,
        Some(basic(USER, PASSWORD)),
        body.to_string().into_bytes(),
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn photo(seed: u64) -> Vec<u8> {
    render(&passing_scene(seed, 1920, 1080)).jpeg
}

fn empty_desk() -> Vec<u8> {
    render(&SceneSpec {
        seed: 3,
        width: 1920,
        height: 1080,
        background: Background::Wood,
        documents: vec![],
        blur_sigma: 0.8,
        noise_sigma: 2.0,
        light_gradient: 0.1,
        jpeg_quality: 90,
        extras: Default::default(),
    })
    .jpeg
}

#[test]
fn seed_request_and_responses() {
    let server = start(true, |_| {});
    // The product page's example: `documentImageBase` and a client session id.
    let session = "bbbf9002-c3a2-4308-b103-d80b9f5a2b84";
    let a = post(
        &server,
        json!({"documentImageBase": b64(&photo(70)), "sessionId": session}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["sessionId"], session);
    assert_eq!(a.body["hasError"], false);
    let score = a.body["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score));
    assert!(a.body.get("error").is_none());
    assert_eq!(a.body["decision"], "review");
    assert_eq!(a.body["modelVersion"], "test-1");
    let case_id = a.body["reviewCaseId"].as_i64().unwrap();

    // The review-band result is a case in the reviewers' queue.
    let store = Store::open(&server.dir.path().join("review.db")).unwrap();
    let case = store.case(case_id).unwrap();
    assert_eq!(
        (case.origin, case.session_id.as_str()),
        (Origin::Api, session)
    );
    assert_eq!(case.score, Some(score));
    assert_eq!(store.sides(case_id).unwrap().len(), 1);

    // The error example: no document in the photo.
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&empty_desk()), "sessionId": session}),
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.body["sessionId"], session);
    assert_eq!(a.body["hasError"], true);
    assert_eq!(a.body["error"], "DOCUMENT_NOT_FOUND");
    assert!(a.body.get("score").is_none());

    // Front and back: the overall score is the lower one; a data: URL works too.
    let a = post(
        &server,
        json!({"frontSideImageBase": format!("data:image/jpeg;base64,{}", b64(&photo(71))), "backSideImageBase": b64(&photo(72))}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let (front, back) = (
        a.body["front"]["score"].as_f64().unwrap(),
        a.body["back"]["score"].as_f64().unwrap(),
    );
    assert_eq!(a.body["score"].as_f64().unwrap(), front.min(back));
    assert_eq!(
        a.body["sessionId"].as_str().unwrap().len(),
        36,
        "a session id is made when absent"
    );
    assert_eq!(
        store
            .count(&CaseFilter {
                status: Status::All,
                ..Default::default()
            })
            .unwrap(),
        2
    );
}

#[test]
fn pass_and_fail_examples_route_by_thresholds() {
    let pass = start(true, |c| {
        c.thresholds.fail_below = 0.0;
        c.thresholds.pass_from = 0.0;
    });
    let a = post(&pass, json!({"frontSideImageBase": b64(&photo(73))}));
    assert_eq!((a.status, a.body["decision"].as_str()), (200, Some("pass")));
    assert!(
        a.body.get("reviewCaseId").is_none(),
        "passes are not queued"
    );
    let fail = start(true, |c| {
        c.thresholds.fail_below = 1.0;
        c.thresholds.pass_from = 1.0;
    });
    let a = post(&fail, json!({"frontSideImageBase": b64(&photo(73))}));
    assert_eq!(
        (
            a.status,
            a.body["decision"].as_str(),
            a.body["hasError"].as_bool()
        ),
        (200, Some("fail"), Some(false))
    );
}

#[test]
fn bad_input_gets_the_spec_errors() {
    let server = start(true, |c| c.server.max_body_bytes = 2 << 20);
    let auth = || Some(basic(USER, PASSWORD));

    let a = post_raw(&server, auth(), b"{ this is not json".to_vec());
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
    assert_eq!(a.body["hasError"], true);
    let a = post(&server, json!({"sessionId": "x"}));
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
    // An empty field is a missing image too; an empty session id is echoed as it is.
    let a = post(&server, json!({"sessionId": "", "frontSideImageBase": " "}));
    assert_eq!(
        (
            a.status,
            a.body["error"].as_str(),
            a.body["sessionId"].as_str()
        ),
        (400, Some("INVALID_REQUEST"), Some(""))
    );

    let a = post(
        &server,
        json!({"frontSideImageBase": "%%% not base64 %%%", "sessionId": "s1"}),
    );
    assert_eq!(
        (
            a.status,
            a.body["error"].as_str(),
            a.body["sessionId"].as_str()
        ),
        (200, Some("IMAGE_INVALID"), Some("s1"))
    );

    let jpeg = photo(74);
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&jpeg[..jpeg.len() / 2])}),
    );
    assert_eq!(a.body["error"], "IMAGE_INVALID");
    assert!(a.body["message"].as_str().unwrap().contains("truncated"));

    // A PNG header announcing 20000 × 20000 pixels, refused without decoding.
    let png = common::png_bomb(20_000, 20_000);
    let t = Instant::now();
    let a = post(&server, json!({"frontSideImageBase": b64(&png)}));
    assert_eq!(a.body["error"], "IMAGE_INVALID", "{}", a.body);
    assert!(
        a.body["message"].as_str().unwrap().contains("20000"),
        "{}",
        a.body
    );
    assert!(t.elapsed() < Duration::from_secs(5));

    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&render(&passing_scene(75, 1280, 720)).jpeg)}),
    );
    assert_eq!(a.body["error"], "IMAGE_TOO_SMALL");

    let big = json!({"frontSideImageBase": "A".repeat(3 << 20)});
    let a = post(&server, big);
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
}

#[test]
fn authentication_and_throttling() {
    let server = start(true, |c| c.server.max_auth_failures_per_minute = 3);
    let body = || {
        json!({"frontSideImageBase": "AAAA"})
            .to_string()
            .into_bytes()
    };
    let a = post_raw(&server, None, body());
    assert_eq!(a.status, 401);
    assert!(
        a.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(a.body["hasError"], true);
    // Clients that wait for the challenge before sending credentials are no attackers:
    // asking without credentials never counts towards the limit.
    for _ in 0..5 {
        assert_eq!(post_raw(&server, None, body()).status, 401);
    }
    let a = post_raw(&server, Some(basic(USER, PASSWORD)), body());
    assert_eq!(a.status, 200);
    let a = post_raw(&server, Some(basic(USER, "wrong password!")), body());
    assert_eq!(a.status, 401);
    let a = post_raw(&server, Some(basic("mallory", PASSWORD)), body());
    assert_eq!(a.status, 401);
    let a = post_raw(&server, Some("Basic not-base64".into()), body());
    assert_eq!(a.status, 401);
    // Three failures in a minute from this address: even the right password now waits.
    let a = post_raw(&server, Some(basic(USER, PASSWORD)), body());
    assert_eq!(a.status, 429);
    assert_eq!(a.headers.get("retry-after").unwrap(), "60");
}

#[test]
fn url_inputs_are_refused_by_policy() {
    let off = start(true, |_| {});
    let a = post(
        &off,
        json!({"frontSideImageBase": "https://images.example.org/id.jpg"}),
    );
    assert_eq!(a.body["error"], "IMAGE_URL_NOT_ALLOWED");
    let on = start(true, |c| {
        c.server.url_inputs.enabled = true;
        c.server.url_inputs.allow_hosts = vec!["127.0.0.1".into(), "10.0.0.1".into()];
        c.server.url_inputs.allow_http = true;
    });
    for url in ["http://127.0.0.1/id.jpg", "https://10.0.0.1/id.jpg"] {
        let a = post(&on, json!({"frontSideImageBase": url}));
        assert_eq!(
            (a.status, a.body["error"].as_str()),
            (200, Some("IMAGE_URL_NOT_ALLOWED")),
            "{url}: {}",
            a.body
        );
        assert!(a.body["message"].as_str().unwrap().contains("internal"));
    }
}

#[test]
fn without_a_model_no_score_is_invented() {
    let server = start(false, |_| {});
    let a = post(&server, json!({"frontSideImageBase": b64(&photo(76))}));
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (503, Some("MODEL_NOT_INSTALLED"))
    );
    assert!(a.body.get("score").is_none());
    // Quality errors are still answered.
    let a = post(&server, json!({"frontSideImageBase": b64(&empty_desk())}));
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (200, Some("DOCUMENT_NOT_FOUND"))
    );
}

#[test]
fn overload_is_a_503_with_retry_after() {
    let server = start(true, |c| {
        c.server.workers = 1;
        c.server.queue_depth = 1;
    });
    let body = Arc::new(
        json!({"frontSideImageBase": b64(&render(&passing_scene(77, 4032, 3024)).jpeg)})
            .to_string()
            .into_bytes(),
    );
    let addr = server.addr;
    let threads: Vec<_> = (0..10)
        .map(|_| {
            let body = Arc::clone(&body);
            std::thread::spawn(move || {
                let mut resp = agent()
                    .post(format!("http://{addr}/api/v1/document/liveness"))
                    .header("Authorization", &basic(USER, PASSWORD))
                    .send(&body[..])
                    .unwrap();
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string());
                let _ = resp.body_mut().read_to_string();
                (resp.status().as_u16(), retry)
            })
        })
        .collect();
    let results: Vec<(u16, Option<String>)> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().any(|(s, _)| *s == 200), "{results:?}");
    assert!(
        results
            .iter()
            .any(|(s, r)| *s == 503 && r.as_deref() == Some("1")),
        "{results:?}"
    );
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 503),
        "{results:?}"
    );
}

#[test]
fn health_and_openapi() {
    let server = start(true, |_| {});
    let mut resp = agent()
        .get(format!("http://{}/healthz", server.addr))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let health: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["modelVersion"], "test-1");
    // The test models folder holds no detector model.
    assert_eq!(health["detector"], "classical");
    let mut resp = agent()
        .get(format!("http://{}/api/v1/openapi.json", server.addr))
        .call()
        .unwrap();
    let doc: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert!(doc["paths"]["/api/v1/document/liveness"]["post"].is_object());
    assert!(resp.headers().get("x-request-id").is_some());
}

#[test]
fn shutdown_finishes_requests_in_flight() {
    let mut server = start(true, |_| {});
    let addr = server.addr;
    let body = json!({"frontSideImageBase": b64(&render(&passing_scene(78, 4032, 3024)).jpeg)})
        .to_string();
    let request = std::thread::spawn(move || {
        let mut resp = agent()
            .post(format!("http://{addr}/api/v1/document/liveness"))
            .header("Authorization", &basic(USER, PASSWORD))
            .send(body.as_bytes())
            .unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), text)
    });
    std::thread::sleep(Duration::from_millis(150));
    // Ask the server to stop while the 12 MP photo is being analysed.
    let _ = server.stop.take().unwrap().send(());
    let (status, text) = request.join().unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"score\""), "{text}");
    server.thread.take().unwrap().join().unwrap();
    // And it no longer accepts connections.
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
}

/// A server that cannot start leaves nothing behind: a port in use is found before the
/// review database is created.
#[test]
fn a_port_in_use_creates_no_database() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    auth::add_user(&users, USER, PASSWORD).unwrap();
    let mut config = Config::default();
    config.models.dir = Some(dir.path().join("no-models"));
    config.server.bind = taken.local_addr().unwrap().to_string();
    let engine = Arc::new(Engine::new(config.clone()).unwrap());
    let db = dir.path().join("queue/review.db");
    let options = ServeOptions {
        db_path: db.clone(),
        users_file: users,
    };
    let Err(err) = Server::bind(&config, engine, &options) else {
        panic!("bound a port that is in use");
    };
    assert!(err.to_string().contains("server error"), "{err}");
    assert!(
        !dir.path().join("queue").exists(),
        "the database was created"
    );
}
