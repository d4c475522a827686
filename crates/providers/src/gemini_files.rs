//! Large inputs through Gemini's Files API: when a request's inline images would pass
//! the inline limit, the largest of the user's images go up once (resumable upload, in
//! chunks of the service's granularity) and are named by `fileData.fileUri`; an upload
//! is reused while the file lives (48 hours), and forgotten when the service no longer
//! has it. The model's own earlier images always go back inline, as received: their
//! signatures hold for those bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::ProviderError;
use super::gemini::ok_or_error;
use super::http::{self, RetryPolicy};
use super::{CallContext, GenerateRequest, InputBytes};
use banana_core::Secret;

/// The inline request limit the service states (100 MB), less room for the JSON
/// around the pictures.
pub const INLINE_LIMIT_BYTES: usize = 99 * 1024 * 1024;

/// The chunk size when the service names no granularity.
const DEFAULT_CHUNK: usize = 8 * 1024 * 1024;

/// Files live 48 hours; one is not named in its last hour.
const REUSE_FOR: Duration = Duration::from_secs(47 * 3600);

/// The largest answer of the Files API read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// An uploaded file, as a request names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    /// `files/…`, as the Batch API names an input file.
    pub name: String,
    /// `fileUri`.
    pub uri: String,
    /// `mimeType`.
    pub mime: String,
}

/// Uploads of this key, by the SHA-256 of their bytes.
#[derive(Default)]
pub struct Uploads {
    by_hash: Mutex<HashMap<[u8; 32], (FileRef, Instant)>>,
}

impl Uploads {
    fn alive(&self, hash: &[u8; 32]) -> Option<FileRef> {
        let uploads = self.by_hash.lock().ok()?;
        uploads
            .get(hash)
            .filter(|(_, at)| at.elapsed() < REUSE_FOR)
            .map(|(file, _)| file.clone())
    }

    fn keep(&self, hash: [u8; 32], file: FileRef) {
        if let Ok(mut uploads) = self.by_hash.lock() {
            uploads.insert(hash, (file, Instant::now()));
        }
    }

    /// Forgets every upload (the service said one is gone).
    pub fn forget_all(&self) {
        if let Ok(mut uploads) = self.by_hash.lock() {
            uploads.clear();
        }
    }
}

/// Which inputs of a request go as files, by the address of their bytes.
pub type InputFiles = HashMap<usize, FileRef>;

/// The key an input has in [`InputFiles`].
pub fn input_key(input: &InputBytes) -> usize {
    Arc::as_ptr(&input.bytes) as usize
}

/// What base64 makes of `n` bytes.
fn inline_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// About how large the request's pictures are inline: the user's images of every turn
/// and the model's earlier images.
fn inline_size(request: &GenerateRequest) -> usize {
    let users = request
        .history
        .iter()
        .flat_map(|t| t.inputs.iter())
        .chain(&request.inputs)
        .map(|i| inline_len(i.bytes.len()))
        .sum::<usize>();
    let models = request
        .history
        .iter()
        .map(|t| model_turn_size(&t.model_turn))
        .sum::<usize>();
    users + models + request.recipe.prompt.len()
}

fn model_turn_size(turn: &Value) -> usize {
    turn.get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("inlineData").or_else(|| p.get("inline_data")))
        .filter_map(|i| i.get("data").and_then(Value::as_str))
        .map(str::len)
        .sum()
}

/// Talks to the Files API of one key.
pub struct FilesApi<'a> {
    /// The shared client (same-origin redirects only).
    pub client: &'a reqwest::Client,
    /// The service's base URL.
    pub base_url: &'a str,
    /// The key the files belong to.
    pub key: &'a Secret,
    /// Retries and timeouts.
    pub policy: &'a RetryPolicy,
    /// This key's uploads.
    pub uploads: &'a Uploads,
    /// The inline limit (lowered in tests).
    pub inline_limit: usize,
}

impl FilesApi<'_> {
    /// Decides which inputs go as files: those uploaded earlier and still alive, and,
    /// while the request would pass the inline limit, the largest others, uploaded now.
    pub async fn place(
        &self,
        request: &GenerateRequest,
        ctx: &CallContext,
    ) -> Result<InputFiles, ProviderError> {
        let mut files = InputFiles::new();
        let mut size = inline_size(request);
        let mut inputs: Vec<&InputBytes> = request
            .history
            .iter()
            .flat_map(|t| t.inputs.iter())
            .chain(&request.inputs)
            .collect();
        inputs.sort_by_key(|i| std::cmp::Reverse(i.bytes.len()));
        inputs.dedup_by_key(|i| input_key(i));
        let over = size > self.inline_limit;
        for input in inputs {
            let hash: [u8; 32] = Sha256::digest(input.bytes.as_slice()).into();
            let file = match self.uploads.alive(&hash) {
                Some(file) => file,
                None if size > self.inline_limit => {
                    let file = self.upload(input, ctx).await?;
                    self.uploads.keep(hash, file.clone());
                    file
                }
                None => continue,
            };
            size = size.saturating_sub(inline_len(input.bytes.len()));
            files.insert(input_key(input), file);
        }
        // (A limit of 0 asks for every input as a file, as a batch's JSONL does.)
        if over && self.inline_limit > 0 && size > self.inline_limit {
            return Err(ProviderError::InvalidInput {
                message: format!(
                    "this conversation's earlier images come to about {} MB, more than the {} MB \
                     a request may carry; refine from a new start (Use as input on the latest image)",
                    size / (1024 * 1024),
                    self.inline_limit / (1024 * 1024)
                ),
            });
        }
        Ok(files)
    }

    /// Uploads one file: start, then the bytes in chunks, the last one finalizing.
    pub async fn upload(
        &self,
        input: &InputBytes,
        ctx: &CallContext,
    ) -> Result<FileRef, ProviderError> {
        let policy = self.policy.for_call(ctx);
        let timeout_secs = policy.attempt_timeout.as_secs();
        let progress = ctx.progress.clone();
        let on_retry = move |n| progress(super::Progress::Retrying(n));
        (ctx.progress)(super::Progress::Note(format!(
            "uploading a {:.1} MB input through the Files API",
            input.bytes.len() as f64 / 1_048_576.0
        )));
        http::with_retries(&policy, &ctx.cancel, &on_retry, |_| async move {
            let (url, chunk) = self.start(input, timeout_secs).await?;
            let total = input.bytes.len();
            let mut offset = 0;
            loop {
                let end = (offset + chunk).min(total);
                let last = end == total;
                let request = self
                    .client
                    .post(&url)
                    .header("x-goog-api-key", self.key.expose())
                    .header(
                        "x-goog-upload-command",
                        if last { "upload, finalize" } else { "upload" },
                    )
                    .header("x-goog-upload-offset", offset.to_string())
                    .body(input.bytes[offset..end].to_vec());
                let answer = ok_or_error(
                    http::send(request, MAX_ANSWER_BYTES, timeout_secs).await?,
                    "files.upload",
                )?;
                if !last {
                    offset = end;
                    continue;
                }
                let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                return self.ready(&body["file"], timeout_secs).await;
            }
        })
        .await
    }

    /// Starts an upload; the URL to send the bytes to (on this service's origin, or
    /// refused: the key goes nowhere else) and the chunk size.
    async fn start(
        &self,
        input: &InputBytes,
        timeout_secs: u64,
    ) -> Result<(String, usize), ProviderError> {
        let url = http::join_url(self.base_url, "upload/v1beta/files");
        let request = self
            .client
            .post(&url)
            .header("x-goog-api-key", self.key.expose())
            .header("x-goog-upload-protocol", "resumable")
            .header("x-goog-upload-command", "start")
            .header(
                "x-goog-upload-header-content-length",
                input.bytes.len().to_string(),
            )
            .header("x-goog-upload-header-content-type", &input.mime)
            .header("content-type", "application/json")
            .body(json!({"file": {"displayName": "Banana Studio input"}}).to_string());
        let answer = ok_or_error(
            http::send(request, MAX_ANSWER_BYTES, timeout_secs).await?,
            "files.upload",
        )?;
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let upload_url = header("x-goog-upload-url").ok_or(ProviderError::BadResponse {
            message: "the Files API gave no upload URL".into(),
        })?;
        let same_origin = match (reqwest::Url::parse(&upload_url), reqwest::Url::parse(&url)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        };
        if !same_origin {
            return Err(ProviderError::Redirect {
                message: "the Files API asked for the upload to go to another host; nothing \
                          was sent there, so the key stayed with the service"
                    .into(),
            });
        }
        let granularity = header("x-goog-upload-chunk-granularity")
            .and_then(|g| g.parse::<usize>().ok())
            .filter(|g| *g > 0)
            .unwrap_or(DEFAULT_CHUNK);
        let chunk = granularity * (DEFAULT_CHUNK / granularity).max(1);
        Ok((upload_url, chunk))
    }

    /// The file once it is ACTIVE (images are at once; a PROCESSING one is asked
    /// after again).
    async fn ready(&self, file: &Value, timeout_secs: u64) -> Result<FileRef, ProviderError> {
        let mut file = file.clone();
        for _ in 0..20 {
            let uri = file["uri"].as_str().unwrap_or_default().to_owned();
            let mime = file["mimeType"].as_str().unwrap_or_default().to_owned();
            let name = file["name"].as_str().unwrap_or_default().to_owned();
            match file["state"].as_str().unwrap_or("ACTIVE") {
                "ACTIVE" if !uri.is_empty() => return Ok(FileRef { name, uri, mime }),
                "FAILED" => {
                    return Err(ProviderError::InvalidInput {
                        message: "the Files API could not process an input image; try \
                                  another copy of it"
                            .into(),
                    });
                }
                "PROCESSING" => {}
                _ => {
                    return Err(ProviderError::BadResponse {
                        message: "the Files API answered without the file's URI".into(),
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let name = file["name"].as_str().unwrap_or_default().to_owned();
            let url = http::join_url(self.base_url, &format!("v1beta/{name}"));
            let request = self
                .client
                .get(&url)
                .header("x-goog-api-key", self.key.expose());
            let answer = ok_or_error(
                http::send(request, MAX_ANSWER_BYTES, timeout_secs).await?,
                "files.get",
            )?;
            file = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        }
        Err(ProviderError::BadResponse {
            message: "an uploaded input was still being processed after 10 s".into(),
        })
    }
}

/// Whether an error says a named file is gone (expired, or of another key).
pub fn file_gone(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Auth { message } if message.contains("File"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_sizes_are_counted_as_sent() {
        assert_eq!(inline_len(3), 4);
        assert_eq!(inline_len(4), 8);
        assert_eq!(inline_len(0), 0);
    }
}
