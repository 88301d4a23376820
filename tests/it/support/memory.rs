//! The peak memory of one evpack run, measured by the kernel.
//!
//! The kernel keeps each process's high-water mark and hands it to the parent that waits
//! for it (`getrusage(RUSAGE_CHILDREN)`, the largest over all such children). Tests run on
//! threads of one process, and other tests' children would count too, so the run goes
//! through a fresh copy of this test binary ([`measured_child`]) whose only child is
//! evpack: the number it reports is that process's own peak, not a sample that could miss
//! it. The copy also caps its address space, so a regression fails in a second instead of
//! taking the machine's memory.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Output};

use super::evpack_bin;

/// The address space a measured run may reserve: far above what a bounded run needs (about
/// 1.3 GB at most, mostly allocator reservations), far below what an unbounded one asks for.
const ADDRESS_SPACE_LIMIT: u64 = 4 << 30;

/// Environment that makes [`measured_child`] run: the working folder, the arguments (one
/// per line), and the folder for evpack's output.
const WRAP_DIR: &str = "EVPACK_TEST_MEASURE_DIR";
const WRAP_ARGS: &str = "EVPACK_TEST_MEASURE_ARGS";
const WRAP_OUT: &str = "EVPACK_TEST_MEASURE_OUT";

/// Runs `evpack ARGS` in `dir`; returns its output and its peak resident memory in KiB.
pub fn run_measured(dir: &Path, args: &[&str]) -> (Output, u64) {
    let out_dir = tempfile::tempdir().expect("a folder for the output");
    let wrapper = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "support::memory::measured_child",
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
    let peak = u64::try_from(peak).expect("a size");
    assert!(peak > 1024, "a peak of {peak} KiB cannot be evpack's");
    (out, peak)
}

/// Not a test: the process [`run_measured`] starts. It limits the address space, runs
/// `evpack` as its only child, keeps its output, and prints its wait status and peak
/// resident memory. Does nothing when run without its environment.
#[test]
#[ignore = "a helper that run_measured starts in a process of its own"]
fn measured_child() {
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
