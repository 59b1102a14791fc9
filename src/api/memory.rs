//! Keeps the C allocator from holding on to memory the server has freed.
//!
//! Only glibc needs this. By default it gives threads that allocate at the same time
//! their own arena, up to eight per core, and each arena keeps pages it freed for later.
//! Worse, each time a large block (above 128 KiB) is freed it raises the size above
//! which blocks get their own mapping, up to 32 MiB; from then on a decoded photo, a
//! request body or Argon2's 19 MiB comes from an arena and stays there after use. Under
//! load the server's resident memory so grew to several times what it had in use.

/// Blocks at least this large get their own mapping, returned to the system when freed.
/// 256 KiB: far below a request body or a decoded photo, far above the small objects
/// that come and go by the thousand.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 << 10;

/// Arenas at most. Small allocations rarely contend for long: the large ones are mapped.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_MAX: libc::c_int = 4;

/// Fixes glibc's arena count and mapping threshold for this process; nothing elsewhere.
/// Call before the server's threads start allocating (arenas made earlier stay).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_retained_memory() {
    // SAFETY: mallopt only changes allocator parameters, under glibc's own lock.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
        // Setting it also turns off the dynamic raising described above.
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Other allocators need nothing.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_retained_memory() {}
