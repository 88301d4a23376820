//! The date a file speaks for (issue 2): every written form, folder dates, the
//! modification-time fallback, impossible dates, latest-of-several; through the binary, and
//! a property test over `evpack::dating::date_in`.

use std::time::{Duration, SystemTime};

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::gaps::{gaps_json, reasons, requirement, single, status};
use crate::support::TestEnv;
use evpack::dating::{date_in, Precision, SpokenDate};

/// `evpack list --format json` over `env` with a manifest matching everything; returns
/// (path, date, date_source) per file.
fn listed(env: &TestEnv) -> Vec<(String, String, String)> {
    env.manifest(&single(&["**"], ""));
    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml", "--format", "json"])
        .output()
        .expect("evpack list --format json");
    // 0 or 1 (gaps, as for every command that assesses); 2 would be an unusable input.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("evpack list --format json");
    v["files"]
        .as_array()
        .expect("evpack list --format json")
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .expect("evpack list --format json")
                    .to_string(),
                f["date"]
                    .as_str()
                    .expect("evpack list --format json")
                    .to_string(),
                f["date_source"]
                    .as_str()
                    .expect("evpack list --format json")
                    .to_string(),
            )
        })
        .collect()
}

fn date_of(files: &[(String, String, String)], path: &str) -> (String, String) {
    files
        .iter()
        .find(|f| f.0 == path)
        .map(|f| (f.1.clone(), f.2.clone()))
        .unwrap_or_else(|| panic!("{path} not listed in {files:?}"))
}

fn set_mtime(env: &TestEnv, rel: &str, date: NaiveDate) {
    let secs = date
        .and_hms_opt(12, 0, 0)
        .expect("set the modification time")
        .and_utc()
        .timestamp();
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64);
    std::fs::File::options()
        .write(true)
        .open(env.evidence().join(rel))
        .expect("set the modification time")
        .set_modified(t)
        .expect("set the modification time");
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

#[test]
fn every_written_form_in_a_file_name() {
    let env = TestEnv::new();
    let cases = [
        ("PP audit 2020-10-15.docx", "2020-10-15"),
        ("Local offer 2020_10_15.md", "2020-10-15"),
        ("Scorecard 20201015.csv", "2020-10-15"),
        ("Minutes 15.10.2020.docx", "2020-10-15"),
        ("Dip sample 15-10-2020.md", "2020-10-15"),
        // Saved without an extension: the last `.2020` is the year, not an extension.
        ("PP audit 15.10.2020", "2020-10-15"),
        ("2020-10 highlight report.md", "2020-10"),
        ("Scorecard Oct 2020.csv", "2020-10"),
        ("Graded Care Profile guidance October 2020.pdf", "2020-10"),
        ("Pathway Plan template Oct-2020.docx", "2020-10"),
        ("minutes 15th October 2020.md", "2020-10-15"),
    ];
    for (name, _) in cases {
        env.file(&format!("forms/{name}"), "x");
        // A modification time far from every written date, so a fallback would show.
        set_mtime(&env, &format!("forms/{name}"), day(2001, 1, 1));
    }
    let files = listed(&env);
    for (name, want) in cases {
        let got = date_of(&files, &format!("forms/{name}"));
        assert_eq!(got, (want.to_string(), "name".to_string()), "{name}");
    }
}

#[test]
fn a_day_first_slash_date_is_read() {
    // `/` cannot be in a file name, but it is in folder names on other systems and in text.
    assert_eq!(
        date_in("PP audit 15/10/2020"),
        Some(SpokenDate::day(day(2020, 10, 15)))
    );
}

#[test]
fn month_only_date_counts_as_the_last_day_of_its_month() {
    let env = TestEnv::new();
    env.file("logs/Escalation log 2020-10.csv", "x");
    let m = single(&["logs/*"], "max_age_days = 35");
    // 2020-10-31 is 35 days before 2020-12-05 and 36 before 2020-12-06.
    let (v, _) = gaps_json(&env, &m, &["--as-of", "2020-12-05"]);
    assert_eq!(status(&v, "R"), "met");
    let f = &requirement(&v, "R")["files"][0];
    assert_eq!(f["date"], "2020-10");
    assert_eq!(f["date_precision"], "month");
    assert_eq!(f["date_source"], "name");
    let (v, _) = gaps_json(&env, &m, &["--as-of", "2020-12-06"]);
    assert_eq!(status(&v, "R"), "stale");
    assert_eq!(
        reasons(&v, "R"),
        ["newest is 2020-10, 36 days old, older than 35 days"]
    );
}

#[test]
fn folder_dates_when_the_name_has_none() {
    let env = TestEnv::new();
    env.file("scorecards/2020-09/Scorecard.csv", "x")
        .file("minutes/high risk panel/2020-08/panel/Notes.md", "x")
        .file("plans/2020-08/2020-09/Plan.md", "x")
        .file("scorecards/2020-09/Scorecard 2020-10-01.csv", "x")
        .file("reports/Oct 2020 pack/Summary.md", "x");
    let files = listed(&env);
    let got = |p: &str| date_of(&files, p);
    let folder = |d: &str| (d.to_string(), "folder".to_string());
    assert_eq!(got("scorecards/2020-09/Scorecard.csv"), folder("2020-09"));
    // The nearest folder with a date.
    assert_eq!(
        got("minutes/high risk panel/2020-08/panel/Notes.md"),
        folder("2020-08")
    );
    assert_eq!(got("plans/2020-08/2020-09/Plan.md"), folder("2020-09"));
    assert_eq!(got("reports/Oct 2020 pack/Summary.md"), folder("2020-10"));
    // The name wins over the folder.
    assert_eq!(
        got("scorecards/2020-09/Scorecard 2020-10-01.csv"),
        ("2020-10-01".to_string(), "name".to_string())
    );
}

#[test]
fn the_evidence_folder_name_itself_gives_no_date() {
    let env = TestEnv::new();
    let root = env.root().join("Evidence 2020-10-01");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "x").unwrap();
    env.manifest(&single(&["**"], ""));
    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml", "-e", "Evidence 2020-10-01"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["date_source"], "modified");
}

#[test]
fn modification_time_is_the_fallback_and_reported_as_such() {
    let env = TestEnv::new();
    env.file("misc/old notes.txt", "x")
        .file("misc/Staff rota draft.docx", "x");
    set_mtime(&env, "misc/old notes.txt", day(2020, 10, 15));
    set_mtime(&env, "misc/Staff rota draft.docx", day(2019, 3, 2));
    let files = listed(&env);
    assert_eq!(
        date_of(&files, "misc/old notes.txt"),
        ("2020-10-15".to_string(), "modified".to_string())
    );

    let (v, code) = gaps_json(&env, &single(&["misc/*rota*"], ""), &[]);
    assert_eq!(code, 1);
    assert_eq!(requirement(&v, "R")["files"][0]["date_source"], "modified");
    assert_eq!(
        reasons(&v, "R"),
        ["newest is 2019-03-02 (dated only by its modification time, which a copy resets), before the look-back window starting 2020-07-18"]
    );

    // `list` says where the date came from.
    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("misc/old notes.txt"))
        .unwrap();
    assert!(line.starts_with("2020-10-15  modified"), "{line}");
}

#[test]
fn impossible_dates_are_rejected_not_guessed() {
    let env = TestEnv::new();
    for name in [
        "Audit 2020-02-30.md",
        "Audit 31.02.2020.md",
        "Audit 20201332.md",
        "Audit 2020-13.md",
        "Audit 29.02.2019.md",
        // Not read as "September 2020": that would be a guess.
        "Audit 31 Sep 2020.md",
    ] {
        env.file(&format!("bad/{name}"), "x");
        set_mtime(&env, &format!("bad/{name}"), day(2001, 1, 1));
    }
    env.file("bad/Leap day 29.02.2020.md", "x");
    let files = listed(&env);
    for (path, date, source) in &files {
        if path.contains("Leap day") {
            assert_eq!((date.as_str(), source.as_str()), ("2020-02-29", "name"));
        } else {
            assert_eq!(
                (date.as_str(), source.as_str()),
                ("2001-01-01", "modified"),
                "{path}"
            );
        }
    }
}

#[test]
fn the_latest_of_several_dates_counts() {
    let env = TestEnv::new();
    env.file("a/PWP audit Aug 2020 follow-up 2020-11-24.md", "x")
        .file("a/2020-12 highlight report v2 2021-01-08.md", "x")
        .file("a/Plan 2020-09-01 revised 03.11.2020.md", "x")
        .file("a/Report 15.10.2020 for Oct 2020.md", "x")
        .file("a/Report Oct 2020 signed 31.10.2020.md", "x");
    let files = listed(&env);
    let got = |p: &str| date_of(&files, p).0;
    assert_eq!(
        got("a/PWP audit Aug 2020 follow-up 2020-11-24.md"),
        "2020-11-24"
    );
    assert_eq!(
        got("a/2020-12 highlight report v2 2021-01-08.md"),
        "2021-01-08"
    );
    assert_eq!(got("a/Plan 2020-09-01 revised 03.11.2020.md"), "2020-11-03");
    // A month counts as its last day, so October beats the 15th...
    assert_eq!(got("a/Report 15.10.2020 for Oct 2020.md"), "2020-10");
    // ...and on a tie the day date, being more precise, is kept.
    assert_eq!(got("a/Report Oct 2020 signed 31.10.2020.md"), "2020-10-31");
}

#[test]
fn numbers_that_are_not_dates_are_not_read_as_dates() {
    for text in [
        "Case 123456789",
        "Room 2020",
        "Version 2.3",
        "Report 2020.10",
        "Minutes 1850-10-01",
        "Budget 2150-01",
        "March",
        "Mar",
    ] {
        assert_eq!(date_in(text), None, "{text}");
    }
}

// ---------------------------------------------------------------------------------------
// Property: a valid date in any supported form, in any surrounding text without digits or
// month names, is read back as itself.
// ---------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Writes `d` in form number `form`; returns the text and what it must read back as.
fn write_date(d: NaiveDate, form: usize, upper: bool) -> (String, SpokenDate) {
    let (y, m, dd) = (d.year(), d.month(), d.day());
    let full = MONTHS[m as usize - 1];
    let abbr = &full[..3];
    let case = |s: &str| {
        if upper {
            s.to_uppercase()
        } else {
            s.to_string()
        }
    };
    let as_day = SpokenDate::day(d);
    let as_month = SpokenDate::month(y, m).expect("a real month");
    match form {
        0 => (format!("{y}-{m:02}-{dd:02}"), as_day),
        1 => (format!("{y}_{m:02}_{dd:02}"), as_day),
        2 => (format!("{y}{m:02}{dd:02}"), as_day),
        3 => (format!("{dd:02}.{m:02}.{y}"), as_day),
        4 => (format!("{dd:02}-{m:02}-{y}"), as_day),
        5 => (format!("{dd:02}/{m:02}/{y}"), as_day),
        6 => (format!("{dd}.{m}.{y}"), as_day),
        7 => (format!("{dd} {} {y}", case(abbr)), as_day),
        8 => (format!("{dd} {} {y}", case(full)), as_day),
        9 => (format!("{y}-{m:02}"), as_month),
        10 => (format!("{y}_{m:02}"), as_month),
        11 => (format!("{} {y}", case(abbr)), as_month),
        12 => (format!("{} {y}", case(full)), as_month),
        13 => (format!("{}-{y}", case(abbr)), as_month),
        _ => (format!("{}{y}", case(abbr)), as_month),
    }
}
const FORMS: usize = 15;

/// A word is safe around a date when it is not a month name (or abbreviation), not an
/// ordinal suffix, and not a word that makes the number after it a version or a count
/// (`v15 Oct 2020` is version 15 of October 2020, issue 12).
fn safe_words(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic()).all(|w| {
        let w = w.to_lowercase();
        let month = w.len() >= 3
            && (w == "sept"
                || MONTHS.iter().any(|m| {
                    let m = m.to_lowercase();
                    m == w || (w.len() == 3 && m.starts_with(&w))
                }));
        let label = matches!(w.as_str(), "v" | "ver" | "version" | "issue" | "no");
        !month && !label && !matches!(w.as_str(), "st" | "nd" | "rd" | "th")
    })
}

fn surrounding() -> impl Strategy<Value = String> {
    // Letters (ASCII and not), spaces and the punctuation people put in file names; never
    // a digit of any script.
    proptest::string::string_regex("[a-zA-Zé ()_.,&'+\\-\\[\\]]{0,16}")
        .expect("a valid regex")
        .prop_filter("no digits or month names", |s| {
            !s.chars().any(char::is_numeric) && safe_words(s)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_written_date_is_read_back_as_itself(
        days in 0i64..(NaiveDate::from_ymd_opt(2100, 12, 31).unwrap()
            - NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()).num_days(),
        form in 0..FORMS,
        upper in any::<bool>(),
        before in surrounding(),
        after in surrounding(),
        join in prop::sample::select(vec![" ", "_", "-", " - ", "(", ") ", ""]),
    ) {
        let d = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Days::new(days as u64);
        let (written, want) = write_date(d, form, upper);
        // Letters glued to a month name make another word ("xOct"), so keep them apart.
        let glue_before = if before.ends_with(char::is_alphabetic)
            && written.starts_with(char::is_alphabetic) && join.is_empty() { " " } else { join };
        let text = format!("{before}{glue_before}{written}{join}{after}");
        prop_assert_eq!(date_in(&text), Some(want), "{:?}", text);
    }

    #[test]
    fn a_file_name_with_a_date_is_read_back_through_its_extension(
        days in 0u64..40_000,
        // Every form but 15/10/2020: `/` cannot be in a file name.
        form in prop::sample::select((0..FORMS).filter(|&f| f != 5).collect::<Vec<_>>()),
        ext in prop::sample::select(vec!["", ".docx", ".csv", ".md", ".pdf", ".xlsx"]),
    ) {
        let d = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Days::new(days);
        let (written, want) = write_date(d, form, false);
        let name = format!("Evidence {written}{ext}");
        prop_assert_eq!(evpack::dating::date_in_file_name(&name), Some(want), "{:?}", name);
        prop_assert_eq!(want.precision == Precision::Month, form >= 9);
    }

    #[test]
    fn any_text_is_read_without_panicking_and_only_years_1990_to_2100(text in "\\PC{0,40}") {
        if let Some(d) = date_in(&text) {
            prop_assert!((1990..=2100).contains(&d.start.year()), "{:?} in {:?}", d, text);
        }
    }
}
