//! Connecting providers: a key (or the sandbox), a base URL and a concurrency limit make a
//! slot jobs run through. Slots can be rebuilt while the app runs (a key saved in
//! Settings takes effect at once); a job keeps the slot it started with.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::answer::Answer;
use super::{Engine, Event, Inner, ProviderStatus, Slot};
use banana_core::recipe::ProviderId;
use banana_core::sandbox::{SANDBOX_KEY, SandboxEndpoint, SandboxHost};
use banana_keys::{KeyError, KeyOrigin, Secret};
use banana_providers::eachlabs::{self, EachlabsProvider};
use banana_providers::fal::{self, FalProvider, PollPolicy};
use banana_providers::gemini::{self, GeminiProvider};
use banana_providers::oxen::{self, OxenProvider};
use banana_providers::vydra::{self, VydraProvider};
use banana_providers::{CallContext, Provider, RetryPolicy};

/// How one provider is to be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// A base URL instead of the service's own (proxies, gateways, tests); fal's queue.
    pub base_url: Option<String>,
    /// fal's synchronous host instead of `https://fal.run`.
    pub fal_run_url: Option<String>,
    /// fal's storage host instead of `https://rest.fal.ai`.
    pub fal_storage_url: Option<String>,
    /// Jobs at once.
    pub concurrency: usize,
}

impl Connection {
    /// The service's own hosts, `concurrency` jobs at once.
    pub fn with_concurrency(concurrency: usize) -> Self {
        Self {
            base_url: None,
            fal_run_url: None,
            fal_storage_url: None,
            concurrency: concurrency.max(1),
        }
    }
}

/// The client for a provider against the sandbox's stand-in at `endpoint`.
fn sandbox_client(
    provider: ProviderId,
    endpoint: SandboxEndpoint,
    retry: &RetryPolicy,
) -> Arc<dyn Provider> {
    let retry = retry.clone();
    let key = Secret::new(SANDBOX_KEY);
    let poll = endpoint.poll.map(PollPolicy::steady);
    let base = endpoint.base_url;
    match provider {
        ProviderId::Gemini => Arc::new(GeminiProvider::new(base, key, retry)),
        ProviderId::Fal => {
            let storage = endpoint.storage_url.unwrap_or_else(|| base.clone());
            let client = FalProvider::new(base, storage, key, retry);
            Arc::new(match poll {
                Some(poll) => client.with_poll(poll),
                None => client,
            })
        }
        ProviderId::Eachlabs => {
            let client = EachlabsProvider::new(base, key, retry);
            Arc::new(match poll {
                Some(poll) => client.with_poll(poll),
                None => client,
            })
        }
        ProviderId::Oxen => {
            let client = OxenProvider::new(base, key, retry);
            Arc::new(match poll {
                Some(poll) => client.with_poll(poll),
                None => client,
            })
        }
        ProviderId::Vydra => Arc::new(VydraProvider::new(base, key, retry)),
    }
}

/// The client for a provider with a key: against `connection`'s base URL or the
/// service's own hosts.
fn client(
    provider: ProviderId,
    key: Secret,
    connection: &Connection,
    retry: &RetryPolicy,
) -> Arc<dyn Provider> {
    let retry = retry.clone();
    let base_url = connection.base_url.clone();
    match provider {
        ProviderId::Gemini => {
            let base = base_url.unwrap_or_else(|| gemini::DEFAULT_BASE_URL.to_owned());
            Arc::new(GeminiProvider::new(base, key, retry))
        }
        ProviderId::Fal => {
            // A base URL from Settings stands in for the queue host (a proxy).
            let queue = base_url.unwrap_or_else(|| fal::QUEUE_BASE.to_owned());
            let storage = connection
                .fal_storage_url
                .clone()
                .unwrap_or_else(|| fal::REST_BASE.to_owned());
            let run = connection
                .fal_run_url
                .clone()
                .unwrap_or_else(|| fal::RUN_BASE.to_owned());
            Arc::new(FalProvider::new(queue, storage, key, retry).with_run_base(run))
        }
        ProviderId::Eachlabs => Arc::new(EachlabsProvider::new(
            base_url.unwrap_or_else(|| eachlabs::BASE.to_owned()),
            key,
            retry,
        )),
        ProviderId::Oxen => Arc::new(OxenProvider::new(
            base_url.unwrap_or_else(|| oxen::BASE.to_owned()),
            key,
            retry,
        )),
        ProviderId::Vydra => Arc::new(VydraProvider::new(
            base_url.unwrap_or_else(|| vydra::BASE.to_owned()),
            key,
            retry,
        )),
    }
}

/// Builds a provider's slot and status from its key. Without a key (or when the sandbox
/// is forced) the sandbox host starts that provider's stand-in; with no host, or when the
/// stand-in cannot start, the provider is unavailable and the status says why.
pub(super) fn connect(
    provider: ProviderId,
    key: Option<Secret>,
    origin: KeyOrigin,
    connection: &Connection,
    force_sandbox: bool,
    sandbox: Option<&Arc<dyn SandboxHost>>,
    retry: &RetryPolicy,
) -> (Option<Arc<Slot>>, ProviderStatus) {
    let unavailable = |origin: KeyOrigin| ProviderStatus {
        available: false,
        sandbox: false,
        key_origin: origin,
        credits_left: None,
    };
    let (client, in_sandbox) = match key {
        Some(key) if !force_sandbox => (client(provider, key, connection, retry), false),
        _ => {
            let Some(host) = sandbox else {
                tracing::info!(provider = %provider, "no key and no sandbox: unavailable");
                return (None, unavailable(origin));
            };
            match host.endpoint(provider) {
                Ok(endpoint) => (sandbox_client(provider, endpoint, retry), true),
                Err(e) => {
                    tracing::warn!(
                        target: banana_core::NOTICE_TARGET,
                        "The offline sandbox for {} could not start ({e}); set a key in Settings to use the service",
                        provider.label()
                    );
                    return (None, unavailable(origin));
                }
            }
        }
    };
    tracing::info!(provider = %provider, sandbox = in_sandbox, "provider ready");
    let at_once = jobs_at_once(provider, connection.concurrency);
    let slot = Slot {
        provider: client,
        sandbox: in_sandbox,
        semaphore: Arc::new(Semaphore::new(at_once)),
        jobs_at_once: at_once,
        held: Arc::new(Semaphore::new(at_once)),
    };
    let status = ProviderStatus {
        available: true,
        sandbox: in_sandbox,
        key_origin: origin,
        credits_left: None,
    };
    (Some(Arc::new(slot)), status)
}

/// Jobs at once for a provider: what Settings ask, within the service's own limit
/// (Eachlabs runs at most 10 predictions per key; each job is one prediction).
pub fn jobs_at_once(provider: ProviderId, asked: usize) -> usize {
    let asked = asked.max(1);
    match provider {
        ProviderId::Eachlabs => asked.min(eachlabs::MAX_IN_FLIGHT),
        _ => asked,
    }
}

/// What a key test found, in words.
fn tested(
    provider: ProviderId,
    result: Result<String, banana_providers::ProviderError>,
) -> (bool, String) {
    use banana_providers::ErrorKind;
    match result {
        Ok(found) => (true, format!("Key works: {found}")),
        Err(e) if e.kind() == ErrorKind::Auth => (false, format!("Key rejected: {e}")),
        Err(e) => (
            false,
            format!("Could not test the {} key: {e}", provider.label()),
        ),
    }
}

/// Runs keychain work on a named plain thread: never inside the async runtime, because
/// the Secret Service store drives D-Bus with a runtime of its own.
fn on_key_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<std::thread::JoinHandle<T>> {
    std::thread::Builder::new()
        .name("banana-keys".to_owned())
        .spawn(work)
        .map_err(|e| tracing::error!("could not start the key thread: {e}"))
        .ok()
}

impl Engine {
    /// Reconnects a provider with its current key and this connection; running jobs
    /// finish on the old one. `Event::ProvidersChanged` follows.
    pub fn reconnect(&self, provider: ProviderId, connection: Connection) {
        let reconnect = self.reconnector();
        // Keychains (Secret Service over D-Bus) are read on a plain thread, never inside
        // the async runtime.
        on_key_thread(move || reconnect(provider, connection));
    }

    /// Saves a key (keychain, or this run only) and reconnects the provider; answers
    /// where it went or why it could not be saved. `Event::ProvidersChanged` follows.
    pub fn save_key(
        &self,
        provider: ProviderId,
        key: Secret,
        connection: Connection,
    ) -> Answer<Result<KeyOrigin, KeyError>> {
        let (reply, answer) = self.inner.answer();
        let keys = self.keys.clone();
        let this = self.reconnector();
        on_key_thread(move || {
            reply.send(keys.save(provider, &key));
            this(provider, connection);
        });
        answer
    }

    /// Removes a stored key and reconnects the provider; answers whether it went.
    /// `Event::ProvidersChanged` follows.
    pub fn remove_key(
        &self,
        provider: ProviderId,
        connection: Connection,
    ) -> Answer<Result<(), KeyError>> {
        let (reply, answer) = self.inner.answer();
        let keys = self.keys.clone();
        let this = self.reconnector();
        on_key_thread(move || {
            reply.send(keys.remove(provider));
            this(provider, connection);
        });
        answer
    }

    /// A function that reconnects a provider from any thread.
    fn reconnector(&self) -> impl Fn(ProviderId, Connection) + Send + 'static {
        let inner = self.inner.clone();
        let keys = self.keys.clone();
        let force = self.force_sandbox;
        let sandbox = self.sandbox.clone();
        let retry = self.retry.clone();
        move |provider, connection| {
            let (key, origin) = keys.key(provider);
            let (slot, status) = connect(
                provider,
                key,
                origin,
                &connection,
                force,
                sandbox.as_ref(),
                &retry,
            );
            inner.install(provider, slot, status);
            inner.emit(Event::ProvidersChanged);
        }
    }

    /// Tests a key with the provider's cheapest authenticated call (Gemini: list the
    /// models) through `connection` or the service; answers whether it works. Without a
    /// key typed, the stored one is tested.
    pub fn test_key(
        &self,
        provider: ProviderId,
        key: Option<Secret>,
        connection: Connection,
    ) -> Answer<KeyTest> {
        let (reply, answer) = self.inner.answer();
        let Some(runtime) = self.runtime.as_ref().map(|r| r.handle().clone()) else {
            return answer;
        };
        let keys = self.keys.clone();
        let retry = RetryPolicy {
            max_attempts: 1,
            ..self.retry.clone()
        };
        // The stored key is read on the key thread; the call then runs on the runtime.
        on_key_thread(move || {
            let key = key.or_else(|| keys.key(provider).0);
            runtime.spawn(async move {
                let (ok, message) = match key {
                    None => (
                        false,
                        format!("No {} key to test: paste one first", provider.label()),
                    ),
                    Some(key) => {
                        let client = client(provider, key, &connection, &retry);
                        let result = client.check_key(&CallContext::detached()).await;
                        tested(provider, result)
                    }
                };
                reply.send(KeyTest { ok, message });
            });
        });
        answer
    }
}

/// A key test's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTest {
    /// Whether the key works.
    pub ok: bool,
    /// "Key works: 6 image models available", "Key rejected: ...".
    pub message: String,
}

impl Inner {
    /// Puts a provider's new slot and status in place.
    pub(super) fn install(
        &self,
        provider: ProviderId,
        slot: Option<Arc<Slot>>,
        status: ProviderStatus,
    ) {
        if let Ok(mut slots) = self.slots.write() {
            match slot {
                Some(slot) => slots.insert(provider, slot),
                None => slots.remove(&provider),
            };
        }
        if let Ok(mut statuses) = self.statuses.write() {
            statuses.insert(provider, status);
        }
    }

    /// Notes the credits a service says are left; the UI reads them with the provider's
    /// status when the job's own end event repaints it. (`ProvidersChanged` would make the
    /// UI refresh every provider's model list after each job.)
    pub(super) fn note_credits(&self, provider: ProviderId, left: u64) {
        if let Ok(mut statuses) = self.statuses.write()
            && let Some(status) = statuses.get_mut(&provider)
        {
            status.credits_left = Some(left);
        }
    }

    /// A provider's slot now.
    pub(crate) fn slot(&self, provider: ProviderId) -> Option<Arc<Slot>> {
        self.slots.read().ok()?.get(&provider).cloned()
    }
}
