//! Stand-ins: faithful fake HTTP servers on loopback, with fault switches.
//!
//! Used by tests, benchmarks and the offline sandbox. A fake that is kinder than the
//! real service is a bug: it rejects what the real one rejects.

pub mod common;
pub mod eachlabs;
mod eachlabs_schema;
pub mod fal;
pub mod gemini;
pub mod oxen;
pub mod render;
pub mod vydra;

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use banana_core::recipe::ProviderId;
use banana_core::sandbox::{SANDBOX_KEY, SandboxEndpoint, SandboxHost};

use tokio_util::sync::CancellationToken;

pub use gemini::{FakeGemini, Fault};

/// The offline sandbox: every provider's stand-in, each started the first time the
/// engine asks for it (a provider without a key), on a runtime of the sandbox's own that
/// is itself started only then. A process whose providers all have keys opens no port.
pub struct Sandbox {
    key: String,
    starting: Mutex<()>,
    runtime: OnceLock<tokio::runtime::Runtime>,
    gemini: OnceLock<FakeGemini>,
    fal: OnceLock<fal::FakeFal>,
    eachlabs: OnceLock<eachlabs::FakeEachlabs>,
    oxen: OnceLock<oxen::FakeOxen>,
    vydra: OnceLock<vydra::FakeVydra>,
    /// Where stand-ins keep what outlives the process.
    state_dir: OnceLock<std::path::PathBuf>,
}

/// How often the engine polls a sandbox queue: slow enough that progress shows.
pub const SANDBOX_POLL: std::time::Duration = fal::SANDBOX_POLL;

impl Sandbox {
    /// A sandbox whose stand-ins accept `key` (see [`banana_core::sandbox::SANDBOX_KEY`]);
    /// nothing starts yet.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            starting: Mutex::new(()),
            runtime: OnceLock::new(),
            gemini: OnceLock::new(),
            fal: OnceLock::new(),
            eachlabs: OnceLock::new(),
            oxen: OnceLock::new(),
            vydra: OnceLock::new(),
            state_dir: OnceLock::new(),
        }
    }

    /// A sandbox accepting [`SANDBOX_KEY`], ready to be shared with an engine.
    pub fn standard() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self::new(SANDBOX_KEY))
    }

    /// Starts one stand-in once, under the start lock; later calls return it.
    fn started<'a, T>(
        &'a self,
        cell: &'a OnceLock<T>,
        start: impl FnOnce(&tokio::runtime::Handle, &str) -> std::io::Result<T>,
    ) -> std::io::Result<&'a T> {
        if let Some(server) = cell.get() {
            return Ok(server);
        }
        let _one_at_a_time = self.starting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = cell.get() {
            return Ok(server);
        }
        let runtime = match self.runtime.get() {
            Some(runtime) => runtime,
            None => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("banana-sandbox")
                    .enable_all()
                    .build()?;
                self.runtime.get_or_init(|| runtime)
            }
        };
        let server = start(runtime.handle(), &self.key)?;
        tracing::info!("sandbox stand-in started");
        Ok(cell.get_or_init(|| server))
    }

    /// Gemini's stand-in, started now if needed.
    pub fn gemini(&self) -> std::io::Result<&FakeGemini> {
        let state = self.state_dir.get().cloned();
        self.started(&self.gemini, |rt, key| {
            FakeGemini::start_with_state(rt, key, state)
        })
    }

    /// fal.ai's stand-in, started now if needed.
    pub fn fal(&self) -> std::io::Result<&fal::FakeFal> {
        self.started(&self.fal, |rt, key| {
            fal::FakeFal::start(rt, key, fal::SANDBOX_QUEUE_POLLS)
        })
    }

    /// Eachlabs' stand-in, started now if needed.
    pub fn eachlabs(&self) -> std::io::Result<&eachlabs::FakeEachlabs> {
        self.started(&self.eachlabs, |rt, key| {
            eachlabs::FakeEachlabs::start(rt, key, eachlabs::SANDBOX_CREATED_POLLS)
        })
    }

    /// Oxen.ai's stand-in, started now if needed.
    pub fn oxen(&self) -> std::io::Result<&oxen::FakeOxen> {
        self.started(&self.oxen, |rt, key| {
            oxen::FakeOxen::start(rt, key, oxen::SANDBOX_QUEUED_POLLS)
        })
    }

    /// Vydra's stand-in, started now if needed.
    pub fn vydra(&self) -> std::io::Result<&vydra::FakeVydra> {
        self.started(&self.vydra, vydra::FakeVydra::start)
    }

    /// The providers whose stand-ins are running now.
    pub fn running(&self) -> Vec<ProviderId> {
        let mut running = Vec::new();
        let cells = [
            (ProviderId::Gemini, self.gemini.get().is_some()),
            (ProviderId::Fal, self.fal.get().is_some()),
            (ProviderId::Eachlabs, self.eachlabs.get().is_some()),
            (ProviderId::Oxen, self.oxen.get().is_some()),
            (ProviderId::Vydra, self.vydra.get().is_some()),
        ];
        for (provider, up) in cells {
            if up {
                running.push(provider);
            }
        }
        running
    }
}

impl SandboxHost for Sandbox {
    fn keep_state_in(&self, dir: &std::path::Path) {
        let _ = self.state_dir.set(dir.join("sandbox"));
    }

    fn endpoint(&self, provider: ProviderId) -> std::io::Result<SandboxEndpoint> {
        let plain = |base_url: String, poll: Option<std::time::Duration>| SandboxEndpoint {
            base_url,
            storage_url: None,
            poll,
        };
        Ok(match provider {
            ProviderId::Gemini => plain(self.gemini()?.base_url(), None),
            ProviderId::Fal => {
                let fal = self.fal()?;
                SandboxEndpoint {
                    base_url: fal.queue_base(),
                    storage_url: Some(fal.rest_base()),
                    poll: Some(SANDBOX_POLL),
                }
            }
            ProviderId::Eachlabs => plain(self.eachlabs()?.base_url(), Some(SANDBOX_POLL)),
            ProviderId::Oxen => plain(self.oxen()?.base_url(), Some(SANDBOX_POLL)),
            ProviderId::Vydra => plain(self.vydra()?.base_url(), None),
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The servers stop with their runtime; never block a thread that may be async.
        drop(self.gemini.take());
        drop(self.fal.take());
        drop(self.eachlabs.take());
        drop(self.oxen.take());
        drop(self.vydra.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A running axum server on 127.0.0.1, stopped when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    stop: CancellationToken,
}

/// A loopback port taken for a fake, before its router exists (so handlers can know the
/// server's own URL from the start).
pub struct Bound {
    listener: std::net::TcpListener,
    addr: SocketAddr,
}

impl Bound {
    /// The base URL it will serve on, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `router` on the port on the given runtime.
    pub fn serve(
        self,
        runtime: &tokio::runtime::Handle,
        router: axum::Router,
    ) -> std::io::Result<FakeServer> {
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        runtime.spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::warn!("fake server stopped: {e}");
            }
        });
        Ok(FakeServer {
            addr: self.addr,
            stop,
        })
    }
}

impl FakeServer {
    /// Takes a free loopback port.
    pub fn bind() -> std::io::Result<Bound> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        Ok(Bound { listener, addr })
    }

    /// Serves `router` on a free loopback port on the given runtime.
    pub fn start(runtime: &tokio::runtime::Handle, router: axum::Router) -> std::io::Result<Self> {
        Self::bind()?.serve(runtime, router)
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
