//! Live thoughts: with someone listening, a thinking model's answer streams
//! (`streamGenerateContent?alt=sse`), its thoughts are told as they come, and the
//! chunks make the same signed turn a refine sends back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use crate::common;

use banana_studio::fake::Fault;
use banana_studio::providers::{CallContext, ErrorKind, Provider, Thought, Turn};
use common::{fast_policy, gemini, request};

const PRO: &str = "gemini-3-pro-image";
const FLASH: &str = "gemini-2.5-flash-image";
const LITE: &str = "gemini-3.1-flash-lite-image";

/// A context that records thoughts and result images, in the order told.
/// What a listening context was told: the order of things, and the thoughts.
type Told = (Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<Thought>>>);

fn listening() -> (CallContext, Told) {
    let order = Arc::new(Mutex::new(Vec::new()));
    let thoughts = Arc::new(Mutex::new(Vec::new()));
    let mut ctx = CallContext::detached();
    let (o, t) = (order.clone(), thoughts.clone());
    ctx.on_thought = Some(Arc::new(move |thought: Thought| {
        o.lock().unwrap().push("thought".to_owned());
        t.lock().unwrap().push(thought);
    }));
    let o = order.clone();
    ctx.on_image = Some(Arc::new(move |_| {
        o.lock().unwrap().push("image".to_owned())
    }));
    (ctx, (order, thoughts))
}

#[tokio::test(flavor = "multi_thread")]
async fn thoughts_come_before_the_image_and_the_streamed_turn_refines() {
    let (fake, provider) = gemini(fast_policy());
    let (ctx, (order, thoughts)) = listening();
    let req = request("a lighthouse at dusk", PRO, |_| {});
    let out = provider.generate(&req, &ctx).await.unwrap();

    let body = &fake.request_bodies()[0];
    assert_eq!(
        body["generationConfig"]["thinkingConfig"]["includeThoughts"],
        true
    );
    assert!(
        body["generationConfig"]["thinkingConfig"]
            .get("thinkingLevel")
            .is_none(),
        "Pro takes no level"
    );
    assert_eq!(
        *order.lock().unwrap(),
        ["thought", "thought", "thought", "thought", "image"]
    );
    let thoughts = thoughts.lock().unwrap().clone();
    let texts: Vec<&str> = thoughts.iter().filter_map(|t| t.text.as_deref()).collect();
    assert_eq!(texts[0], "**Composing the scene**\n\n");
    assert_eq!(texts[1], "I'm laying out the main shapes first.");
    assert!(texts[2].starts_with("**Refining the details**"));
    let draft = thoughts[2].image.as_ref().expect("the draft image");
    assert_eq!(
        banana_studio::imaging::dimensions(&draft.bytes).unwrap(),
        (64, 64)
    );

    // Thoughts are never results; the result and its words are as without streaming.
    assert_eq!(out.images.len(), 1);
    assert_eq!(
        out.text.as_deref(),
        Some("Here is your image: a lighthouse at dusk")
    );
    let usage = out.charged.usage.expect("usage from the last chunk");
    assert!(
        usage.image_tokens > 0 && usage.thought_tokens > 0,
        "{usage:?}"
    );
    let parts = out.model_turns[0]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 6, "every streamed part kept, in order");

    // The streamed turn goes back signed, part for part.
    let mut second = request("make it blue", PRO, |_| {});
    second.history = vec![Turn {
        prompt: "a lighthouse at dusk".into(),
        inputs: Vec::new(),
        model_turn: out.turn_with_pictures(0),
    }];
    provider.generate(&second, &ctx).await.unwrap();
    assert_eq!(fake.returned_signatures(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_request_of_a_job_tells_its_own_thoughts() {
    let (_fake, provider) = gemini(fast_policy());
    let (ctx, (_, thoughts)) = listening();
    let req = request("two kites", LITE, |r| r.count = 2);
    let out = provider.generate(&req, &ctx).await.unwrap();
    assert_eq!(out.images.len(), 2);
    let thoughts = thoughts.lock().unwrap();
    for request in 0..2 {
        assert_eq!(
            thoughts.iter().filter(|t| t.request == request).count(),
            4,
            "request {request}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_does_not_think_never_streams() {
    let (fake, provider) = gemini(fast_policy());
    let (ctx, (order, _)) = listening();
    let req = request("a plain cup", FLASH, |_| {});
    provider.generate(&req, &ctx).await.unwrap();
    assert_eq!(*order.lock().unwrap(), ["image"]);
    assert!(
        fake.request_bodies()[0]["generationConfig"]
            .get("thinkingConfig")
            .is_none(),
        "the service rejects a thinking config for a model that does not think"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_faults_in_a_stream_reach_the_user_in_words() {
    let (fake, provider) = gemini(fast_policy());
    let (ctx, _) = listening();
    let req = request("a lighthouse", PRO, |_| {});

    fake.script([Fault::BlockedPrompt]);
    let err = provider.generate(&req, &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(err.to_string().contains("The prompt was blocked"), "{err}");

    fake.script([Fault::MalformedJson]);
    let err = provider.generate(&req, &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse, "{err}");
    assert!(err.to_string().contains("not valid JSON"), "{err}");

    // An error before the stream starts is retried as any other.
    let before = fake.request_count();
    fake.script([Fault::ServerError(503)]);
    provider.generate(&req, &ctx).await.unwrap();
    assert_eq!(fake.request_count() - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_answers_whole_instead_of_streaming_is_read_whole() {
    use crate::hostile_support::{Hostile, Reply, good_answer, http};
    use banana_studio::keys::Secret;
    use banana_studio::providers::gemini::GeminiProvider;
    use banana_studio::recipe::ProviderId;

    let server = Hostile::start(
        "127.0.0.1",
        Arc::new(|method, path| {
            let (status, content_type, body) =
                good_answer(ProviderId::Gemini, "http://127.0.0.1", method, path);
            Reply::Raw(http(status, "", &content_type, &body))
        }),
    )
    .await;
    let provider = GeminiProvider::new(server.base(), Secret::new(common::KEY), fast_policy());
    let (ctx, _) = listening();
    let out = provider
        .generate(&request("a lighthouse", PRO, |_| {}), &ctx)
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert!(
        server.heads.lock().unwrap()[0].contains(":streamGenerateContent?alt=sse"),
        "it was asked to stream"
    );
}
