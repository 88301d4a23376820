//! The lead's pack explains itself and leaks nothing: its first screen and README say what
//! it is and how to check it (and the README's commands work as written), it names no
//! file it does not hold unless asked, and `--out` does what a lead means by it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::Value;

use crate::support::pack::*;
use crate::support::{evpack_bin, have_tool, unprivileged_evpack};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The files of the sample that match nothing (the scan ignores the system litter).
const UNMATCHED: &[&str] = &[
    "Staff rota draft.docx",
    "misc/old notes.txt",
    "scorecards/2020-12/Workforce scorecard Dec 2020.csv",
];

#[test]
fn the_pack_names_no_file_that_matches_nothing_unless_asked() {
    let env = sample_env();
    build_ok(&env, "p.zip", &[]);
    let entries = read_pack(&env.root().join("p.zip"));
    for e in &entries {
        let body = String::from_utf8_lossy(&e.bytes);
        for name in UNMATCHED {
            // The base name is what identifies: look for it in every entry, tag files and
            // entry names alike.
            let base = name.rsplit('/').next().expect("a name");
            assert!(!e.name.contains(base), "{} is in the pack", e.name);
            assert!(!body.contains(base), "{} names {base}", e.name);
        }
    }
    let pack: Value = serde_json::from_str(text(&entries, "p/pack.json")).expect("JSON");
    assert_eq!(pack["unmatched"], serde_json::json!([]));
    assert_eq!(pack["names_withheld"]["unmatched"], UNMATCHED.len());
    assert_eq!(pack["summary"]["files_unmatched"], UNMATCHED.len());
    let index = text(&entries, "p/index.html");
    assert!(index.contains("can identify a child"), "index.html");

    // gaps, on the drive, still names them.
    let gaps = gaps_json_of(&env);
    assert_eq!(
        gaps["unmatched"].as_array().map(Vec::len),
        Some(UNMATCHED.len())
    );

    // Asked for, they are named in pack.json and index.html (and still not packed).
    build_ok(&env, "named.zip", &["--list-unmatched"]);
    let entries = read_pack(&env.root().join("named.zip"));
    let pack: Value = serde_json::from_str(text(&entries, "named/pack.json")).expect("JSON");
    assert_eq!(pack["unmatched"], serde_json::json!(UNMATCHED));
    assert!(pack.get("names_withheld").is_none());
    let index = text(&entries, "named/index.html");
    assert!(index.contains("Staff rota draft.docx"), "index.html");
    assert!(!entries
        .iter()
        .any(|e| e.name.ends_with("Staff rota draft.docx")));
}

#[test]
fn the_readme_says_what_the_pack_is_reads_as_plain_text_and_its_checks_work() {
    let env = sample_env();
    build_ok(&env, "p.zip", &[]);
    let entries = read_pack(&env.root().join("p.zip"));
    let md = text(&entries, "p/README.md");
    let pack: Value = serde_json::from_str(text(&entries, "p/pack.json")).expect("JSON");
    let top: String = md.lines().take(6).collect::<Vec<_>>().join("\n");
    for want in [
        "Focused visit",
        "Example Council",
        "15 January 2021",
        &format!("Readiness: {}%", pack["summary"]["readiness_percent"]),
    ] {
        assert!(
            top.contains(want),
            "the top of README.md lacks {want:?}:\n{top}"
        );
    }
    for line in md.lines() {
        assert!(
            line.chars().count() <= 78 || line.starts_with('#') || line.starts_with("    "),
            "README.md is not wrapped: {line:?}"
        );
    }
    // No HTML escapes in the text (file names in code spans are shown as they are).
    let outside_code: String = unwrapped(md).split('`').step_by(2).collect();
    assert!(
        !outside_code.contains("&amp;")
            && !outside_code.contains("&lt;")
            && !outside_code.contains("&#"),
        "{outside_code}"
    );
    for inside in [
        "`data/`",
        "`pack.json`",
        "`gaps.csv`",
        "`manifest.toml`",
        "`manifest-sha256.txt`",
    ] {
        assert!(md.contains(inside), "README.md does not list {inside}");
    }
    assert!(
        !md.contains("minisign"),
        "an unsigned pack says nothing of a signature"
    );

    // The commands under "How to check it" work as written, run in the folder the pack
    // was written to.
    let commands: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("        "))
        .collect();
    assert!(
        commands.contains(&"evpack verify p.zip")
            && commands.contains(&"bagit.py --validate p")
            && commands.contains(&"sha256sum -c manifest-sha256.txt"),
        "{commands:?}"
    );
    if !have_tool("unzip", &["-v"]) || !have_tool("bagit.py", &["--version"]) {
        return;
    }
    let mut cwd = env.root().to_path_buf();
    for command in commands {
        let words: Vec<&str> = command.split(' ').collect();
        if words[0] == "cd" {
            cwd = cwd.join(words[1]);
            continue;
        }
        let program = if words[0] == "evpack" {
            evpack_bin()
        } else {
            words[0].into()
        };
        let o = Command::new(program)
            .args(&words[1..])
            .current_dir(&cwd)
            .output()
            .expect("run a README command");
        assert!(
            o.status.success(),
            "`{command}` failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
    }
}

#[test]
fn out_naming_an_existing_folder_writes_the_default_name_inside_it() {
    let env = sample_env();
    std::fs::create_dir(env.root().join("packs")).expect("mkdir");
    for given in ["packs/", "packs"] {
        let o = build_cmd(&env, &["--out", given]).output().expect("build");
        assert_eq!(o.status.code(), Some(0), "{given}: {}", stderr(&o));
        let pack = env.root().join("packs/focused-visit-2021-01-15.zip");
        assert!(pack.is_file(), "{given}: no pack in packs/");
        assert!(env
            .root()
            .join("packs/focused-visit-2021-01-15.zip.sha256")
            .is_file());
        std::fs::remove_file(pack).expect("rm");
    }
}

#[test]
fn out_in_a_missing_folder_fails_at_once_with_the_fix_and_writes_nothing() {
    let env = sample_env();
    for given in ["missing/", "missing/p.zip"] {
        let o = build_cmd(&env, &["--out", given]).output().expect("build");
        assert_eq!(o.status.code(), Some(2), "{given}");
        let err = stderr(&o);
        assert!(
            err.contains("missing") && err.contains("does not exist") && err.contains("mkdir"),
            "{given}: {err}"
        );
        assert!(
            o.stdout.is_empty(),
            "{given}: refused before the assessment was printed"
        );
    }
    assert!(!env.root().join("missing").exists());
}

#[test]
fn out_without_zip_gets_it_added_with_a_note() {
    let env = sample_env();
    let o = build_cmd(&env, &["--out", "Visit pack"])
        .output()
        .expect("build");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(env.root().join("Visit pack.zip").is_file());
    assert!(!env.root().join("Visit pack").exists());
    assert!(stderr(&o).contains(".zip was added"), "{}", stderr(&o));
    let digest = std::fs::read_to_string(env.root().join("Visit pack.zip.sha256")).expect("sha");
    assert!(digest.ends_with("  Visit pack.zip\n"), "{digest}");
}

#[test]
fn out_in_a_read_only_folder_says_so_and_what_to_do() {
    let env = sample_env();
    let Some(mut cmd) = unprivileged_evpack(env.root()) else {
        return;
    };
    let ro = env.root().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let o = cmd
        .current_dir(env.root())
        .args([
            "build",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--date",
            DATE,
        ])
        .args(["--out", "ro/p.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("ro") && err.contains("permission denied") && err.contains("--out"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&ro).expect("list").count(), 0);
}

#[test]
fn a_report_md_template_is_refused_with_its_new_name() {
    let env = sample_env();
    let dir = env.root().join("tpl");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("report.md.hbs"), "OLD {{visit.name}}\n").expect("write");
    let o = build_cmd(&env, &["--out", "p.zip", "--templates", "tpl"])
        .output()
        .expect("build");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("readme.md.hbs"), "{}", stderr(&o));
}
