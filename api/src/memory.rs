//! Keeps the C allocator from holding on to memory the server has freed.
//!
//! Only glibc needs this. By default it gives threads that allocate at the same time
//! their own arena, up to eight per core, and each arena keeps the pages it freed for
//! later: under load the server's resident memory grew to several times what it had in
//! use. (Argon2's 19 MiB, the largest block, no longer comes and goes: each password
//! thread keeps and reuses its own, see `auth`.)

/// Arenas at most. Four: the two async threads, the analysis workers and the password
/// threads mostly allocate large blocks (bodies, photos) that need no arena of their
/// own to be fast; more arenas only keep more freed memory.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_MAX: libc::c_int = 4;

/// Caps glibc's arenas for this process; nothing elsewhere. Call before the server's
/// threads start allocating (arenas made earlier stay).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // mallopt is a C function
pub fn limit_retained_memory() {
    // SAFETY: mallopt only changes an allocator parameter, under glibc's own lock.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
    }
}

/// Other allocators need nothing.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_retained_memory() {}
