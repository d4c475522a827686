//! Fetching result images by URL (fal, Eachlabs, Oxen, Vydra): https only (loopback
//! allowed, for the fakes), a size cap, an image content type, the shared retry policy.

use super::http::{self, RetryPolicy};
use super::{CallContext, OutputImage, ProviderError};

/// The largest result image accepted (a 4K PNG is ~25 MB).
pub const MAX_IMAGE_BYTES: usize = 64 * 1024 * 1024;

/// Whether a result URL may be fetched: https, or http on this machine (fakes).
pub fn allowed(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    parsed.scheme() == "data" || super::origin::secure_or_local(&parsed)
}

/// A `data:` URI's bytes and MIME type.
fn data_uri(url: &str) -> Result<OutputImage, ProviderError> {
    let bad = |why: &str| ProviderError::BadResponse {
        message: format!("a result image is an unreadable data URI ({why})"),
    };
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| bad("no data: prefix"))?;
    let (meta, payload) = rest.split_once(',').ok_or_else(|| bad("no comma"))?;
    let mime = meta.trim_end_matches(";base64").to_owned();
    let bytes = super::b64::decode(payload).map_err(|_| bad("bad base64"))?;
    if !mime.starts_with("image/") {
        return Err(bad("not an image type"));
    }
    Ok(OutputImage::new(mime, bytes))
}

/// Downloads one result image.
pub async fn image(
    client: &reqwest::Client,
    url: &str,
    policy: &RetryPolicy,
    ctx: &CallContext,
) -> Result<OutputImage, ProviderError> {
    let image = fetch(client, url, policy, ctx).await?;
    ctx.arrived(&image);
    Ok(image)
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    policy: &RetryPolicy,
    ctx: &CallContext,
) -> Result<OutputImage, ProviderError> {
    if url.starts_with("data:") {
        return data_uri(url);
    }
    if !allowed(url) {
        return Err(ProviderError::BadResponse {
            message: "a result image is not on an https address, so it was not fetched".into(),
        });
    }
    let policy = &policy.for_call(ctx);
    let timeout_secs = policy.attempt_timeout.as_secs();
    http::with_retries(policy, &ctx.cancel, &|_| {}, |_| {
        let request = client.get(url);
        async move {
            let answer = http::send(request, MAX_IMAGE_BYTES, timeout_secs).await?;
            if answer.status != 200 {
                return Err(ProviderError::Server {
                    status: answer.status,
                    message: "the result image could not be downloaded".into(),
                });
            }
            // The bytes decide: a CDN may label an image application/octet-stream.
            match banana_core::media::sniff_mime(&answer.body) {
                Some(mime) => Ok(OutputImage::new(mime, answer.body)),
                None => {
                    let declared = answer
                        .headers
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none");
                    Err(ProviderError::BadResponse {
                        message: format!(
                            "a result file is not an image (content type \"{declared}\")"
                        ),
                    })
                }
            }
        }
    })
    .await
}

/// Downloads every result image at once. A failed download among several is a partial
/// failure (kept in words); when none arrives, the first error is returned.
pub async fn all(
    client: &reqwest::Client,
    urls: &[String],
    policy: &RetryPolicy,
    ctx: &CallContext,
) -> Result<(Vec<OutputImage>, Vec<String>), ProviderError> {
    let results =
        futures::future::join_all(urls.iter().map(|u| image(client, u, policy, ctx))).await;
    let mut images = Vec::with_capacity(urls.len());
    let mut failures = Vec::new();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(image) => images.push(image),
            Err(e) => {
                failures.push(e.to_string());
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if images.is_empty() => Err(e),
        _ => Ok((images, failures)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_https_or_this_machine() {
        assert!(super::allowed("https://v3.fal.media/files/x.png"));
        assert!(super::allowed("http://127.0.0.1:4000/files/x.png"));
        assert!(!super::allowed("http://cdn.example.com/x.png"));
        assert!(!super::allowed("http://127.0.0.1.evil.com/x.png"));
        assert!(!super::allowed("file:///etc/passwd"));
        assert!(!super::allowed("not a url"));
    }
}
