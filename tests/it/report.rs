//! `evpack report`: the readiness dashboard (issue 5).
//!
//! Two layers. Tests here read the HTML as text and need nothing but the binary: the page is
//! self-contained, escapes hostile names, carries the accessibility scaffolding, links to
//! the real files and is reproducible. `dashboard_in_chromium_*` then hand the page and the
//! `gaps --format json` of the same input to tests/browser/check.mjs, which loads it in
//! headless Chromium (axe-core, content against the JSON, no scripts, no requests) and
//! leaves PNG and PDF pictures under target/tmp/dashboard/ for a person to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{have_tool, TestEnv};

/// A file name and a manifest text that would run script if they reached the page as markup.
const HOSTILE_FILE: &str = "<img src=x onerror=alert(1)>.md";
const HOSTILE_TITLE: &str = "Care leavers <script>alert(2)</script><img src=x onerror=alert(3)>";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `evpack report` on the shipped sample (repo root `manifests/` + `evidence/`) and
/// returns the page. The sample has gaps, so the exit code is 1.
fn sample_report(out: &Path) -> String {
    let mut cmd = assert_cmd::Command::new(crate::support::evpack_bin());
    cmd.current_dir(repo())
        .env("NO_COLOR", "1")
        .args(["report", "--out"])
        .arg(out)
        .assert()
        .code(1);
    std::fs::read_to_string(out).expect("report written")
}

/// An evidence folder whose names and manifest carry markup: one requirement matches the
/// hostile file (so it appears in the table and the monthly grid), and a second hostile
/// name matches nothing (so it appears in the unmatched list).
fn hostile_env() -> TestEnv {
    let env = TestEnv::new();
    env.file(&format!("minutes/2020-12/{HOSTILE_FILE}"), "minutes\n")
        .file("minutes/Board minutes 2020-11-20.md", "minutes\n")
        .file("stray/<svg onload=alert(4)> notes.txt", "stray\n");
    env.manifest(&format!(
        r#"
[visit]
name = "Focused visit <img src=x onerror=alert(5)>"
authority = "Example Borough Council & <b>partners</b>"
date = 2021-01-18
lookback_months = 3

[[area]]
id = "P1"
kind = "ofsted-priority"
title = "{HOSTILE_TITLE}"
source = "<a href=javascript:alert(6)>ILACS</a>"

[[area.requirement]]
id = "P1.1"
title = "Board minutes <iframe src=x>"
evidence = "minutes"
paths = ["minutes/**/*"]
cadence = "monthly"
owner = "Head of Service \"<u>quoted</u>\""
"#
    ));
    env
}

/// Runs `evpack report` in a TestEnv; the fixtures here have gaps unless `code` says not.
fn env_report(env: &TestEnv, out: &Path, code: i32) -> String {
    env.cmd()
        .args([
            "report",
            "--manifest",
            "manifest.toml",
            "--evidence",
            "evidence",
            "--out",
        ])
        .arg(out)
        .assert()
        .code(code);
    std::fs::read_to_string(out).expect("report written")
}

#[test]
fn report_of_sample_is_one_self_contained_file() {
    let dir = tempfile::tempdir().unwrap();
    let html = sample_report(&dir.path().join("readiness.html"));
    let lower = html.to_lowercase();
    // Nothing the browser would fetch or run: no scripts, no external or inline-loaded
    // resources, no imports. (`http-equiv` of the CSP meta is the one "http" allowed.)
    for banned in [
        "<script",
        "http://",
        "https://",
        "src=",
        "@import",
        "url(",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@font-face",
    ] {
        assert!(!lower.contains(banned), "the dashboard holds {banned:?}");
    }
    assert!(
        lower.contains(r#"<meta http-equiv="content-security-policy" content="default-src 'none'"#),
        "a CSP that refuses every request and script is the second line of defence"
    );
    assert!(html.contains(r#"<html lang="en-GB">"#));
    assert!(html.contains("<style>"));
    assert_eq!(lower.matches("<main").count(), 1, "one main landmark");
    assert!(html.contains("<header") && html.contains("<nav") && html.contains("<footer"));
    assert!(html.contains("@media print") && html.contains("size: A4"));
}

#[test]
fn report_tables_have_header_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let html = sample_report(&dir.path().join("readiness.html"));
    assert!(html.contains(r#"<th scope="col">"#));
    assert!(html.contains(r#"<th scope="row">"#));
    // Every header cell says what it heads.
    let bare = html.matches("<th>").count() + html.matches("<th ").count()
        - html.matches("<th scope=").count();
    assert_eq!(bare, 0, "every <th> has a scope");
}

#[test]
fn report_shows_headline_tiles_grid_and_unmatched() {
    let dir = tempfile::tempdir().unwrap();
    let html = sample_report(&dir.path().join("readiness.html"));
    // Headline from the sample assessment (81%: 43 of 53 required met).
    assert!(html.contains(r#"<span class="percent">81%</span>"#));
    assert!(html.contains("43 of 53 required items met"));
    assert!(
        html.contains("18 January 2021"),
        "visit date in UK long form"
    );
    assert!(
        html.contains("18 July 2020</time> to <time"),
        "look-back window"
    );
    assert!(html.contains("manifests/devon-focused-visit-2021.toml"));
    // Tiles grouped by kind, RAG in words.
    for heading in [
        "Ofsted priorities",
        "Commissioner recommendations",
        "Monitoring visit findings",
    ] {
        assert!(html.contains(&format!(">{heading}</h3>")), "{heading}");
    }
    assert!(html.contains(r#"<span class="tag" data-rag="red">Red</span>"#));
    assert!(html.contains(r#"<span class="tag" data-rag="green">Green</span>"#));
    // Monthly grid: six months of the window, Nov 2020 missing for the care leavers scorecard.
    assert!(html.contains(r#"<table class="grid" data-cadence="monthly">"#));
    for m in [
        "Jul 2020", "Aug 2020", "Sep 2020", "Oct 2020", "Nov 2020", "Dec 2020",
    ] {
        assert!(html.contains(&format!(">{m}</time></th>")), "{m}");
    }
    assert!(
        !html.contains(">Jan 2021</time></th>"),
        "January is not yet due"
    );
    assert!(html.contains(r#"<table class="grid" data-cadence="quarterly">"#));
    // Where each date came from, in words.
    for source in ["from the file name", "from the folder name"] {
        assert!(html.contains(source), "{source}");
    }
    // Unmatched files: a count and a list that needs no script.
    assert!(html.contains("5 files in the evidence folder match no item"));
    assert!(html.contains("<details>") && html.contains("misc/old notes.txt"));
}

#[test]
fn report_links_lead_to_the_evidence_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("readiness.html");
    let html = sample_report(&out);
    let mut checked = 0;
    for href in hrefs(&html).into_iter().filter(|h| !h.starts_with('#')) {
        let target = dir.path().join(crate::support::pack::percent_decode(&href));
        assert!(target.is_file(), "link {href} leads nowhere");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} evidence links");
}

#[test]
fn report_is_reproducible() {
    // No clock in the page: the same input makes the same bytes (packs depend on it).
    let dir = tempfile::tempdir().unwrap();
    let a = sample_report(&dir.path().join("a.html"));
    let b = sample_report(&dir.path().join("b.html"));
    assert_eq!(a, b);
}

#[test]
fn report_escapes_hostile_names_and_manifest_text() {
    let env = hostile_env();
    let html = env_report(&env, &env.root().join("readiness.html"), 1);
    let body = &html[html.find("<body>").expect("body")..];
    for planted in [
        "<img",
        "<script",
        "<svg",
        "<iframe",
        "<a href=javascript",
        "<b>",
        "<u>",
    ] {
        assert!(
            !body.contains(planted),
            "{planted} reached the page as markup"
        );
    }
    assert!(!html.contains("<title>Focused visit <img"));
    // Shown as text, escaped by handlebars (it also escapes `=`).
    assert!(body.contains("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;.md"));
    assert!(body.contains("Care leavers &lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(body.contains("Example Borough Council &amp; &lt;b&gt;partners&lt;/b&gt;"));
    assert!(body.contains("&lt;svg onload&#x3D;alert(4)&gt; notes.txt"));
    // Links are percent-encoded, so a name cannot leave the attribute or form a URL scheme.
    assert!(body.contains("%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.md"));
}

#[test]
fn hostile_ids_make_safe_unique_anchors() {
    let env = TestEnv::new();
    env.file("a/x 2020-12-01.md", "x\n");
    env.manifest(
        r#"
[visit]
name = "Visit"
authority = "Council"
date = 2021-01-18

[[area]]
id = "A.1"
kind = "other"
title = "First"

[[area.requirement]]
id = "R.1"
title = "One"
evidence = "other"
paths = ["a/*"]

[[area.requirement]]
id = "R-1"
title = "Two"
evidence = "other"
paths = ["a/*"]
"#,
    );
    let html = env_report(&env, &env.root().join("readiness.html"), 0);
    assert!(html.contains(r##"id="area-A-1""##));
    assert!(html.contains(r##"id="req-R-1""##) && html.contains(r##"id="req-R-1-2""##));
    assert!(html.contains(">Other areas</h3>"));
}

/// The pack's index.html is the same template over the same view, with links into `data/`.
/// The builder calls the library, so this does too.
#[test]
fn pack_index_links_into_data_and_leaves_unmatched_unlinked() {
    let manifest =
        evpack::manifest::Manifest::load(&repo().join("manifests/devon-focused-visit-2021.toml"))
            .expect("the sample manifest");
    let scan = evpack::scan::scan(&repo().join("evidence")).expect("scan the sample");
    let matched = evpack::assess::match_files(&manifest, &scan).expect("match the sample");
    let checks = evpack::content::check_files(&scan, matched.any(), &Default::default())
        .expect("check the sample");
    let a = evpack::assess::assess(
        &manifest,
        &scan,
        &matched,
        &checks,
        &evpack::assess::AssessOptions::default(),
    )
    .expect("assess the sample");
    let templates = evpack::report::Templates::load(None).expect("embedded templates");
    let html = templates
        .html(&a, evpack::report::LinkStyle::Pack)
        .expect("render");
    let files: Vec<String> = hrefs(&html)
        .into_iter()
        .filter(|h| !h.starts_with('#'))
        .collect();
    assert!(!files.is_empty());
    for h in &files {
        assert!(h.starts_with("data/"), "{h} does not point into data/");
    }
    assert!(html.contains("and are not in this pack"));
    assert!(
        html.contains("<li>misc/old notes.txt</li>"),
        "unmatched: text, no link"
    );
    assert!(!html.contains(r#"href="data/misc/old%20notes.txt""#));
    assert!(html.contains("as the index of this evidence pack"));
    // No clock unless the caller passes one, e.g. the pack's bagging date.
    assert!(!html.contains("made 2021-01-11"));
    let dated = templates
        .html_at(&a, evpack::report::LinkStyle::Pack, Some("2021-01-11"))
        .expect("render");
    assert!(dated.contains(&format!("evpack {}, 2021-01-11", evpack::VERSION)));
    assert!(dated.contains("; made 2021-01-11."));
}

#[test]
fn dashboard_in_chromium_sample() {
    let Some(out) = browser_ready("sample") else {
        return;
    };
    let html = out.join("readiness.html");
    sample_report(&html);
    let json = assert_cmd::Command::new(crate::support::evpack_bin())
        .current_dir(repo())
        .args(["gaps", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    std::fs::write(out.join("gaps.json"), json).unwrap();
    run_browser_check(&html, &out.join("gaps.json"), &out, None);
}

/// The shipped sample's pack: its index.html, opened from the unzipped pack, passes the
/// same checks against its pack.json, and its first screen says what the pack is.
#[test]
fn pack_index_in_chromium_sample() {
    let Some(out) = browser_ready("pack") else {
        return;
    };
    let zip = out.join("sample.zip");
    assert_cmd::Command::new(crate::support::evpack_bin())
        .current_dir(repo())
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["build", "--quiet", "--date", "2021-01-15", "--out"])
        .arg(&zip)
        .assert()
        .code(0);
    // Our own pack, just built: written out as a person would unzip it.
    for e in crate::support::pack::read_pack(&zip) {
        let path = out.join(&e.name);
        if e.name.ends_with('/') {
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, &e.bytes).expect("write");
    }
    let bag = out.join("sample");
    run_browser_check(&bag.join("index.html"), &bag.join("pack.json"), &out, None);
}

#[test]
fn dashboard_in_chromium_hostile_names() {
    let Some(out) = browser_ready("hostile") else {
        return;
    };
    let env = hostile_env();
    let html = out.join("readiness.html");
    env_report(&env, &html, 1);
    let json = env
        .cmd()
        .args(["gaps", "--format", "json", "--manifest", "manifest.toml"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    std::fs::write(out.join("gaps.json"), json).unwrap();
    run_browser_check(&html, &out.join("gaps.json"), &out, Some(HOSTILE_FILE));
}

/// The picture folder for one browser test, or None (with a visible message) when Chromium,
/// node or the npm packages are absent outside CI. In CI, absence fails the test.
pub(crate) fn browser_ready(name: &str) -> Option<PathBuf> {
    if !have_tool("/usr/bin/chromium", &["--version"]) || !have_tool("node", &["--version"]) {
        return None;
    }
    let modules = repo().join("tests/browser/node_modules");
    for package in ["playwright-core", "axe-core"] {
        if !modules.join(package).join("package.json").is_file() {
            let fix = "run `npm ci` in tests/browser";
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!(
                    "{package} is required in CI but tests/browser/node_modules lacks it: {fix}"
                );
            }
            eprintln!("SKIPPED: {package} is not installed; {fix} to run this test");
            return None;
        }
    }
    // Under target/ so the pictures outlive the test for a person to look at.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("dashboard")
        .join(name);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("picture folder");
    Some(out)
}

pub(crate) fn run_browser_check(html: &Path, json: &Path, out: &Path, hostile: Option<&str>) {
    let mut cmd = Command::new("node");
    cmd.arg(repo().join("tests/browser/check.mjs"))
        .arg(html)
        .arg(json)
        .arg(out);
    if let Some(h) = hostile {
        cmd.arg("--hostile").arg(h);
    }
    let o = cmd.output().expect("run node");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        o.status.success(),
        "browser check failed ({}):\n{stdout}{stderr}",
        o.status
    );
    for picture in ["screen.png", "print.png", "print.pdf"] {
        let p = out.join(picture);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "{} was not written", p.display());
    }
    let pdf = std::fs::read(out.join("print.pdf")).expect("read print.pdf");
    assert!(pdf.starts_with(b"%PDF-"), "print.pdf is a PDF");
}

/// Every `href="..."` value, unescaped from HTML (handlebars escapes `=`).
fn hrefs(html: &str) -> Vec<String> {
    html.split(r#"href=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&#x3D;", "=").replace("&amp;", "&"))
        .collect()
}

// Issue 10, item 8: `report --out` could overwrite an evidence file.

/// A folder whose evidence holds an HTML file, with a manifest that asks for it.
fn evidence_with_html() -> TestEnv {
    let env = TestEnv::new();
    env.raw("dashboard.html", b"evidence, not a report\n")
        .file("sub/notes 2020-12-01.md", "notes\n");
    env.manifest(&crate::support::gaps::single(&["**/*"], ""));
    env
}

#[test]
fn report_refuses_to_write_into_the_evidence_folder_however_the_path_is_written() {
    let env = evidence_with_html();
    std::os::unix::fs::symlink("evidence", env.root().join("evidence-link")).expect("link");
    for out in [
        "evidence/dashboard.html",
        "./evidence/../evidence/dashboard.html",
        "evidence-link/dashboard.html",
        "evidence/sub/new report.html",
    ] {
        let got = env
            .cmd()
            .args([
                "report",
                "--manifest",
                "manifest.toml",
                "--evidence",
                "evidence",
            ])
            .args(["--out", out])
            .output()
            .expect("run evpack report");
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(2), "--out {out}: {stderr}");
        assert!(
            stderr.contains(out) && stderr.contains("inside the evidence folder"),
            "--out {out}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(env.evidence().join("dashboard.html")).expect("read"),
            "evidence, not a report\n",
            "--out {out} changed the evidence"
        );
        assert!(!env.evidence().join("sub/new report.html").exists());
    }
    // Beside the evidence folder is fine.
    env_report(&env, &env.root().join("readiness.html"), 0);
}

// Issue 10, item 9: a recursive inline partial overflowed the stack (exit 134).

/// Templates that include themselves without end: directly, through a second partial, and
/// inside blocks (which reach the limit on levels before the one on partials).
const RECURSIVE_TEMPLATES: [&str; 3] = [
    r#"{{#*inline "loop"}}x{{> loop}}{{/inline}}{{> loop}}"#,
    r#"{{#*inline "a"}}<{{> b}}>{{/inline}}{{#*inline "b"}}[{{> a}}]{{/inline}}{{> a}}"#,
    r#"{{#*inline "deep"}}{{#if visit}}{{#if visit}}{{#if visit}}{{#if visit}}{{#if visit}}{{#if visit}}{{#if visit}}{{#if visit}}{{#if visit}}{{> deep}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/inline}}{{#if visit}}{{> deep}}{{/if}}"#,
];

/// Writes `tpl/NAME` (beside the evidence) holding `text`; returns the path as the
/// commands here name it (`--templates tpl`).
fn templates_dir(env: &TestEnv, name: &str, text: &str) -> String {
    let dir = env.root().join("tpl");
    std::fs::create_dir_all(&dir).expect("mkdir tpl");
    std::fs::write(dir.join(name), text).expect("write the template");
    format!("tpl/{name}")
}

#[test]
fn a_recursive_inline_partial_is_an_error_naming_the_template_not_a_crash() {
    for text in RECURSIVE_TEMPLATES {
        let env = evidence_with_html();
        let html = templates_dir(&env, "report.html.hbs", text);
        let got = env
            .cmd()
            .args([
                "report",
                "-m",
                "manifest.toml",
                "-e",
                "evidence",
                "--out",
                "r.html",
            ])
            .args(["--templates", "tpl"])
            .output()
            .expect("run evpack report");
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&html) && stderr.contains("include itself"),
            "{text}: {stderr}"
        );
        assert!(!env.root().join("r.html").exists());

        // The pack renders both documents, the Markdown one too.
        std::fs::remove_file(env.root().join(&html)).expect("remove");
        let md = templates_dir(&env, "readme.md.hbs", text);
        let got = crate::support::pack::build_cmd(&env, &["--out", "p.zip", "--templates", "tpl"])
            .output()
            .expect("run evpack build");
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&md) && stderr.contains("include itself"),
            "{text}: {stderr}"
        );
        assert!(!env.root().join("p.zip").exists());
    }
}

/// The deepest template the limits allow: 16 inline partials open at once, each opening 8
/// levels (itself and 7 blocks), called from under 127 blocks. `body` goes in the last.
fn deepest_template(partials: usize, blocks_in_last: usize, body: &str) -> String {
    let mut t = String::new();
    for i in 0..partials {
        let (blocks, inner) = if i + 1 < partials {
            (7, format!("{{{{> p{}}}}}", i + 1))
        } else {
            (blocks_in_last, body.to_string())
        };
        t += &format!(
            "{{{{#*inline \"p{i}\"}}}}{}{inner}{}{{{{/inline}}}}",
            "{{#if visit}}".repeat(blocks),
            "{{/if}}".repeat(blocks)
        );
    }
    t + &"{{#if visit}}".repeat(127) + "{{> p0}}" + &"{{/if}}".repeat(127)
}

/// The bound is real: the deepest template allowed renders where the stack is smallest
/// (the pack renders index.html on a spawned thread, 2 MiB by default), even with half
/// that stack, and one level more is an error.
#[test]
fn the_deepest_template_allowed_renders_in_a_pack_and_one_level_more_is_an_error() {
    let env = evidence_with_html();
    templates_dir(&env, "report.html.hbs", &deepest_template(16, 7, "deepest"));
    let got = crate::support::pack::build_cmd(&env, &["--out", "p.zip", "--templates", "tpl"])
        .env("RUST_MIN_STACK", (1 << 20).to_string())
        .output()
        .expect("run evpack build");
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let entries = crate::support::pack::read_pack(&env.root().join("p.zip"));
    let index = entries
        .iter()
        .find(|e| e.name.ends_with("/index.html"))
        .expect("index.html in the pack");
    assert_eq!(String::from_utf8_lossy(&index.bytes), "deepest");

    for (what, text) in [
        ("a 17th partial", deepest_template(17, 0, "deeper")),
        ("a 129th level", deepest_template(16, 8, "deeper")),
        (
            "129 blocks",
            "{{#if visit}}".repeat(129) + "x" + &"{{/if}}".repeat(129),
        ),
    ] {
        let html = templates_dir(&env, "report.html.hbs", &text);
        let got = crate::support::pack::build_cmd(&env, &["--out", "q.zip", "--templates", "tpl"])
            .output()
            .expect("run evpack build");
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(&html), "{what}: {stderr}");
        assert!(!env.root().join("q.zip").exists(), "{what}");
    }
}
