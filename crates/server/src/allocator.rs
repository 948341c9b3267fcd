//! How many malloc arenas glibc may keep: the one place this workspace allows `unsafe`.
//!
//! glibc gives each new thread an arena of its own until there are eight per core. The server's
//! threads (actix workers, their blocking threads running diesel, the pool's helpers) each touched a
//! few MiB and glibc keeps what an arena once held: 16 arenas held about 75 MiB after the benchmark's
//! load on SQLite (peak RSS 110–131 MiB). Capped at one arena per core the same load peaks at about
//! 75 MiB (docs/benchmarks.md, "Memory"). An operator's own `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES`
//! wins.
#![allow(unsafe_code)]

/// Caps glibc's malloc arenas at one per available core, unless the environment sets malloc's
/// tunables itself. Call first thing in `main`, before any thread starts: arenas already made stay.
pub fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() || std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    set_arena_max(i32::try_from(cores).unwrap_or(i32::MAX));
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: i32) {
    // SAFETY: mallopt only sets a parameter of glibc's allocator; M_ARENA_MAX with a positive value is
    // documented (mallopt(3)) and takes effect for arenas created afterwards. It returns 0 on error,
    // which leaves glibc's default in place.
    let applied = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
    if applied == 0 {
        eprintln!("hotline: could not cap malloc arenas at {arenas}; glibc's default stays");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: i32) {}
