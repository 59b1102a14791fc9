//! Basic authentication against a users file of Argon2 password hashes.
//!
//! The file has one `name:$argon2id$…` line per user. There are no default
//! credentials: without a users file the server does not start.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Why a users file could not be used or changed.
#[derive(Debug, Error)]
pub enum UsersError {
    /// The file does not exist.
    #[error("no users file at {0}: create one with `docliveness users add NAME --users {0}`")]
    Missing(PathBuf),
    /// The file could not be read or written.
    #[error("users file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line is not `name:argon2-hash`.
    #[error("users file {path}, line {line}: expected NAME:ARGON2-HASH")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The file holds no users.
    #[error("users file {0} has no users: add one with `docliveness users add NAME`")]
    Empty(PathBuf),
    /// A user name that cannot be used.
    #[error("invalid user name {0:?}: use letters, digits, '.', '-', '_' and '@'")]
    BadName(String),
    /// A password too short to be one.
    #[error("the password must be at least 12 characters")]
    WeakPassword,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The users allowed to call the API.
#[derive(Debug, Clone)]
pub struct Users {
    hashes: HashMap<String, String>,
}

/// Reads the users file.
pub fn load_users(path: &Path) -> Result<Users, UsersError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UsersError::Missing(path.to_owned()));
        }
        Err(source) => {
            return Err(UsersError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let hashes = parse_users(&text, path)?;
    if hashes.is_empty() {
        return Err(UsersError::Empty(path.to_owned()));
    }
    Ok(Users { hashes })
}

fn parse_users(text: &str, path: &Path) -> Result<HashMap<String, String>, UsersError> {
    let mut hashes = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let malformed = || UsersError::Malformed {
            path: path.to_owned(),
            line: i + 1,
        };
        let (name, hash) = line.split_once(':').ok_or_else(malformed)?;
        PasswordHash::new(hash).map_err(|_| malformed())?;
        hashes.insert(name.to_string(), hash.to_string());
    }
    Ok(hashes)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
}

/// Adds a user or replaces their password, writing the file atomically and readable by
/// its owner only.
pub fn add_user(path: &Path, name: &str, password: &str) -> Result<(), UsersError> {
    if !valid_name(name) {
        return Err(UsersError::BadName(name.to_string()));
    }
    if password.chars().count() < 12 {
        return Err(UsersError::WeakPassword);
    }
    let io = |source| UsersError::Io {
        path: path.to_owned(),
        source,
    };
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| UsersError::Hash(e.to_string()))?
        .to_string();
    let mut lines: Vec<String> = existing
        .lines()
        .filter(|l| l.split_once(':').is_none_or(|(n, _)| n != name))
        .map(str::to_string)
        .collect();
    lines.push(format!("{name}:{hash}"));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all((lines.join("\n") + "\n").as_bytes())
            .map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(())
}

/// The credentials of a `Basic` authorization header, if well formed.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// How long a successful check is remembered, so that a busy client does not pay
/// Argon2 (tens of milliseconds of CPU, by design) on every request.
const CACHE_TTL: Duration = Duration::from_secs(300);

/// Checks credentials and remembers recent successes and failures.
#[derive(Debug)]
pub struct Authenticator {
    users: Users,
    /// Hash compared when the user is unknown, so that the answer takes as long.
    decoy: String,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    max_failures_per_minute: u32,
}

impl Authenticator {
    /// An authenticator for `users`.
    pub fn new(users: Users, max_failures_per_minute: u32) -> Authenticator {
        let salt = SaltString::generate(&mut OsRng);
        let decoy = Argon2::default()
            .hash_password(b"decoy password for unknown users", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        Authenticator {
            users,
            decoy,
            verified: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            max_failures_per_minute,
        }
    }

    /// True when `client` failed too often in the last minute.
    pub fn is_throttled(&self, client: IpAddr) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Forget addresses whose failures are older than a minute, so the map stays small.
        failures.retain(|_, list| {
            list.retain(|t| t.elapsed() < Duration::from_secs(60));
            !list.is_empty()
        });
        failures
            .get(&client)
            .is_some_and(|l| l.len() as u32 >= self.max_failures_per_minute)
    }

    /// Recent failures of `client` (for slowing down repeated attempts).
    pub fn recent_failures(&self, client: IpAddr) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&client)
            .map_or(0, |l| {
                l.iter()
                    .filter(|t| t.elapsed() < Duration::from_secs(60))
                    .count()
            })
    }

    /// The user of a `Basic` header verified within the last few minutes, if any; cheap
    /// enough for the async threads.
    pub fn cached(&self, header: Option<&str>) -> Option<String> {
        let (user, pass) = parse_basic(header?)?;
        let key: [u8; 32] = Sha256::digest(format!("{}\0{}", user, pass).as_bytes()).into();
        let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&key)
            .is_some_and(|t| t.elapsed() < CACHE_TTL)
            .then_some(user)
    }

    /// Checks a `Basic` header value. CPU-heavy (Argon2): call it off the async threads.
    /// Returns the user name on success.
    ///
    /// A request without an `Authorization` header is no login attempt (many HTTP
    /// clients send one only after the `WWW-Authenticate` challenge), so it is refused
    /// without counting towards the address's failures.
    pub fn verify(&self, client: IpAddr, header: Option<&str>) -> Option<String> {
        let header = header?;
        // Count the attempt as a failure before the slow check, so that many attempts in
        // flight at once from one address still meet the limit; a success takes it back.
        let attempt = Instant::now();
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(client)
            .or_default()
            .push(attempt);
        let result = parse_basic(header).and_then(|(user, pass)| {
            let key: [u8; 32] = Sha256::digest(format!("{}\0{}", user, pass).as_bytes()).into();
            {
                let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
                if cache.get(&key).is_some_and(|t| t.elapsed() < CACHE_TTL) {
                    return Some(user);
                }
            }
            let (stored, known) = match self.users.hashes.get(&user) {
                Some(h) => (h.as_str(), true),
                None => (self.decoy.as_str(), false),
            };
            let ok = PasswordHash::new(stored)
                .map(|h| {
                    Argon2::default()
                        .verify_password(pass.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false);
            if ok && known {
                let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
                cache.retain(|_, t| t.elapsed() < CACHE_TTL);
                cache.insert(key, Instant::now());
                Some(user)
            } else {
                None
            }
        });
        if result.is_some() {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(list) = failures.get_mut(&client) {
                list.retain(|t| *t != attempt);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_then_verify_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        add_user(&path, "alice", "correct horse battery").unwrap();
        add_user(&path, "bob", "another long password").unwrap();
        add_user(&path, "alice", "a brand new password").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("brand new"), "passwords are never stored");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let auth = Authenticator::new(load_users(&path).unwrap(), 3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let header = |u: &str, p: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        assert_eq!(
            auth.verify(ip, Some(&header("alice", "a brand new password")))
                .as_deref(),
            Some("alice")
        );
        assert_eq!(
            auth.verify(ip, Some(&header("alice", "correct horse battery"))),
            None
        );
        assert_eq!(
            auth.verify(ip, Some(&header("mallory", "a brand new password"))),
            None
        );
        // Asking without credentials is a challenge, not a failed login.
        assert_eq!(auth.verify(ip, None), None);
        assert!(!auth.is_throttled(ip));
        assert_eq!(auth.verify(ip, Some("Basic not-base64")), None);
        assert!(auth.is_throttled(ip));
        assert!(!auth.is_throttled("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn bad_names_passwords_and_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        assert!(matches!(
            add_user(&path, "a:b", "long enough password"),
            Err(UsersError::BadName(_))
        ));
        assert!(matches!(
            add_user(&path, "alice", "short"),
            Err(UsersError::WeakPassword)
        ));
        assert!(matches!(load_users(&path), Err(UsersError::Missing(_))));
        std::fs::write(&path, "alice:plaintext\n").unwrap();
        assert!(matches!(
            load_users(&path),
            Err(UsersError::Malformed { line: 1, .. })
        ));
        std::fs::write(&path, "# nobody\n").unwrap();
        assert!(matches!(load_users(&path), Err(UsersError::Empty(_))));
        assert_eq!(
            parse_basic("Basic YWxpY2U6cHc6eA=="),
            Some(("alice".into(), "pw:x".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
    }
}
