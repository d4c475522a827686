//! The CLI contract: exit codes 0, 2, 3, 4, 5, 6 against the fake, and `--json` lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::cli_support;

use std::path::Path;
use std::process::Command;

use banana_studio::fake::{FakeGemini, Fault};
use cli_support::{KEY, cli, cli_against, failing_fake, json_lines, last_failed};
use serde_json::Value;

#[test]
fn generate_in_the_sandbox_prints_json_lines_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let output = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a paper boat",
            "--count",
            "2",
            "--aspect",
            "16:9",
            "--json",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = json_lines(&output);
    let states: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "state")
        .map(|l| l["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["created", "running", "storing"]);
    let done = lines.last().unwrap();
    assert_eq!(done["event"], "done");
    assert!(done["job"].as_i64().unwrap() > 0);
    assert_eq!(done["cost_usd"], 0.0);
    let images = done["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for image in images {
        assert_eq!(
            (image["width"].as_u64(), image["height"].as_u64()),
            (Some(1376), Some(768))
        );
        assert_eq!(image["mime"], "image/png");
        let path = Path::new(image["path"].as_str().unwrap());
        assert!(path.starts_with(&out_dir) && path.exists(), "{path:?}");
        assert!(image["id"].as_i64().is_some());
        // Named by the export template: {date}_{prompt}_{n}.{ext}.
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with("_a-paper-boat_1.png") || name.ends_with("_a-paper-boat_2.png"),
            "{name}"
        );
    }

    let history = cli(dir.path())
        .args(["history", "--json", "--limit", "5"])
        .output()
        .unwrap();
    assert_eq!(history.status.code(), Some(0));
    let rows = json_lines(&history);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["prompt"], "a paper boat");
    assert_eq!(rows[0]["state"], "succeeded");
    let searched = cli(dir.path())
        .args(["history", "--json", "--search", "submarine"])
        .output()
        .unwrap();
    assert!(json_lines(&searched).is_empty());
}

#[test]
fn invalid_input_exits_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let output = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a fox",
            "--model",
            "gemini-2.5-flash-image",
            "--size",
            "2K",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let failed = last_failed(&output);
    assert_eq!(failed["kind"], "invalid_input");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .starts_with("size: Nano Banana does not take a size")
    );
    let bad_flag = cli(dir.path())
        .args(["generate", "x", "--aspect", "wide"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_flag.stderr).contains("W:H such as 16:9"));
    // A ratio no model takes lists the ones this model does.
    let odd = cli(dir.path())
        .args(["--sandbox", "generate", "x", "--aspect", "7:3"])
        .output()
        .unwrap();
    assert_eq!(odd.status.code(), Some(2));
    let words = String::from_utf8_lossy(&odd.stderr);
    assert!(
        words.contains("pick one of 1:1, ") && words.contains("16:9"),
        "{words}"
    );
    // A retired model names one successor, not two.
    let retired = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "x",
            "--model",
            "gemini-3.1-flash-image-preview",
        ])
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&retired.stderr);
    assert_eq!(words.matches("use ").count(), 1, "{words}");
    assert!(
        words.contains("is retired") && words.contains("Nano Banana 2.1"),
        "{words}"
    );
}

#[test]
fn a_refusal_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let output = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "[fake:blocked-prompt] something",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let failed = last_failed(&output);
    assert_eq!(failed["kind"], "refused");
    assert!(failed["job"].as_i64().is_some());
}

#[test]
fn a_rejected_key_exits_4_without_printing_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(rt.handle(), KEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = cli_against(&fake, dir.path(), "AIzaWRONGKEY")
        .args(["generate", "x", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(last_failed(&output)["kind"], "auth");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("AIzaWRONGKEY"));
}

#[test]
fn a_quota_still_hit_after_retries_exits_5() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeGemini::start(rt.handle(), KEY).unwrap();
    fake.script(vec![
        Fault::RateLimited {
            retry_after_secs: 0.05
        };
        4
    ]);
    let dir = tempfile::tempdir().unwrap();
    let output = cli_against(&fake, dir.path(), KEY)
        .args(["generate", "x", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let lines = json_lines(&output);
    assert_eq!(
        lines.iter().filter(|l| l["event"] == "progress").count(),
        3,
        "three retries were reported"
    );
    assert_eq!(last_failed(&output)["kind"], "rate_limited");
    assert_eq!(fake.request_count(), 4);
}

#[test]
fn a_provider_failure_after_retries_exits_6() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = failing_fake(&rt);
    let dir = tempfile::tempdir().unwrap();
    let output = cli_against(&fake, dir.path(), KEY)
        .args(["generate", "x", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6));
    assert_eq!(last_failed(&output)["kind"], "server");
}

#[test]
fn models_lists_the_catalog_merged_with_the_live_list() {
    let dir = tempfile::tempdir().unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "models", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rows = json_lines(&output);
    let pro = rows
        .iter()
        .find(|r| r["id"] == "gemini-3-pro-image")
        .unwrap();
    assert_eq!(pro["live"], true);
    let retired = rows
        .iter()
        .find(|r| r["id"] == "gemini-3-pro-image-preview")
        .unwrap();
    assert_eq!(retired["live"], false);
    assert_eq!(retired["status"], "retired");
    // "live" here is the sandbox's list: the CLI says so.
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("\"live\" is the sandbox's list"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_the_job_and_exits_130() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = cli(dir.path())
        .args(["--sandbox", "generate", "[fake:slow] a long one", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let running = line.contains("\"running\"");
        seen.push(line);
        if running {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen:?}");
    let last: Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(last["kind"], "cancelled");
    let history = cli(dir.path())
        .args(["history", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        json_lines(&history)[0]["state"],
        "cancelled",
        "the job is recorded as cancelled"
    );
}

#[test]
fn an_input_makes_an_edit_that_keeps_the_input_shape() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.png");
    image::RgbImage::from_pixel(300, 200, image::Rgb([200, 120, 40]))
        .save(&photo)
        .unwrap();
    let output = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "make it night",
            "--json",
            "--input",
        ])
        .arg(&photo)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let done = json_lines(&output).pop().unwrap();
    let image = &done["images"][0];
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(1264), Some(848)),
        "3:2 like the input"
    );

    let text = dir.path().join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "generate", "x", "--json", "--input"])
        .arg(&text)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        last_failed(&output)["message"],
        "--input: notes.png: is text, not an image; pick a PNG, JPEG, WebP or GIF file"
    );
}

#[test]
fn refine_continues_from_a_stored_image_and_records_the_parent() {
    let dir = tempfile::tempdir().unwrap();
    let first = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a red chair",
            "--model",
            "gemini-3-pro-image",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(0));
    let parent = json_lines(&first).pop().unwrap()["images"][0]["id"]
        .as_i64()
        .unwrap();
    let output = cli(dir.path())
        .args([
            "--sandbox",
            "refine",
            &parent.to_string(),
            "make it blue",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json_lines(&output).pop().unwrap()["event"], "done");
    let history = json_lines(
        &cli(dir.path())
            .args(["history", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(history[0]["prompt"], "make it blue");
    assert_eq!(history[0]["parent_image_id"], parent);
    assert_eq!(
        history[0]["model"], "gemini-3-pro-image",
        "the parent's model is kept"
    );

    let missing = cli(dir.path())
        .args(["--sandbox", "refine", "999", "x", "--json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        last_failed(&missing)["message"]
            .as_str()
            .unwrap()
            .contains("image 999 is not in the history")
    );
}

#[test]
fn export_writes_named_files_with_the_recipe_and_reports_unknown_ids() {
    let dir = tempfile::tempdir().unwrap();
    let first = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a paper crane",
            "--count",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    let done = json_lines(&first).pop().unwrap();
    let ids: Vec<String> = done["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].to_string())
        .collect();
    let out = dir.path().join("export");
    let output = cli(dir.path())
        .arg("export")
        .args(&ids)
        .arg("--to")
        .arg(&out)
        .args(["--template", "{job}-{prompt}-{n}", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("unknown token"),
        "known tokens pass quietly"
    );
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 2);
    let path = Path::new(rows[0]["path"].as_str().unwrap());
    assert_eq!(path.file_name().unwrap(), "1-a-paper-crane-1.png");
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("banana-studio"));
    // The file's own text (what a viewer or metadata tool shows) says it is a stand-in,
    // not only the recipe JSON.
    assert!(
        text.contains("Sandbox: \"offline stand-in, not model output\""),
        "the parameters text names the sandbox"
    );
    assert!(
        text.contains("(sandbox image, not model output)"),
        "and the Software field"
    );

    // The text listing says so too.
    let listed = cli(dir.path()).arg("history").output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed
            .lines()
            .all(|l| l.ends_with("a paper crane  (sandbox, not model output)")),
        "{listed}"
    );

    let clean = cli(dir.path())
        .arg("export")
        .arg(&ids[0])
        .arg("--to")
        .arg(&out)
        .arg("--clean")
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    let clean_path = String::from_utf8_lossy(&clean.stdout).trim().to_owned();
    assert!(
        clean_path.ends_with("-2.png") || clean_path.ends_with("_1.png"),
        "{clean_path}"
    );
    assert!(
        !String::from_utf8_lossy(&std::fs::read(&clean_path).unwrap()).contains("banana-studio")
    );

    let missing = cli(dir.path())
        .args(["export", "999", "--to"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn history_filters_narrow_the_list_and_bad_values_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let library = banana_studio::library::Library::open(dir.path()).unwrap();
    library
        .fill_sample(banana_studio::library::SampleSpec {
            jobs: 30,
            images_per_job: 2,
            edge: 8,
        })
        .unwrap();
    drop(library);
    let run = |args: &[&str]| cli(dir.path()).arg("history").args(args).output().unwrap();
    let all = run(&["--json", "--limit", "100"]);
    assert_eq!(json_lines(&all).len(), 30);
    let fal = json_lines(&run(&["--json", "--limit", "100", "--provider", "fal"]));
    assert_eq!(fal.len(), 15);
    assert!(fal.iter().all(|j| j["provider"] == "fal"));
    let favourites = json_lines(&run(&["--json", "--limit", "100", "--favourites"]));
    // Every 7th of the 60 images is a favourite: 0, 7, ..., 56 -> 9 images in 9 jobs.
    assert_eq!(favourites.len(), 9);
    assert!(
        favourites
            .iter()
            .all(|j| j["images"].as_array().unwrap().len() == 1)
    );
    let session = json_lines(&run(&["--json", "--session", "first SESSION"]));
    assert_eq!(session.len(), 20, "default limit, the one session");
    let future = run(&["--json", "--since", "2999-01-01"]);
    assert!(future.status.success() && json_lines(&future).is_empty());

    let bad_date = run(&["--since", "yesterday"]);
    assert_eq!(bad_date.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_date.stderr).contains("write the date as YYYY-MM-DD"));
    let no_month = run(&["--since", "2026-13-01"]);
    assert_eq!(no_month.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&no_month.stderr).contains("there is no month 13"),
        "{}",
        String::from_utf8_lossy(&no_month.stderr)
    );
    let no_session = run(&["--session", "Nope"]);
    assert_eq!(no_session.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_session.stderr).contains("no session with that name"));
}

#[test]
fn keys_set_reads_stdin_status_never_prints_the_key() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = cli(dir.path())
        .args(["keys", "set", "fal"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"fal-secret-998877\n")
        .unwrap();
    let set = child.wait_with_output().unwrap();
    assert!(set.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&set.stdout),
        String::from_utf8_lossy(&set.stderr)
    );
    // No keychain in tests: the CLI says the key lives for this run only.
    assert!(said.contains("this run only"), "{said}");
    assert!(!said.contains("fal-secret-998877"));

    let empty = cli(dir.path())
        .args(["keys", "set", "gemini"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(2));

    let status = cli(dir.path())
        .env("FAL_KEY", "fal-secret-998877")
        .args(["keys", "status", "--json"])
        .output()
        .unwrap();
    assert!(status.status.success());
    let lines = json_lines(&status);
    assert_eq!(lines.len(), 5);
    let fal = lines.iter().find(|l| l["provider"] == "fal").unwrap();
    assert_eq!(
        (fal["source"].as_str(), fal["detail"].as_str()),
        (Some("env"), Some("env var FAL_KEY"))
    );
    assert!(!String::from_utf8_lossy(&status.stdout).contains("fal-secret-998877"));
    let removed = cli(dir.path())
        .args(["keys", "remove", "fal"])
        .output()
        .unwrap();
    assert!(removed.status.success());
}

#[test]
fn an_unknown_template_token_is_warned_about_and_help_lists_every_token() {
    let dir = tempfile::tempdir().unwrap();
    let first = cli(dir.path())
        .args(["--sandbox", "generate", "a kite", "--json"])
        .output()
        .unwrap();
    let done = json_lines(&first).pop().unwrap();
    let id = done["images"][0]["id"].to_string();
    let output = cli(dir.path())
        .args(["export", &id, "--to"])
        .arg(dir.path().join("out"))
        .args(["--template", "{nonsense}_{n}"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let words = String::from_utf8_lossy(&output.stderr);
    assert!(words.contains("unknown token {nonsense}"), "{words}");
    let help = cli(dir.path()).args(["export", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("n (the image's number"), "{help}");
}

#[test]
fn a_template_with_styles_and_a_brand_kit_composes_the_prompt_and_records_its_parts() {
    let dir = tempfile::tempdir().unwrap();
    // The bundled templates, with their slots.
    let templates = cli(dir.path())
        .args(["templates", "--json"])
        .output()
        .unwrap();
    let listed = json_lines(&templates);
    let cinematic = listed
        .iter()
        .find(|t| t["name"] == "Cinematic scene")
        .expect("bundled");
    assert_eq!(
        cinematic["slots"],
        serde_json::json!(["SUBJECT", "LOCATION", "TIME OF DAY"])
    );
    assert_eq!(cinematic["origin"], "bundled");
    // A kit with a reference image.
    let logo = dir.path().join("logo.png");
    image::RgbImage::from_pixel(64, 64, image::Rgb([20, 60, 240]))
        .save(&logo)
        .unwrap();
    let added = cli(dir.path())
        .args([
            "brands",
            "add",
            "Acme",
            "--prefix",
            "Acme brand image:",
            "--suffix",
            "Acme blue accents.",
        ])
        .arg("--reference")
        .arg(&logo)
        .output()
        .unwrap();
    assert_eq!(
        added.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let brands = json_lines(&cli(dir.path()).args(["brands", "--json"]).output().unwrap());
    assert_eq!(brands.len(), 1);
    assert_eq!(brands[0]["references"].as_array().unwrap().len(), 1);

    let output = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "breath visible",
            "--template",
            "cinematic scene",
            "--var",
            "SUBJECT=a red fox",
            "--var",
            "location=a snowy forest",
            "--var",
            "TIME OF DAY=dawn",
            "--style",
            "Film grain",
            "--brand",
            "acme",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let history = json_lines(
        &cli(dir.path())
            .args(["history", "--json", "--limit", "1"])
            .output()
            .unwrap(),
    );
    let prompt = history[0]["prompt"].as_str().unwrap();
    assert_eq!(
        prompt,
        "Acme brand image: Cinematic photo of a red fox in a snowy forest at dawn, shallow depth \
         of field, subtle film grain, realistic lighting, natural composition, no text overlays. \
         breath visible Shot on 35 mm film, subtle grain, gentle halation, muted colours. Acme \
         blue accents."
    );
    // The kit's logo went along as an input.
    let library = banana_studio::library::Library::open(dir.path()).unwrap();
    let job = library
        .job(history[0]["job"].as_i64().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(job.recipe.inputs.len(), 1);
    let composition = job.recipe.composition.expect("the parts are recorded");
    assert_eq!(composition.template.as_deref(), Some("Cinematic scene"));
    assert_eq!(composition.values["LOCATION"], "a snowy forest");
    assert_eq!(composition.styles[0].0, "Film grain");
    assert_eq!(composition.brand.unwrap().0, "Acme");
}

#[test]
fn an_empty_slot_or_an_unknown_name_is_named_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = cli(dir.path())
            .arg("--sandbox")
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, words) = run(&["generate", "--template", "Studio product shot"]);
    assert_eq!(code, Some(2));
    assert!(words.contains("slot [PRODUCT] is empty"), "{words}");
    let (code, words) = run(&["generate", "x", "--style", "Nope"]);
    assert_eq!(code, Some(2));
    assert!(
        words.contains("no style named \"Nope\"") && words.contains("Film grain"),
        "{words}"
    );
    let (code, words) = run(&["generate", "x", "--var", "A=b"]);
    assert_eq!(code, Some(2));
    assert!(
        words.contains("name the template with --template"),
        "{words}"
    );
    let (code, _) = run(&["generate"]);
    assert_eq!(code, Some(2), "a prompt or a template is needed");
    let history = cli(dir.path())
        .args(["history", "--json"])
        .output()
        .unwrap();
    assert!(json_lines(&history).is_empty(), "nothing ran");
}

#[test]
fn a_batch_runs_every_line_keeps_going_past_a_failure_and_sums_up() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        "a red kite\n# a comment\n\n[fake:precondition] a blue kite\na green kite\n",
    )
    .unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "batch"])
        .arg(&list)
        .arg("--json")
        .output()
        .unwrap();
    let lines = json_lines(&output);
    let done = lines.iter().filter(|l| l["event"] == "done").count();
    let failed = lines.iter().filter(|l| l["event"] == "failed").count();
    assert_eq!(
        (done, failed),
        (2, 1),
        "the lines after the failure ran too"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["event"], "batch_done");
    assert_eq!(
        (&summary["jobs"], &summary["succeeded"], &summary["failed"]),
        (
            &serde_json::json!(3),
            &serde_json::json!(2),
            &serde_json::json!(1)
        )
    );
    assert_eq!(output.status.code(), Some(2), "the failure's exit code");
}

#[test]
fn a_csv_fills_a_templates_slots_and_a_bad_header_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("products.csv");
    std::fs::write(&csv, "PRODUCT,prompt\n\"a mug, glazed\",on oak\na vase,\n").unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "batch"])
        .arg(&csv)
        .args(["--template", "Studio product shot", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let history = json_lines(
        &cli(dir.path())
            .args(["history", "--json"])
            .output()
            .unwrap(),
    );
    let prompts: Vec<&str> = history
        .iter()
        .map(|j| j["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(prompts.len(), 2);
    assert!(prompts.iter().any(
        |p| p.starts_with("Professional studio photo of a mug, glazed,") && p.ends_with("on oak")
    ));
    assert!(prompts.iter().any(|p| p.contains("photo of a vase,")));

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "PRODUCT\na mug\n").unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "batch"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("so give --template"));
    let empty_slot = dir.path().join("gap.csv");
    std::fs::write(&empty_slot, "PRODUCT\na mug\n\"\"\n").unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "batch"])
        .arg(&empty_slot)
        .args(["--template", "Studio product shot"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("slot [PRODUCT] is empty"));
    let history = json_lines(
        &cli(dir.path())
            .args(["history", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(history.len(), 2, "no line of a bad batch was sent");
}

#[test]
fn a_masked_edit_changes_only_the_white_region_at_the_photos_own_size() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (300u32, 200u32);
    let photo = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let photo_path = dir.path().join("photo.png");
    photo.save(&photo_path).unwrap();
    // The mask at half size: it is scaled to the photo.
    let mask = image::GrayImage::from_fn(w / 2, h / 2, |x, y| {
        image::Luma([if (50..100).contains(&x) && (30..70).contains(&y) {
            255
        } else {
            0
        }])
    });
    let mask_path = dir.path().join("mask.png");
    mask.save(&mask_path).unwrap();
    let output = cli(dir.path())
        .args(["--sandbox", "generate", "make it glow"])
        .arg("--input")
        .arg(&photo_path)
        .arg("--mask")
        .arg(&mask_path)
        .args(["--feather", "4", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let done = json_lines(&output).pop().unwrap();
    let path = done["images"][0]["path"].as_str().unwrap();
    let result = image::open(path).unwrap().to_rgba8();
    assert_eq!(result.dimensions(), (w, h), "the photo's own size");
    // The region as the app feathers it: outside it, every pixel is the photo's.
    let bytes = std::fs::read(&mask_path).unwrap();
    let region = banana_studio::imaging::mask::feather(
        &banana_studio::imaging::mask::load_mask(&bytes, w, h).unwrap(),
        4.0,
    );
    let (mut same_outside, mut outside, mut changed_inside) = (0, 0, 0);
    for (x, y, p) in result.enumerate_pixels() {
        let o = photo.get_pixel(x, y);
        let same = p.0[..3] == o.0[..3];
        if region.get_pixel(x, y).0[0] == 0 {
            outside += 1;
            same_outside += usize::from(same);
        } else if !same {
            changed_inside += 1;
        }
    }
    assert_eq!(same_outside, outside, "bit-identical outside the mask");
    assert!(
        changed_inside > 1000,
        "the region changed: {changed_inside} pixels"
    );
    // Compare finds the change against the input.
    let history = json_lines(
        &cli(dir.path())
            .args(["history", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(history.len(), 1);
}

#[test]
fn a_mask_without_a_photo_or_without_white_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let black = dir.path().join("black.png");
    image::GrayImage::new(20, 20).save(&black).unwrap();
    let photo = dir.path().join("photo.png");
    image::RgbImage::from_pixel(20, 20, image::Rgb([1, 2, 3]))
        .save(&photo)
        .unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let output = cli(dir.path())
            .arg("--sandbox")
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let (code, words) = run(&[&os("generate"), &os("x"), &os("--mask"), black.as_os_str()]);
    assert_eq!(code, Some(2));
    assert!(
        words.contains("give the photo to edit with --input"),
        "{words}"
    );
    let (code, words) = run(&[
        &os("generate"),
        &os("x"),
        &os("--input"),
        photo.as_os_str(),
        &os("--mask"),
        black.as_os_str(),
    ]);
    assert_eq!(code, Some(2));
    assert!(words.contains("no white pixels"), "{words}");
    let (code, words) = run(&[
        &os("generate"),
        &os("x"),
        &os("--input"),
        photo.as_os_str(),
        &os("--mask"),
        dir.path()
            .join("photo.png")
            .with_extension("txt")
            .as_os_str(),
    ]);
    assert_eq!(code, Some(2));
    assert!(words.contains("--mask: could not read"), "{words}");
    let history = json_lines(
        &cli(dir.path())
            .args(["history", "--json"])
            .output()
            .unwrap(),
    );
    assert!(history.is_empty());
}

#[test]
fn thinking_takes_the_models_levels_and_refuses_others_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let ok = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a kite",
            "--thinking",
            "high",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // The done event says what the service reported using.
    let done = json_lines(&ok).pop().unwrap();
    let usage = &done["usage"];
    for key in [
        "prompt_tokens",
        "image_tokens",
        "text_tokens",
        "thought_tokens",
    ] {
        assert!(usage[key].as_u64().is_some(), "{key} in {done}");
    }
    assert_eq!(usage["image_tokens"], 1120, "a 1K Nano Banana 2.1 image");
    assert_eq!(usage["thought_tokens"], 1540, "thinking high");
    let refused = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a kite",
            "--model",
            "gemini-3.1-flash-lite-image",
            "--thinking",
            "medium",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let words = String::from_utf8_lossy(&refused.stderr);
    assert!(
        words.contains("Nano Banana 2 Lite does not take thinking medium; pick minimal, high"),
        "{words}"
    );
    let bad = cli(dir.path())
        .args(["--sandbox", "generate", "a kite", "--thinking", "lots"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("minimal, low, medium or high"));
}

#[test]
fn search_lists_its_sources_and_is_refused_where_the_model_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let ok = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "the Eiffel tower",
            "--search",
            "web",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let done = json_lines(&ok).pop().unwrap();
    let sources = done["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{done}");
    assert!(sources[0]["uri"].as_str().unwrap().starts_with("https://"));
    assert!(sources[0]["title"].is_string());
    let refused = cli(dir.path())
        .args([
            "--sandbox",
            "generate",
            "a cat",
            "--model",
            "gemini-3-pro-image",
            "--search",
            "image",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("Nano Banana Pro has no image search; it searches web")
    );
}
