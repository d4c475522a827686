//! Content-addressed files: written to a temporary name, synced, then renamed.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Bytes as lowercase hex, as content paths name them.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `{root}/{kind}/ab/abcdef….{ext}`.
pub fn content_path(root: &Path, kind: &str, sha: &str, ext: &str) -> PathBuf {
    let fan = sha.get(..2).unwrap_or("00");
    root.join(kind).join(fan).join(format!("{sha}.{ext}"))
}

/// Writes `bytes` to `path` so that a crash leaves either nothing or the whole file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, true)
}

/// Writes `bytes` to `path` through a temporary name, without waiting for the disk: for
/// files made again from others when lost (thumbnails). Readers never see half a file
/// while the app runs; a power cut may leave it empty, and its reader then remakes it.
pub fn write_derived(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, false)
}

fn write_renamed(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        if durable {
            file.sync_all()?;
        }
        if durable {
            rename_durably(&tmp, path)
        } else {
            fs::rename(&tmp, path)
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Renames `from` to `to` (a file synced already), its folder made first, and makes the
/// rename itself durable where the platform allows it.
pub fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    fs::rename(from, to)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Stores bytes by content; an existing identical file is kept as is.
pub fn put(root: &Path, kind: &str, ext: &str, bytes: &[u8]) -> std::io::Result<(String, PathBuf)> {
    let sha = sha256_hex(bytes);
    let path = content_path(root, kind, &sha, ext);
    let complete = fs::metadata(&path)
        .map(|m| m.len() == bytes.len() as u64)
        .unwrap_or(false);
    if !complete {
        write_atomic(&path, bytes)?;
    }
    Ok((sha, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_same_path_and_no_temp_left() {
        let dir = tempfile::tempdir().unwrap();
        let (sha, path) = put(dir.path(), "images", "png", b"abc").unwrap();
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(path.ends_with(
            "images/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png"
        ));
        let (_, again) = put(dir.path(), "images", "png", b"abc").unwrap();
        assert_eq!(path, again);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
