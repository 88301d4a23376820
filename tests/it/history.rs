//! `report --history DIR` and `build --history DIR`: readiness over time, drawn from
//! earlier packs and saved assessments.

use std::path::Path;

use crate::report::{browser_ready, run_browser_check};
use crate::support::gaps::{area, manifest, req};
use crate::support::pack::{read_pack, text};
use crate::support::TestEnv;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `evpack build` of the env's tree into `out`, bagged on `date`.
fn build(env: &TestEnv, out: &str, date: &str, extra: &[&str]) -> std::process::Output {
    let o = env
        .cmd()
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["build", "-m", "manifest.toml", "-e", "evidence", "--quiet"])
        .args(["--date", date, "--out", out])
        .args(extra)
        .output()
        .expect("run evpack build");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

/// Three monthly packs in `history/`, readiness 0%, 50% then 100%; the tree as the last.
fn three_packs() -> TestEnv {
    let env = TestEnv::new();
    env.manifest(&manifest(&[
        area("A", &[req("R", &["audits/**"], "")]),
        area("B", &[req("M", &["minutes/**"], "")]),
    ]));
    std::fs::create_dir_all(env.root().join("history")).expect("mkdir");
    env.file("notes/Nothing yet.md", "x");
    build(&env, "history/pack-2020-10.zip", "2020-10-14", &[]);
    env.file("audits/Audit 2020-10-20.md", "x");
    build(&env, "history/pack-2020-11.zip", "2020-11-12", &[]);
    env.file("minutes/Minutes 2020-11-30.md", "x");
    build(&env, "history/pack-2020-12.zip", "2020-12-10", &[]);
    for name in ["pack-2020-10", "pack-2020-11", "pack-2020-12"] {
        // The digest files beside the packs are passed over in silence.
        assert!(env
            .root()
            .join(format!("history/{name}.zip.sha256"))
            .is_file());
    }
    env
}

/// The history section of a page.
fn section(html: &str) -> &str {
    let start = html
        .find(r#"<h2 id="history">"#)
        .expect("a history section");
    let end = html[start..].find("</section>").expect("its end") + start;
    &html[start..end]
}

#[test]
fn build_history_draws_three_packs_and_this_one_in_the_index() {
    let env = three_packs();
    let o = build(&env, "now.zip", "2021-01-12", &["--history", "history"]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let entries = read_pack(&env.root().join("now.zip"));
    let html = text(&entries, "now/index.html");
    assert!(html.contains(r##"<li><a href="#history">Readiness over time</a></li>"##));
    let s = section(html);
    for (date, label, readiness) in [
        ("2020-10-14", "pack-2020-10.zip", 0),
        ("2020-11-12", "pack-2020-11.zip", 50),
        ("2020-12-10", "pack-2020-12.zip", 100),
        ("2021-01-12", "this pack", 100),
    ] {
        let row = format!(
            r#"<tr data-history-date="{date}"><th scope="row">{date}</th><td>{label}</td><td data-history-readiness="{readiness}">{readiness}%</td></tr>"#
        );
        assert!(s.contains(&row), "{row} in:\n{s}");
    }
    // The chart: an SVG with a name and a description, one point per assessment.
    assert!(s.contains(r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="history-chart-title history-chart-desc""#));
    assert!(s.contains("Readiness was 0% on 2020-10-14 and 100% on 2021-01-12, over 4 assessments"));
    assert_eq!(s.matches("<circle ").count(), 4);
    // The strip: a row per area, a cell per month from October to January.
    assert!(s.contains("RAG rating of 2 areas in each month from Oct 2020 to Jan 2021"));
    for row in [
        ("Oct 2020", "", "", "A, B"),
        ("Nov 2020", "A", "", "B"),
        ("Dec 2020", "A, B", "", ""),
        ("Jan 2021", "A, B", "", ""),
    ] {
        let (month, green, amber, red) = row;
        let tr = format!(
            r#"<tr data-history-month="{month}"><th scope="row">{month}</th><td data-history-rag="green">{green}</td><td data-history-rag="amber">{amber}</td><td data-history-rag="red">{red}</td><td data-history-rag="none"></td></tr>"#
        );
        assert!(s.contains(&tr), "{tr} in:\n{s}");
    }
    // Each cell of the strip says its rating in a letter and a title, not by colour alone.
    assert!(s.contains("<title>B, Nov 2020: red</title>"), "{s}");
    assert_eq!(s.matches("<rect ").count(), 8);
    // Self-contained: no script, nothing fetched.
    assert!(!html.contains("<script"));
    assert!(
        !s.contains("http://")
            || !s
                .replace("http://www.w3.org/2000/svg", "")
                .contains("http://")
    );

    // Without --history the page has no such section and no nav entry.
    build(&env, "plain.zip", "2021-01-12", &[]);
    let plain = read_pack(&env.root().join("plain.zip"));
    let html = text(&plain, "plain/index.html");
    assert!(!html.contains(r#"id="history""#));
    assert!(!html.contains("Readiness over time"));
}

#[test]
fn report_history_reads_saved_assessments_and_leaves_out_what_it_cannot_read() {
    let env = three_packs();
    let saved = env.run(&["gaps", "--format", "json", "--as-of", "2020-12-20"]);
    std::fs::write(
        env.root().join("history/saved 2020-12-20.json"),
        &saved.stdout,
    )
    .expect("save");
    std::fs::write(
        env.root().join("history/broken.zip"),
        b"PK\x03\x04 cut short",
    )
    .expect("write");
    std::fs::write(env.root().join("history/notes.txt"), b"not read").expect("write");
    let o = env.run(&[
        "report",
        "--out",
        "readiness.html",
        "--history",
        "history",
        "--as-of",
        "2021-01-15",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("evpack: warning: --history: broken.zip is left out:"),
        "{err}"
    );
    assert!(!err.contains("notes.txt"), "{err}");
    let html = std::fs::read_to_string(env.root().join("readiness.html")).expect("the report");
    let s = section(&html);
    assert!(s.contains(r#"<td>saved 2020-12-20.json</td>"#), "{s}");
    assert!(s.contains(r#"<tr data-history-date="2021-01-15"><th scope="row">2021-01-15</th><td>this report</td>"#), "{s}");
    assert!(
        s.contains("<li>broken.zip: left out, not readable as a pack or saved assessment</li>"),
        "{s}"
    );
    // No folder of the drive is named on the page.
    assert!(!s.contains(&env.root().display().to_string()));

    let o = env.run(&["report", "--out", "readiness.html", "--history", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nowhere"), "{}", stderr(&o));
}

#[test]
fn history_in_chromium_from_three_packs() {
    let Some(out) = browser_ready("history") else {
        return;
    };
    let env = three_packs();
    let html = out.join("readiness.html");
    let o = report_with_history(&env, &html);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(section(&std::fs::read_to_string(&html).expect("read")).contains("pack-2020-11.zip"));
    let json = env.run(&["gaps", "--format", "json", "--as-of", "2021-01-15"]);
    std::fs::write(out.join("gaps.json"), &json.stdout).expect("write");
    run_browser_check(&html, &out.join("gaps.json"), &out, None);
}

/// Three years of monthly saved assessments: the strips are as wide as they get, and the
/// page must still pass axe and print within the page.
#[test]
fn a_three_year_history_in_chromium_fits_a_printed_page() {
    let Some(out) = browser_ready("history-long") else {
        return;
    };
    let env = three_packs();
    for year in 2018..=2020 {
        for month in 1..=12 {
            let as_of = format!("{year}-{month:02}-15");
            let saved = env.run(&["gaps", "--format", "json", "--as-of", &as_of]);
            std::fs::write(
                env.root().join(format!("history/{as_of}.json")),
                &saved.stdout,
            )
            .expect("save");
        }
    }
    let html = out.join("readiness.html");
    let o = report_with_history(&env, &html);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).expect("read");
    assert_eq!(
        section(&page).matches("<tr data-history-month=").count(),
        36
    );
    let json = env.run(&["gaps", "--format", "json", "--as-of", "2021-01-15"]);
    std::fs::write(out.join("gaps.json"), &json.stdout).expect("write");
    run_browser_check(&html, &out.join("gaps.json"), &out, None);
}

#[test]
fn a_history_folder_that_is_not_there_is_refused_before_the_scan() {
    let env = crate::support::pack::sample_env();
    let o = crate::support::pack::build_cmd(&env, &["--out", "p.zip", "--history", "nowhere"])
        .output()
        .expect("build");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nowhere") && err.contains("does not exist"),
        "{err}"
    );
    assert!(
        o.stdout.is_empty(),
        "refused before the summary: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!env.root().join("p.zip").exists());
}

/// `evpack report --history history` as of 2021-01-15, written to `html`.
fn report_with_history(env: &TestEnv, html: &Path) -> std::process::Output {
    env.cmd()
        .args([
            "report",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--as-of",
            "2021-01-15",
        ])
        .arg("--out")
        .arg(html)
        .args(["--history", "history"])
        .output()
        .expect("run evpack report")
}
