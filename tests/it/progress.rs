//! Progress of a long scan: shown on a terminal, never in a pipe. The wait before it shows
//! (two seconds) is shortened with `EVPACK_PROGRESS_AFTER_MS` so a small tree shows it too.

use std::process::Command;

use crate::support::gaps::single;
use crate::support::{evpack_bin, have_tool, TestEnv};

fn tree() -> TestEnv {
    let env = TestEnv::new();
    for i in 0..300 {
        env.raw(
            &format!("returns/Return 2020-12-01 n{i}.csv"),
            format!("{i}\n").as_bytes(),
        );
    }
    env.manifest(&single(&["returns/*.csv"], ""));
    env
}

#[test]
fn progress_never_reaches_a_pipe() {
    let env = tree();
    for command in ["gaps", "list", "report"] {
        let mut args = vec![command, "-m", "manifest.toml", "-e", "evidence"];
        if command == "report" {
            args.extend(["--out", "report.html"]);
        }
        let out = env
            .cmd()
            .env("EVPACK_PROGRESS_AFTER_MS", "0")
            .args(&args)
            .output()
            .expect("run evpack");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("scanning"), "{command}: {stderr}");
        assert!(
            !stderr.contains('\r'),
            "{command}: no line redrawn: {stderr}"
        );
    }
}

#[test]
fn progress_shows_on_a_terminal() {
    // `script` runs the command on a pseudo-terminal and records what it printed.
    if !have_tool("script", &["--version"]) {
        return;
    }
    let env = tree();
    let log = env.root().join("typescript");
    let command = format!(
        "'{}' gaps -m manifest.toml -e evidence > /dev/null",
        evpack_bin().display()
    );
    let status = Command::new("script")
        .current_dir(env.root())
        .env("EVPACK_PROGRESS_AFTER_MS", "0")
        .args(["-qec", &command])
        .arg(&log)
        .output()
        .expect("run script");
    assert!(status.status.code().is_some(), "script ran");
    let seen =
        String::from_utf8_lossy(&std::fs::read(&log).expect("the terminal's log")).into_owned();
    assert!(
        seen.contains("scanning the evidence folder")
            || seen.contains("checking that the matched files open"),
        "no progress on the terminal: {seen}"
    );
}
