//! Basic authentication against a users file of Argon2 password hashes.
//!
//! The file has one `name:$argon2id$…` line per user. There are no default
//! credentials: without a users file the server does not start.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::client_address::client_key;

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
    /// No user of that name.
    #[error("no user {0:?} in the users file")]
    NoSuchUser(String),
}

/// The users allowed to call the API.
#[derive(Debug, Clone)]
pub struct Users {
    hashes: HashMap<String, String>,
}

impl Users {
    /// The user names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.hashes.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Reads the users file; a file without users is an error, since a server with none
/// could only refuse.
pub fn load_users(path: &Path) -> Result<Users, UsersError> {
    let users = read_users(path)?;
    if users.hashes.is_empty() {
        return Err(UsersError::Empty(path.to_owned()));
    }
    Ok(users)
}

/// Reads the users file, which may hold no users.
fn read_users(path: &Path) -> Result<Users, UsersError> {
    let Some(text) = read_text(path)? else {
        return Err(UsersError::Missing(path.to_owned()));
    };
    Ok(Users {
        hashes: parse_users(&text, path)?,
    })
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
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| UsersError::Hash(e.to_string()))?
        .to_string();
    edit_users(path, |existing| {
        let mut lines: Vec<String> = existing
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split_once(':').is_none_or(|(n, _)| n != name))
            .map(str::to_string)
            .collect();
        lines.push(format!("{name}:{hash}"));
        Ok(lines)
    })
}

/// Removes a user. A running server stops accepting their password at its next check
/// of the file (within a second) or on SIGHUP.
pub fn remove_user(path: &Path, name: &str) -> Result<(), UsersError> {
    edit_users(path, |existing| {
        let Some(existing) = existing else {
            return Err(UsersError::Missing(path.to_owned()));
        };
        let is_user = |l: &&str| l.trim().split_once(':').is_some_and(|(n, _)| n == name);
        if !existing.lines().any(|l| is_user(&l)) {
            return Err(UsersError::NoSuchUser(name.to_string()));
        }
        Ok(existing
            .lines()
            .filter(|l| !is_user(l))
            .map(str::to_string)
            .collect())
    })
}

/// The names in the users file, sorted; never their hashes.
pub fn list_users(path: &Path) -> Result<Vec<String>, UsersError> {
    Ok(read_users(path)?.names())
}

/// The file's text, `None` when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, UsersError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(UsersError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Reads the file, lets `edit` make its new lines, and replaces it in one step (write a
/// sibling, then rename), so that a server reloading it never reads half a file. Two
/// edits at once take turns on a lock file beside it, so that neither undoes the other.
fn edit_users(
    path: &Path,
    edit: impl FnOnce(Option<String>) -> Result<Vec<String>, UsersError>,
) -> Result<(), UsersError> {
    use std::io::Write;
    let io = |source| UsersError::Io {
        path: path.to_owned(),
        source,
    };
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io)?;
    let owner_only = |options: &mut std::fs::OpenOptions| {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
        #[cfg(not(unix))]
        let _ = options;
    };
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    owner_only(&mut options);
    let lock = options.open(PathBuf::from(lock_name)).map_err(io)?;
    lock.lock().map_err(io)?;
    let lines = edit(read_text(path)?)?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    // A name of its own: a stale temporary file from a crash is never reused, with
    // whatever permissions it had.
    let tmp = parent.join(format!(".{file_name}.{}.tmp", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    owner_only(&mut options);
    let written = (|| {
        let mut f = options.open(&tmp)?;
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io)
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

/// How often, at most, the users file is looked at for changes.
const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How long a failed login counts towards its address's limit.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The outcome of a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The credentials are right; the user's name.
    Accepted(String),
    /// No credentials, or wrong ones.
    Refused,
    /// The address failed too often in the last minute; nothing was checked.
    Throttled,
}

/// A credential check remembered for `CACHE_TTL`.
#[derive(Debug)]
struct Verified {
    user: String,
    /// The hash the password was checked against: a changed password no longer matches.
    hash: String,
    at: Instant,
}

/// What identifies one version of the users file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        })
    }
}

/// The users file the users came from and when it was last looked at.
#[derive(Debug)]
struct Source {
    path: PathBuf,
    /// Last look and the file's stamp then.
    seen: Mutex<(Instant, Option<FileStamp>)>,
}

/// Checks credentials and remembers recent successes and failures.
#[derive(Debug)]
pub struct Authenticator {
    users: RwLock<Arc<Users>>,
    source: Option<Source>,
    /// Hash compared when the user is unknown, so that the answer takes as long.
    decoy: String,
    verified: Mutex<HashMap<[u8; 32], Verified>>,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    max_failures_per_minute: u32,
    password_checks: AtomicU64,
}

impl Authenticator {
    /// An authenticator for `users`, which never change.
    pub fn new(users: Users, max_failures_per_minute: u32) -> Authenticator {
        let salt = SaltString::generate(&mut OsRng);
        let decoy = Argon2::default()
            .hash_password(b"decoy password for unknown users", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        Authenticator {
            users: RwLock::new(Arc::new(users)),
            source: None,
            decoy,
            verified: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            max_failures_per_minute,
            password_checks: AtomicU64::new(0),
        }
    }

    /// An authenticator for the users file at `path`, which must hold users now; later
    /// changes are taken up by `refresh` and `reload`.
    pub fn from_file(
        path: &Path,
        max_failures_per_minute: u32,
    ) -> Result<Authenticator, UsersError> {
        // The stamp is taken before reading, so that a change made while reading is
        // seen as a change at the next look.
        let stamp = FileStamp::of(path);
        let users = load_users(path)?;
        let mut auth = Authenticator::new(users, max_failures_per_minute);
        auth.source = Some(Source {
            path: path.to_owned(),
            seen: Mutex::new((Instant::now(), stamp)),
        });
        Ok(auth)
    }

    /// The names of the users in force, sorted.
    pub fn user_names(&self) -> Vec<String> {
        self.current_users().names()
    }

    /// How many Argon2 password checks have run.
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }

    fn current_users(&self) -> Arc<Users> {
        Arc::clone(&self.users.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reloads the users file if it changed since the last look; looks at most once a
    /// second, and then only at its metadata, so it is cheap enough for every request.
    pub fn refresh(&self) {
        let Some(source) = &self.source else { return };
        let stamp = {
            let mut seen = source.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.0.elapsed() < RELOAD_CHECK_INTERVAL {
                return;
            }
            seen.0 = Instant::now();
            let stamp = FileStamp::of(&source.path);
            if stamp == seen.1 {
                return;
            }
            seen.1 = stamp.clone();
            stamp
        };
        if stamp.is_none() {
            tracing::error!(
                file = %source.path.display(),
                "the users file is gone; the users read before stay in force"
            );
            return;
        }
        let _ = self.reload();
    }

    /// Reads the users file again (on SIGHUP, or when it changed). Credentials
    /// remembered for a removed user or a changed password stop working at once. A file
    /// that cannot be read or parsed changes nothing: the users in force stay, and the
    /// error is logged and returned.
    pub fn reload(&self) -> Result<usize, UsersError> {
        let Some(source) = &self.source else {
            return Ok(self.current_users().hashes.len());
        };
        let users = match read_users(&source.path) {
            Ok(users) => users,
            Err(e) => {
                tracing::error!(error = %e, "users file not reloaded; the users read before stay in force");
                return Err(e);
            }
        };
        let count = users.hashes.len();
        if count == 0 {
            tracing::warn!(file = %source.path.display(), "the users file holds no users: every login is refused");
        }
        {
            // Swap the users and drop stale credentials under the cache lock, so that
            // no check in between can see the new cache with the old users.
            let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            cache.retain(|_, v| users.hashes.get(&v.user) == Some(&v.hash));
            *self.users.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(users);
        }
        tracing::info!(users = count, file = %source.path.display(), "users file reloaded");
        Ok(count)
    }

    /// True when `client` failed too often in the last minute.
    pub fn is_throttled(&self, client: IpAddr) -> bool {
        let client = client_key(client);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut failures);
        failures
            .get(&client)
            .is_some_and(|l| l.len() as u32 >= self.max_failures_per_minute)
    }

    /// Recent failures of `client` (for slowing down repeated attempts).
    pub fn recent_failures(&self, client: IpAddr) -> usize {
        let client = client_key(client);
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&client)
            .map_or(0, |l| {
                l.iter().filter(|t| t.elapsed() < FAILURE_WINDOW).count()
            })
    }

    /// The user of a `Basic` header verified within the last few minutes, if any; cheap
    /// enough for the async threads.
    pub fn cached(&self, header: Option<&str>) -> Option<String> {
        let (user, pass) = parse_basic(header?)?;
        let users = self.current_users();
        let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&cache_key(&user, &pass))
            .is_some_and(|v| {
                v.at.elapsed() < CACHE_TTL && users.hashes.get(&v.user) == Some(&v.hash)
            })
            .then_some(user)
    }

    /// Checks a `Basic` header value. CPU-heavy (Argon2) unless the credentials were
    /// verified recently: call it off the async threads.
    ///
    /// A request without an `Authorization` header is no login attempt (many HTTP
    /// clients send one only after the `WWW-Authenticate` challenge), so it is refused
    /// without counting towards the address's failures.
    pub fn login(&self, client: IpAddr, header: Option<&str>) -> Login {
        let client = client_key(client);
        let Some(header) = header else {
            return Login::Refused;
        };
        if self.is_throttled(client) {
            return Login::Throttled;
        }
        if let Some(user) = self.cached(Some(header)) {
            return Login::Accepted(user);
        }
        let Some(attempt) = self.count_attempt(client) else {
            return Login::Throttled;
        };
        match self.check_password(header) {
            Some(user) => {
                let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(list) = failures.get_mut(&client)
                    && let Some(i) = list.iter().position(|t| *t == attempt)
                {
                    list.swap_remove(i);
                }
                Login::Accepted(user)
            }
            None => Login::Refused,
        }
    }

    /// Counts an attempt from `client` as a failure before its slow check, in the same
    /// lock as the test against the limit: however many attempts arrive at once, no
    /// more than the limit get to Argon2. `None` when the limit is reached. `client` is
    /// already a `client_key`.
    fn count_attempt(&self, client: IpAddr) -> Option<Instant> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut failures);
        let list = failures.entry(client).or_default();
        if list.len() as u32 >= self.max_failures_per_minute {
            return None;
        }
        let attempt = Instant::now();
        list.push(attempt);
        Some(attempt)
    }

    /// The user if the header's password matches; one Argon2 check.
    fn check_password(&self, header: &str) -> Option<String> {
        let users = self.current_users();
        let (user, pass) = parse_basic(header)?;
        let (stored, known) = match users.hashes.get(&user) {
            Some(h) => (h.as_str(), true),
            None => (self.decoy.as_str(), false),
        };
        self.password_checks.fetch_add(1, Ordering::Relaxed);
        let ok = verify_with_thread_memory(pass.as_bytes(), stored);
        if !(ok && known) {
            return None;
        }
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, v| v.at.elapsed() < CACHE_TTL);
        cache.insert(
            cache_key(&user, &pass),
            Verified {
                user: user.clone(),
                hash: stored.to_string(),
                at: Instant::now(),
            },
        );
        Some(user)
    }
}

thread_local! {
    /// Argon2's working memory (19 MiB with the default parameters), kept by each thread
    /// that checks passwords and reused for every check, so that the memory of password
    /// checks is fixed by the number of those threads, whatever the allocator does with
    /// a freed block of that size.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `Argon2::verify_password`, in the calling thread's reused working memory.
fn verify_with_thread_memory(password: &[u8], stored: &str) -> bool {
    let check = || -> Option<bool> {
        let hash = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
        let version = match hash.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&hash).ok()?;
        let expected = hash.hash?;
        let mut salt = [0u8; 64];
        let salt = hash.salt?.decode_b64(&mut salt).ok()?;
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        ARGON2_MEMORY.with_borrow_mut(|memory| {
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            argon2
                .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
                .ok()
        })?;
        // Output's comparison takes the same time whatever the bytes.
        Some(password_hash::Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

fn cache_key(user: &str, pass: &str) -> [u8; 32] {
    Sha256::digest(format!("{user}\0{pass}").as_bytes()).into()
}

/// Forgets failures older than the window, and addresses without any, so the map stays
/// small.
fn prune(failures: &mut HashMap<IpAddr, Vec<Instant>>) {
    failures.retain(|_, list| {
        list.retain(|t| t.elapsed() < FAILURE_WINDOW);
        !list.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Edits at once from several threads (or `users add` processes) take turns: none is
    /// lost, and no temporary file is left behind or reused.
    #[test]
    fn simultaneous_edits_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        add_user(&path, "keeper", "a long enough password").unwrap();
        // A stale temporary file of the old fixed name, readable by anyone.
        std::fs::write(dir.path().join("users.tmp"), "stale").unwrap();
        std::thread::scope(|scope| {
            for i in 0..6 {
                let path = &path;
                scope.spawn(move || {
                    add_user(path, &format!("user{i}"), "a long enough password").unwrap();
                });
            }
            let path = &path;
            scope.spawn(move || remove_user(path, "keeper").unwrap());
        });
        let names = list_users(&path).unwrap();
        assert_eq!(
            names,
            (0..6).map(|i| format!("user{i}")).collect::<Vec<_>>(),
            "{names:?}"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") && n != "users.tmp")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

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
        assert_eq!(
            auth.login(ip, Some(&header("alice", "a brand new password"))),
            Login::Accepted("alice".into())
        );
        assert_eq!(
            auth.login(ip, Some(&header("alice", "correct horse battery"))),
            Login::Refused
        );
        assert_eq!(
            auth.login(ip, Some(&header("mallory", "a brand new password"))),
            Login::Refused
        );
        // Asking without credentials is a challenge, not a failed login.
        assert_eq!(auth.login(ip, None), Login::Refused);
        assert!(!auth.is_throttled(ip));
        assert_eq!(auth.login(ip, Some("Basic not-base64")), Login::Refused);
        assert!(auth.is_throttled(ip));
        assert_eq!(
            auth.login(ip, Some(&header("alice", "a brand new password"))),
            Login::Throttled
        );
        assert!(!auth.is_throttled("10.1.2.3".parse().unwrap()));
    }

    fn header(u: &str, p: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    }

    #[test]
    fn reused_memory_verifies_like_the_library() {
        use argon2::password_hash::PasswordVerifier;
        let salt = SaltString::generate(&mut OsRng);
        let stored = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&stored).unwrap();
        for password in ["correct horse battery", "correct horse batterY", ""] {
            assert_eq!(
                verify_with_thread_memory(password.as_bytes(), &stored),
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
                "{password}"
            );
        }
        assert!(verify_with_thread_memory(b"correct horse battery", &stored));
        assert!(!verify_with_thread_memory(b"x", "not a hash"));
        // Other parameters (smaller memory, argon2i) work in the same buffer.
        let small = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(1024, 2, 1, Some(16)).unwrap(),
        )
        .hash_password(b"another password", &salt)
        .unwrap()
        .to_string();
        assert!(verify_with_thread_memory(b"another password", &small));
        assert!(!verify_with_thread_memory(b"another passworD", &small));
    }

    #[test]
    fn parallel_guesses_get_no_more_checks_than_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        add_user(&path, "alice", "correct horse battery").unwrap();
        let auth = Arc::new(Authenticator::new(load_users(&path).unwrap(), 10));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let start = Arc::new(std::sync::Barrier::new(60));
        let threads: Vec<_> = (0..60)
            .map(|i| {
                let (auth, start) = (Arc::clone(&auth), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    auth.login(ip, Some(&header("alice", &format!("guess number {i}"))))
                })
            })
            .collect();
        let outcomes: Vec<Login> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let refused = outcomes.iter().filter(|o| **o == Login::Refused).count();
        let throttled = outcomes.iter().filter(|o| **o == Login::Throttled).count();
        assert_eq!((refused, throttled), (10, 50), "{outcomes:?}");
        assert_eq!(auth.password_checks(), 10);
        // The right password after the limit is not even checked.
        assert_eq!(
            auth.login(ip, Some(&header("alice", "correct horse battery"))),
            Login::Throttled
        );
        assert_eq!(auth.password_checks(), 10);
        // Another address is not affected.
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(
            auth.login(other, Some(&header("alice", "correct horse battery"))),
            Login::Accepted("alice".into())
        );
    }

    #[test]
    fn reload_applies_changes_and_keeps_users_on_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        add_user(&path, "alice", "correct horse battery").unwrap();
        add_user(&path, "bob", "another long password").unwrap();
        let auth = Authenticator::from_file(&path, 100).unwrap();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let alice_old = header("alice", "correct horse battery");
        let bob = header("bob", "another long password");
        assert_eq!(
            auth.login(ip, Some(&alice_old)),
            Login::Accepted("alice".into())
        );
        assert_eq!(auth.login(ip, Some(&bob)), Login::Accepted("bob".into()));
        assert!(auth.cached(Some(&alice_old)).is_some());

        add_user(&path, "alice", "a brand new password").unwrap();
        assert_eq!(auth.reload().unwrap(), 2);
        // Alice's remembered old password is forgotten; Bob's stays remembered.
        assert_eq!(auth.cached(Some(&alice_old)), None);
        assert_eq!(auth.cached(Some(&bob)).as_deref(), Some("bob"));
        assert_eq!(auth.login(ip, Some(&alice_old)), Login::Refused);
        assert_eq!(
            auth.login(ip, Some(&header("alice", "a brand new password"))),
            Login::Accepted("alice".into())
        );

        remove_user(&path, "bob").unwrap();
        assert_eq!(list_users(&path).unwrap(), vec!["alice".to_string()]);
        auth.reload().unwrap();
        assert_eq!(auth.cached(Some(&bob)), None);
        assert_eq!(auth.login(ip, Some(&bob)), Login::Refused);

        // A broken file changes nothing.
        std::fs::write(&path, "alice:plaintext\n").unwrap();
        assert!(matches!(auth.reload(), Err(UsersError::Malformed { .. })));
        assert_eq!(auth.user_names(), vec!["alice".to_string()]);
        assert_eq!(
            auth.login(ip, Some(&header("alice", "a brand new password"))),
            Login::Accepted("alice".into())
        );
        assert!(matches!(
            remove_user(&dir.path().join("none"), "alice"),
            Err(UsersError::Missing(_))
        ));
    }

    #[test]
    fn refresh_notices_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        add_user(&path, "alice", "correct horse battery").unwrap();
        let auth = Authenticator::from_file(&path, 100).unwrap();
        add_user(&path, "carol", "yet another password").unwrap();
        auth.refresh();
        assert_eq!(
            auth.user_names(),
            vec!["alice".to_string()],
            "looked within a second"
        );
        std::thread::sleep(RELOAD_CHECK_INTERVAL + Duration::from_millis(50));
        auth.refresh();
        assert_eq!(
            auth.user_names(),
            vec!["alice".to_string(), "carol".to_string()]
        );
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
        assert!(matches!(list_users(&path), Err(UsersError::Missing(_))));
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
