//! The server's section of the configuration (`[server]`, `[server.url_inputs]`): the
//! limits that keep one client from starving the others, and the policy for images
//! given by URL. The product's configuration file embeds it beside the engine's sections.

use std::path::PathBuf;

use docliveness_engine::config::ConfigError;
use serde::{Deserialize, Serialize};

/// The HTTP API server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`: local only unless asked otherwise.
    pub bind: String,
    /// Largest request body. Default 40 MB: two 12 MP JPEGs of ~12 MB each grow by a third
    /// in Base64; anything larger is refused with 413 before it is buffered.
    pub max_body_bytes: usize,
    /// Longest a request may take, queueing included. Default 60 s.
    pub request_timeout_secs: u64,
    /// Analysis threads. Default 0 = one per CPU core.
    pub workers: usize,
    /// Requests that may wait for a free worker; beyond that the server answers 503 with
    /// `Retry-After`. Default 0 = four per worker.
    pub queue_depth: usize,
    /// Users file with Argon2 password hashes. Default: `users` in the platform's
    /// configuration folder (`~/.config/docliveness/users`).
    pub users_file: Option<PathBuf>,
    /// Failed logins from one client address within a minute before it gets 429.
    /// Default 10. An attempt counts before its password is checked, so however many
    /// arrive at once, no more than this many are checked per address and minute.
    pub max_auth_failures_per_minute: u32,
    /// Threads that check passwords. Default 2: Argon2 takes 19 MiB and tens of
    /// milliseconds per check by design, so a storm of logins costs at most this many
    /// times 19 MiB and this many cores; verified credentials are remembered for five
    /// minutes, so 2 threads still admit about 50 new logins a second.
    pub password_threads: usize,
    /// Longest the whole request body may take to arrive, counted once the request is
    /// authenticated; then the answer is 408. Default 30 s: a 40 MB body needs 11 Mbit/s,
    /// a typical 2 MB one 0.6 Mbit/s.
    pub body_timeout_secs: u64,
    /// Longest pause between two pieces of a request body before the answer is 408.
    /// Default 10 s: a client that sends nothing for that long has stalled, and
    /// waiting for it would hold its memory for nothing.
    pub body_stall_secs: u64,
    /// Memory for request bodies being read or waiting for analysis, all requests
    /// together; a request whose body does not fit gets 503 with `Retry-After`.
    /// Default 160 MiB: four bodies of the largest size, or over a hundred of a typical
    /// 1.2 MB. Must be at least `max_body_bytes`.
    pub body_memory_bytes: usize,
    /// Longest a connection may take to send a request's headers, and longest an idle
    /// connection stays open between requests. Default 10 s: a client sends its headers
    /// in one go, and a connection that sends half of them holds a file handle for
    /// nothing.
    pub header_timeout_secs: u64,
    /// Connections open at once; connections beyond it are accepted and closed at once,
    /// so the process never runs out of file handles. Default 512: half the usual limit
    /// of 1024 open files per process, leaving the rest for the database, models and
    /// logs.
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6: one /64). Default 128:
    /// one client cannot take every connection slot and lock everyone else out. Behind
    /// a reverse proxy every client has the proxy's address: set it to
    /// `max_connections` there, and let the proxy limit clients.
    pub max_connections_per_address: usize,
    /// Longest a client may go without taking any bytes of an answer before its
    /// connection is closed. Default 30 s: a client that sends requests but never reads
    /// the answers would otherwise hold its connection, and a shutdown, forever.
    pub send_stall_secs: u64,
    /// Images given as URLs.
    pub url_inputs: UrlInputConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            max_body_bytes: 40 << 20,
            request_timeout_secs: 60,
            workers: 0,
            queue_depth: 0,
            users_file: None,
            max_auth_failures_per_minute: 10,
            password_threads: 2,
            body_timeout_secs: 30,
            body_stall_secs: 10,
            body_memory_bytes: 160 << 20,
            header_timeout_secs: 10,
            max_connections: 512,
            max_connections_per_address: 128,
            send_stall_secs: 30,
            url_inputs: UrlInputConfig::default(),
        }
    }
}

/// Policy for images given by URL instead of Base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UrlInputConfig {
    /// Off by default: fetching URLs on a client's behalf is a server-side request risk.
    pub enabled: bool,
    /// Host names that may be fetched (exact, case-insensitive). Empty = none.
    pub allow_hosts: Vec<String>,
    /// Allow plain `http://`. Default false: https only.
    pub allow_http: bool,
    /// Allow private, loopback and link-local addresses. Default false.
    pub allow_private_addresses: bool,
    /// Largest image fetched. Default 15 MB.
    pub max_bytes: u64,
    /// Longest a fetch may take, redirects included. Default 10 s.
    pub timeout_secs: u64,
    /// Redirects followed (each checked like the first URL). Default 3.
    pub max_redirects: u32,
}

impl Default for UrlInputConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            allow_hosts: Vec::new(),
            allow_http: false,
            allow_private_addresses: false,
            max_bytes: 15 << 20,
            timeout_secs: 10,
            max_redirects: 3,
        }
    }
}

impl ServerConfig {
    /// Checks the limits that only make sense together or above zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.body_memory_bytes < self.max_body_bytes {
            return Err(ConfigError::Invalid(format!(
                "server.body_memory_bytes ({}) must be at least server.max_body_bytes ({}), \
                 or no body of the largest size could ever be accepted",
                self.body_memory_bytes, self.max_body_bytes
            )));
        }
        if self.password_threads == 0
            || self.max_connections == 0
            || self.body_timeout_secs == 0
            || self.body_stall_secs == 0
            || self.header_timeout_secs == 0
            || self.max_connections_per_address == 0
            || self.send_stall_secs == 0
        {
            return Err(ConfigError::Invalid(
                "server.password_threads, max_connections, max_connections_per_address, \
                 body_timeout_secs, body_stall_secs, header_timeout_secs and send_stall_secs \
                 must be at least 1"
                    .into(),
            ));
        }
        Ok(())
    }
}
