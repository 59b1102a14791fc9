//! Accepting and serving connections within limits: a deadline for a request's headers
//! (which also closes connections idle between requests) and a cap on connections open
//! at once. `axum::serve` offers neither, and twenty thousand half-sent requests used to
//! take every file handle the process had.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Limits on connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Longest a connection may take to send a request's headers, or stay idle.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

/// Pause after a failed accept: when the process is out of file handles, accepting again
/// at once would only spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets
/// every connection finish the request it is on, and returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let shed = Arc::new(AtomicU64::new(0));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    // Connections wait on `stop` for the shutdown, and each holds a `done` receiver
    // until it is closed, so the sender sees when the last one is.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = Arc::clone(&open).try_acquire_owned() else {
            // Over the limit: closing it at once gives its file handle back. Logged once
            // per thousand, since a flood would otherwise flood the log too.
            if shed.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                tracing::warn!(
                    limit = limits.max_connections,
                    shed = shed.load(Ordering::Relaxed),
                    "too many open connections: closing new ones at once"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(client));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %client, "connection closed with an error");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            drop(slot);
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
}
