//! The door to the offline sandbox. The engine asks for a provider's stand-in only when
//! that provider runs without a key; whoever builds the engine (the app, a test) decides
//! whether a sandbox exists at all. The engine never depends on the sandbox's servers.

use std::time::Duration;

use crate::recipe::ProviderId;

/// The key every sandbox stand-in accepts.
pub const SANDBOX_KEY: &str = "sandbox-key";

/// Where one provider's stand-in listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxEndpoint {
    /// The base URL to use instead of the service's (fal: the queue host).
    pub base_url: String,
    /// fal's storage host, for uploads; None for the others.
    pub storage_url: Option<String>,
    /// How often to poll a queued job, where the provider polls.
    pub poll: Option<Duration>,
}

/// Starts stand-ins on demand. A host starts a provider's server the first time it is
/// asked for it, and only that one.
pub trait SandboxHost: Send + Sync {
    /// The stand-in for `provider`, started now if it is not running yet.
    fn endpoint(&self, provider: ProviderId) -> std::io::Result<SandboxEndpoint>;

    /// Keeps what must outlive this process (the Gemini stand-in's deferred batches) in
    /// `dir`, so the sandbox behaves like the service across restarts. Call before the
    /// first `endpoint`.
    fn keep_state_in(&self, _dir: &std::path::Path) {}
}
