//! The evidence tree changing under a run (issue 10, case 1): a folder swapped for a link
//! to a folder outside, or a file swapped for a pipe, at a moment drawn by proptest while
//! `evpack build` walks and packs. Whatever the moment, nothing outside the evidence folder
//! is read into the pack, and no run hangs: each either packs the real evidence or fails
//! naming what changed. The property is checked on the pack itself (every byte read back).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::support::{evpack_bin, TestEnv};

const SECRET: &str = "OUTSIDE SECRET: never in a pack";
const INSIDE: &str = "the real supervision audit";

const MANIFEST: &str = r#"[visit]
name = "Race"
authority = "Example Council"
date = 2021-01-18

[[area]]
id = "A"
kind = "other"
title = "Area"

[[area.requirement]]
id = "R"
title = "Audits"
evidence = "audit"
paths = ["sub/**", "pipes/**"]
"#;

/// A tree whose walk takes a while (filler folders), the evidence that races, and a folder
/// outside holding files of the same names.
fn race_tree() -> (TestEnv, tempfile::TempDir) {
    let env = TestEnv::new();
    for i in 0..400 {
        for j in 0..25 {
            env.file(&format!("filler/f{i:03}/note {j}.txt"), "filler");
        }
    }
    env.raw("sub/Audit 2020-12-01.md", INSIDE.as_bytes());
    env.file("pipes/Scorecard 2020-12-02.csv", "a,b\n1,2\n");
    env.manifest(MANIFEST);
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("Audit 2020-12-01.md"), SECRET).expect("write");
    (env, outside)
}

/// What the test does to the tree while the build runs, once, after `delay`.
#[derive(Clone, Copy, Debug)]
enum Swap {
    /// `ev/sub` moved aside and a link to the outside folder put in its place.
    FolderForLink,
    /// `ev/pipes/...csv` moved aside and a pipe put in its place.
    FileForPipe,
}

fn swap(ev: &Path, outside: &Path, what: Swap) {
    match what {
        Swap::FolderForLink => {
            let sub = ev.join("sub");
            std::fs::rename(&sub, ev.join("sub.real")).expect("move the folder aside");
            std::os::unix::fs::symlink(outside, &sub).expect("link in its place");
        }
        Swap::FileForPipe => {
            let csv = ev.join("pipes/Scorecard 2020-12-02.csv");
            std::fs::rename(&csv, ev.join("pipes.kept.csv")).expect("move the file aside");
            let made = Command::new("mkfifo").arg(&csv).status().expect("mkfifo");
            assert!(made.success());
        }
    }
}

/// Every entry of the zip, read whole: (name, bytes).
fn entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(zip).expect("open the pack");
    let mut z = zip::ZipArchive::new(file).expect("a zip");
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).expect("an entry");
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).expect("read the entry");
            (e.name().expect("an entry name").to_string(), bytes)
        })
        .collect()
}

fn run_race(what: Swap, delay_ms: u64) {
    let (env, outside) = race_tree();
    let out = "pack.zip";
    let ev = env.evidence();
    let mut child = Command::new(evpack_bin())
        .current_dir(env.root())
        .env("NO_COLOR", "1")
        .args(["build", "-q", "-m", "manifest.toml", "--date", "2021-01-15"])
        .args(["--out", out])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start evpack build");
    std::thread::sleep(Duration::from_millis(delay_ms));
    swap(&ev, outside.path(), what);
    let started = Instant::now();
    while child.try_wait().expect("poll the build").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the build hung after {what:?} at {delay_ms} ms");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("collect output");
    let err = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        // Built: whatever the walk met, the pack holds only evidence from inside.
        Some(0) | Some(1) => {
            for (name, bytes) in entries(&env.root().join(out)) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(SECRET),
                    "{name} holds the outside file ({what:?} at {delay_ms} ms)"
                );
                if name.ends_with("data/sub/Audit 2020-12-01.md") {
                    assert_eq!(text, INSIDE);
                }
            }
        }
        // Refused: the error names the file that changed (or that the scan met as a pipe
        // or a link, which a requirement still asks for), and leaves no pack.
        Some(2) => {
            assert!(
                err.contains("since the evidence was assessed")
                    || err.contains("so the pack would be incomplete"),
                "{err}"
            );
            assert!(
                err.contains("evidence/sub") || err.contains("evidence/pipes/"),
                "{err}"
            );
            assert!(!env.root().join(out).exists(), "a pack was left: {err}");
        }
        other => panic!("unexpected exit {other:?}: {err}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_folder_swapped_for_a_link_outside_during_a_build_never_reaches_the_pack(
        delay_ms in 0u64..400
    ) {
        run_race(Swap::FolderForLink, delay_ms);
    }

    #[test]
    fn a_file_swapped_for_a_pipe_during_a_build_never_hangs_it(delay_ms in 0u64..400) {
        run_race(Swap::FileForPipe, delay_ms);
    }
}
