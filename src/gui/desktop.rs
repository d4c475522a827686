//! Desktop glue: show a file or a folder in the system's file manager.

use std::path::Path;
use std::process::Command;

/// Opens the file manager at `file` (selected where the platform allows it).
/// Returns the problem in words when no file manager could be started.
pub fn reveal(file: &Path) -> Result<(), String> {
    let mut command = if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg("-R").arg(file);
        c
    } else if cfg!(target_os = "windows") {
        let mut c = Command::new("explorer");
        c.arg(format!("/select,{}", file.display()));
        c
    } else {
        let mut c = Command::new("xdg-open");
        c.arg(file.parent().unwrap_or(file));
        c
    };
    command.spawn().map(|_| ()).map_err(|e| {
        format!(
            "no file manager could be opened ({e}); the file is at {}",
            file.display()
        )
    })
}

/// Opens the file manager in `folder`.
pub fn open_folder(folder: &Path) -> Result<(), String> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    Command::new(opener)
        .arg(folder)
        .spawn()
        .map(|_| ())
        .map_err(|e| {
            format!(
                "no file manager could be opened ({e}); the folder is {}",
                folder.display()
            )
        })
}
