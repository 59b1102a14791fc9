//! Reading request bodies within limits of size, time and memory. A body is read before
//! the request asks for an analysis slot, so a client that sends slowly holds only the
//! memory of what it sent, never a worker or a queue place, and only until its
//! deadline.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The limits on one request body.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    /// Largest accepted body.
    pub max_bytes: usize,
    /// Longest the whole body may take.
    pub timeout: Duration,
    /// Longest pause between two pieces of it.
    pub stall: Duration,
}

/// A body read whole, with its share of the memory budget for bodies.
#[derive(Debug)]
pub struct ReadBody {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Its share of the budget, returned when dropped.
    pub memory: Option<OwnedSemaphorePermit>,
}

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Larger than the limit; the rest of it, for draining.
    #[error("the request body is larger than the limit")]
    TooLarge(Body),
    /// It did not arrive in time.
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// The memory budget for bodies is spent.
    #[error("the memory for request bodies is in use")]
    NoMemory,
    /// The connection failed.
    #[error("the connection failed while the body was read")]
    Broken,
}

/// Reads `body` whole. Every piece takes its size from `memory` (in bytes) as it
/// arrives, so all bodies in memory together stay within the budget.
pub async fn read_body(
    mut body: Body,
    declared: Option<u64>,
    limits: &BodyLimits,
    memory: &Arc<Semaphore>,
) -> Result<ReadBody, BodyError> {
    let deadline = Instant::now() + limits.timeout;
    let mut bytes = Vec::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    // What is counted is the buffer's capacity, not the bytes received, since that is
    // the memory taken: a declared length is taken at once, a chunked body as it grows.
    let mut grow = |bytes: &mut Vec<u8>, needed: usize| -> Result<(), BodyError> {
        if needed <= bytes.capacity() {
            return Ok(());
        }
        let target = needed.max(bytes.capacity() * 2).min(limits.max_bytes);
        let extra = u32::try_from(target - bytes.capacity()).map_err(|_| BodyError::NoMemory)?;
        let permit = Arc::clone(memory)
            .try_acquire_many_owned(extra)
            .map_err(|_| BodyError::NoMemory)?;
        match &mut held {
            Some(h) => h.merge(permit),
            None => held = Some(permit),
        }
        bytes.reserve_exact(target - bytes.len());
        Ok(())
    };
    if let Some(n) = declared {
        grow(&mut bytes, n.min(limits.max_bytes as u64) as usize)?;
    }
    loop {
        let frame = match tokio::time::timeout_at(
            deadline.min(Instant::now() + limits.stall),
            body.frame(),
        )
        .await
        {
            Err(_) => return Err(BodyError::TimedOut),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyError::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        if bytes.len() + data.len() > limits.max_bytes {
            return Err(BodyError::TooLarge(body));
        }
        let needed = bytes.len() + data.len();
        grow(&mut bytes, needed)?;
        bytes.extend_from_slice(data);
    }
    Ok(ReadBody {
        bytes,
        memory: held,
    })
}

/// Beyond what an answer needs, up to this much of a refused body is read and dropped so
/// that a client still sending gets to see the answer instead of a reset connection;
/// past it the connection is simply closed.
const DRAIN_CAP: usize = 64 << 20;

/// Answers with `response` at once without using the body; what is left of it is drained
/// in the background (within the body limits) so that a client still sending sees the
/// answer instead of a reset connection.
pub fn refuse(
    headers: &HeaderMap,
    body: Body,
    limits: &BodyLimits,
    response: impl IntoResponse,
) -> Response {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    drain_in_background(body, expects_continue, limits);
    response.into_response()
}

/// Reads and drops what is left of a refused body, in the background so the answer
/// goes out at once, within the body's time limits and `DRAIN_CAP`. A client that asked
/// to be told before sending (`Expect: 100-continue`) is not asked for the body at all.
pub fn drain_in_background(body: Body, expects_continue: bool, limits: &BodyLimits) {
    if expects_continue {
        return;
    }
    let limits = limits.clone();
    tokio::spawn(async move {
        let mut body = body;
        let deadline = Instant::now() + limits.timeout;
        let mut seen = 0usize;
        while seen <= DRAIN_CAP {
            match tokio::time::timeout_at(deadline.min(Instant::now() + limits.stall), body.frame())
                .await
            {
                Ok(Some(Ok(frame))) => {
                    seen += frame.data_ref().map_or(0, |d| d.len());
                }
                _ => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_bytes: usize) -> BodyLimits {
        BodyLimits {
            max_bytes,
            timeout: Duration::from_secs(2),
            stall: Duration::from_millis(300),
        }
    }

    type Piece = Result<axum::body::Bytes, std::io::Error>;

    /// A body fed by hand, piece by piece, as a slow client sends it.
    struct HandFed(tokio::sync::mpsc::Receiver<Piece>);

    impl axum::body::HttpBody for HandFed {
        type Data = axum::body::Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|p| p.map(|r| r.map(hyper::body::Frame::data)))
        }
    }

    fn channel_body() -> (tokio::sync::mpsc::Sender<Piece>, Body) {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        (tx, Body::new(HandFed(rx)))
    }

    #[tokio::test]
    async fn reads_within_limits_and_returns_the_memory() {
        let memory = Arc::new(Semaphore::new(100));
        let read = read_body(Body::from(vec![7u8; 60]), Some(60), &limits(80), &memory)
            .await
            .unwrap();
        assert_eq!(read.bytes.len(), 60);
        assert_eq!(memory.available_permits(), 40);
        // A second body of 60 does not fit the budget while the first is held.
        assert!(matches!(
            read_body(Body::from(vec![7u8; 60]), None, &limits(80), &memory).await,
            Err(BodyError::NoMemory)
        ));
        drop(read);
        assert_eq!(memory.available_permits(), 100);
        assert!(matches!(
            read_body(Body::from(vec![7u8; 90]), None, &limits(80), &memory).await,
            Err(BodyError::TooLarge(_))
        ));
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_and_frees_its_memory() {
        let memory = Arc::new(Semaphore::new(100));
        let (tx, body) = channel_body();
        tx.send(Ok(vec![1u8; 10].into())).await.unwrap();
        let start = std::time::Instant::now();
        let result = read_body(body, Some(50), &limits(80), &memory).await;
        assert!(matches!(result, Err(BodyError::TimedOut)), "{result:?}");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        assert_eq!(memory.available_permits(), 100);
        drop(tx);
    }

    #[tokio::test]
    async fn a_trickle_meets_the_overall_deadline() {
        let memory = Arc::new(Semaphore::new(100));
        let (tx, body) = channel_body();
        let feeder = tokio::spawn(async move {
            for _ in 0..40 {
                if tx.send(Ok(vec![1u8; 1].into())).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let start = std::time::Instant::now();
        let result = read_body(body, Some(50), &limits(80), &memory).await;
        assert!(matches!(result, Err(BodyError::TimedOut)), "{result:?}");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_millis(2600),
            "{waited:?}"
        );
        feeder.abort();
    }
}
