//! `banana-studio models [--provider P] [--json]`.

use super::out;
use std::time::{Duration, Instant};

use clap::Args as ClapArgs;
use serde_json::json;

use super::{Args, JsonFlag, start_engine};
use crate::engine::Event;
use crate::recipe::ProviderId;

/// Options of `models`.
#[derive(Debug, ClapArgs)]
pub struct ModelsArgs {
    /// Which provider.
    #[arg(long, default_value = "gemini")]
    pub provider: ProviderId,
    #[command(flatten)]
    pub output: JsonFlag,
}

/// Runs `models`; returns the exit code.
pub fn run(args: &Args, m: &ModelsArgs) -> i32 {
    let engine = match start_engine(args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut catalog = engine.catalog();
    let mut exit = 0;
    if engine.status(m.provider).available {
        engine.refresh_models(m.provider);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match engine.next_event(Duration::from_millis(200)) {
                Some(Event::Models {
                    catalog: merged, ..
                }) => {
                    catalog = merged;
                    break;
                }
                Some(Event::ModelsFailed { message, .. }) => {
                    eprintln!(
                        "warning: the live model list could not be read ({message}); showing the catalog only"
                    );
                    exit = 6;
                    break;
                }
                _ => {}
            }
        }
    }
    if engine.status(m.provider).sandbox {
        eprintln!(
            "note: no {} key is set, so \"live\" is the sandbox's list, not the service's; set a key to list the real models",
            m.provider.label()
        );
    }
    for model in catalog.models_of(m.provider) {
        let live = match model.live {
            Some(true) => "live",
            Some(false) => "not listed",
            None => "unchecked",
        };
        if m.output.json {
            let sizes: Vec<&str> = model.sizes.iter().map(|s| s.as_str()).collect();
            let ratios: Vec<String> = model.ratios.iter().map(ToString::to_string).collect();
            out!(
                "{}",
                json!({"provider": model.provider, "id": model.id, "brand": model.brand,
                    "status": format!("{:?}", model.status).to_lowercase(), "note": model.status_note,
                    "live": model.live, "default": model.is_default, "sizes": sizes, "ratios": ratios,
                    "max_inputs": model.max_inputs, "price_usd": model.price_usd})
            );
        } else {
            out!(
                "{:<34} {:<26} {:<10} {:<10} {}",
                model.id,
                model.brand,
                model.status.label(),
                live,
                model.status_note
            );
        }
    }
    exit
}
