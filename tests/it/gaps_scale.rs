//! `gaps` at scale: a manifest of thousands of requirements (issue 10, item 3). One
//! combined glob matcher grew its state with the number of globs: 4,000 requirements took
//! 6.4 GB and 10,000 tried to take 20 GB.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Output};

use serde_json::Value;

use crate::support::gaps::{area, manifest, req};
use crate::support::{evpack_bin, TestEnv};

const REQUIREMENTS: usize = 10_000;
const FILES: usize = 2_000;
const FOLDERS: usize = 200;

/// Peak resident memory allowed to `evpack gaps` on that manifest.
const PEAK_RSS_LIMIT_KIB: u64 = 1_000_000;

/// The address space the measured run may reserve: far above what a bounded run needs
/// (about 1.3 GB, mostly allocator reservations), far below what the unbounded matcher
/// asked for, so that a regression fails in a second instead of taking the machine's memory.
const ADDRESS_SPACE_LIMIT: u64 = 4 << 30;

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

/// Environment variables that make [`peak_rss_wrapper`] run: the working folder, the
/// arguments (one per line), and the folder for evpack's output.
const WRAP_DIR: &str = "EVPACK_TEST_MEASURE_DIR";
const WRAP_ARGS: &str = "EVPACK_TEST_MEASURE_ARGS";
const WRAP_OUT: &str = "EVPACK_TEST_MEASURE_OUT";

/// Runs `evpack ARGS` in `dir` and returns its output and its peak resident memory in KiB.
///
/// The kernel keeps each process's high-water mark and hands it to the parent that waits
/// for it (`getrusage(RUSAGE_CHILDREN)`, the largest over all such children). This test
/// binary runs other tests' processes at the same time, so the run goes through a fresh copy
/// of it ([`peak_rss_wrapper`]) whose only child is `evpack`: the number it reports is that
/// process's own peak, not a sample that could miss it.
fn run_measured(dir: &Path, args: &[&str]) -> (Output, u64) {
    let out_dir = tempfile::tempdir().expect("a folder for the output");
    let wrapper = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "gaps_scale::peak_rss_wrapper",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(WRAP_DIR, dir)
        .env(WRAP_ARGS, args.join("\n"))
        .env(WRAP_OUT, out_dir.path())
        .output()
        .expect("run the measuring wrapper");
    let report = String::from_utf8_lossy(&wrapper.stdout).into_owned();
    let field = |name: &str| -> Option<i64> {
        report
            .lines()
            .find_map(|l| l.split_once(&format!("{name}=")))
            .and_then(|(_, v)| v.trim().parse().ok())
    };
    let (Some(peak), Some(wait_status)) = (field("peak_rss_kib"), field("wait_status")) else {
        panic!(
            "the measuring wrapper said nothing: {report}\n{}",
            String::from_utf8_lossy(&wrapper.stderr)
        );
    };
    let read = |name: &str| std::fs::read(out_dir.path().join(name)).expect("evpack's output");
    let out = Output {
        status: ExitStatus::from_raw(i32::try_from(wait_status).expect("a wait status")),
        stdout: read("stdout"),
        stderr: read("stderr"),
    };
    (out, u64::try_from(peak).expect("a size"))
}

/// Not a test: the process [`run_measured`] starts. It limits the address space (so a
/// runaway fails fast), runs `evpack` as its only child, keeps its output, and prints its
/// wait status and peak resident memory. Does nothing when run without its environment.
#[test]
#[ignore = "a helper that run_measured starts in a process of its own"]
fn peak_rss_wrapper() {
    use nix::sys::resource::{getrlimit, getrusage, setrlimit, Resource, UsageWho};

    let (Some(dir), Ok(args), Some(out)) = (
        std::env::var_os(WRAP_DIR),
        std::env::var(WRAP_ARGS),
        std::env::var_os(WRAP_OUT),
    ) else {
        return;
    };
    // Never above a limit already in force: raising it needs privileges.
    let (_, hard) = getrlimit(Resource::RLIMIT_AS).expect("getrlimit");
    let limit = ADDRESS_SPACE_LIMIT.min(hard);
    setrlimit(Resource::RLIMIT_AS, limit, limit).expect("limit the address space");
    let output = Command::new(evpack_bin())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args.lines())
        .output()
        .expect("run evpack");
    let out = Path::new(&out);
    std::fs::write(out.join("stdout"), &output.stdout).expect("keep evpack's output");
    std::fs::write(out.join("stderr"), &output.stderr).expect("keep evpack's output");
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    // ru_maxrss is in KiB on Linux. The harness may have started a line for the test.
    println!("\npeak_rss_kib={}", usage.max_rss());
    println!("wait_status={}", output.status.into_raw());
}
