//! `gaps --by-owner`: the chase list, on the shipped sample and on trees built here.

use std::path::Path;

use crate::support::gaps::{area, manifest};
use crate::support::TestEnv;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The shipped sample, run where the README's "Two commands" run it.
fn sample(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::new(crate::support::evpack_bin())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("NO_COLOR", "1")
        .args(["gaps", "--by-owner"])
        .args(args)
        .output()
        .expect("run evpack gaps --by-owner")
}

#[test]
fn chase_list_for_the_shipped_sample() {
    let out = sample(&[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "gaps in the sample still exit 1"
    );
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "Chase list: evidence must be dated on or before 2021-01-18 to count at the visit."
        ),
        "{text}"
    );
    // Owners in name order, each requirement under its owner with what it needs.
    let owners: Vec<&str> = text
        .lines()
        .filter(|l| {
            !l.starts_with(' ') && l.ends_with("requirement)") || l.ends_with("requirements)")
        })
        .collect();
    assert_eq!(
        owners.first().copied(),
        Some("Case Progression Manager (1 requirement)")
    );
    assert!(owners.contains(&"Head of Performance and Intelligence (3 requirements)"));
    let section = |owner: &str| -> String {
        let start = text
            .find(&format!("\n{owner} ("))
            .unwrap_or_else(|| panic!("{owner} in {text}"));
        let rest = &text[start + 1..];
        rest[..rest[1..].find("\n\n").map_or(rest.len(), |e| e + 1)].to_string()
    };
    let psw = section("Principal Social Worker");
    assert!(
        psw.contains("P6.1 Life-story work audit [missing]"),
        "{psw}"
    );
    assert!(
        psw.contains("- a file dated Q2 2020-21, by 2021-01-18"),
        "{psw}"
    );
    assert!(
        psw.contains("- a file dated Q3 2020-21, by 2021-01-18"),
        "{psw}"
    );
    let perf = section("Head of Performance and Intelligence");
    assert!(
        perf.contains("- a file dated 2020-11, by 2021-01-18"),
        "{perf}"
    );
    let qa = section("Head of Quality Assurance");
    assert!(
        qa.contains("- 1 more file dated 2020-07-18 to 2021-01-18, by 2021-01-18"),
        "{qa}"
    );
    let hr = section("Head of HR, Children's Services");
    assert!(
        hr.contains("C3.1 Recruitment and retention strategy [stale]"),
        "{hr}"
    );
    assert!(hr.contains("- a policy dated 2020-01-19 or later"), "{hr}");
    // Every requirement not met is there once (the sample has 13).
    let items = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .count();
    assert_eq!(items, 13, "{text}");

    let md = stdout(&sample(&["--format", "md"]));
    assert!(md.starts_with("# Evidence to supply\n"), "{md}");
    assert!(md.contains("\n## Principal Social Worker\n\n- **P6.1 Life-story work audit** (missing; area P6), in `audits/**/*life*story*`\n  - a file dated Q2 2020-21, by 2021-01-18\n"), "{md}");
    assert!(md.contains("(stale, advisory; area P6)"), "{md}");

    let csv = stdout(&sample(&["--format", "csv"]));
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("owner,area_id,requirement_id,requirement_title,status,required,needed,by,paths")
    );
    assert!(csv.contains(
        "Principal Social Worker,P6,P6.1,Life-story work audit,missing,yes,a file dated Q2 2020-21,2021-01-18,audits/**/*life*story*"
    ), "{csv}");
}

/// A requirement with `owner` (or none) and the given TOML lines.
fn req(id: &str, evidence: &str, paths: &str, owner: Option<&str>, extra: &str) -> String {
    let owner = owner
        .map(|o| format!("owner = \"{o}\"\n"))
        .unwrap_or_default();
    format!(
        "\n[[area.requirement]]\nid = \"{id}\"\ntitle = \"Requirement {id}\"\nevidence = \"{evidence}\"\npaths = [\"{paths}\"]\n{owner}{extra}\n"
    )
}

#[test]
fn each_kind_of_need_in_words_grouped_by_owner_with_the_unowned_last() {
    let env = TestEnv::new();
    env.file("scorecards/Scorecard 2020-07.csv", "x")
        .file("scorecards/Scorecard 2020-08.csv", "x")
        .file("scorecards/Scorecard 2020-09.csv", "x")
        .file("scorecards/Scorecard 2020-10.csv", "x")
        .file("scorecards/Scorecard 2020-12.csv", "x")
        .file("policies/Neglect policy 2019-05-01.md", "x")
        .file("audits/Dip sample 2020-09-10.md", "x")
        .raw("plans/Recovery plan 2020-12-01.docx", b"");
    env.manifest(&manifest(&[
        area(
            "A",
            &[
                req(
                    "S",
                    "scorecard",
                    "scorecards/**",
                    Some("zed Perf"),
                    "cadence = \"monthly\"",
                ),
                req(
                    "P",
                    "policy",
                    "policies/**",
                    Some("Alice"),
                    "max_age_days = 365",
                ),
                req("D", "audit", "audits/**", Some("alice"), "min_files = 3"),
            ],
        ),
        area(
            "B",
            &[
                req("N", "plan", "plans/**", None, ""),
                req(
                    "M",
                    "minutes",
                    "minutes/**",
                    None,
                    "min_files = 2\nrequired = false",
                ),
            ],
        ),
    ]));
    let out = env.run(&["gaps", "--by-owner"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let want = "\
Chase list: evidence must be dated on or before 2021-01-18 to count at the visit.

Alice (1 requirement)
  P Requirement P [stale], in policies/**
    - a policy dated 2020-01-19 or later, by 2021-01-18

alice (1 requirement)
  D Requirement D [partial], in audits/**
    - 2 more files dated 2020-07-18 to 2021-01-18, by 2021-01-18

zed Perf (1 requirement)
  S Requirement S [partial], in scorecards/**
    - a file dated 2020-11, by 2021-01-18

No owner named (2 requirements)
  N Requirement N [missing], in plans/**
    - a plan dated 2020-07-18 to 2021-01-18, by 2021-01-18
    - a copy of `plans/Recovery plan 2020-12-01.docx` that opens (it is empty), by 2021-01-18
  M Requirement M [missing (advisory)], in minutes/**
    - 2 sets of minutes dated 2020-07-18 to 2021-01-18, by 2021-01-18
";
    assert_eq!(text, want);

    // Met requirements are not chased; nothing to chase says so.
    let env = TestEnv::new();
    env.file("audits/Dip sample 2020-12-04.md", "x");
    env.manifest(&manifest(&[area(
        "A",
        &[req("R", "audit", "audits/**", Some("Owner"), "")],
    )]));
    let out = env.run(&["gaps", "--by-owner", "--format", "md"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "# Evidence to supply\n\nNothing to chase: every requirement is met.\n"
    );
}

#[test]
fn chase_list_cells_and_names_are_defused() {
    let env = TestEnv::new();
    env.manifest(&manifest(&[area(
        "A",
        &[req(
            "R",
            "audit",
            "audits/**",
            Some("=HYPERLINK(\\\"x\\\")"),
            "",
        )],
    )]));
    let out = env.run(&["gaps", "--by-owner", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(1));
    let csv = stdout(&out);
    assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\",A,R,"), "{csv}");
    let md = stdout(&env.run(&["gaps", "--by-owner", "--format", "md"]));
    assert!(md.contains("## =HYPERLINK\\(\"x\"\\)\n"), "{md}");
}
