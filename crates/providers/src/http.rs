//! The shared HTTP layer: client, retries with backoff and full jitter, server wait
//! hints, per-attempt timeouts, bounded bodies and cancellation.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

use super::error::ProviderError;
use super::lift::{Lifted, Lifter};
use super::spool::Spool;

/// How a provider call is retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles per attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
    /// A server's wait hint longer than this is not waited out; the error is shown.
    pub max_server_wait: Duration,
    /// How long one attempt may take.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_server_wait: Duration::from_secs(90),
            attempt_timeout: Duration::from_secs(240),
        }
    }
}

impl RetryPolicy {
    /// This policy with the call's own per-attempt deadline, where the job set one.
    pub fn for_call(&self, ctx: &super::CallContext) -> RetryPolicy {
        RetryPolicy {
            attempt_timeout: ctx.attempt_timeout.unwrap_or(self.attempt_timeout),
            ..self.clone()
        }
    }

    /// Full jitter: a random wait between zero and the attempt's ceiling.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

/// Told to the user while a call waits to try again.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryNotice {
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// How long we wait before the next.
    pub wait: Duration,
    /// Why, in words.
    pub reason: String,
}

/// Runs `attempt` until it succeeds, fails for good, or the policy gives up.
/// Cancellation aborts the request in flight (its future is dropped) and any wait.
/// After an attempt that ran out of time, at most one more is made: the first may have
/// been billed, and a service that holds a request that long is not helped by more.
pub async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    cancel: &CancellationToken,
    on_retry: &(dyn Fn(RetryNotice) + Send + Sync),
    mut attempt: F,
) -> Result<T, ProviderError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let timeout_secs = policy.attempt_timeout.as_secs();
    let mut n = 1;
    let mut after_timeout = false;
    loop {
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(ProviderError::Cancelled),
            r = tokio::time::timeout(policy.attempt_timeout, attempt(n)) => {
                r.unwrap_or(Err(ProviderError::Timeout { secs: timeout_secs }))
            }
        };
        let err = match result {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        if !err.is_retryable() || n >= policy.max_attempts || after_timeout {
            return Err(err);
        }
        after_timeout = matches!(err, ProviderError::Timeout { .. });
        let wait = match err.retry_after() {
            Some(hint) if hint > policy.max_server_wait => return Err(err),
            Some(hint) => hint,
            None => policy.backoff(n),
        };
        tracing::info!(
            attempt = n,
            wait_ms = wait.as_millis() as u64,
            "retrying: {err}"
        );
        on_retry(RetryNotice {
            attempt: n,
            wait,
            reason: err.to_string(),
        });
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(ProviderError::Cancelled),
            () = tokio::time::sleep(wait) => {}
        }
        n += 1;
    }
}

/// The most redirects a download follows.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed, in words that name the host (never the URL, which
/// may carry a signature).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedirectRefused(String);

/// The host and port of a URL, for messages.
fn host_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("an unknown host");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The client for API calls, which carry a key: a redirect is followed only within the
/// same origin (scheme, host and port), so a key never reaches another host; no
/// `Referer` is sent.
pub fn client() -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if attempt.previous().len() > MAX_REDIRECTS {
            let message = format!("the service redirected more than {MAX_REDIRECTS} times");
            return attempt.error(RedirectRefused(message));
        }
        if attempt.url().origin() != first.origin() {
            let message = format!(
                "the service at {} redirected the request to another host ({}); it was not followed, so the key stayed with {}",
                host_of(first),
                host_of(attempt.url()),
                host_of(first),
            );
            return attempt.error(RedirectRefused(message));
        }
        attempt.follow()
    });
    builder().redirect(policy).build().unwrap_or_default()
}

/// The client for result downloads, which carry no key: every hop must pass the same
/// rule as the first URL ([`super::download::allowed`]), at most [`MAX_REDIRECTS`] hops,
/// no `Referer` (it would carry a signed URL along).
pub fn download_client() -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            let message = format!("a result image was redirected more than {MAX_REDIRECTS} times");
            return attempt.error(RedirectRefused(message));
        }
        if !super::download::allowed(attempt.url().as_str()) {
            let message = format!(
                "a result image was redirected to {} ({}), which is not https, so it was not fetched",
                host_of(attempt.url()),
                attempt.url().scheme()
            );
            return attempt.error(RedirectRefused(message));
        }
        attempt.follow()
    });
    builder().redirect(policy).build().unwrap_or_default()
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .referer(false)
        .user_agent(concat!("banana-studio/", env!("CARGO_PKG_VERSION")))
}

/// How long connecting to a service may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A transport error in words, without the URL (which may carry a key).
pub fn transport_error(err: &reqwest::Error, timeout_secs: u64) -> ProviderError {
    if err.is_timeout() {
        return ProviderError::Timeout { secs: timeout_secs };
    }
    if err.is_redirect() {
        // The refusal's own words name the hosts.
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<RedirectRefused>() {
                return ProviderError::Redirect {
                    message: refused.0.clone(),
                };
            }
            source = cause.source();
        }
        return ProviderError::Redirect {
            message: "the service redirected the request too often".into(),
        };
    }
    let message = if err.is_connect() {
        "could not connect to the service; check the network or the base URL".to_owned()
    } else if err.is_body() || err.is_decode() {
        "the connection broke before the answer was complete".to_owned()
    } else if err.is_request() {
        "the connection to the service broke while sending; try again".to_owned()
    } else {
        let mut text = err.to_string();
        // Reqwest adds the URL unless told not to; strip anything after "for url".
        if let Some(cut) = text.find(" for url") {
            text.truncate(cut);
        }
        text
    };
    ProviderError::Network { message }
}

/// Reads a body of at most `max_bytes`.
pub async fn read_body(
    response: reqwest::Response,
    max_bytes: usize,
    timeout_secs: u64,
) -> Result<Vec<u8>, ProviderError> {
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
    read_chunks(response, max_bytes, timeout_secs, |chunk| {
        body.extend_from_slice(chunk)
    })
    .await?;
    Ok(body)
}

/// Hands each chunk of the body to `sink` as it arrives, failing once more than
/// `max_bytes` came (or are announced).
pub async fn read_chunks(
    mut response: reqwest::Response,
    max_bytes: usize,
    timeout_secs: u64,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), ProviderError> {
    if let Some(len) = response.content_length()
        && len as usize > max_bytes
    {
        return Err(ProviderError::BadResponse {
            message: format!("the answer is {len} bytes; the limit is {max_bytes}"),
        });
    }
    let mut read = 0usize;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&e, timeout_secs))?
    {
        read += chunk.len();
        if read > max_bytes {
            return Err(ProviderError::BadResponse {
                message: format!("the answer is larger than the limit of {max_bytes} bytes"),
            });
        }
        sink(&chunk);
    }
    Ok(())
}

/// A finished HTTP exchange: status, headers and a bounded body.
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, at most the limit asked for.
    pub body: Vec<u8>,
}

/// Sends a request and reads at most `max_bytes` of its answer.
pub async fn send(
    request: reqwest::RequestBuilder,
    max_bytes: usize,
    timeout_secs: u64,
) -> Result<Answer, ProviderError> {
    let response = start(request, timeout_secs).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_body(response, max_bytes, timeout_secs).await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// [`send`], with the body read through a [`Lifter`]: the base64 pictures in it are
/// decoded as they arrive, and only the rest of the JSON is kept as text.
/// A successful answer's pictures also go to `spool`, as they are decoded.
pub async fn send_lifting(
    request: reqwest::RequestBuilder,
    max_bytes: usize,
    timeout_secs: u64,
    spool: Option<Arc<dyn Spool>>,
) -> Result<LiftedAnswer, ProviderError> {
    let response = start(request, timeout_secs).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut lifter = Lifter::new(response.content_length().unwrap_or(0) as usize)
        .spooling(spool.filter(|_| status == 200));
    read_chunks(response, max_bytes, timeout_secs, |chunk| {
        lifter.push(chunk)
    })
    .await?;
    Ok(LiftedAnswer {
        status,
        headers,
        body: lifter.finish(),
    })
}

/// Sends `request` and logs its method, URL (secrets masked) and status.
/// Sends a request and returns the response as soon as its head has come.
pub async fn start(
    request: reqwest::RequestBuilder,
    timeout_secs: u64,
) -> Result<reqwest::Response, ProviderError> {
    // The log names the method and the URL without its secrets; headers are never logged.
    let described = request
        .try_clone()
        .and_then(|r| r.build().ok())
        .map(|r| format!("{} {}", r.method(), redact_url(r.url().as_str())));
    let response = request
        .send()
        .await
        .map_err(|e| transport_error(&e, timeout_secs))?;
    if let Some(described) = described {
        tracing::debug!(status = response.status().as_u16(), "{described}");
    }
    Ok(response)
}

/// A finished HTTP exchange whose body went through a [`Lifter`].
pub struct LiftedAnswer {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The JSON without its pictures, and the pictures.
    pub body: Lifted,
}

/// A URL fit for a log: the values of query parameters that can carry credentials
/// (`key`, `api_key`, `token`, `signature`...) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let lower = name.to_ascii_lowercase();
            let secret = [
                "key",
                "token",
                "secret",
                "signature",
                "sig",
                "auth",
                "password",
            ]
            .iter()
            .any(|s| lower == *s || lower.ends_with(&format!("_{s}")) || lower.ends_with(s));
            if secret && pair.contains('=') {
                format!("{name}=***")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// The `Retry-After` header in seconds (the HTTP-date form is ignored).
pub fn retry_after_header(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A protobuf duration such as "17s" or "0.5s".
pub fn parse_proto_duration(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Joins a base URL (which may carry a path prefix) and a path.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn backoff_stays_under_the_ceiling() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            assert!(p.backoff(attempt) <= p.max_delay);
        }
        assert!(p.backoff(1) <= Duration::from_secs(1));
    }

    #[test]
    fn parses_hints_and_joins_urls() {
        assert_eq!(parse_proto_duration("17s"), Some(Duration::from_secs(17)));
        assert_eq!(
            parse_proto_duration("0.5s"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_proto_duration("soon"), None);
        assert_eq!(
            join_url("http://h:1/proxy/", "/v1beta/models"),
            "http://h:1/proxy/v1beta/models"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn retries_transient_errors_at_most_four_times() {
        let calls = AtomicU32::new(0);
        let notices = std::sync::Mutex::new(Vec::new());
        let on_retry = |n: RetryNotice| notices.lock().unwrap().push(n.attempt);
        let result: Result<(), _> =
            with_retries(&fast(), &CancellationToken::new(), &on_retry, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(ProviderError::Server {
                        status: 503,
                        message: "overloaded".into(),
                    })
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(*notices.lock().unwrap(), vec![1, 2, 3]);
        assert!(matches!(
            result,
            Err(ProviderError::Server { status: 503, .. })
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn after_a_full_timeout_only_one_more_attempt() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy {
            attempt_timeout: Duration::from_millis(30),
            ..fast()
        };
        let result: Result<(), _> =
            with_retries(&policy, &CancellationToken::new(), &|_| {}, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(())
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(matches!(result, Err(ProviderError::Timeout { .. })));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn never_retries_other_client_errors() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> =
            with_retries(&fast(), &CancellationToken::new(), &|_| {}, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(ProviderError::InvalidInput {
                        message: "bad".into(),
                    })
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(result.is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_long_server_hint_is_not_waited_out() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> =
            with_retries(&fast(), &CancellationToken::new(), &|_| {}, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(ProviderError::RateLimited {
                        retry_after: Some(Duration::from_secs(3600)),
                        quota: None,
                        message: String::new(),
                    })
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            result.unwrap_err().retry_after(),
            Some(Duration::from_secs(3600))
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn cancel_aborts_the_attempt_in_flight() {
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            c.cancel();
        });
        let result: Result<(), _> = with_retries(&fast(), &cancel, &|_| {}, |_| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        })
        .await;
        assert_eq!(result, Err(ProviderError::Cancelled));
    }
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(
            super::redact_url("https://x.test/v1/models?key=AIzaSECRET&pageSize=50"),
            "https://x.test/v1/models?key=***&pageSize=50"
        );
        assert_eq!(
            super::redact_url("https://x.test/f?X-Amz-Signature=abc&api_key=zz&a=1"),
            "https://x.test/f?X-Amz-Signature=***&api_key=***&a=1"
        );
        assert_eq!(super::redact_url("https://x.test/p"), "https://x.test/p");
    }
}
