//! Vydra: local inputs uploaded through `/upload` (multipart field `file`), then one call
//! to `/models/nano-banana/edit` per image (count N = N calls, run together). Credits
//! charged are summed and the credits left read from `/organization` afterwards. Errors
//! come as `{error, code, details}` with the code sometimes absent; each code has its own
//! words, 402 says how many credits are needed and left, 429 honours `retryAfter`.

use std::time::Duration;

use futures::future::{BoxFuture, join_all};
use serde_json::{Value, json};

use super::http::{Answer, RetryPolicy, retry_after_header};
use super::rest::{self, Rest};
use super::{
    CallContext, Charge, GenerateOutput, GenerateRequest, InputBytes, Progress, Provider,
    ProviderError, download,
};
use banana_core::Secret;
use banana_core::recipe::{AspectRatio, LiveModel, ProviderId};

/// The service's own API base.
pub const BASE: &str = "https://vydra.app/api/v1";

/// The Vydra provider.
pub struct VydraProvider {
    rest: Rest,
    base: String,
}

/// A number in the error's `details` or at its top level.
fn detail_number(body: &Value, name: &str) -> Option<u64> {
    body["details"][name]
        .as_u64()
        .or_else(|| body[name].as_u64())
}

/// A Vydra error answer as a provider error, by its code when it has one.
pub fn map_error(answer: &Answer) -> ProviderError {
    let body = rest::error_body(answer);
    let words = rest::first_text(&body, &["error", "message"]);
    let code = rest::first_text(&body, &["code"]);
    let with = |text: &str| {
        if words.is_empty() {
            text.to_owned()
        } else {
            format!("{text} ({words})")
        }
    };
    match (answer.status, code.as_str()) {
        (_, "INSUFFICIENT_CREDITS") | (402, _) => {
            let needed = detail_number(&body, "creditsRequired");
            let left = detail_number(&body, "creditsRemaining");
            ProviderError::OutOfCredits {
                message: match (needed, left) {
                    (Some(n), Some(l)) => format!(
                        "Vydra needs {n} credits for this image and {l} are left; top up at vydra.app"
                    ),
                    _ => with("Vydra has too few credits left for this image; top up at vydra.app"),
                },
            }
        }
        (_, "MISSING_AUTH") => ProviderError::Auth {
            message: "No Vydra key was sent; set VYDRA_API_KEY or save the key in Settings".into(),
        },
        (_, "KEY_NOT_FOUND") => ProviderError::Auth {
            message: "Vydra does not know this key; check VYDRA_API_KEY or the key in Settings"
                .into(),
        },
        (_, "KEY_REVOKED") => ProviderError::Auth {
            message:
                "This Vydra key was revoked; create a new one at vydra.app and save it in Settings"
                    .into(),
        },
        (_, "KEY_EXPIRED") => ProviderError::Auth {
            message:
                "This Vydra key has expired; create a new one at vydra.app and save it in Settings"
                    .into(),
        },
        (401 | 403, _) => ProviderError::Auth {
            message: with("Vydra refused the key (check VYDRA_API_KEY or the key in Settings)"),
        },
        (_, "INVALID_FILE_TYPE") => ProviderError::InvalidInput {
            message: "Vydra takes JPEG, PNG, WebP or GIF inputs; convert the input".into(),
        },
        (_, "FILE_TOO_LARGE") => ProviderError::InvalidInput {
            message: "The input is over Vydra's 20 MB limit; use a smaller image".into(),
        },
        (_, "INVALID_URL") => ProviderError::InvalidInput {
            message: with("Vydra could not fetch the input image; add it again"),
        },
        (_, "MODEL_NOT_FOUND") | (404, _) => ProviderError::ModelNotFound {
            model: String::new(),
            message: with("Vydra has no such model; pick another model"),
        },
        (_, "RATE_LIMIT_EXCEEDED") | (429, _) => ProviderError::RateLimited {
            retry_after: detail_number(&body, "retryAfter")
                .map(Duration::from_secs)
                .or_else(|| retry_after_header(&answer.headers)),
            quota: None,
            message: words,
        },
        (400 | 422, _) => ProviderError::InvalidInput {
            message: if words.is_empty() {
                "Vydra refused the request".into()
            } else {
                format!("Vydra refused the request: {words}")
            },
        },
        (status, _) if status >= 500 => ProviderError::Server {
            status,
            message: words,
        },
        (status, _) => ProviderError::BadResponse {
            message: format!("Vydra answered HTTP {status}: {words}"),
        },
    }
}

/// A multipart/form-data body with one part `file`; its content type and bytes.
fn multipart(input: &InputBytes, boundary: &str) -> Vec<u8> {
    let ext = banana_core::media::extension_for(&input.mime);
    let mut body = Vec::with_capacity(input.bytes.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"input.{ext}\"\r\nContent-Type: {}\r\n\r\n",
            input.mime
        )
        .as_bytes(),
    );
    body.extend_from_slice(&input.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

impl VydraProvider {
    /// A provider on `base` with `key`.
    pub fn new(base: impl Into<String>, key: Secret, policy: RetryPolicy) -> Self {
        let base: String = base.into();
        Self {
            rest: Rest::new(
                "Vydra",
                "authorization",
                format!("Bearer {}", key.expose()),
                policy,
                map_error,
            )
            .with_key_origins(&[&base]),
            base,
        }
    }

    fn url(&self, path: &str) -> String {
        super::http::join_url(&self.base, path)
    }

    /// Uploads a local input; the URL Vydra gives it.
    async fn upload(&self, input: &InputBytes, ctx: &CallContext) -> Result<String, ProviderError> {
        let boundary = format!("banana-{:016x}", rand::random::<u64>());
        let body = multipart(input, &boundary);
        let url = self.url("upload");
        let answer = self
            .rest
            .send(ctx, |client| {
                client
                    .post(&url)
                    .header(
                        "content-type",
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(body.clone())
            })
            .await?;
        answer["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::BadResponse {
                message: "Vydra's upload answer has no url".into(),
            })
    }

    /// Credits left on the account.
    async fn credits_left(&self, ctx: &CallContext) -> Result<u64, ProviderError> {
        let answer = self
            .rest
            .json(reqwest::Method::GET, &self.url("organization"), None, ctx)
            .await?;
        answer["creditsRemaining"]
            .as_u64()
            .ok_or_else(|| ProviderError::BadResponse {
                message: "Vydra's organization answer has no creditsRemaining".into(),
            })
    }
}

impl Provider for VydraProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Vydra
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>> {
        Box::pin(async move {
            let recipe = &request.recipe;
            let mut body = json!({"prompt": recipe.prompt});
            if recipe.aspect != AspectRatio::Auto {
                body["aspectRatio"] = json!(recipe.aspect.to_string());
            }
            if let Some(input) = request.inputs.first() {
                (ctx.progress)(Progress::Note("Uploading the input to Vydra".into()));
                body["imageUrl"] = json!(self.upload(input, ctx).await?);
            }
            let url = self.url(&format!("models/{}/edit", request.model.id));
            let count = usize::from(recipe.count.max(1));
            (ctx.progress)(Progress::Note(format!(
                "Running on Vydra ({count} call{})",
                if count == 1 { "" } else { "s" }
            )));
            // One image per call: N calls, run together.
            let answers = join_all((0..count).map(|_| {
                self.rest
                    .json(reqwest::Method::POST, &url, Some(&body), ctx)
            }))
            .await;
            let mut urls = Vec::new();
            let mut credits = 0u32;
            let mut failures = Vec::new();
            let mut first_error = None;
            for answer in answers {
                match answer {
                    Ok(answer) => match answer["imageUrl"].as_str() {
                        Some(url) => {
                            urls.push(url.to_owned());
                            credits += answer["creditsCharged"]
                                .as_u64()
                                .and_then(|c| u32::try_from(c).ok())
                                .unwrap_or(0);
                        }
                        // A 200 without the one field it must carry is an answer we
                        // cannot read, not a refusal.
                        None => {
                            let e = ProviderError::BadResponse {
                                message: "Vydra's answer has no imageUrl".into(),
                            };
                            failures.push(e.to_string());
                            first_error.get_or_insert(e);
                        }
                    },
                    Err(e) => {
                        failures.push(e.to_string());
                        first_error.get_or_insert(e);
                    }
                }
            }
            if urls.is_empty() {
                return Err(first_error.unwrap_or(ProviderError::Refused {
                    reason: "Vydra returned no image".into(),
                    text: None,
                }));
            }
            let (images, mut partial_failures) =
                download::all(&self.rest.downloads, &urls, &self.rest.policy, ctx).await?;
            partial_failures.extend(failures);
            let credits_left = match self.credits_left(ctx).await {
                Ok(left) => Some(left),
                Err(e) => {
                    tracing::warn!("could not read Vydra's credits: {e}");
                    None
                }
            };
            (ctx.progress)(Progress::Note(match credits_left {
                Some(left) => format!("Vydra: {credits} credits charged, {left} left"),
                None => format!("Vydra: {credits} credits charged"),
            }));
            Ok(GenerateOutput {
                images,
                partial_failures,
                charged: Charge {
                    usd: None,
                    credits: Some(credits),
                    credits_left,
                    usage: None,
                },
                ..GenerateOutput::default()
            })
        })
    }

    fn list_models<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>> {
        Box::pin(async move {
            self.credits_left(ctx).await?;
            Ok(rest::bundled_models(ProviderId::Vydra))
        })
    }

    fn check_key<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let left = self.credits_left(ctx).await?;
            Ok(format!("{left} credits left"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn codes_map_to_words() {
        let e = map_error(&answer(
            402,
            json!({"error": "Insufficient credits", "code": "INSUFFICIENT_CREDITS", "details": {"creditsRequired": 8, "creditsRemaining": 3}}),
        ));
        assert_eq!(
            e.to_string(),
            "Vydra needs 8 credits for this image and 3 are left; top up at vydra.app"
        );
        assert!(!e.is_retryable());
        let e = map_error(&answer(
            429,
            json!({"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED", "details": {"retryAfter": 12}}),
        ));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(12)));
        let e = map_error(&answer(401, json!({"error": "x", "code": "KEY_REVOKED"})));
        assert!(e.to_string().contains("revoked"));
        // No code: the status decides.
        let e = map_error(&answer(
            400,
            json!({"error": "Prompt violates the content policy"}),
        ));
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_upload_is_one_file_part() {
        let input = InputBytes {
            mime: "image/png".into(),
            bytes: std::sync::Arc::new(vec![1, 2, 3]),
        };
        let body = multipart(&input, "B");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"input.png\"\r\nContent-Type: image/png\r\n\r\n"));
        assert!(text.ends_with("\r\n--B--\r\n"));
    }
}
