//! How to ask: the provider trait, the shared HTTP layer and one file per provider.

pub mod b64;
pub mod download;
pub mod eachlabs;
pub mod error;
pub mod fal;
pub mod gemini;
mod gemini_answer;
pub mod gemini_batch;
pub mod gemini_files;
pub mod gemini_stream;
pub mod http;
pub mod lift;
pub mod origin;
pub mod oxen;
pub mod poll;
pub mod rest;
pub mod schema_check;
pub mod spool;
pub mod vydra;

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

pub use error::{ErrorKind, ProviderError, classify_failure};
pub use http::{RetryNotice, RetryPolicy};

use banana_core::recipe::{LiveModel, ModelInfo, ProviderId, Recipe};

/// An input image's bytes as sent to a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputBytes {
    /// MIME type.
    pub mime: String,
    /// Encoded bytes.
    pub bytes: Arc<Vec<u8>>,
}

impl InputBytes {
    /// The bytes as a `data:` URI, for services that take inputs inline.
    pub fn data_uri(&self) -> String {
        use base64::Engine as _;
        format!(
            "data:{};base64,{}",
            self.mime,
            base64::engine::general_purpose::STANDARD.encode(self.bytes.as_slice())
        )
    }
}

/// One earlier step of a conversation, for refinement.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    /// The user's prompt of that step.
    pub prompt: String,
    /// The user's inputs of that step.
    pub inputs: Vec<InputBytes>,
    /// The model's answer exactly as received (provider JSON), signatures included.
    pub model_turn: serde_json::Value,
}

/// Everything a provider needs for one job.
#[derive(Clone, Debug)]
pub struct GenerateRequest {
    /// What to make.
    pub recipe: Recipe,
    /// The catalog entry of the recipe's model.
    pub model: ModelInfo,
    /// The recipe's inputs, loaded.
    pub inputs: Vec<InputBytes>,
    /// Earlier turns of the conversation, oldest first.
    pub history: Vec<Turn>,
}

/// Told of each result image as soon as it is read.
pub type ImageListener = Arc<dyn Fn(&OutputImage) + Send + Sync>;

/// One image a provider returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputImage {
    /// MIME type as the provider said.
    pub mime: String,
    /// Encoded bytes, shared with whoever started on them early (see
    /// [`CallContext::on_image`]) rather than copied.
    pub bytes: Arc<Vec<u8>>,
    /// What the call's [`CallContext::spool`] made of the same bytes, if it had them.
    pub spooled: Option<spool::Spooled>,
}

impl OutputImage {
    /// An image of `mime` made of `bytes`.
    pub fn new(mime: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            mime: mime.into(),
            bytes: Arc::new(bytes),
            spooled: None,
        }
    }

    /// The same image, with what the spool made of its bytes.
    pub fn with_spooled(mut self, spooled: Option<spool::Spooled>) -> Self {
        self.spooled = spooled;
        self
    }
}

/// A picture lifted out of a model turn, stored once as a file by the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TurnPart {
    /// The same bytes as the output's image of this index.
    Image(usize),
    /// A picture that is not a result (an interim thought image), with its bytes.
    Other(Vec<u8>),
}

impl TurnPart {
    /// The same part with its image index moved by `by` (when answers are merged).
    pub fn offset(self, by: usize) -> Self {
        match self {
            Self::Image(i) => Self::Image(i + by),
            other => other,
        }
    }
}

/// What a provider made.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerateOutput {
    /// The images, in order.
    pub images: Vec<OutputImage>,
    /// The model's text, if any.
    pub text: Option<String>,
    /// The model's turns exactly as received, one per request, for refinement.
    pub model_turns: Vec<serde_json::Value>,
    /// For each image, the index of the model turn it came in.
    pub image_turns: Vec<usize>,
    /// For each model turn, the pictures lifted out of it, by placeholder index (see
    /// `banana_core::turn_parts`): the turns hold no base64 of their own.
    pub turn_parts: Vec<Vec<TurnPart>>,
    /// Requests of a batch that failed while others succeeded, in words.
    pub partial_failures: Vec<String>,
    /// What the service says it charged, when it says.
    pub charged: Charge,
    /// What a grounded answer looked up (Google Search).
    pub grounding: Option<banana_core::recipe::Grounding>,
}

impl GenerateOutput {
    /// Model turn `index` with its pictures put back, as the service sent it: what a
    /// refinement sends when the turn was never stored.
    pub fn turn_with_pictures(&self, index: usize) -> serde_json::Value {
        let mut turn = self.model_turns.get(index).cloned().unwrap_or_default();
        let parts = self
            .turn_parts
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let _ = banana_core::turn_parts::put_back(&mut turn, |r| match r {
            banana_core::turn_parts::Reference::Placeholder(k) => match parts.get(k) {
                Some(TurnPart::Image(i)) => self
                    .images
                    .get(*i)
                    .map(|image| image.bytes.to_vec())
                    .ok_or(()),
                Some(TurnPart::Other(bytes)) => Ok(bytes.clone()),
                None => Err(()),
            },
            banana_core::turn_parts::Reference::Stored(_) => Err(()),
        });
        turn
    }
}

/// What a job cost, as the service reported it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Charge {
    /// US dollars (Eachlabs' `metrics.cost`).
    pub usd: Option<f64>,
    /// Credits (Vydra's `creditsCharged`).
    pub credits: Option<u32>,
    /// Credits left on the account afterwards (Vydra).
    pub credits_left: Option<u64>,
    /// The tokens the calls used, as the service reported them (Gemini's
    /// `usageMetadata`, summed over a job's requests).
    pub usage: Option<banana_core::recipe::Usage>,
}

/// What a thinking model showed of its thinking while it worked (a streamed call's
/// parts marked `thought`): never a result, never stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Thought {
    /// Which request of the job it came from (N images are N requests).
    pub request: usize,
    /// Thought text, as it came (a piece of a longer thought, often a `**Heading**`).
    pub text: Option<String>,
    /// An interim image the model drew to try the composition.
    pub image: Option<OutputImage>,
}

/// Told of each thought as it arrives.
pub type ThoughtListener = Arc<dyn Fn(Thought) + Send + Sync>;

/// Progress of a running call, told to the user.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Waiting to try again.
    Retrying(RetryNotice),
    /// A line of news from the provider (queue position, logs).
    Note(String),
}

/// The live context of one call: cancellation and a progress sink.
#[derive(Clone)]
pub struct CallContext {
    /// Cancelled when the user cancels the job.
    pub cancel: CancellationToken,
    /// Receives progress.
    pub progress: Arc<dyn Fn(Progress) + Send + Sync>,
    /// How long one attempt of this job may take (fits its model and size); None: the
    /// provider's policy.
    pub attempt_timeout: Option<std::time::Duration>,
    /// Told of each result image as soon as it is read, while other requests of the job
    /// may still be under way, so that checking and saving it can start at once.
    pub on_image: Option<ImageListener>,
    /// Told of the model's thoughts as they arrive; with it, a provider that can stream
    /// them does (Gemini's `streamGenerateContent`), else it is never called.
    pub on_thought: Option<ThoughtListener>,
    /// Where pictures also go as they arrive, where the provider reads them as they
    /// come (see [`spool`]).
    pub spool: Option<Arc<dyn spool::Spool>>,
}

impl CallContext {
    /// A context that nobody listens to, for tools and tests.
    pub fn detached() -> Self {
        Self {
            cancel: CancellationToken::new(),
            progress: Arc::new(|_| {}),
            attempt_timeout: None,
            on_image: None,
            on_thought: None,
            spool: None,
        }
    }

    /// Tells the listener, if any, that `image` has been read.
    pub fn arrived(&self, image: &OutputImage) {
        if let Some(on_image) = &self.on_image {
            on_image(image);
        }
    }
}

/// A service that makes Nano Banana images.
pub trait Provider: Send + Sync {
    /// Which provider this is.
    fn id(&self) -> ProviderId;

    /// Makes the recipe's images (count N may mean N requests).
    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<GenerateOutput, ProviderError>>;

    /// The models this key can use, as the service lists them.
    fn list_models<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<Vec<LiveModel>, ProviderError>>;

    /// The Gemini API itself, for what only it offers (the Batch API).
    fn as_gemini(&self) -> Option<&gemini::GeminiProvider> {
        None
    }

    /// Tests the key with the cheapest authenticated call; what it found, in words.
    fn check_key<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let n = self
                .list_models(ctx)
                .await?
                .iter()
                .filter(|m| m.generates && (m.id.contains("image") || m.id.contains("banana")))
                .count();
            Ok(format!(
                "{n} image model{} available",
                if n == 1 { "" } else { "s" }
            ))
        })
    }
}
