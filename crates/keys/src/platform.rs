//! The platform's secure store: macOS Keychain, Windows Credential Manager, Linux Secret
//! Service, else Linux keyutils. Each candidate is probed with a read, because a store can
//! be created and still refuse every access (keyutils in a container).

use super::keyring::{SERVICE, SecureStore};
use keyring_core::Error;

/// Reads a probe entry: a store that answers (even "no such entry") is usable.
fn probe(secure: &SecureStore) -> Result<(), String> {
    let entry = secure
        .store
        .build(SERVICE, "probe", None)
        .map_err(|e| e.to_string())?;
    match entry.get_password() {
        Ok(_) | Err(Error::NoEntry) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// The first secure store that answers, or why none does.
pub fn secure_store() -> Result<SecureStore, String> {
    let mut reasons = Vec::new();
    for candidate in candidates() {
        match candidate {
            Ok(secure) => match probe(&secure) {
                Ok(()) => {
                    tracing::info!("keys are kept in {}", secure.name);
                    return Ok(secure);
                }
                Err(e) => reasons.push(format!("{}: {e}", secure.name)),
            },
            Err(e) => reasons.push(e),
        }
    }
    Err(if reasons.is_empty() {
        "this platform has no supported key store".to_owned()
    } else {
        reasons.join("; ")
    })
}

#[cfg(target_os = "macos")]
fn candidates() -> Vec<Result<SecureStore, String>> {
    vec![
        apple_native_keyring_store::keychain::Store::new()
            .map(|store| SecureStore {
                store,
                name: "the macOS Keychain".to_owned(),
            })
            .map_err(|e| format!("macOS Keychain: {e}")),
    ]
}

#[cfg(target_os = "windows")]
fn candidates() -> Vec<Result<SecureStore, String>> {
    vec![
        windows_native_keyring_store::Store::new()
            .map(|store| SecureStore {
                store,
                name: "Windows Credential Manager".to_owned(),
            })
            .map_err(|e| format!("Windows Credential Manager: {e}")),
    ]
}

#[cfg(target_os = "linux")]
fn candidates() -> Vec<Result<SecureStore, String>> {
    // Secret Service talks D-Bus through zbus, which must not be driven from inside the
    // engine's tokio runtime: creating it on a plain thread keeps that true.
    let secret_service = std::thread::Builder::new()
        .name("banana-keys-probe".to_owned())
        .spawn(|| {
            zbus_secret_service_keyring_store::Store::new()
                .map(|store| SecureStore {
                    store,
                    name: "the Secret Service keyring".to_owned(),
                })
                .map_err(|e| format!("Secret Service: {e}"))
        })
        .map_err(|e| format!("Secret Service: {e}"))
        .and_then(|t| {
            t.join()
                .unwrap_or_else(|_| Err("Secret Service: the probe panicked".to_owned()))
        });
    let keyutils = linux_keyutils_keyring_store::Store::new()
        .map(|store| SecureStore {
            store,
            name: "the kernel keyring (keyutils, kept until reboot)".to_owned(),
        })
        .map_err(|e| format!("keyutils: {e}"));
    vec![secret_service, keyutils]
}

#[cfg(not(any(target_os = "macos", target_os = "windows", target_os = "linux")))]
fn candidates() -> Vec<Result<SecureStore, String>> {
    Vec::new()
}
