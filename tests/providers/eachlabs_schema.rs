//! Eachlabs' model pages: each model's request schema is read once and a recipe that
//! does not fit it is refused before any prediction (so before any charge), in words
//! that name the field and what the model takes; Nano Banana 2 edits through its slug.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use banana_studio::fake::eachlabs::FakeEachlabs;
use banana_studio::keys::Secret;
use banana_studio::providers::eachlabs::EachlabsProvider;
use banana_studio::providers::{CallContext, ErrorKind, GenerateRequest, Provider};
use banana_studio::recipe::{AspectRatio, Catalog, ImageSize, ProviderId, Recipe};
use common::{fast_policy, quick_poll, request_on, with_two_tone_input};

const KEY: &str = "eachlabs-test-key-1";
const NB2: &str = "nano-banana-2-edit";

fn eachlabs() -> (FakeEachlabs, EachlabsProvider) {
    let fake = FakeEachlabs::start(&tokio::runtime::Handle::current(), KEY, 1).unwrap();
    let provider = EachlabsProvider::new(fake.base_url(), Secret::new(KEY), fast_policy())
        .with_poll(quick_poll());
    (fake, provider)
}

fn request(prompt: &str, model: &str, edit: impl FnOnce(&mut Recipe)) -> GenerateRequest {
    request_on(ProviderId::Eachlabs, prompt, model, edit)
}

#[tokio::test]
async fn nano_banana_2_edits_at_its_resolution_through_its_edit_slug() {
    let (fake, provider) = eachlabs();
    let mut req = request("make it dusk", NB2, |r| r.size = Some(ImageSize::K2));
    with_two_tone_input(&mut req, 64, 48);
    let out = provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    let body = &fake.request_bodies()[0];
    assert_eq!(body["model"], NB2);
    assert_eq!(body["input"]["resolution"], "2K");
    assert!(body.get("version").is_none());
    // A second job reads no second page.
    provider
        .generate(&req, &CallContext::detached())
        .await
        .unwrap();
    assert_eq!(fake.schema_reads(), 1);
}

#[tokio::test]
async fn a_recipe_the_schema_refuses_never_becomes_a_prediction() {
    let (fake, provider) = eachlabs();
    // A catalog that thinks the model takes more than it does (as a stale one would).
    let mut stale = request("a kite", "nano-banana", |r| r.size = Some(ImageSize::K4));
    stale.model.sizes = vec![ImageSize::K4];
    let err = provider
        .generate(&stale, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let words = err.to_string();
    assert!(
        words.contains(
            "Eachlabs' Nano Banana (nano-banana) does not take this recipe: it takes no resolution"
        ),
        "{words}"
    );

    let mut wide = request("a kite", "nano-banana-pro", |r| {
        r.aspect = AspectRatio::Ratio(8, 1);
    });
    wide.model.ratios.push(AspectRatio::Ratio(8, 1));
    let err = provider
        .generate(&wide, &CallContext::detached())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("aspect_ratio 8:1 is not offered; it takes 1:1,"),
        "{err}"
    );

    // Nano Banana 2 only edits: without a photo it is refused, here and in the recipe.
    let bare = request("a kite", NB2, |_| {});
    let err = provider
        .generate(&bare, &CallContext::detached())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("add one, or pick another model"),
        "{err}"
    );
    let refused = bare.recipe.validate(&Catalog::bundled()).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("Nano Banana 2 on Eachlabs only edits photos"),
        "{refused}"
    );

    assert_eq!(fake.creates(), 0, "nothing was sent to be made, or charged");
}

#[tokio::test]
async fn a_model_the_service_does_not_list_is_named_before_any_prediction() {
    let (fake, provider) = eachlabs();
    let mut gone = request("a kite", "nano-banana", |_| {});
    gone.model.id = "nano-banana-9".into();
    let err = provider
        .generate(&gone, &CallContext::detached())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound, "{err}");
    assert_eq!(fake.creates(), 0);
}
