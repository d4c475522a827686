//! A JSON REST client for one provider: its auth header, its error mapping, the shared
//! retries and bounded bodies. Eachlabs, Oxen.ai and Vydra speak through it.

use serde_json::Value;

use super::http::{self, Answer, RetryPolicy};
use super::{CallContext, Progress, ProviderError};

/// Turns a non-2xx answer into a provider error.
pub type MapError = fn(&Answer) -> ProviderError;

/// One provider's JSON client.
pub struct Rest {
    /// The HTTP client for calls with the key (same-origin redirects only).
    pub client: reqwest::Client,
    /// The HTTP client for result downloads (no key; every hop checked).
    pub downloads: reqwest::Client,
    /// Retries for every call.
    pub policy: RetryPolicy,
    label: &'static str,
    auth: (&'static str, String),
    map_error: MapError,
    max_body: usize,
    /// The origins the key belongs to; a call elsewhere is refused before it is sent.
    key_origins: Vec<url::Origin>,
}

impl Rest {
    /// A client that sends `auth_header: auth_value` with each call.
    pub fn new(
        label: &'static str,
        auth_header: &'static str,
        auth_value: String,
        policy: RetryPolicy,
        map_error: MapError,
    ) -> Self {
        Self {
            client: http::client(),
            downloads: http::download_client(),
            policy,
            label,
            auth: (auth_header, auth_value),
            map_error,
            max_body: 4 * 1024 * 1024,
            key_origins: Vec::new(),
        }
    }

    /// The same client sending its key only to these bases' origins (scheme, host and
    /// port); a URL a service hands back that points elsewhere is refused unsent.
    pub fn with_key_origins(mut self, bases: &[&str]) -> Self {
        self.key_origins = bases
            .iter()
            .filter_map(|b| reqwest::Url::parse(b).ok())
            .map(|u| u.origin())
            .collect();
        self
    }

    /// Refuses a keyed request to a host the key does not belong to.
    fn check_origin(&self, request: &reqwest::Request) -> Result<(), ProviderError> {
        let origin = request.url().origin();
        if self.key_origins.is_empty() || self.key_origins.contains(&origin) {
            return Ok(());
        }
        Err(ProviderError::Redirect {
            message: format!(
                "{} pointed to another host ({}); nothing was sent there, so the key stayed with {}",
                self.label,
                request.url().host_str().unwrap_or("unknown"),
                self.key_origins
                    .first()
                    .map(|o| o.ascii_serialization())
                    .unwrap_or_default(),
            ),
        })
    }

    /// The same client reading answers up to `bytes` (base64 images inline).
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// A JSON call with retries; the parsed answer on 2xx.
    pub async fn json(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        ctx: &CallContext,
    ) -> Result<Value, ProviderError> {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        self.send(ctx, |client| {
            let request = client.request(method.clone(), url);
            match &bytes {
                Some(bytes) => request
                    .header("content-type", "application/json")
                    .body(bytes.clone()),
                None => request,
            }
        })
        .await
    }

    /// Any call with retries: `build` makes the request afresh for each attempt (the
    /// auth header is added here); the parsed JSON answer on 2xx.
    pub async fn send(
        &self,
        ctx: &CallContext,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Value, ProviderError> {
        let body = self.exchange(ctx, true, build).await?;
        serde_json::from_slice(&body).map_err(|e| ProviderError::BadResponse {
            message: format!("{}'s answer is not valid JSON ({e})", self.label),
        })
    }

    /// A call with retries to a pre-signed URL, which must not see the key (storage
    /// uploads); the answer's body is not read as JSON.
    pub async fn send_signed(
        &self,
        ctx: &CallContext,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(), ProviderError> {
        self.exchange(ctx, false, build).await.map(drop)
    }

    /// Sends with the shared retries; the body on 2xx, the mapped error otherwise.
    async fn exchange(
        &self,
        ctx: &CallContext,
        authenticated: bool,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, ProviderError> {
        let progress = ctx.progress.clone();
        let on_retry = move |n| progress(Progress::Retrying(n));
        let policy = self.policy.for_call(ctx);
        let timeout_secs = policy.attempt_timeout.as_secs();
        http::with_retries(&policy, &ctx.cancel, &on_retry, |_| {
            let mut request = build(&self.client);
            if authenticated {
                request = request.header(self.auth.0, self.auth.1.clone());
            }
            let (client, built) = request.build_split();
            let checked = built
                .map_err(|e| http::transport_error(&e, timeout_secs))
                .and_then(|r| {
                    if authenticated {
                        self.check_origin(&r)?;
                    }
                    Ok(reqwest::RequestBuilder::from_parts(client, r))
                });
            async move {
                let request = checked?;
                let answer = http::send(request, self.max_body, timeout_secs).await?;
                if (200..300).contains(&answer.status) {
                    Ok(answer.body)
                } else {
                    Err((self.map_error)(&answer))
                }
            }
        })
        .await
    }

    /// One call without retries, for best-effort requests (cancels); its status or None.
    pub async fn once(&self, method: reqwest::Method, url: &str) -> Option<u16> {
        let request = self
            .client
            .request(method, url)
            .header(self.auth.0, self.auth.1.clone())
            .timeout(std::time::Duration::from_secs(10));
        let (client, built) = request.build_split();
        let built = match built {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("{}: best-effort call not built: {e}", self.label);
                return None;
            }
        };
        if let Err(e) = self.check_origin(&built) {
            tracing::warn!("{}: best-effort call refused: {e}", self.label);
            return None;
        }
        let request = reqwest::RequestBuilder::from_parts(client, built);
        match http::send(request, self.max_body, 10).await {
            Ok(answer) => Some(answer.status),
            Err(e) => {
                tracing::warn!("{}: best-effort call failed: {e}", self.label);
                None
            }
        }
    }
}

/// The JSON body of an error answer (Null when it is not JSON).
pub fn error_body(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}

/// The first of these string fields in a JSON error body.
pub fn first_text(body: &Value, fields: &[&str]) -> String {
    fields
        .iter()
        .find_map(|f| body[*f].as_str().filter(|s| !s.trim().is_empty()))
        .unwrap_or("")
        .to_owned()
}

/// A key test's answer: 2xx or 404 means the key was taken.
pub fn check_status(status: Option<u16>, label: &str) -> Result<(), ProviderError> {
    match status {
        Some(200..=299 | 404) => Ok(()),
        Some(401 | 403) => Err(ProviderError::Auth {
            message: format!("{label} rejected the key"),
        }),
        Some(status) => Err(ProviderError::Server {
            status,
            message: format!("{label} could not check the key now"),
        }),
        None => Err(ProviderError::Network {
            message: format!("could not reach {label}"),
        }),
    }
}

/// The catalog's models of a provider without a model list, as live models.
pub fn bundled_models(
    provider: banana_core::recipe::ProviderId,
) -> Vec<banana_core::recipe::LiveModel> {
    banana_core::recipe::Catalog::bundled()
        .models_of(provider)
        .map(|m| banana_core::recipe::LiveModel {
            id: m.id.clone(),
            display_name: m.brand.clone(),
            generates: true,
        })
        .collect()
}
