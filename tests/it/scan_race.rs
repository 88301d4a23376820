//! The evidence tree changing under a run (issue 10, case 1): folders swapped for links to
//! a folder outside, and files swapped for pipes, again and again while `evpack build`
//! walks and packs. Whatever the timing, nothing outside the evidence folder is read into
//! the pack, and no run hangs: each either packs the real evidence or fails naming what
//! changed.
//!
//! The timings are drawn by proptest, so each run tries different moments; the property is
//! checked on the pack itself (every byte of it read back).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
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
    env.file("sub/Audit 2020-12-01.md", INSIDE);
    env.file("pipes/Scorecard 2020-12-02.csv", "a,b\n1,2\n");
    env.manifest(MANIFEST);
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("Audit 2020-12-01.md"), SECRET).expect("write");
    (env, outside)
}

/// Swaps `ev/sub` for a link to `outside` and `ev/pipes/...csv` for a pipe, and back, until
/// told to stop; `pause` is how long each state lasts.
fn swapper(ev: &Path, outside: &Path, pause: Duration, stop: &AtomicBool) {
    let sub = ev.join("sub");
    let real = ev.join("sub.real");
    let csv = ev.join("pipes/Scorecard 2020-12-02.csv");
    let kept = ev.join("pipes.kept.csv");
    while !stop.load(Ordering::Relaxed) {
        std::fs::rename(&sub, &real).expect("move the folder aside");
        std::os::unix::fs::symlink(outside, &sub).expect("link in its place");
        std::fs::rename(&csv, &kept).expect("move the file aside");
        let made = Command::new("mkfifo").arg(&csv).status().expect("mkfifo");
        assert!(made.success());
        std::thread::sleep(pause);
        std::fs::remove_file(&sub).expect("remove the link");
        std::fs::rename(&real, &sub).expect("put the folder back");
        std::fs::remove_file(&csv).expect("remove the pipe");
        std::fs::rename(&kept, &csv).expect("put the file back");
        std::thread::sleep(pause);
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

fn run_race(env: &TestEnv, outside: &Path, pause_us: u64, run: usize) {
    let out = format!("pack{run}.zip");
    let stop = AtomicBool::new(false);
    let ev = env.evidence();
    let output = std::thread::scope(|s| {
        let swapping = s.spawn(|| swapper(&ev, outside, Duration::from_micros(pause_us), &stop));
        let mut child = Command::new(evpack_bin())
            .current_dir(env.root())
            .env("NO_COLOR", "1")
            .args(["build", "-q", "-m", "manifest.toml", "--date", "2021-01-15"])
            .args(["--out", &out])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start evpack build");
        let started = Instant::now();
        while child.try_wait().expect("poll the build").is_none() {
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                stop.store(true, Ordering::Relaxed);
                panic!("the build hung with the tree changing under it");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        swapping.join().expect("the swapper");
        child.wait_with_output().expect("collect output")
    });
    let err = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        // Built: whatever the walk met, the pack holds only evidence from inside.
        Some(0) | Some(1) => {
            for (name, bytes) in entries(&env.root().join(&out)) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(SECRET), "{name} holds the outside file");
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
                err.contains("evidence/sub/") || err.contains("evidence/pipes/"),
                "{err}"
            );
            assert!(!env.root().join(&out).exists(), "a pack was left: {err}");
        }
        other => panic!("unexpected exit {other:?}: {err}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nothing_outside_the_evidence_folder_is_packed_while_the_tree_changes(
        pause_us in prop::collection::vec(0u64..3_000, 3)
    ) {
        let (env, outside) = race_tree();
        for (run, pause) in pause_us.into_iter().enumerate() {
            run_race(&env, outside.path(), pause, run);
        }
    }
}
