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
use docliveness_synth::{Background, SceneSpec, passing_scene, render};
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
    let server = Server::bind(&config.server, &config.review, engine, &options).unwrap();
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

    // A client retrying after a lost answer: the same case, not a second one to review.
    let again = post(
        &server,
        json!({"documentImageBase": b64(&photo(70)), "sessionId": session}),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["reviewCaseId"].as_i64(), Some(case_id));
    let history = store.history(case_id).unwrap();
    assert!(
        history.iter().any(|h| h.action == "filed again"),
        "{history:?}"
    );

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

    // A session id of megabytes is refused, not stored and echoed.
    let a = post(
        &server,
        json!({"sessionId": "x".repeat(4097), "frontSideImageBase": b64(&photo(70))}),
    );
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (400, Some("INVALID_REQUEST")),
        "{}",
        a.body
    );
    assert!(a.body["message"].as_str().unwrap().contains("at most 4096"));
    // Two images for the front (the field and its alias) are refused, not one dropped.
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&photo(70)), "documentImageBase": b64(&photo(71))}),
    );
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (400, Some("INVALID_REQUEST")),
        "{}",
        a.body
    );
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("different images")
    );
    // The same image under both names is fine.
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&photo(70)), "documentImageBase": b64(&photo(70))}),
    );
    assert_eq!(a.status, 200, "{}", a.body);

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
    let Err(err) = Server::bind(&config.server, &config.review, engine, &options) else {
        panic!("bound a port that is in use");
    };
    assert!(err.to_string().contains("server error"), "{err}");
    assert!(
        !dir.path().join("queue").exists(),
        "the database was created"
    );
}

/// A raw connection, for clients that misbehave in ways an HTTP library will not.
fn raw(server: &TestServer) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

fn liveness_head(content_length: usize) -> String {
    format!(
        "POST /api/v1/document/liveness HTTP/1.1\r\nHost: test\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n",
        basic(USER, PASSWORD)
    )
}

/// Everything the server sends until it closes the connection or `wait` passes; and
/// whether it closed.
fn read_until_closed(stream: &mut std::net::TcpStream, wait: Duration) -> (String, bool) {
    use std::io::Read;
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

#[test]
fn parallel_wrong_passwords_get_no_more_checks_than_the_limit() {
    let server = start(true, |c| c.server.max_auth_failures_per_minute = 10);
    let addr = server.addr;
    let body = json!({"frontSideImageBase": "AAAA"}).to_string();
    let guess = |password: String| {
        let body = body.clone();
        move || {
            let mut resp = agent()
                .post(format!("http://{addr}/api/v1/document/liveness"))
                .header("Authorization", &basic(USER, &password))
                .send(body.as_bytes())
                .unwrap();
            let _ = resp.body_mut().read_to_string();
            resp.status().as_u16()
        }
    };
    let threads: Vec<_> = (0..60)
        .map(|i| std::thread::spawn(guess(format!("wrong guess {i}"))))
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(checked <= 10, "{checked} passwords checked: {statuses:?}");
    assert_eq!(checked + throttled, 60, "{statuses:?}");
    // The right password, after the limit, is not accepted either.
    assert_eq!(guess(PASSWORD.to_string())(), 429);
}

#[test]
fn stalled_uploads_time_out_and_hold_no_analysis_slot() {
    use std::io::Write;
    let server = start(true, |c| {
        c.server.workers = 1;
        c.server.queue_depth = 1;
        c.server.body_timeout_secs = 3;
        c.server.body_stall_secs = 2;
    });
    // Ten authenticated uploads that send a little of their body and stop.
    let mut stalled: Vec<_> = (0..10)
        .map(|_| {
            let mut s = raw(&server);
            s.write_all(liveness_head(200_000).as_bytes()).unwrap();
            s.write_all(&[b'{'; 1000]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // They hold no worker or queue place: a normal request goes through meanwhile.
    let started = Instant::now();
    let a = post(&server, json!({"frontSideImageBase": b64(&photo(79))}));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body["score"].is_number(), "{}", a.body);
    // And each stalled one gets 408 and its connection closed, within the stall time.
    for s in &mut stalled {
        let (text, closed) = read_until_closed(s, Duration::from_secs(5));
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
        assert!(closed);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Their memory and slots are back: another request goes through too.
    let a = post(&server, json!({"frontSideImageBase": b64(&photo(80))}));
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn oversize_content_length_is_refused_at_once() {
    use std::io::Write;
    let server = start(true, |c| c.server.max_body_bytes = 2 << 20);
    let mut s = raw(&server);
    // A gigabyte announced, nothing sent: the answer must not wait for the body.
    s.write_all(liveness_head(1 << 30).as_bytes()).unwrap();
    let started = Instant::now();
    let (text, _) = read_until_closed(&mut s, Duration::from_secs(2));
    assert!(text.starts_with("HTTP/1.1 413"), "{text:?}");
    assert!(text.contains("PAYLOAD_TOO_LARGE"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn half_sent_headers_are_closed_after_the_header_timeout() {
    use std::io::Write;
    let server = start(true, |c| c.server.header_timeout_secs = 1);
    let mut s = raw(&server);
    s.write_all(b"POST /api/v1/document/liveness HTTP/1.1\r\nHost: te")
        .unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(5));
    assert!(closed, "the connection is still open after 5 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn connections_over_the_limit_are_shed() {
    use std::io::Write;
    let server = start(true, |c| {
        c.server.max_connections = 4;
        c.server.header_timeout_secs = 2;
    });
    let mut idle: Vec<_> = (0..20)
        .map(|_| {
            let mut s = raw(&server);
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHo");
            s
        })
        .collect();
    // All but the first four are closed at once.
    let shed = idle
        .iter_mut()
        .map(|s| read_until_closed(s, Duration::from_millis(300)).1)
        .filter(|closed| *closed)
        .count();
    assert!(shed >= 16, "only {shed} of 20 connections shed");
    // The four held ones meet the header deadline; then the health check answers.
    let deadline = Instant::now() + Duration::from_secs(6);
    let status = loop {
        let answer = agent()
            .get(format!("http://{}/healthz", server.addr))
            .call();
        match answer {
            Ok(resp) if resp.status().as_u16() == 200 => break 200,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(resp) => break resp.status().as_u16(),
            Err(_) => break 0,
        }
    };
    assert_eq!(status, 200);
    drop(idle);
}

/// The status of a request that logs in as `user` with a tiny body: 200 once logged in
/// (the body is then answered as an image error), 401 or 429 if not.
fn login_status(server: &TestServer, user: &str, password: &str) -> u16 {
    let body = json!({"frontSideImageBase": "AAAA"})
        .to_string()
        .into_bytes();
    post_raw(server, Some(basic(user, password)), body).status
}

#[test]
fn users_file_changes_apply_while_running() {
    let server = start(true, |c| c.server.max_auth_failures_per_minute = 100);
    let users = server.dir.path().join("users");
    let status = |password: &str| login_status(&server, USER, password);
    assert_eq!(status(PASSWORD), 200);
    // A new password: the old one, remembered as verified, stops working at once.
    let new_password = "a completely new password";
    auth::add_user(&users, USER, new_password).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(status(PASSWORD), 401);
    assert_eq!(status(new_password), 200);
    // Removed: refused.
    auth::add_user(&users, "bob", "bob's long password").unwrap();
    auth::remove_user(&users, USER).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(status(new_password), 401);
    // A broken file keeps the users in force.
    std::fs::write(&users, "bob:not-a-hash\n").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(login_status(&server, "bob", "bob's long password"), 200);
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_users_file() {
    let server = start(true, |c| c.server.max_auth_failures_per_minute = 100);
    let users = server.dir.path().join("users");
    let status = |password: &str| login_status(&server, USER, password);
    assert_eq!(status(PASSWORD), 200);
    std::thread::sleep(Duration::from_millis(200));
    let new_password = "the password after a hangup";
    auth::add_user(&users, USER, new_password).unwrap();
    // SIGHUP, then ask at once: sooner than the once-a-second look at the file.
    let t = Instant::now();
    // kill(2) is a C function; signalling this very process is sound.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(libc::getpid(), libc::SIGHUP);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status(new_password), 200);
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn users_commands_add_list_and_remove() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users");
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_docliveness"))
            .args(args)
            .arg("--users")
            .arg(&file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    for name in ["carol", "bob"] {
        let mut add = cli(&["users", "add", name, "--password-stdin"]);
        add.stdin
            .take()
            .unwrap()
            .write_all(b"a long enough password\n")
            .unwrap();
        assert!(add.wait().unwrap().success());
    }
    let list = cli(&["users", "list"]).wait_with_output().unwrap();
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout), "bob\ncarol\n");
    let removed = cli(&["users", "remove", "bob"]).wait_with_output().unwrap();
    assert!(removed.status.success());
    let list = cli(&["users", "list"]).wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout), "carol\n");
    let missing = cli(&["users", "remove", "bob"]).wait_with_output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// A client that pipelines requests and never reads the answers is closed once it has
/// taken nothing for `send_stall_secs`; until then it holds only its own address's
/// connection slots, and other connections from it are shed at once.
#[test]
fn a_client_that_never_reads_is_closed_and_holds_only_its_own_slots() {
    use std::io::Write;
    let server = start(true, |c| {
        c.server.send_stall_secs = 1;
        c.server.max_connections_per_address = 1;
    });
    let mut hog = raw(&server);
    let mut writer = hog.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let request = b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: test\r\n\r\n";
        for _ in 0..20_000 {
            if writer.write_all(request).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    // The same address's second connection is over its limit: closed at once.
    let mut second = raw(&server);
    let _ = second.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    let (answer, closed) = read_until_closed(&mut second, Duration::from_millis(500));
    assert!(closed && answer.is_empty(), "second connection: {answer:?}");
    // Once the hog has taken nothing for a second, its connection goes.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let answer = agent()
            .get(format!("http://{}/healthz", server.addr))
            .call();
        match answer {
            Ok(resp) if resp.status().as_u16() == 200 => break 200,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Ok(resp) => break resp.status().as_u16(),
            Err(_) => break 0,
        }
    };
    assert_eq!(status, 200, "the non-reading client still holds its slot");
    let (_, closed) = read_until_closed(&mut hog, Duration::from_secs(5));
    assert!(closed, "the non-reading client's connection is still open");
    flood.join().unwrap();
}

#[test]
fn a_given_outline_replaces_the_detector_and_a_bad_one_is_refused() {
    let server = start(true, |_| {});
    // An empty desk has no document to find; with an outline the photo is judged on it.
    let outline = json!([
        [600.0, 300.0],
        [1300.0, 300.0],
        [1300.0, 750.0],
        [600.0, 750.0]
    ]);
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&empty_desk()), "frontSideQuad": outline}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_ne!(a.body["error"], "DOCUMENT_NOT_FOUND", "{}", a.body);
    assert_eq!(a.body["front"]["documents"][0], outline);
    // Corners given the other way round come back in the detectors' order.
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&empty_desk()), "frontSideQuad": [[600.0, 750.0], [1300.0, 750.0], [1300.0, 300.0], [600.0, 300.0]]}),
    );
    assert_eq!(a.body["front"]["documents"][0], outline, "{}", a.body);
    // A bow tie, a missing back photo, a corner too few: refused before any analysis.
    let bow_tie = json!([
        [600.0, 300.0],
        [1300.0, 750.0],
        [1300.0, 300.0],
        [600.0, 750.0]
    ]);
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&empty_desk()), "frontSideQuad": bow_tie}),
    );
    assert_eq!(a.status, 400);
    assert_eq!(a.body["error"], "INVALID_REQUEST");
    let message = a.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("frontSideQuad:") && message.contains("convex"),
        "{message}"
    );
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&empty_desk()), "backSideQuad": outline}),
    );
    assert_eq!(a.status, 400);
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("without backSideImageBase")
    );
    let a = post(
        &server,
        json!({"frontSideImageBase": b64(&empty_desk()), "frontSideQuad": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]}),
    );
    assert_eq!(a.status, 400);
    assert_eq!(a.body["error"], "INVALID_REQUEST");
}

#[test]
fn quality_warnings_reach_the_response_and_the_case() {
    let server = start(true, |_| {});
    let clean = photo(73);
    let a = post(&server, json!({"frontSideImageBase": b64(&clean)}));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.get("warnings").is_none(), "{}", a.body);
    // A reflection over the middle of the document found there.
    let corners = a.body["front"]["documents"][0].as_array().unwrap().clone();
    let xs: Vec<f64> = corners.iter().map(|c| c[0].as_f64().unwrap()).collect();
    let ys: Vec<f64> = corners.iter().map(|c| c[1].as_f64().unwrap()).collect();
    let (x0, x1) = (
        xs.iter().cloned().fold(f64::MAX, f64::min),
        xs.iter().cloned().fold(0.0, f64::max),
    );
    let (y0, y1) = (
        ys.iter().cloned().fold(f64::MAX, f64::min),
        ys.iter().cloned().fold(0.0, f64::max),
    );
    let (cx, cy, w, h) = (
        (x0 + x1) / 2.0,
        (y0 + y1) / 2.0,
        (x1 - x0) / 4.0,
        (y1 - y0) / 4.0,
    );
    let mut img = image::load_from_memory(&clean).unwrap().to_rgb8();
    for y in (cy - h / 2.0) as u32..(cy + h / 2.0) as u32 {
        for x in (cx - w / 2.0) as u32..(cx + w / 2.0) as u32 {
            img.put_pixel(x, y, image::Rgb([255, 255, 255]));
        }
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let a = post(&server, json!({"frontSideImageBase": b64(&png)}));
    assert_eq!(a.status, 200, "{}", a.body);
    // Scored all the same: a warning never stops the check.
    assert!(a.body["score"].as_f64().is_some(), "{}", a.body);
    assert_eq!(a.body["warnings"], json!(["GLARE"]), "{}", a.body);
    let glare = &a.body["front"]["warnings"][0];
    assert_eq!(glare["code"], "GLARE");
    assert!(glare["measured"].as_f64().unwrap() >= glare["limit"].as_f64().unwrap());
    assert_eq!(glare["regions"].as_array().unwrap().len(), 1, "{glare}");
    let store = Store::open(&server.dir.path().join("review.db")).unwrap();
    let glaring = store
        .count(&CaseFilter {
            status: Status::All,
            warning: Some(docliveness::engine::WarningCode::Glare),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(glaring, 1);
}
