//! Stand-ins: faithful fake HTTP servers on loopback, with fault switches.
//!
//! Used by tests, benchmarks and the offline sandbox. A fake that is kinder than the
//! real service is a bug: it rejects what the real one rejects.

pub mod common;
pub mod eachlabs;
pub mod fal;
pub mod gemini;
pub mod oxen;
pub mod render;
pub mod vydra;

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

pub use gemini::{FakeGemini, Fault};

/// Every provider's fake, as the offline sandbox runs them.
pub struct Sandbox {
    /// Gemini.
    pub gemini: FakeGemini,
    /// fal.ai.
    pub fal: fal::FakeFal,
    /// Eachlabs.
    pub eachlabs: eachlabs::FakeEachlabs,
    /// Oxen.ai.
    pub oxen: oxen::FakeOxen,
    /// Vydra.
    pub vydra: vydra::FakeVydra,
}

impl Sandbox {
    /// Starts them all on `runtime`, accepting `key`, paced so queue progress shows.
    pub fn start(runtime: &tokio::runtime::Handle, key: &str) -> std::io::Result<Self> {
        Ok(Self {
            gemini: FakeGemini::start(runtime, key)?,
            fal: fal::FakeFal::start(runtime, key, fal::SANDBOX_QUEUE_POLLS)?,
            eachlabs: eachlabs::FakeEachlabs::start(runtime, key, eachlabs::SANDBOX_CREATED_POLLS)?,
            oxen: oxen::FakeOxen::start(runtime, key, oxen::SANDBOX_QUEUED_POLLS)?,
            vydra: vydra::FakeVydra::start(runtime, key)?,
        })
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
