//! Gemini's Batch API (half price, within a day), as google-genai's `batches.py` speaks
//! it: `models/{m}:batchGenerateContent` with the requests inline (a body under 20 MB)
//! or as a JSONL file uploaded through the Files API (input images uploaded once and
//! named by URI); `batches/{id}` polled, its state in `metadata.state`, its results in
//! `metadata.output` (`inlinedResponses.inlinedResponses`, or a `responsesFile`
//! downloaded as JSONL); `batches/{id}:cancel`.

use serde_json::{Value, json};

use super::error::ProviderError;
use super::gemini::{GeminiProvider, map_error, ok_or_error, request_body};
use super::gemini_answer::{answer_from, merge_answers};
use super::gemini_files::InputFiles;
use super::http;
use super::lift::Lifted;
use super::{CallContext, GenerateOutput, GenerateRequest, InputBytes};

/// The inline limit of a batch's body.
pub const INLINE_BATCH_BYTES: usize = 20 * 1024 * 1024;

/// The largest status or results answer read.
const MAX_ANSWER_BYTES: usize = 512 * 1024 * 1024;

/// Where a batch is on the service's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteState {
    /// Waiting to start.
    Pending,
    /// Running.
    Running,
    /// Done; results are there.
    Succeeded,
    /// Failed as a whole.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Not done within its 24 hours (48 with queueing).
    Expired,
}

impl RemoteState {
    /// From `metadata.state` (`BATCH_STATE_…`, or the SDK's `JOB_STATE_…`).
    pub fn parse(text: &str) -> Option<Self> {
        let name = text
            .strip_prefix("BATCH_STATE_")
            .or_else(|| text.strip_prefix("JOB_STATE_"))
            .unwrap_or(text);
        Some(match name {
            "PENDING" | "QUEUED" => Self::Pending,
            "RUNNING" => Self::Running,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "CANCELLED" | "CANCELLING" => Self::Cancelled,
            "EXPIRED" => Self::Expired,
            _ => return None,
        })
    }

    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Whether nothing more will happen to it.
    pub fn is_over(self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }
}

/// One request's result.
#[derive(Debug)]
pub struct KeyedResult {
    /// The key it was sent with.
    pub key: String,
    /// Its images, or why there are none.
    pub outcome: Result<GenerateOutput, ProviderError>,
}

/// A batch as the service says it is.
#[derive(Debug)]
pub struct RemoteBatch {
    /// `batches/…`.
    pub name: String,
    /// Its state.
    pub state: RemoteState,
    /// Its results, once it succeeded.
    pub results: Vec<KeyedResult>,
    /// What went wrong with it as a whole, in the service's words.
    pub error: Option<String>,
}

impl GeminiProvider {
    /// Sends `requests` (each one image, with its key) as one batch; returns its name.
    pub async fn submit_batch(
        &self,
        model_id: &str,
        display_name: &str,
        requests: &[(String, GenerateRequest)],
        ctx: &CallContext,
    ) -> Result<String, ProviderError> {
        let no_files = InputFiles::new();
        let lines: Vec<Value> = requests
            .iter()
            .map(|(key, request)| {
                json!({"request": request_body(request, 0, &no_files), "metadata": {"key": key}})
            })
            .collect();
        let inline = json!({"batch": {"displayName": display_name,
            "inputConfig": {"requests": {"requests": lines}}}});
        let inline_bytes =
            serde_json::to_vec(&inline).map_err(|e| ProviderError::InvalidInput {
                message: format!("could not build the batch: {e}"),
            })?;
        let body = if inline_bytes.len() < INLINE_BATCH_BYTES {
            inline_bytes
        } else {
            drop(inline);
            let file = self.batch_file(requests, ctx).await?;
            serde_json::to_vec(&json!({"batch": {"displayName": display_name,
                "inputConfig": {"fileName": file}}}))
            .unwrap_or_default()
        };
        let url = http::join_url(
            self.base_url(),
            &format!("v1beta/models/{model_id}:batchGenerateContent"),
        );
        let answer = self
            .call(reqwest::Method::POST, &url, Some(body), ctx, model_id)
            .await?;
        answer["name"]
            .as_str()
            .filter(|n| n.starts_with("batches/"))
            .map(str::to_owned)
            .ok_or(ProviderError::BadResponse {
                message: "the Batch API named no batch".into(),
            })
    }

    /// The requests as a JSONL file, their input images uploaded once and named by URI.
    async fn batch_file(
        &self,
        requests: &[(String, GenerateRequest)],
        ctx: &CallContext,
    ) -> Result<String, ProviderError> {
        let files = self.files_api_with_limit(0);
        let mut jsonl = Vec::new();
        for (key, request) in requests {
            let placed = files.place(request, ctx).await?;
            let line = json!({"key": key, "request": request_body(request, 0, &placed)});
            serde_json::to_writer(&mut jsonl, &line).map_err(|e| ProviderError::InvalidInput {
                message: format!("could not build the batch: {e}"),
            })?;
            jsonl.push(b'\n');
        }
        let upload = InputBytes {
            mime: "jsonl".to_owned(),
            bytes: std::sync::Arc::new(jsonl),
        };
        Ok(files.upload(&upload, ctx).await?.name)
    }

    /// The batch's state, and its results once it succeeded.
    pub async fn batch_status(
        &self,
        name: &str,
        ctx: &CallContext,
    ) -> Result<RemoteBatch, ProviderError> {
        let url = http::join_url(self.base_url(), &format!("v1beta/{name}"));
        let batch = self
            .call(reqwest::Method::GET, &url, None, ctx, name)
            .await?;
        let meta = &batch["metadata"];
        let state = meta["state"]
            .as_str()
            .and_then(RemoteState::parse)
            .ok_or_else(|| ProviderError::BadResponse {
                message: format!("the Batch API gave {name} no state it knows"),
            })?;
        let error = batch["error"]["message"]
            .as_str()
            .or_else(|| meta["error"]["message"].as_str())
            .map(str::to_owned);
        let mut results = Vec::new();
        if state == RemoteState::Succeeded {
            let output = &meta["output"];
            if let Some(items) = output["inlinedResponses"]["inlinedResponses"].as_array() {
                for (i, item) in items.iter().enumerate() {
                    let key = item["metadata"]["key"]
                        .as_str()
                        .map_or_else(|| i.to_string(), str::to_owned);
                    results.push(KeyedResult {
                        key,
                        outcome: outcome_of(item),
                    });
                }
            } else if let Some(file) = output["responsesFile"].as_str() {
                results = self.download_results(file, ctx).await?;
            }
        }
        Ok(RemoteBatch {
            name: name.to_owned(),
            state,
            results,
            error,
        })
    }

    async fn download_results(
        &self,
        file: &str,
        ctx: &CallContext,
    ) -> Result<Vec<KeyedResult>, ProviderError> {
        let url = http::join_url(
            self.base_url(),
            &format!("download/v1beta/{file}:download?alt=media"),
        );
        let body = self
            .send_keyed(reqwest::Method::GET, &url, None, ctx, file)
            .await?;
        let mut results = Vec::new();
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let item: Value =
                serde_json::from_slice(line).map_err(|e| ProviderError::BadResponse {
                    message: format!("line {} of the batch's results is not JSON ({e})", i + 1),
                })?;
            let key = item["key"]
                .as_str()
                .map_or_else(|| i.to_string(), str::to_owned);
            results.push(KeyedResult {
                key,
                outcome: outcome_of(&item),
            });
        }
        Ok(results)
    }

    /// Asks the service to stop the batch.
    pub async fn cancel_batch(&self, name: &str, ctx: &CallContext) -> Result<(), ProviderError> {
        let url = http::join_url(self.base_url(), &format!("v1beta/{name}:cancel"));
        self.call(reqwest::Method::POST, &url, Some(b"{}".to_vec()), ctx, name)
            .await
            .map(|_| ())
    }

    /// One JSON call with the key, retried as any other.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
        ctx: &CallContext,
        what: &str,
    ) -> Result<Value, ProviderError> {
        let answer = self.send_keyed(method, url, body, ctx, what).await?;
        serde_json::from_slice(&answer).map_err(|e| ProviderError::BadResponse {
            message: format!("the Batch API's answer is not valid JSON ({e})"),
        })
    }

    /// One call with the key, retried as any other; the body of its 200 answer.
    async fn send_keyed(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
        ctx: &CallContext,
        what: &str,
    ) -> Result<Vec<u8>, ProviderError> {
        let policy = self.policy().for_call(ctx);
        let secs = policy.attempt_timeout.as_secs();
        let progress = ctx.progress.clone();
        let on_retry = move |n| progress(super::Progress::Retrying(n));
        let answer = http::with_retries(&policy, &ctx.cancel, &on_retry, |_| {
            let mut request = self
                .client()
                .request(method.clone(), url)
                .header("x-goog-api-key", self.key().expose());
            if let Some(body) = &body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            async move { http::send(request, MAX_ANSWER_BYTES, secs).await }
        })
        .await?;
        Ok(ok_or_error(answer, what)?.body)
    }
}

/// One result: its images, or its error in words.
fn outcome_of(item: &Value) -> Result<GenerateOutput, ProviderError> {
    if let Some(error) = item.get("error").filter(|e| !e.is_null()) {
        let status = error["code"].as_u64().unwrap_or(500) as u16;
        let body = json!({ "error": error }).to_string();
        return Err(map_error(status, &Default::default(), body.as_bytes(), ""));
    }
    let Some(response) = item.get("response").filter(|r| !r.is_null()) else {
        return Err(ProviderError::BadResponse {
            message: "a batch result holds neither a response nor an error".into(),
        });
    };
    merge_answers(vec![answer_from(response.clone(), &mut Lifted::default())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_read_as_the_service_and_the_sdk_spell_them() {
        assert_eq!(
            RemoteState::parse("BATCH_STATE_PENDING"),
            Some(RemoteState::Pending)
        );
        assert_eq!(
            RemoteState::parse("JOB_STATE_SUCCEEDED"),
            Some(RemoteState::Succeeded)
        );
        assert_eq!(
            RemoteState::parse("BATCH_STATE_EXPIRED"),
            Some(RemoteState::Expired)
        );
        assert_eq!(RemoteState::parse("SOMETHING_NEW"), None);
        assert!(RemoteState::Cancelled.is_over() && !RemoteState::Running.is_over());
    }
}
