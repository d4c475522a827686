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

/// A file's `file://` address, spaces and other characters escaped, as file managers and
/// browsers take it pasted. Dragging a file out of the window is not offered by the
/// windowing library on every platform, so this is the way to hand a result to them.
pub fn file_uri(file: &Path) -> String {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    url::Url::from_file_path(&absolute)
        .map(String::from)
        .unwrap_or_else(|()| format!("file://{}", absolute.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_uri_escapes_what_it_must() {
        let uri = super::file_uri(std::path::Path::new("/home/ana/Banana Studio/a#1.png"));
        assert_eq!(uri, "file:///home/ana/Banana%20Studio/a%231.png");
    }
}
