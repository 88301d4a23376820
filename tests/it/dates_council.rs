//! Dates as councils write them (issue 12), through the binary: names and folders read the
//! way staff write them, quarters labelled as the council's year numbers them, dates given
//! in the manifest, and weak or odd dates said out loud. The reading of names itself is
//! table-tested in `src/dating/table_tests.rs`.

use serde_json::Value;

use crate::support::gaps::{
    area, gaps_json, manifest, reasons, req, requirement, single, status, VISIT,
};
use crate::support::TestEnv;

/// The `files[]` entry of `path` in requirement `id`.
fn file<'a>(v: &'a Value, id: &str, path: &str) -> &'a Value {
    requirement(v, id)["files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{id} does not list {path}"))
}

#[test]
fn names_written_the_way_staff_write_them_cover_the_months_they_mean() {
    let env = TestEnv::new();
    // One file per month of the window, each in a different hand; none would count before.
    for name in [
        "s/Scorecard - Aug 20.xlsx",
        "s/Scorecard Sept20.xlsx",
        "s/Perm Panel mins 8 Oct 20.docx",
        "s/Scorecard 202011.xlsx",
        "s/Minutes 3 Dec 2020 - approved 14 Jan 2021.docx",
        "s/2020/07/Scorecard.xlsx",
    ] {
        env.file(name, "x");
    }
    let (v, code) = gaps_json(&env, &single(&["s/**"], "cadence = \"monthly\""), &[]);
    assert_eq!(status(&v, "R"), "met", "{}", reasons(&v, "R").join("; "));
    assert_eq!(code, 0);
    // The approval a month later is administrative: the minutes are December's.
    let minutes = file(&v, "R", "s/Minutes 3 Dec 2020 - approved 14 Jan 2021.docx");
    assert_eq!(minutes["date"], "2020-12-03");
    assert_eq!(
        file(&v, "R", "s/2020/07/Scorecard.xlsx")["date_source"],
        "folder"
    );
}

#[test]
fn a_version_number_is_not_a_day() {
    let env = TestEnv::new();
    env.file("p/Supervision Policy v3.2 Jan 2020.docx", "x");
    let (v, _) = gaps_json(&env, &single(&["p/**"], ""), &[]);
    let f = file(&v, "R", "p/Supervision Policy v3.2 Jan 2020.docx");
    assert_eq!(f["date"], "2020-01");
    assert_eq!(f["date_precision"], "month");
    assert_eq!(f["covers"]["from"], "2020-01-01");
    assert_eq!(f["covers"]["to"], "2020-01-31");
}

#[test]
fn financial_year_quarters_cover_their_quarter_and_are_labelled_as_councils_say() {
    let env = TestEnv::new();
    env.file("q/Practice Evaluation Q2 2020-21.pdf", "x")
        .file("q/2020-21/Q3/Audit summary.pdf", "x");
    let (v, code) = gaps_json(&env, &single(&["q/**"], "cadence = \"quarterly\""), &[]);
    assert_eq!(status(&v, "R"), "met", "{}", reasons(&v, "R").join("; "));
    assert_eq!(code, 0);
    let q2 = file(&v, "R", "q/Practice Evaluation Q2 2020-21.pdf");
    assert_eq!(q2["date"], "Q2 2020-21");
    assert_eq!(q2["date_precision"], "quarter");
    assert_eq!(q2["covers"]["from"], "2020-07-01");
    assert_eq!(q2["covers"]["to"], "2020-09-30");
    let q3 = file(&v, "R", "q/2020-21/Q3/Audit summary.pdf");
    assert_eq!(q3["date"], "Q3 2020-21");
    assert_eq!(q3["date_source"], "folder");
    let labels: Vec<&str> = requirement(&v, "R")["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .filter_map(|p| p["label"].as_str())
        .collect();
    assert_eq!(labels, ["Q2 2020-21", "Q3 2020-21"]);
    // A quarterly report is not a monthly one: it covers none of the three months.
    let (v, _) = gaps_json(&env, &single(&["q/**"], "cadence = \"monthly\""), &[]);
    assert!(
        reasons(&v, "R").contains(&"no file dated 2020-08".to_string()),
        "{:?}",
        reasons(&v, "R")
    );
}

#[test]
fn year_start_january_labels_calendar_quarters_everywhere() {
    let env = TestEnv::new();
    env.file("q/Vacancy log Dec 2020.csv", "x");
    let text = single(&["q/**"], "cadence = \"quarterly\"").replace(
        "date = 2021-01-18\n",
        "date = 2021-01-18\nyear_start = \"january\"\n",
    );
    let (v, _) = gaps_json(&env, &text, &[]);
    assert_eq!(v["visit"]["year_start"], "january");
    assert_eq!(reasons(&v, "R"), ["no file dated 2020-Q3"]);
    env.manifest(&text);
    let csv = env.run(&["gaps", "--format", "csv"]);
    assert!(String::from_utf8_lossy(&csv.stdout).contains("no file dated 2020-Q3"));
    env.run(&["report", "--out", "r.html"]);
    let html = std::fs::read_to_string(env.root().join("r.html")).expect("r.html");
    assert!(html.contains(">Q3 2020</time>"), "calendar grid headings");
    // The default, April, numbers the same quarter as the financial year does.
    let (v, _) = gaps_json(&env, &single(&["q/**"], "cadence = \"quarterly\""), &[]);
    assert_eq!(v["visit"]["year_start"], "april");
    assert_eq!(reasons(&v, "R"), ["no file dated Q2 2020-21"]);
    env.manifest(&single(&["q/**"], "cadence = \"quarterly\""));
    env.run(&["report", "--out", "r.html"]);
    let html = std::fs::read_to_string(env.root().join("r.html")).expect("r.html");
    assert!(
        html.contains(">Q2 2020-21</time>"),
        "financial-year grid headings"
    );
}

#[test]
fn the_manifest_can_date_a_file_that_cannot_be_renamed() {
    let env = TestEnv::new();
    env.file("m/Board minutes (final).docx", "x")
        .file("m/Scorecard.xlsx", "x")
        .file("m/Practice evaluation.pdf", "x");
    let text = format!(
        "{}\n[dates]\n\"m/board MINUTES (final).docx\" = 2020-12-03\n\"m/Scorecard.xlsx\" = \"2020-11\"\n\"m/Practice evaluation.pdf\" = \"Q3 2020-21\"\n\"m/Not there.docx\" = 2020-10-01\n{}",
        VISIT,
        area("A", &[req("R", &["m/**"], "min_files = 3")])
    );
    env.manifest(&text);
    let out = env.run(&["gaps", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: [dates] on line 10 names `m/Not there.docx`"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("gaps JSON");
    assert_eq!(status(&v, "R"), "met", "{}", reasons(&v, "R").join("; "));
    let minutes = file(&v, "R", "m/Board minutes (final).docx");
    assert_eq!(minutes["date"], "2020-12-03");
    assert_eq!(minutes["date_source"], "manifest");
    assert_eq!(file(&v, "R", "m/Scorecard.xlsx")["date"], "2020-11");
    assert_eq!(
        file(&v, "R", "m/Practice evaluation.pdf")["date"],
        "Q3 2020-21"
    );
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_date_the_manifest_cannot_read_is_an_error_at_its_line() {
    let env = TestEnv::new();
    let text = format!(
        "{}\n[dates]\n\"m/a.docx\" = \"sometime in autumn\"\n{}",
        VISIT,
        area("A", &[req("R", &["m/**"], "")])
    );
    env.manifest(&text);
    let out = env
        .cmd()
        .args(["manifest", "check", "manifest.toml"])
        .output()
        .expect("manifest check");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("manifest.toml:7:"), "{stderr}");
    assert!(stderr.contains("sometime in autumn"), "{stderr}");
    assert!(
        stderr.contains("Q3 2020-21"),
        "the fix shows the forms: {stderr}"
    );
}

#[test]
fn weak_and_late_dates_are_said_not_hidden() {
    let env = TestEnv::new();
    env.file("w/Notes.md", "no date in the name")
        .file("w/Audit 2021-03-01.pdf", "after the visit")
        .file("w/Audit 2020-12-01.pdf", "x");
    let nov = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_605_441_600);
    std::fs::File::options()
        .write(true)
        .open(env.evidence().join("w/Notes.md"))
        .and_then(|f| f.set_modified(nov))
        .expect("date the notes 15 November 2020 by their modification time");
    let text = manifest(&[area("A", &[req("R", &["w/**"], "min_files = 3")])]);
    env.manifest(&text);
    let out = env.run(&["gaps"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "1 file has no date in its name or folder: dated by modification time, which a copy resets"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 file dated after the reference date 2021-01-18, not counted"),
        "{stdout}"
    );
    let (v, _) = gaps_json(&env, &text, &[]);
    assert_eq!(v["summary"]["files_dated_by_modification"], 1);
    assert_eq!(v["summary"]["files_after_reference"], 1);
    let r = reasons(&v, "R");
    assert!(
        r.iter()
            .any(|x| x.contains("(1 of them dated only by modification time")),
        "{r:?}"
    );
    assert!(
        r.iter()
            .any(|x| x.contains("`w/Audit 2021-03-01.pdf` (2021-03-01)")),
        "{r:?}"
    );
}

#[test]
fn as_of_after_the_visit_date_is_warned_about() {
    let env = TestEnv::new();
    env.file("a/Audit 2020-12-01.pdf", "x");
    env.manifest(&single(&["a/**"], ""));
    let out = env.run(&["gaps", "--as-of", "2021-03-01"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: --as-of 2021-03-01 is after the visit date 2021-01-18"),
        "{stderr}"
    );
}
