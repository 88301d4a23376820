//! Manifest errors (issue 2): each names the file, the line and the column and says what to
//! do, and exits 2, from `gaps` and from `manifest check` alike.

use crate::support::gaps::{area, manifest, req, single};
use crate::support::TestEnv;

/// Runs `gaps` and `manifest check` on `text`; both must exit 2 with the same message on
/// stderr, which is returned.
fn error_for(text: &str) -> String {
    let env = TestEnv::new();
    env.manifest(text);
    let gaps = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml"])
        .output()
        .expect("evpack output");
    let check = env
        .cmd()
        .args(["manifest", "check", "manifest.toml"])
        .output()
        .expect("evpack output");
    assert_eq!(gaps.status.code(), Some(2));
    assert_eq!(check.status.code(), Some(2));
    assert!(gaps.stdout.is_empty());
    let err = String::from_utf8(gaps.stderr).expect("evpack output");
    assert_eq!(err, String::from_utf8(check.stderr).expect("evpack output"));
    assert!(err.contains("\n  help: "), "no help in {err}");
    err
}

/// Asserts the error is at `line:column` of manifest.toml and mentions `words`.
fn assert_error(text: &str, line: usize, column: usize, words: &[&str]) {
    let err = error_for(text);
    let at = format!("evpack: error: manifest.toml:{line}:{column}: ");
    assert!(err.starts_with(&at), "expected {at}... got {err}");
    for w in words {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
}

// The good manifest `single(&["x/*"], EXTRA)` has these lines:
//  1 [visit]               10 (blank)
//  2 name = ...            11 [[area.requirement]]
//  3 authority = ...       12 id = "R"
//  4 date = 2021-01-18     13 title = "Requirement R"
//  5 (blank)               14 evidence = "audit"
//  6 [[area]]              15 paths = ["x/*"]
//  7 id = "A"              16 owner = "Owner of R"
//  8 kind = ...            17 EXTRA
//  9 title = "Area A"

#[test]
fn unknown_key() {
    assert_error(
        &single(&["x/*"], "max_age_day = 30"),
        17,
        1,
        &["unknown field `max_age_day`", "max_age_days"],
    );
    assert_error(
        &single(&["x/*"], "").replace("date = 2021-01-18", "date = 2021-01-18\nlookback = 6"),
        5,
        1,
        &["unknown field `lookback`"],
    );
}

#[test]
fn duplicate_ids() {
    let text = manifest(&[area("A", &[req("R", &["x/*"], ""), req("R", &["y/*"], "")])]);
    // The second `id = "R"` is on line 20, its value at column 6.
    assert_error(
        &text,
        20,
        6,
        &["duplicate requirement id `R`", "first used on line 12"],
    );

    let text = manifest(&[
        area("A", &[req("R1", &["x/*"], "")]),
        area("A", &[req("R2", &["x/*"], "")]),
    ]);
    assert_error(&text, 20, 6, &["duplicate area id `A`", "line 7"]);
}

#[test]
fn empty_paths() {
    let text = single(&[], "");
    assert_error(&text, 15, 9, &["requirement `R` has empty `paths`"]);
}

#[test]
fn invalid_glob() {
    assert_error(
        &single(&["audits/[a"], ""),
        15,
        10,
        &["invalid glob \"audits/[a\" in `R`"],
    );
    assert_error(
        &single(&["x/*", "../secrets/*"], ""),
        15,
        17,
        &["invalid glob", "`..` would leave the evidence folder"],
    );
    assert_error(&single(&["/etc/*"], ""), 15, 10, &["absolute"]);
}

#[test]
fn bad_date() {
    let bad = |date: &str| single(&["x/*"], "").replace("2021-01-18", date);
    assert_error(&bad("2021-02-30"), 4, 8, &[]);
    assert_error(&bad("\"2021-01-18\""), 4, 8, &["dates are bare TOML dates"]);
    assert_error(&bad("2021-01-18T10:00:00"), 4, 8, &["without a time"]);
}

#[test]
fn unknown_enum_values() {
    assert_error(
        &single(&["x/*"], "cadence = \"weekly\""),
        17,
        11,
        &["unknown variant `weekly`", "monthly", "quarterly"],
    );
    assert_error(
        &single(&["x/*"], "").replace("\"audit\"", "\"audits\""),
        14,
        12,
        &["unknown variant `audits`", "`audit`"],
    );
    assert_error(
        &single(&["x/*"], "").replace("ofsted-priority", "ofsted"),
        8,
        8,
        &["unknown variant `ofsted`", "commissioner-recommendation"],
    );
}

#[test]
fn out_of_range_numbers_and_wrong_types() {
    assert_error(
        &single(&["x/*"], "min_files = 0"),
        17,
        13,
        &["min_files = 0"],
    );
    assert_error(
        &single(&["x/*"], "max_age_days = -5"),
        17,
        16,
        &["max_age_days"],
    );
    assert_error(
        &single(&["x/*"], "required = \"no\""),
        17,
        12,
        &["invalid type"],
    );
}

#[test]
fn missing_keys_and_tables() {
    let text = single(&["x/*"], "").replace("title = \"Requirement R\"\n", "");
    let err = error_for(&text);
    assert!(err.contains("manifest.toml:"), "{err}");
    assert!(err.contains("missing field `title`"), "{err}");
    let err = error_for("[visit]\nname = \"V\"\nauthority = \"A\"\ndate = 2021-01-18\n");
    assert!(
        err.contains("manifest.toml:1:1: the manifest has no [[area]]"),
        "{err}"
    );
}

#[test]
fn toml_syntax_error() {
    let text = single(&["x/*"], "owner = \"unterminated");
    let err = error_for(&text);
    assert!(err.starts_with("evpack: error: manifest.toml:17:"), "{err}");
}

#[test]
fn not_found_and_several_manifests() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["manifest", "check", "absent.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("absent.toml: manifest not found"), "{err}");
    assert!(err.contains("help:"), "{err}");

    // No --manifest and no manifests/ folder.
    let out = env.cmd().arg("gaps").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("manifests"), "{err}");
    assert!(err.contains("--manifest"), "{err}");
}

#[test]
fn non_utf8_manifest() {
    let env = TestEnv::new();
    let mut bytes = single(&["x/*"], "").into_bytes();
    bytes.extend_from_slice(b"notes = \"caf\xe9\"\n");
    std::fs::write(env.root().join("manifest.toml"), bytes).unwrap();
    let out = env
        .cmd()
        .args(["manifest", "check", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("manifest.toml:18:13: the manifest is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn a_manifest_saved_on_windows_with_bom_and_crlf() {
    let env = TestEnv::new();
    let windows = |text: &str| format!("\u{feff}{}", text.replace('\n', "\r\n"));
    env.manifest(&windows(&single(&["x/*"], "")));
    env.cmd()
        .args(["manifest", "check", "manifest.toml"])
        .assert()
        .code(0);
    env.manifest(&windows(&single(&["x/*"], "max_age_day = 30")));
    let out = env
        .cmd()
        .args(["manifest", "check", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("manifest.toml:17:1: unknown field `max_age_day`"),
        "{err}"
    );
}
