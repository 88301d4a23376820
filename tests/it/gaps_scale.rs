//! `gaps` at scale: a manifest of thousands of requirements (issue 10, item 3). One
//! combined glob matcher grew its state with the number of globs: 4,000 requirements took
//! 6.4 GB and 10,000 tried to take 20 GB.

use serde_json::Value;

use crate::support::gaps::{area, manifest, req};
use crate::support::memory::run_measured;
use crate::support::TestEnv;

const REQUIREMENTS: usize = 10_000;
const FILES: usize = 2_000;
const FOLDERS: usize = 200;

/// Peak resident memory allowed to `evpack gaps` on that manifest.
const PEAK_RSS_LIMIT_KIB: u64 = 1_000_000;

#[test]
fn ten_thousand_requirements_are_matched_right_in_bounded_memory() {
    let env = TestEnv::new();
    for k in 0..FILES {
        env.file(
            &format!("f{}/Report n{k}n 2020-12-01.pdf", k % FOLDERS),
            "x",
        );
    }
    // Requirement i asks for the file tagged `n{i}n` anywhere, and for every PDF under
    // folder `f{i}`; the globs are in upper case, which the match ignores.
    let reqs: Vec<String> = (0..REQUIREMENTS)
        .map(|i| {
            req(
                &format!("R{i}"),
                &[&format!("**/*N{i}N*"), &format!("F{i}/**/*.pdf")],
                "",
            )
        })
        .collect();
    env.manifest(&manifest(&[area("A", &reqs)]));

    let (out, peak_kib) = run_measured(
        env.root(),
        &[
            "gaps",
            "--manifest",
            "manifest.toml",
            "--evidence",
            "evidence",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "gaps exits 1 (requirements are missing); stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("a JSON assessment");
    assert_eq!(v["summary"]["files_matched"], FILES);
    assert_eq!(v["summary"]["files_unmatched"], 0);
    assert_eq!(v["summary"]["required"]["met"], FILES);
    assert_eq!(v["summary"]["required"]["missing"], REQUIREMENTS - FILES);

    let requirements = v["areas"][0]["requirements"]
        .as_array()
        .expect("requirements");
    assert_eq!(requirements.len(), REQUIREMENTS);
    for (i, r) in requirements.iter().enumerate() {
        let mut files: Vec<&str> = r["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["path"].as_str().expect("a path"))
            .collect();
        files.sort_unstable();
        let mut expected: Vec<String> = (0..FILES)
            .filter(|&k| k == i || (i < FOLDERS && k % FOLDERS == i))
            .map(|k| format!("f{}/Report n{k}n 2020-12-01.pdf", k % FOLDERS))
            .collect();
        expected.sort_unstable();
        assert_eq!(files, expected, "files of R{i}");
        let status = if expected.is_empty() {
            "missing"
        } else {
            "met"
        };
        assert_eq!(r["status"], status, "status of R{i}");
    }

    assert!(
        peak_kib < PEAK_RSS_LIMIT_KIB,
        "evpack gaps peaked at {peak_kib} KiB of resident memory (limit {PEAK_RSS_LIMIT_KIB})"
    );
}
