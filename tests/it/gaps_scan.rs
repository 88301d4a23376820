//! The scan behind `evpack gaps` (issue 2): ignore rules, globs, links, unreadable entries.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::gaps::{area, gaps_json, manifest, paths, req, requirement, single, status};
use crate::support::TestEnv;

fn skipped(v: &Value) -> Vec<(String, String)> {
    v["skipped"]
        .as_array()
        .expect("a skipped list")
        .iter()
        .map(|s| {
            (
                s["path"].as_str().expect("a skipped list").to_string(),
                s["reason"].as_str().expect("a skipped list").to_string(),
            )
        })
        .collect()
}

fn matched(v: &Value, id: &str) -> Vec<String> {
    paths(&requirement(v, id)["files"])
}

#[test]
fn litter_is_neither_evidence_nor_unmatched() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x")
        .file(".DS_Store", "x")
        .file("audits/.hidden audit 2020-12-02.md", "x")
        .file(".git/Audit 2020-12-03.md", "x")
        .file("audits/.archive/Audit 2020-12-04.md", "x")
        .file("audits/~$Audit 2020-12-05.docx", "x")
        .file("Thumbs.db", "x")
        .file("audits/THUMBS.DB", "x")
        .file("desktop.ini", "x")
        .file("audits/Desktop.ini", "x")
        .file("stray.txt", "x");
    // `**` would match every one of them if they were scanned.
    let (v, code) = gaps_json(&env, &single(&["**"], ""), &[]);
    assert_eq!(code, 0);
    let mut got = matched(&v, "R");
    got.sort();
    assert_eq!(got, ["audits/Audit 2020-12-01.md", "stray.txt"]);
    assert!(paths(&v["unmatched"]).is_empty());
    assert!(skipped(&v).is_empty());
    assert_eq!(v["summary"]["files_scanned"], 2);

    let (v, _) = gaps_json(&env, &single(&["audits/*"], ""), &[]);
    assert_eq!(paths(&v["unmatched"]), ["stray.txt"]);

    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for litter in [
        "DS_Store", "hidden", ".git", ".archive", "~$", "humbs", "esktop",
    ] {
        assert!(!text.contains(litter), "{litter} listed: {text}");
    }
}

#[test]
fn globs_ignore_case() {
    let env = TestEnv::new();
    env.file("Audits/Pathway Plans/PP Audit 2020-12-01.MD", "x");
    let (v, _) = gaps_json(
        &env,
        &single(&["audits/**/*pathway*plan*/pp audit*.md"], ""),
        &[],
    );
    assert_eq!(
        matched(&v, "R"),
        ["Audits/Pathway Plans/PP Audit 2020-12-01.MD"]
    );
    let (v, _) = gaps_json(&env, &single(&["AUDITS/**/*.md"], ""), &[]);
    assert_eq!(status(&v, "R"), "met");
}

#[test]
fn a_star_stays_in_one_folder_and_two_stars_cross_folders() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x")
        .file("audits/neglect/Neglect audit 2020-12-02.md", "x")
        .file("audits/neglect/deep/Deep audit 2020-12-03.md", "x");
    let m = manifest(&[area(
        "A",
        &[
            req("ONE", &["audits/*"], ""),
            req("STAR", &["*/*audit*"], ""),
            req("TWO", &["audits/**/*audit*"], ""),
            req("MID", &["audits/*/*audit*"], ""),
            req("ROOT", &["*audit*"], ""),
        ],
    )]);
    let (v, _) = gaps_json(&env, &m, &[]);
    assert_eq!(matched(&v, "ONE"), ["audits/Audit 2020-12-01.md"]);
    assert_eq!(matched(&v, "STAR"), ["audits/Audit 2020-12-01.md"]);
    let mut two = matched(&v, "TWO");
    two.sort();
    assert_eq!(
        two,
        [
            "audits/Audit 2020-12-01.md",
            "audits/neglect/Neglect audit 2020-12-02.md",
            "audits/neglect/deep/Deep audit 2020-12-03.md",
        ]
    );
    assert_eq!(
        matched(&v, "MID"),
        ["audits/neglect/Neglect audit 2020-12-02.md"]
    );
    // Matched against the whole relative path, not the file name.
    assert_eq!(status(&v, "ROOT"), "missing");
}

#[test]
fn a_file_may_serve_several_requirements() {
    let env = TestEnv::new();
    env.file("scorecards/Care leavers scorecard Dec 2020.csv", "x");
    let m = manifest(&[
        area("P1", &[req("P1.2", &["scorecards/*care*leaver*"], "")]),
        area(
            "M2",
            &[req(
                "M2.1",
                &["scorecards/*care*leaver*", "scorecards/*"],
                "",
            )],
        ),
    ]);
    let (v, code) = gaps_json(&env, &m, &[]);
    assert_eq!(code, 0);
    let f = "scorecards/Care leavers scorecard Dec 2020.csv";
    assert_eq!(matched(&v, "P1.2"), [f]);
    // Listed once even though two of its globs match.
    assert_eq!(matched(&v, "M2.1"), [f]);
    assert_eq!(v["summary"]["files_matched"], 1);
}

#[test]
fn links_inside_the_folder_are_evidence_links_outside_are_skipped_unread() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x");
    let outside = env.root().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("Secret audit 2020-12-02.md"), "secret").unwrap();
    // A pipe: reading it would block, so a test that finishes shows it was never opened.
    let fifo = outside.join("Pipe audit 2020-12-03.md");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let ev = env.evidence();
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, ev.join(name)).unwrap();
    link(
        &outside.join("Secret audit 2020-12-02.md"),
        "audits/Linked secret audit.md",
    );
    link(&fifo, "audits/Linked pipe audit.md");
    link(&outside, "audits/linked folder");
    link(
        Path::new("../../outside/Secret audit 2020-12-02.md"),
        "audits/Relative link audit.md",
    );
    link(
        Path::new("Audit 2020-12-01.md"),
        "audits/Link to audit 2020-12-09.md",
    );
    link(Path::new("missing.md"), "audits/Broken link audit.md");

    env.manifest(&single(&["audits/**"], ""));
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--format", "json"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The link inside the folder is evidence, dated by its own name.
    assert_eq!(
        matched(&v, "R"),
        [
            "audits/Link to audit 2020-12-09.md",
            "audits/Audit 2020-12-01.md"
        ]
    );
    assert_eq!(requirement(&v, "R")["files"][0]["date"], "2020-12-09");

    let skipped = skipped(&v);
    let reason = |p: &str| -> String {
        skipped
            .iter()
            .find(|s| s.0 == p)
            .unwrap_or_else(|| panic!("{p} not skipped: {skipped:?}"))
            .1
            .clone()
    };
    for p in [
        "audits/Linked secret audit.md",
        "audits/Linked pipe audit.md",
        "audits/Relative link audit.md",
        "audits/linked folder",
    ] {
        assert!(
            reason(p).contains("outside the evidence folder"),
            "{p}: {}",
            reason(p)
        );
    }
    assert!(reason("audits/Broken link audit.md").contains("broken link"));
    assert_eq!(skipped.len(), 5);
    assert_eq!(v["summary"]["files_skipped"], 5);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Secret audit 2020-12-02"));

    // The text report lists them too.
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Skipped (5)"), "{text}");
    assert!(
        text.contains("audits/Linked secret audit.md: link pointing outside the evidence folder"),
        "{text}"
    );
}

#[test]
fn a_link_to_a_folder_inside_is_not_walked_twice() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x");
    std::os::unix::fs::symlink("audits", env.evidence().join("audits again")).unwrap();
    std::os::unix::fs::symlink(".", env.evidence().join("audits/loop")).unwrap();
    let (v, code) = gaps_json(&env, &single(&["**"], ""), &[]);
    assert_eq!(code, 0);
    assert_eq!(matched(&v, "R"), ["audits/Audit 2020-12-01.md"]);
    assert_eq!(skipped(&v).len(), 2);
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Makes everything under `dir` readable by everybody (root's temp dirs are 0700), so an
/// unprivileged user can run the scan.
fn open_up(dir: &Path) {
    let meta = std::fs::symlink_metadata(dir).expect("chmod the temp tree");
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = if meta.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .expect("chmod the temp tree");
    if meta.is_dir() {
        for e in std::fs::read_dir(dir).expect("chmod the temp tree") {
            open_up(&e.expect("chmod the temp tree").path());
        }
    }
}

#[test]
fn unreadable_file_and_folder_are_reported_and_the_scan_goes_on() {
    // Under /tmp whatever TMPDIR says: the unprivileged user must be able to reach it.
    let dir = tempfile::Builder::new()
        .prefix("evpack-it-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::create_dir(dir.path().join("evidence")).unwrap();
    let env = TestEnv { dir };
    env.file("audits/Audit 2020-12-01.md", "x")
        .file("audits/Locked audit 2020-12-02.md", "x")
        .file("locked/Hidden audit 2020-12-03.md", "x")
        .file("zz later/Later audit 2020-12-04.md", "x");
    env.manifest(&single(&["**/*audit*"], ""));

    // Permission bits do not stop root, so as root the binary runs as `nobody`, from a copy
    // it can reach, over a tree it can read except for the two locked entries.
    let root_user = is_root();
    if root_user && !crate::support::have_tool("setpriv", &["--version"]) {
        return;
    }
    let bin = env.root().join("bin/evpack");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(crate::support::evpack_bin(), &bin).unwrap();
    open_up(env.root());
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ev = env.evidence();
    std::fs::set_permissions(
        ev.join("audits/Locked audit 2020-12-02.md"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(ev.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();

    let run = |format: &str| {
        let mut c = if root_user {
            let mut c = assert_cmd::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin);
            c
        } else {
            assert_cmd::Command::new(&bin)
        };
        c.current_dir(env.root())
            .env("NO_COLOR", "1")
            .args(["gaps", "-m", "manifest.toml", "--format", format])
            .output()
            .unwrap()
    };
    let out = run("json");
    // Restore so the temp dir can be removed.
    std::fs::set_permissions(ev.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        skipped(&v),
        [
            (
                "audits/Locked audit 2020-12-02.md".to_string(),
                "cannot be read: permission denied".to_string()
            ),
            (
                "locked".to_string(),
                "cannot be read: permission denied".to_string()
            ),
        ]
    );
    let mut got = matched(&v, "R");
    got.sort();
    assert_eq!(
        got,
        [
            "audits/Audit 2020-12-01.md",
            "zz later/Later audit 2020-12-04.md"
        ]
    );
    assert_eq!(v["summary"]["files_skipped"], 2);

    std::fs::set_permissions(ev.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = run("text");
    std::fs::set_permissions(ev.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Skipped (2)"), "{text}");
    assert!(
        text.contains("audits/Locked audit 2020-12-02.md: cannot be read: permission denied"),
        "{text}"
    );
}

#[test]
fn a_pipe_in_the_folder_is_reported_not_opened() {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "x");
    let fifo = env.evidence().join("audits/Pipe audit 2020-12-02.md");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    env.manifest(&single(&["audits/*"], ""));
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--format", "json"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(matched(&v, "R"), ["audits/Audit 2020-12-01.md"]);
    assert_eq!(
        skipped(&v),
        [(
            "audits/Pipe audit 2020-12-02.md".to_string(),
            "not a regular file (device, pipe or socket)".to_string()
        )]
    );
}

#[test]
fn control_characters_and_non_utf8_names_cannot_reach_the_terminal_raw() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    env.file("audits/\u{1b}[31mRed audit 2020-12-01.md", "x");
    let raw = std::ffi::OsStr::from_bytes(b"audits/Latin-1 caf\xe9 audit 2020-12-02.md");
    std::fs::write(env.evidence().join(raw), "x").unwrap();
    env.manifest(&single(&["audits/*"], ""));

    let out = env
        .cmd()
        .args(["list", "-m", "manifest.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(
        text.contains("audits/\\u{1b}[31mRed audit 2020-12-01.md"),
        "{text}"
    );
    assert!(
        text.contains("audits/Latin-1 caf\u{fffd} audit 2020-12-02.md"),
        "{text}"
    );

    let (v, code) = gaps_json(&env, &single(&["audits/*"], ""), &[]);
    assert_eq!(code, 0);
    let files = matched(&v, "R");
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(requirement(&v, "R")["files"][0]["date"], "2020-12-02");
}

#[test]
fn bidi_controls_in_names_never_reach_the_markdown_report() {
    let env = TestEnv::new();
    env.file("audits/Audit \u{202E}fdp.exe 2020-12-01.md", "x");
    env.file("audits/Plan \u{2067}x\u{2069} 2020-12-02.md", "x");
    env.manifest(&single(&["audits/*"], ""));
    let out = env
        .cmd()
        .args(["gaps", "-m", "manifest.toml", "--format", "md"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    for c in ['\u{202E}', '\u{2067}', '\u{2069}'] {
        assert!(!md.contains(c), "{c:?} in {md}");
    }
    assert!(md.contains("Audit fdp.exe 2020-12-01.md"), "{md}");
    assert!(md.contains("Plan x 2020-12-02.md"), "{md}");
}

/// On a terminal the same names are shown escaped, in `gaps` and in `list`.
#[test]
fn bidi_controls_in_names_are_escaped_in_terminal_reports() {
    let env = TestEnv::new();
    env.file("audits/Audit \u{202E}fdp.exe 2020-12-01.md", "x");
    env.file("misc/Stray \u{2067}x\u{2069} 2020-12-02.md", "x");
    env.manifest(&single(&["audits/*"], ""));
    for args in [&["gaps"][..], &["list"][..]] {
        let out = env
            .cmd()
            .args(args)
            .args(["-m", "manifest.toml"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for c in ['\u{202E}', '\u{2067}', '\u{2069}'] {
            assert!(!text.contains(c), "{args:?}: {c:?} in {text}");
        }
        if args == ["list"] {
            assert!(text.contains("Stray \\u{2067}x\\u{2069}"), "{text}");
            assert!(text.contains("Audit \\u{202e}fdp.exe"), "{text}");
        }
    }
}

/// In the dashboard a name holding a right-to-left override would read as another in the
/// browser: the text drops the control, the link keeps the real name (percent-encoded).
#[test]
fn bidi_controls_in_names_never_reach_the_dashboard() {
    let env = TestEnv::new();
    env.file("audits/Audit \u{202E}fdp.exe 2020-12-01.md", "x");
    env.manifest(&single(&["audits/*"], ""));
    env.cmd()
        .args(["report", "-m", "manifest.toml", "--out", "r.html"])
        .assert()
        .code(0);
    let html = std::fs::read_to_string(env.root().join("r.html")).unwrap();
    assert!(!html.contains('\u{202E}'), "a raw U+202E in the page");
    assert!(html.contains("Audit fdp.exe 2020-12-01.md"), "{html}");
    assert!(html.contains("%E2%80%AE"), "the link lost the real name");
}
