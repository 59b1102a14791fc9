//! The HTTP API: `POST /api/v1/document/liveness` with Basic authentication, exactly the
//! contract of the spec, feeding the review queue. axum on a small async runtime for the
//! connections; all CPU work on a bounded pool of analysis threads.

pub mod auth;
pub mod body;
pub mod client_address;
pub mod config;
pub mod connections;
pub mod error;
pub mod login;
pub mod memory;
pub mod openapi;
pub mod password_pool;
pub mod routes;
pub mod service;
pub mod url_fetch;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use docliveness_engine::Engine;
use docliveness_review::Store;
use docliveness_review::config::ReviewConfig;

use config::ServerConfig;

/// Why the server could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The users file is missing or unusable.
    #[error(transparent)]
    Users(#[from] auth::UsersError),
    /// The review database cannot be used.
    #[error(transparent)]
    Store(#[from] docliveness_review::StoreError),
    /// The address could not be bound or the server failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Where the server's files are.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The review database.
    pub db_path: PathBuf,
    /// The users file.
    pub users_file: PathBuf,
}

/// The default users file: `users` in the platform's configuration folder.
pub fn default_users_file() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("docliveness")
        .join("users")
}

/// A bound, ready server.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: axum::Router,
    runtime: tokio::runtime::Runtime,
    limits: connections::ConnectionLimits,
    auth: Arc<auth::Authenticator>,
    hangups: Hangups,
}

/// SIGHUP, listened for from `bind` on: until a process listens for it, a SIGHUP ends
/// it, and an administrator's reload sent while the models load must not.
#[cfg(unix)]
type Hangups = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangups = ();

impl Server {
    /// Loads users, checks the database, starts the pool and binds the address. Results
    /// are routed with the engine's own thresholds ([`Engine::outcome`]).
    pub fn bind(
        server: &ServerConfig,
        review: &ReviewConfig,
        engine: Arc<Engine>,
        options: &ServeOptions,
    ) -> Result<Server, ServeError> {
        memory::limit_retained_memory();
        let auth = Arc::new(auth::Authenticator::from_file(
            &options.users_file,
            server.max_auth_failures_per_minute,
        )?);
        // Connections need little CPU: two threads serve them; analysis has its own pool.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        // Bound before the database is touched: a start that fails on a port in use
        // leaves no new database behind.
        let listener = runtime.block_on(tokio::net::TcpListener::bind(&server.bind))?;
        // Open once now so a damaged or newer database stops the start, not a request.
        let mut store = Store::open(&options.db_path)?;
        if let Some(days) = review.retention_days {
            let report = store.purge_images(days, "retention")?;
            tracing::info!(
                removed = report.images_removed,
                days,
                "retention applied to review images"
            );
        }
        drop(store);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = if server.workers == 0 {
            cores
        } else {
            server.workers
        };
        let depth = if server.queue_depth == 0 {
            workers * 4
        } else {
            server.queue_depth
        };
        let context = Arc::new(service::ServiceContext {
            engine: Arc::clone(&engine),
            db_path: options.db_path.clone(),
            url_policy: server.url_inputs.clone(),
        });
        let state = Arc::new(routes::AppState {
            auth: Arc::clone(&auth),
            passwords: password_pool::PasswordPool::start(server.password_threads)?,
            pool: service::Pool::start(workers, depth, context),
            body_limits: body::BodyLimits {
                max_bytes: server.max_body_bytes,
                timeout: Duration::from_secs(server.body_timeout_secs),
                stall: Duration::from_secs(server.body_stall_secs),
            },
            request_timeout: Duration::from_secs(server.request_timeout_secs),
            model_version: engine.model_version(),
            backend: engine.backend_label(),
            detector: engine
                .detector_version()
                .unwrap_or_else(|| "classical".to_string()),
            body_memory: Arc::new(tokio::sync::Semaphore::new(server.body_memory_bytes)),
            request_permits: Arc::new(tokio::sync::Semaphore::new(workers + depth)),
        });
        #[cfg(unix)]
        let hangups = {
            let _entered = runtime.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?
        };
        #[cfg(not(unix))]
        let hangups = ();
        tracing::info!(workers, queue = depth, model = ?engine.model_version(), "server ready");
        Ok(Server {
            listener,
            app: routes::router(state),
            runtime,
            limits: connections::ConnectionLimits {
                header_timeout: Duration::from_secs(server.header_timeout_secs),
                max_connections: server.max_connections,
                max_per_address: server.max_connections_per_address,
                send_stall: Duration::from_secs(server.send_stall_secs),
            },
            auth,
            hangups,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight. SIGHUP
    /// reloads the users file.
    pub fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server {
            listener,
            app,
            runtime,
            limits,
            auth,
            hangups,
        } = self;
        runtime.block_on(async move {
            let reloader = tokio::spawn(reload_users_on_hangup(auth, hangups));
            connections::serve(listener, app, limits, shutdown).await;
            reloader.abort();
        });
        Ok(())
    }
}

/// Reloads the users file on every SIGHUP, the usual way to tell a daemon its
/// configuration changed.
async fn reload_users_on_hangup(auth: Arc<auth::Authenticator>, mut hangups: Hangups) {
    #[cfg(unix)]
    while hangups.recv().await.is_some() {
        // A few lines of text; errors are logged and leave the users in force.
        let _ = auth.reload();
    }
    #[cfg(not(unix))]
    let _ = (auth, &mut hangups);
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
