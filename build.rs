//! Windows builds get the app icon and version information in the executable
//! (`packaging/windows/banana-studio.rc`). Nothing happens on other platforms.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=packaging/windows/banana-studio.rc");
    println!("cargo:rerun-if-changed=assets/icons/banana-studio.ico");
    #[cfg(windows)]
    windows_resources();
}

#[cfg(windows)]
fn windows_resources() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let part = |name: &str| std::env::var(name).unwrap_or_else(|_| "0".to_owned());
    let macros = [
        format!("VERSION_MAJOR={}", part("CARGO_PKG_VERSION_MAJOR")),
        format!("VERSION_MINOR={}", part("CARGO_PKG_VERSION_MINOR")),
        format!("VERSION_PATCH={}", part("CARGO_PKG_VERSION_PATCH")),
    ];
    if let Err(e) =
        embed_resource::compile("packaging/windows/banana-studio.rc", &macros).manifest_optional()
    {
        // The icon is cosmetic: say why it is missing and build on.
        println!("cargo:warning=no Windows icon or version information: {e}");
    }
}
