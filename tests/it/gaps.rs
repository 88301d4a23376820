//! `evpack gaps` (issue 2): statuses, RAG, readiness, exit codes, formats, `list`,
//! `manifest check`, `--as-of` and the shipped sample, all through the binary.
//!
//! Unless a test says otherwise the visit is 2021-01-18 with the default 6-month look-back,
//! so the window is 2020-07-18 to 2021-01-18: monthly cadence needs 2020-07 to 2020-12 and
//! quarterly needs Q2 and Q3 2020-21 (July to September, October to December 2020).

use std::path::Path;

use serde_json::Value;

use crate::support::gaps::*;
use crate::support::TestEnv;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

/// Monthly files for 2020-07 to 2020-12, leaving out `skip`.
fn monthly_files(env: &TestEnv, folder: &str, skip: &[&str]) {
    for m in ["07", "08", "09", "10", "11", "12"] {
        if !skip.contains(&m) {
            env.file(&format!("{folder}/Scorecard 2020-{m}-20.csv"), "x");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------------------

#[test]
fn met_when_a_file_is_dated_in_the_window() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x");
    let (v, code) = gaps_json(&env, &single(&["audits/*"], ""), &[]);
    assert_eq!(status(&v, "R"), "met");
    assert!(reasons(&v, "R").is_empty());
    assert_eq!(
        requirement(&v, "R")["files"][0]["path"],
        "audits/Audit 2020-12-01.md"
    );
    assert_eq!(code, 0);
}

#[test]
fn partial_when_a_month_has_no_file() {
    let env = TestEnv::new();
    monthly_files(&env, "scorecards", &["11"]);
    let (v, code) = gaps_json(
        &env,
        &single(
            &["scorecards/*"],
            "cadence = \"monthly\"\nmax_age_days = 35",
        ),
        &[],
    );
    assert_eq!(status(&v, "R"), "partial");
    assert_eq!(reasons(&v, "R"), ["no file dated 2020-11"]);
    let periods = requirement(&v, "R")["periods"].as_array().unwrap();
    let labels: Vec<&str> = periods
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["2020-07", "2020-08", "2020-09", "2020-10", "2020-11", "2020-12"]
    );
    assert_eq!(periods[4]["covered"], false);
    assert_eq!(code, 1);
}

#[test]
fn monthly_met_when_every_month_has_a_file() {
    let env = TestEnv::new();
    monthly_files(&env, "scorecards", &[]);
    let (v, code) = gaps_json(
        &env,
        &single(
            &["scorecards/*"],
            "cadence = \"monthly\"\nmax_age_days = 35",
        ),
        &[],
    );
    assert_eq!(status(&v, "R"), "met", "{:?}", reasons(&v, "R"));
    assert_eq!(code, 0);
}

#[test]
fn partial_when_too_few_files_in_the_window() {
    let env = TestEnv::new();
    env.file("audits/Dip sample 2020-09-10.md", "x")
        .file("audits/Dip sample 2020-12-04.md", "x")
        // Before the window: does not count.
        .file("audits/Dip sample 2020-05-04.md", "x");
    let (v, code) = gaps_json(&env, &single(&["audits/*"], "min_files = 3"), &[]);
    assert_eq!(status(&v, "R"), "partial");
    assert_eq!(
        reasons(&v, "R"),
        ["2 files dated in the window 2020-07-18 to 2021-01-18, 3 needed"]
    );
    assert_eq!(requirement(&v, "R")["files_in_window"], 2);
    assert_eq!(code, 1);
}

#[test]
fn partial_when_a_quarter_has_no_file() {
    let env = TestEnv::new();
    env.file("workforce/Vacancy log Dec 2020.csv", "x");
    let (v, code) = gaps_json(
        &env,
        &single(&["workforce/*"], "cadence = \"quarterly\""),
        &[],
    );
    assert_eq!(status(&v, "R"), "partial");
    // Quarters are numbered as an English council's year (April to March) numbers them.
    assert_eq!(reasons(&v, "R"), ["no file dated Q2 2020-21"]);
    assert_eq!(code, 1);

    env.file("workforce/Vacancy log 2020-08-03.csv", "x");
    let (v, code) = gaps_json(
        &env,
        &single(&["workforce/*"], "cadence = \"quarterly\""),
        &[],
    );
    assert_eq!(status(&v, "R"), "met");
    assert_eq!(code, 0);
}

#[test]
fn a_file_dated_before_the_window_in_its_first_month_covers_that_month() {
    // The window opens on 2020-07-18; a file dated 2020-07-10 is still July's file, so the
    // reason "no file dated 2020-07" would be false.
    let env = TestEnv::new();
    monthly_files(&env, "minutes", &["07"]);
    env.file("minutes/Panel minutes 2020-07-10.md", "x");
    let (v, _) = gaps_json(&env, &single(&["minutes/*"], "cadence = \"monthly\""), &[]);
    assert_eq!(status(&v, "R"), "met", "{:?}", reasons(&v, "R"));
}

#[test]
fn stale_when_the_newest_is_older_than_max_age_days() {
    let env = TestEnv::new();
    env.file("logs/Escalation log 2020-12-13.csv", "x")
        .file("logs/Escalation log 2020-09-01.csv", "x");
    let (v, code) = gaps_json(&env, &single(&["logs/*"], "max_age_days = 35"), &[]);
    assert_eq!(status(&v, "R"), "stale");
    assert_eq!(
        reasons(&v, "R"),
        ["newest is 2020-12-13, 36 days old, older than 35 days"]
    );
    assert_eq!(requirement(&v, "R")["newest"], "2020-12-13");
    assert_eq!(code, 1);

    // 35 days old is still fresh.
    env.file("logs/Escalation log 2020-12-14.csv", "x");
    let (v, code) = gaps_json(&env, &single(&["logs/*"], "max_age_days = 35"), &[]);
    assert_eq!(status(&v, "R"), "met");
    assert_eq!(code, 0);
}

#[test]
fn stale_when_dated_before_the_window_without_max_age_days() {
    let env = TestEnv::new();
    env.file("plans/Work plan 2020-07-17.docx", "x");
    let (v, code) = gaps_json(&env, &single(&["plans/*"], ""), &[]);
    assert_eq!(status(&v, "R"), "stale");
    assert_eq!(
        reasons(&v, "R"),
        ["newest is 2020-07-17, before the look-back window starting 2020-07-18"]
    );
    assert_eq!(code, 1);

    // The window is inclusive.
    env.file("plans/Work plan 2020-07-18.docx", "x");
    let (v, code) = gaps_json(&env, &single(&["plans/*"], ""), &[]);
    assert_eq!(status(&v, "R"), "met");
    assert_eq!(code, 0);
}

#[test]
fn max_age_days_longer_than_the_window_keeps_an_older_file_fresh() {
    // A policy reviewed in March 2020 is fresh under max_age_days = 365, so it counts
    // towards min_files even though it predates the 6-month look-back.
    let env = TestEnv::new();
    env.file("policies/Local offer 2020-03-01.md", "x");
    let (v, code) = gaps_json(&env, &single(&["policies/*"], "max_age_days = 365"), &[]);
    assert_eq!(status(&v, "R"), "met", "{:?}", reasons(&v, "R"));
    assert_eq!(code, 0);

    let (v, _) = gaps_json(
        &env,
        &single(&["policies/*"], "max_age_days = 365\nmin_files = 2"),
        &[],
    );
    assert_eq!(
        reasons(&v, "R"),
        ["1 file dated in the window 2020-01-19 to 2021-01-18, 2 needed"]
    );
}

#[test]
fn missing_when_no_file_matches() {
    let env = TestEnv::new();
    env.file("audits/Permanence audit 2020-11-16.md", "x");
    let (v, code) = gaps_json(&env, &single(&["audits/**/*life*story*"], ""), &[]);
    assert_eq!(status(&v, "R"), "missing");
    assert_eq!(
        reasons(&v, "R"),
        ["no file matches `audits/**/*life*story*`"]
    );
    assert!(requirement(&v, "R")["files"].as_array().unwrap().is_empty());
    assert_eq!(code, 1);
}

// ---------------------------------------------------------------------------------------
// RAG, readiness, advisory requirements, exit codes
// ---------------------------------------------------------------------------------------

#[test]
fn rag_per_area_and_readiness_percent() {
    let env = TestEnv::new();
    env.file("g/Audit 2020-12-01.md", "x")
        .file("a/Audit 2020-12-01.md", "x")
        .file("a/Old plan 2019-01-01.md", "x")
        .file("r/Audit 2020-12-01.md", "x");
    let m = manifest(&[
        area(
            "GREEN",
            &[
                req("G1", &["g/*audit*"], ""),
                req("G2", &["nothing/*"], "required = false"),
            ],
        ),
        area(
            "AMBER",
            &[req("A1", &["a/*audit*"], ""), req("A2", &["a/*plan*"], "")],
        ),
        area(
            "RED",
            &[req("R1", &["r/*audit*"], ""), req("R2", &["r/*plan*"], "")],
        ),
    ]);
    let (v, code) = gaps_json(&env, &m, &[]);
    assert_eq!(area_of(&v, "GREEN")["rag"], "green");
    assert_eq!(area_of(&v, "AMBER")["rag"], "amber");
    assert_eq!(area_of(&v, "RED")["rag"], "red");
    let s = &v["summary"];
    // 3 of 5 required met.
    assert_eq!(s["readiness_percent"], 60);
    assert_eq!(s["required_total"], 5);
    assert_eq!(s["required_met"], 3);
    assert_eq!(s["required"]["stale"], 1);
    assert_eq!(s["required"]["missing"], 1);
    assert_eq!(s["advisory"]["missing"], 1);
    assert_eq!(s["areas"]["green"], 1);
    assert_eq!(s["areas"]["amber"], 1);
    assert_eq!(s["areas"]["red"], 1);
    assert_eq!(code, 1);
}

#[test]
fn readiness_is_rounded_down() {
    let env = TestEnv::new();
    env.file("x/Audit 2020-12-01.md", "x");
    let m = manifest(&[area(
        "A",
        &[
            req("R1", &["x/*"], ""),
            req("R2", &["x/*"], ""),
            req("R3", &["y/*"], ""),
        ],
    )]);
    let (v, _) = gaps_json(&env, &m, &[]);
    // 2 of 3 is 66.7%: never shown as more than it is.
    assert_eq!(v["summary"]["readiness_percent"], 66);
}

#[test]
fn advisory_gaps_never_fail_the_exit_code() {
    let env = TestEnv::new();
    env.file("x/Audit 2020-12-01.md", "x")
        .file("old/Training log 2019-05-01.csv", "x");
    let m = manifest(&[area(
        "A",
        &[
            req("R1", &["x/*"], ""),
            req("ADV1", &["nothing/*"], "required = false"),
            req("ADV2", &["old/*"], "required = false\nmax_age_days = 90"),
        ],
    )]);
    let (v, code) = gaps_json(&env, &m, &[]);
    assert_eq!(status(&v, "ADV1"), "missing");
    assert_eq!(status(&v, "ADV2"), "stale");
    assert_eq!(requirement(&v, "ADV1")["required"], false);
    assert_eq!(area_of(&v, "A")["rag"], "green");
    assert_eq!(v["summary"]["readiness_percent"], 100);
    assert_eq!(code, 0);

    // The gaps are still reported, marked advisory.
    env.manifest(&m);
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("ADV1     missing Owner of ADV1 [advisory]: no file matches `nothing/*`"),
        "{text}"
    );
}

#[test]
fn exit_code_0_1_and_2() {
    let env = TestEnv::new();
    env.file("x/Audit 2020-12-01.md", "x");
    env.manifest(&single(&["x/*"], ""));
    env.cmd()
        .args(["gaps", "-m", "manifest.toml"])
        .assert()
        .code(0);

    env.manifest(&single(&["y/*"], ""));
    env.cmd()
        .args(["gaps", "-m", "manifest.toml"])
        .assert()
        .code(1);

    // Unusable input: a bad manifest, a missing manifest, a missing evidence folder, an
    // evidence path that is a file.
    env.manifest("[visit]\nname = 1\n");
    env.cmd()
        .args(["gaps", "-m", "manifest.toml"])
        .assert()
        .code(2)
        .stdout("");
    env.manifest(&single(&["x/*"], ""));
    let out = env
        .cmd()
        .args(["gaps", "-m", "nope.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nope.toml: manifest not found"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "-e", "no-such-folder"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no-such-folder: the evidence folder cannot be opened"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "-e", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a folder"), "{}", stderr(&out));
    // A bad --as-of is a usage error.
    env.cmd()
        .args(["gaps", "-m", "manifest.toml", "--as-of", "18/01/2021"])
        .assert()
        .code(2);
}

#[test]
fn exit_codes_are_documented_in_help() {
    let env = TestEnv::new();
    let out = env.cmd().args(["gaps", "--help"]).output().unwrap();
    let help = stdout(&out);
    assert!(help.contains("Exit codes:"), "{help}");
    for code in [
        "0  every required requirement is met",
        "1  gaps",
        "2  the input is unusable",
    ] {
        assert!(help.contains(code), "{code} not in {help}");
    }
}

// ---------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------

/// Two areas: one green, one red with a required and an advisory gap, plus an unmatched
/// file.
fn mixed(env: &TestEnv) -> String {
    env.file("audits/Audit 2020-12-01.md", "x")
        .file("misc/Stray notes 2020-10-01.txt", "x");
    manifest(&[
        area("P1", &[req("P1.1", &["audits/*"], "")]),
        area(
            "P2",
            &[
                req("P2.1", &["plans/*"], ""),
                req("P2.2", &["policies/*"], "required = false"),
            ],
        ),
    ])
}

#[test]
fn text_report_without_colour_when_piped() {
    let env = TestEnv::new();
    env.manifest(&mixed(&env));
    let out = env
        .cmd()
        .env_remove("NO_COLOR")
        .args(["gaps", "-m", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        !text.contains('\x1b'),
        "colour codes in piped output: {text:?}"
    );
    assert!(
        text.lines().all(|l| l == l.trim_end()),
        "trailing spaces: {text:?}"
    );
    assert!(
        text.starts_with("Focused visit - Example Council\n"),
        "{text}"
    );
    assert!(
        text.contains("Readiness 50%: 1 of 2 required requirements met"),
        "{text}"
    );
    assert!(text.contains("GREEN P1 Area P1"), "{text}");
    assert!(text.contains("RED   P2 Area P2"), "{text}");
    assert!(text.contains("Gaps to chase (2)"), "{text}");
    assert!(
        text.contains("P2.1     missing Owner of P2.1: no file matches `plans/*`"),
        "{text}"
    );
    assert!(text.contains("\n1 file matches no requirement"), "{text}");
}

#[test]
fn text_report_colour_on_a_terminal_unless_no_color() {
    if !crate::support::have_tool("script", &["--version"]) {
        return;
    }
    let env = TestEnv::new();
    env.manifest(&mixed(&env));
    let bin = crate::support::evpack_bin();
    let run = |no_color: bool| {
        let mut c = std::process::Command::new("script");
        c.current_dir(env.root())
            .args(["-qec"])
            .arg(format!("'{}' gaps -m manifest.toml", bin.display()))
            .arg("/dev/null")
            .env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    let coloured = run(false);
    assert!(coloured.contains("\x1b[1;31mRED"), "{coloured:?}");
    let plain = run(true);
    assert!(plain.contains("RED   P2"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn json_report_has_the_documented_fields() {
    let env = TestEnv::new();
    let (v, code) = gaps_json(&env, &mixed(&env), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["schema"], "evpack.assessment.v1");
    assert_eq!(v["summary"]["readiness_percent"], 50);
    assert_eq!(v["reference_date"], "2021-01-18");
    assert_eq!(v["window"]["start"], "2020-07-18");
    assert_eq!(v["window"]["end"], "2021-01-18");
    let ids: Vec<&str> = v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["P1", "P2"]);
    assert_eq!(area_of(&v, "P1")["rag"], "green");
    assert_eq!(area_of(&v, "P2")["rag"], "red");
    let r = requirement(&v, "P1.1");
    assert_eq!(r["status"], "met");
    assert_eq!(r["required"], true);
    assert_eq!(r["reasons"], serde_json::json!([]));
    assert_eq!(
        r["files"],
        serde_json::json!([{
            "path": "audits/Audit 2020-12-01.md",
            "date": "2020-12-01",
            "date_precision": "day",
            "covers": {"from": "2020-12-01", "to": "2020-12-01"},
            "date_source": "name",
            "size": 29,
            "check": "ok",
            "check_detail": null
        }])
    );
    assert_eq!(v["unusable"], serde_json::json!([]));
    assert_eq!(v["duplicates"], serde_json::json!([]));
    assert_eq!(v["summary"]["files_unusable"], 0);
    assert_eq!(requirement(&v, "P2.2")["required"], false);
    assert_eq!(status(&v, "P2.1"), "missing");
    assert_eq!(paths(&v["unmatched"]), ["misc/Stray notes 2020-10-01.txt"]);
    assert_eq!(v["skipped"], serde_json::json!([]));
}

#[test]
fn csv_gap_register_has_one_row_per_requirement_not_met() {
    let env = TestEnv::new();
    env.manifest(&mixed(&env));
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut rdr = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    for col in [
        "area_id",
        "requirement_id",
        "status",
        "required",
        "owner",
        "reasons",
    ] {
        assert!(header.iter().any(|h| h == col), "{col} not in {header:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "met requirements are not in the register");
    assert_eq!(&rows[0][col("area_id")], "P2");
    assert_eq!(&rows[0][col("requirement_id")], "P2.1");
    assert_eq!(&rows[0][col("status")], "missing");
    assert_eq!(&rows[0][col("required")], "yes");
    assert_eq!(&rows[0][col("owner")], "Owner of P2.1");
    assert_eq!(&rows[0][col("reasons")], "no file matches `plans/*`");
    assert_eq!(&rows[1][col("requirement_id")], "P2.2");
    assert!(rows[1][col("required")].starts_with("no"));
}

#[test]
fn csv_cells_cannot_become_spreadsheet_formulas() {
    let env = TestEnv::new();
    let m = single(&["x/*"], "").replace(
        "owner = \"Owner of R\"",
        "owner = \"=HYPERLINK(\\\"http://example.invalid\\\")\"",
    );
    env.manifest(&m);
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--format", "csv"])
        .output()
        .unwrap();
    let mut rdr = csv::Reader::from_reader(out.stdout.as_slice());
    let owner = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "owner")
        .unwrap();
    let row = rdr.records().next().unwrap().unwrap();
    assert_eq!(&row[owner], "'=HYPERLINK(\"http://example.invalid\")");
}

#[test]
fn markdown_report() {
    let env = TestEnv::new();
    env.manifest(&mixed(&env));
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--format", "md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(md.starts_with("# "), "{md}");
    assert!(md.contains("Readiness: 50%"), "{md}");
    assert!(md.contains("P2.1"), "{md}");
    // Reasons are escaped for Markdown, so `*` in a glob cannot start emphasis.
    assert!(md.contains("no file matches \\`plans/\\*\\`"), "{md}");
    assert!(
        md.lines()
            .any(|l| l.starts_with('|') && l.contains("missing")),
        "{md}"
    );
    assert!(!md.contains('\x1b'));
}

// ---------------------------------------------------------------------------------------
// list, manifest check, --as-of, defaults
// ---------------------------------------------------------------------------------------

#[test]
fn list_shows_every_file_with_date_source_and_requirements_then_unmatched() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x")
        .file("scorecards/2020-09/Scorecard.csv", "x")
        .file("misc/Stray notes 2020-10-01.txt", "x");
    env.manifest(&manifest(&[area(
        "A",
        &[
            req("R1", &["audits/*"], ""),
            req("R2", &["**/*audit*", "scorecards/**"], ""),
        ],
    )]));
    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let line = |needle: &str| -> String {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {text}"))
            .to_string()
    };
    let audit = line("audits/Audit 2020-12-01.md");
    assert!(audit.starts_with("2020-12-01"), "{audit}");
    assert!(audit.contains(" name "), "{audit}");
    assert!(audit.trim_end().ends_with("R1, R2"), "{audit}");
    let folder = line("scorecards/2020-09/Scorecard.csv");
    assert!(folder.starts_with("2020-09 "), "{folder}");
    assert!(folder.contains(" folder "), "{folder}");
    assert!(folder.trim_end().ends_with("R2"), "{folder}");
    let unmatched_at = text.find("Unmatched files (1)").expect("unmatched heading");
    assert!(text.find("misc/Stray notes 2020-10-01.txt").unwrap() > unmatched_at);
    assert!(text.find("audits/Audit 2020-12-01.md").unwrap() < unmatched_at);

    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let f = files
        .iter()
        .find(|f| f["path"] == "scorecards/2020-09/Scorecard.csv")
        .unwrap();
    assert_eq!(f["date"], "2020-09");
    assert_eq!(f["date_source"], "folder");
    assert_eq!(f["serves"], serde_json::json!(["R2"]));
}

/// `list` promises exit 1 on gaps, like every command that assesses (it returned 0 always).
#[test]
fn list_exits_1_on_gaps_and_0_when_every_required_requirement_is_met() {
    let env = TestEnv::new();
    env.file("audits/Audit 2021-01-04.md", "x");
    env.manifest(&manifest(&[area(
        "A",
        &[
            req("R1", &["audits/*"], ""),
            req("R2", &["plans/*"], "required = false"),
        ],
    )]));
    for format in ["text", "json"] {
        env.cmd()
            .args(["list", "-m", "manifest.toml", "--format", format])
            .assert()
            .code(0);
    }
    env.manifest(&manifest(&[area(
        "A",
        &[req("R1", &["audits/*"], ""), req("R2", &["plans/*"], "")],
    )]));
    for format in ["text", "json"] {
        env.cmd()
            .args(["list", "-m", "manifest.toml", "--format", format])
            .assert()
            .code(1);
    }
}

#[test]
fn manifest_check_validates_without_scanning() {
    let env = TestEnv::new();
    std::fs::remove_dir(env.evidence()).unwrap();
    env.manifest(&manifest(&[area(
        "A",
        &[
            req("R1", &["x/*"], ""),
            req("R2", &["y/*"], "required = false"),
        ],
    )]));
    let out = env
        .cmd()
        .args(["manifest", "check", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("manifest.toml: valid"), "{text}");
    assert!(
        text.contains("2 requirements (1 required, 1 advisory)"),
        "{text}"
    );

    env.manifest(&single(&["x/*"], "cadence = \"weekly\""));
    let out = env
        .cmd()
        .args(["manifest", "check", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("manifest.toml:17:11: unknown variant `weekly`"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn default_manifest_is_the_single_toml_in_manifests() {
    let env = TestEnv::new();
    env.file("x/Audit 2020-12-01.md", "x");
    let dir = env.root().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("visit.toml"), single(&["x/*"], "")).unwrap();
    std::fs::write(dir.join("README.md"), "not a manifest").unwrap();
    env.cmd().arg("gaps").assert().code(0);
    env.cmd()
        .args(["manifest", "check"])
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with("manifests/visit.toml: valid"));

    std::fs::write(dir.join("other.toml"), single(&["x/*"], "")).unwrap();
    for args in [&["gaps"][..], &["manifest", "check"], &["list"]] {
        let out = env.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("several manifests"), "{err}");
        assert!(err.contains("manifests/other.toml"), "{err}");
        assert!(err.contains("manifests/visit.toml"), "{err}");
        assert!(err.contains("--manifest"), "{err}");
    }
}

#[test]
fn as_of_moves_the_window_and_ignores_later_files() {
    let env = TestEnv::new();
    env.file("plans/Plan 2020-06-01.md", "x")
        .file("plans/Plan 2020-12-01.md", "x");
    let m = single(&["plans/*"], "");

    let (v, code) = gaps_json(&env, &m, &["--as-of", "2020-09-30"]);
    assert_eq!(v["reference_date"], "2020-09-30");
    assert_eq!(v["window"]["start"], "2020-03-30");
    assert_eq!(status(&v, "R"), "met");
    // The December plan did not exist on 2020-09-30.
    assert_eq!(requirement(&v, "R")["newest"], "2020-06-01");
    assert_eq!(code, 0);

    let (v, code) = gaps_json(&env, &m, &["--as-of", "2021-06-30"]);
    assert_eq!(v["window"]["start"], "2020-12-30");
    assert_eq!(status(&v, "R"), "stale");
    assert_eq!(
        reasons(&v, "R"),
        ["newest is 2020-12-01, before the look-back window starting 2020-12-30"]
    );
    assert_eq!(code, 1);

    // Files dated after the reference date are named, and a requirement with only those
    // is missing: "stale" is only said of files that are too old.
    let (v, _) = gaps_json(&env, &m, &["--as-of", "2020-05-01"]);
    assert_eq!(status(&v, "R"), "missing");
    assert_eq!(
        reasons(&v, "R"),
        ["2 files dated after the reference date 2020-05-01, not counted: `plans/Plan 2020-12-01.md` (2020-12-01), `plans/Plan 2020-06-01.md` (2020-06-01)"]
    );
    assert_eq!(v["summary"]["files_after_reference"], 2);

    env.manifest(&m);
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--as-of", "2020-09-30"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("as of 2020-09-30 | look-back 2020-03-30 to 2020-09-30"));
}

#[test]
fn lookback_months_sets_the_window() {
    let env = TestEnv::new();
    env.file("plans/Plan 2020-03-01.md", "x");
    let m = single(&["plans/*"], "").replace(
        "date = 2021-01-18\n",
        "date = 2021-01-18\nlookback_months = 12\n",
    );
    let (v, code) = gaps_json(&env, &m, &[]);
    assert_eq!(v["window"]["start"], "2020-01-18");
    assert_eq!(status(&v, "R"), "met");
    assert_eq!(code, 0);
}

// ---------------------------------------------------------------------------------------
// The shipped sample (manifests/README.md)
// ---------------------------------------------------------------------------------------

#[test]
fn shipped_sample_shows_what_its_readme_promises() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::new(crate::support::evpack_bin())
        .current_dir(repo)
        .env("NO_COLOR", "1")
        .args(["gaps", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();

    let expected = [
        ("P1.2", "partial"),
        ("M2.1", "partial"),
        ("P2.3", "partial"),
        ("P4.3", "partial"),
        ("C1.2", "partial"),
        ("P3.1", "stale"),
        ("P4.1", "stale"),
        ("C2.1", "stale"),
        ("C3.1", "stale"),
        ("P6.1", "missing"),
        ("P6.4", "stale"),
        ("P8.7", "missing"),
        ("C2.3", "missing"),
    ];
    let mut count = 0;
    for a in v["areas"].as_array().unwrap() {
        for r in a["requirements"].as_array().unwrap() {
            count += 1;
            let id = r["id"].as_str().unwrap();
            let want = expected
                .iter()
                .find(|(e, _)| *e == id)
                .map_or("met", |(_, s)| *s);
            assert_eq!(r["status"], want, "{id}: {:?}", r["reasons"]);
        }
    }
    assert_eq!(count, 62);
    for (id, advisory) in [
        ("P6.4", true),
        ("P8.7", true),
        ("C2.3", true),
        ("P6.1", false),
    ] {
        assert_eq!(requirement(&v, id)["required"], !advisory, "{id}");
    }
    assert_eq!(reasons(&v, "P1.2"), ["no file dated 2020-11"]);
    assert_eq!(reasons(&v, "P2.3"), ["no file dated 2020-08"]);
    assert_eq!(reasons(&v, "C1.2"), ["no file dated Q2 2020-21"]);
    assert!(reasons(&v, "P4.3")[0].starts_with("2 files dated in the window"));
    assert!(reasons(&v, "P3.1")[0].starts_with("newest is 2020-10,"));
    assert!(reasons(&v, "C2.1")[0].contains("before the look-back window"));

    let s = &v["summary"];
    assert_eq!(s["required_total"], 53);
    assert_eq!(s["required_met"], 43);
    assert_eq!(s["readiness_percent"], 81);
    let total = |k: &str| s["required"][k].as_u64().unwrap() + s["advisory"][k].as_u64().unwrap();
    assert_eq!(
        (
            total("met"),
            total("partial"),
            total("stale"),
            total("missing")
        ),
        (49, 5, 5, 3)
    );

    for (id, rag) in [
        ("P6", "red"),
        ("P5", "green"),
        ("P7", "green"),
        ("P8", "green"),
        ("C4", "green"),
        ("M1", "green"),
        ("M3", "green"),
        ("P1", "amber"),
        ("P2", "amber"),
        ("P3", "amber"),
        ("P4", "amber"),
        ("C1", "amber"),
        ("C2", "amber"),
        ("C3", "amber"),
        ("M2", "amber"),
    ] {
        assert_eq!(area_of(&v, id)["rag"], rag, "{id}");
    }

    let mut unmatched = paths(&v["unmatched"]);
    unmatched.sort();
    assert_eq!(
        unmatched,
        [
            "Staff rota draft.docx",
            "downloads/ILACS inspection report Jan 2020.pdf",
            "misc/Christmas cover arrangements 2020-12-01.md",
            "misc/old notes.txt",
            "scorecards/2020-11/CL scorecard Nov 2020.csv",
        ]
    );
    assert_eq!(s["files_scanned"], 136);
    assert_eq!(s["files_skipped"], 0);

    // Folder dates and latest-of-several, as the README lists them.
    let file = |req: &str, path: &str| -> Value {
        requirement(&v, req)["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} not under {req}"))
            .clone()
    };
    let f = file("P8.5", "scorecards/2020-09/Scorecard.csv");
    assert_eq!(
        (&f["date"], &f["date_source"]),
        (&"2020-09".into(), &"folder".into())
    );
    let f = file(
        "P7.1",
        "audits/placed with parents/PWP audit Aug 2020 follow-up 2020-11-24.md",
    );
    assert_eq!(f["date"], "2020-11-24");
    let f = file(
        "P8.2",
        "highlight/2020-12 highlight report v2 2021-01-08.md",
    );
    assert_eq!(f["date"], "2021-01-08");
}
