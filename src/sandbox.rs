//! The app's one sandbox: the engine is given it as a [`SandboxHost`], and it starts a
//! provider's stand-in only when that provider runs without a key.

use std::sync::Arc;

use banana_core::sandbox::SandboxHost;
use banana_sandbox::Sandbox;

/// A fresh sandbox, nothing started yet.
pub fn host() -> Arc<dyn SandboxHost> {
    Sandbox::standard()
}
