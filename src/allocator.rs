//! The window's memory over a working day. glibc's allocator raises its mmap threshold
//! each time a block above it is freed, so after the first full-size image the next ones
//! (decodes, textures of tens of megabytes) come from its heaps, which keep the freed
//! space: each image viewed left memory behind. The threshold can only be pinned before
//! the process starts (`GLIBC_TUNABLES`; `mallopt` would take unsafe code), so the app
//! starts itself again once with it set.

/// The setting: blocks of 4 MiB and more are mapped on their own and given back when
/// freed.
pub const GLIBC_TUNABLES: &str = "glibc.malloc.mmap_threshold=4194304";

/// The window's process with the threshold pinned: on Linux, when not already set,
/// replaces this process with itself and the setting added (only returns when that
/// could not be done, and the app then runs as it is).
pub fn pin_mmap_threshold() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt as _;
        let current = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if current.contains("malloc.mmap_threshold") {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let tunables = if current.is_empty() {
            GLIBC_TUNABLES.to_owned()
        } else {
            format!("{current}:{GLIBC_TUNABLES}")
        };
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("GLIBC_TUNABLES", tunables)
            .exec();
        tracing::warn!("could not restart with the allocator setting ({error}); going on without");
    }
}
