//! `evpack build` is atomic and honest: when it fails, is interrupted, or finds the evidence
//! changed under it, no pack and no temporary file is left, and a pack already at `--out`
//! keeps its bytes. Evidence it cannot read or name is an error that names the file.
//!
//! Races with a running build are made wide rather than timed: the build is started on a
//! large sparse file that sorts first, the test waits for the pack's temporary file (which
//! exists only once reading has begun) and then acts. Files from the fifth on are opened only
//! after the first one is written, so a change to a late file always lands before it is read.
//! If a machine still finishes first, the test says so and skips.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::pack::{build_cmd, names_in, put, sample_env, DATE, MATCHED};
use crate::support::{evpack_bin, have_tool, unprivileged_evpack, TestEnv};

const OLD_PACK: &[u8] = b"the pack built last week\n";
const OLD_DIGEST: &[u8] = b"0000  pack.zip\n";

/// Puts an older pack (and its digest file) in `out/`; returns the folder.
fn old_pack(env: &TestEnv) -> PathBuf {
    let out = env.root().join("out");
    std::fs::create_dir_all(&out).expect("mkdir out");
    std::fs::write(out.join("pack.zip"), OLD_PACK).expect("write old pack");
    std::fs::write(out.join("pack.zip.sha256"), OLD_DIGEST).expect("write old digest");
    out
}

/// The old pack and its digest file are all `out/` holds, byte for byte: nothing new, no
/// temporary file.
fn assert_old_pack_alone(out: &Path) {
    assert_eq!(
        names_in(out),
        BTreeSet::from(["pack.zip".to_string(), "pack.zip.sha256".to_string()]),
        "leftovers in the pack's folder"
    );
    assert_eq!(std::fs::read(out.join("pack.zip")).expect("read"), OLD_PACK);
    assert_eq!(
        std::fs::read(out.join("pack.zip.sha256")).expect("read"),
        OLD_DIGEST
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------
// Failures before or while writing
// ---------------------------------------------------------------------------------------

#[test]
fn a_matched_file_with_a_non_utf8_name_fails_naming_it_and_keeps_the_old_pack() {
    let env = sample_env();
    let mut name = b"improvement plan/Bad ".to_vec();
    name.extend_from_slice(b"\xff\xfe name 2020-12-01.md");
    let path = env.evidence().join(std::ffi::OsStr::from_bytes(&name));
    std::fs::write(&path, b"x").expect("write a non-UTF-8 name");
    let out = old_pack(&env);
    let root_before = names_in(env.root());

    let result = build_cmd(&env, &["--out", "out/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2));
    let err = stderr(&result);
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(
        err.contains("improvement plan/Bad ") && err.contains(" name 2020-12-01.md"),
        "the error does not name the file: {err}"
    );
    assert_old_pack_alone(&out);
    assert_eq!(names_in(env.root()), root_before);
}

#[test]
fn a_pack_inside_the_evidence_folder_is_refused_and_nothing_is_written() {
    let env = sample_env();
    std::fs::create_dir(env.evidence().join("packs")).expect("mkdir");
    std::os::unix::fs::symlink(env.evidence().join("packs"), env.root().join("link"))
        .expect("symlink");
    let evidence_before = names_in(&env.evidence());
    let packs_before = names_in(&env.evidence().join("packs"));
    let root_before = names_in(env.root());
    for out in [
        "evidence/pack.zip",
        "evidence/packs/pack.zip",
        "link/pack.zip",
    ] {
        let result = build_cmd(&env, &["--out", out])
            .output()
            .expect("run evpack build");
        assert_eq!(result.status.code(), Some(2), "--out {out}");
        let err = stderr(&result);
        assert!(
            err.contains("inside the evidence folder"),
            "--out {out}: {err}"
        );
        assert_eq!(names_in(&env.evidence()), evidence_before, "--out {out}");
        assert_eq!(
            names_in(&env.evidence().join("packs")),
            packs_before,
            "--out {out}"
        );
        assert_eq!(names_in(env.root()), root_before, "--out {out}");
    }
}

#[test]
fn a_missing_out_folder_is_an_error_and_is_not_created() {
    let env = sample_env();
    let root_before = names_in(env.root());
    let result = build_cmd(&env, &["--out", "missing/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2));
    let err = stderr(&result);
    assert!(
        err.contains("missing") && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(names_in(env.root()), root_before);
}

#[test]
fn an_out_path_that_is_a_folder_fails_and_leaves_no_temporary_file() {
    let env = sample_env();
    std::fs::create_dir_all(env.root().join("out/pack.zip")).expect("mkdir");
    let result = build_cmd(&env, &["--out", "out/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(stderr(&result).contains("pack.zip"), "{}", stderr(&result));
    assert_eq!(
        names_in(&env.root().join("out")),
        BTreeSet::from(["pack.zip".to_string()])
    );
    assert!(names_in(&env.root().join("out/pack.zip")).is_empty());
}

/// The pack and its digest file land together or not at all: a folder where
/// `PACK.zip.sha256` should go leaves the old pack and everything else as it was.
#[test]
fn a_digest_file_that_cannot_be_written_leaves_the_old_pack_in_place() {
    let env = sample_env();
    let out = old_pack(&env);
    std::fs::remove_file(out.join("pack.zip.sha256")).expect("remove the old digest");
    std::fs::create_dir(out.join("pack.zip.sha256")).expect("mkdir");
    let result = build_cmd(&env, &["--out", "out/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("pack.zip.sha256"),
        "{}",
        stderr(&result)
    );
    assert_eq!(
        names_in(&out),
        BTreeSet::from(["pack.zip".to_string(), "pack.zip.sha256".to_string()]),
        "leftovers in the pack's folder"
    );
    assert_eq!(std::fs::read(out.join("pack.zip")).expect("read"), OLD_PACK);
    assert!(names_in(&out.join("pack.zip.sha256")).is_empty());
}

/// Terminal escapes and bidi overrides in file names never reach the terminal through an
/// error message: the names are shown escaped.
#[test]
fn names_in_error_messages_are_escaped() {
    const ESC_NAME: &str = "hostile/Evil \u{1b}[2J\u{1b}[31mred\u{202e}fdp.md";
    const BIDI_NAME: &str = "hostile/Evil \u{202e}fdp.md";
    let refused = |names: &[&str], why: &str| -> String {
        let env = sample_env();
        for name in names {
            put(&env, name, name.as_bytes());
        }
        let result = build_cmd(&env, &["--out", "pack.zip"])
            .output()
            .expect("run evpack build");
        assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
        let err = stderr(&result);
        assert!(err.contains(why), "{err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{err:?}"
        );
        err
    };
    // A name holding terminal escapes.
    let err = refused(&[ESC_NAME], "control character");
    assert!(
        err.contains("\\u{1b}[2J") && err.contains("\\u{202e}"),
        "{err:?}"
    );
    // Case twins whose names carry a right-to-left override.
    let upper = BIDI_NAME.to_uppercase();
    let err = refused(&[BIDI_NAME, &upper], "differs only in case");
    assert!(err.contains("\\u{202e}"), "{err:?}");

    // A matched pipe (skipped by the scan, still asked for) with such a name.
    let env = sample_env();
    let made = Command::new("mkfifo")
        .arg(env.evidence().join(ESC_NAME))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let result = build_cmd(&env, &["--out", "pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(err.contains("so the pack would be incomplete"), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
}

/// Names that unzip, bagit.py, Windows or a Mac would break on are refused before anything
/// is written, each named (escaped) with the fix; the old pack stays.
#[test]
fn names_other_tools_break_on_are_refused_naming_them() {
    let cases: &[(&[&str], &str)] = &[
        (&["hostile/Tab\there 2020-12-01.md"], "control character"),
        (&["hostile/Line\nbreak 2020-12-01.md"], "control character"),
        (&["hostile/Delete\u{7f} 2020-12-01.md"], "control character"),
        (
            &["hostile/Trailing space 2020-12-01.md "],
            "ends with a space or a dot",
        ),
        (
            &["hostile/Folder /Plan 2020-12-01.md"],
            "ends with a space or a dot",
        ),
        (
            &[
                "hostile/Caf\u{e9} 2020-12-01.md",
                "hostile/Cafe\u{301} 2020-12-01.md",
            ],
            "differs only in case or accents",
        ),
        (
            &["hostile/plan", "hostile/Plan/Annex 2020-12-01.md"],
            "differs only in case or accents",
        ),
        (
            &["hostile/Panel 3:12:20 2020-12-03.md"],
            "which Windows does not allow in a name",
        ),
        (
            &["hostile/aux.2020-12-01.md"],
            "a name Windows keeps for a device",
        ),
    ];
    for (names, why) in cases {
        let env = sample_env();
        let out = old_pack(&env);
        for name in *names {
            put(&env, name, b"evidence");
        }
        let result = build_cmd(&env, &["--out", "out/pack.zip"])
            .output()
            .expect("run evpack build");
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{names:?}: {err}");
        assert!(err.contains(why), "{names:?}: {err}");
        assert!(err.contains("hostile/"), "{names:?}: {err}");
        assert!(!err.contains('\t') && !err.contains('\u{7f}'), "{err:?}");
        assert_old_pack_alone(&out);
    }
}

#[test]
fn matched_names_that_differ_only_in_case_fail_naming_them() {
    let env = sample_env();
    put(
        &env,
        "improvement plan/PLAN SUMMARY 2020-11-30.TXT",
        b"shouting\n",
    );
    let out = old_pack(&env);
    let result = build_cmd(&env, &["--out", "out/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2));
    let err = stderr(&result);
    assert!(
        err.contains("PLAN SUMMARY 2020-11-30.TXT") && err.contains("Plan summary 2020-11-30.txt"),
        "{err}"
    );
    assert_old_pack_alone(&out);
}

#[test]
fn a_matched_name_with_a_backslash_fails_naming_it() {
    let env = sample_env();
    put(&env, "improvement plan/Q3\\Q4 plan 2020-12-01.md", b"x\n");
    let out = old_pack(&env);
    let result = build_cmd(&env, &["--out", "out/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(result.status.code(), Some(2));
    let err = stderr(&result);
    assert!(err.contains("Q3\\Q4 plan 2020-12-01.md"), "{err}");
    assert_old_pack_alone(&out);
}

/// Runs the build as `nobody` when the tests run as root (permission bits do not stop root),
/// from a copy of the binary under /tmp that `nobody` can reach.
#[test]
fn an_unreadable_matched_file_is_an_error_naming_it_and_no_pack_is_written() {
    let dir = tempfile::Builder::new()
        .prefix("evpack-it-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    std::fs::create_dir(dir.path().join("evidence")).expect("mkdir");
    let env = TestEnv { dir };
    for (rel, _) in MATCHED {
        put(&env, rel, b"evidence\n");
    }
    let locked = "audits/pathway plans/Pathway plan audit 2020-11-20.md";
    put(&env, locked, b"locked\n");
    env.manifest(crate::support::pack::MANIFEST);

    let Some(mut cmd) = unprivileged_evpack(env.root()) else {
        return;
    };
    let out = old_pack(&env);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    for f in ["pack.zip", "pack.zip.sha256"] {
        std::fs::set_permissions(out.join(f), std::fs::Permissions::from_mode(0o666))
            .expect("chmod");
    }
    std::fs::set_permissions(
        env.evidence().join(locked),
        std::fs::Permissions::from_mode(0o000),
    )
    .expect("chmod");

    let result = cmd
        .current_dir(env.root())
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .args([
            "build",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--date",
            DATE,
        ])
        .args(["--out", "out/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(
        result.status.code(),
        Some(2),
        "a file the manifest asks for could not be read, yet the build went on\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&result.stdout),
        stderr(&result)
    );
    let err = stderr(&result);
    assert!(
        err.contains(locked),
        "the error does not name the file: {err}"
    );
    assert!(
        err.contains("permission denied") || err.contains("cannot be read"),
        "{err}"
    );
    assert_old_pack_alone(&out);
}

// ---------------------------------------------------------------------------------------
// A running build: Ctrl-C, evidence that changes under it
// ---------------------------------------------------------------------------------------

/// A large matched file that sorts first in the pack: seconds of reading in a debug build,
/// about one in a release build. Sparse, so it costs no disk, and `.csv`, so it is deflated
/// to almost nothing if the build ever completes.
const BIG: &str = "audits/pathway plans/A big pathway export 2020-12-01.csv";
/// The last file in pack order (index 11): opened only after [`BIG`] is written.
const LATE: &str = "scorecards/2020-12/Care leavers scorecard Dec 2020.xlsx";

fn big_env() -> TestEnv {
    let env = sample_env();
    let size: u64 = if cfg!(debug_assertions) {
        48 << 20
    } else {
        1 << 30
    };
    std::fs::File::create(env.evidence().join(BIG))
        .and_then(|f| f.set_len(size))
        .expect("create the sparse file");
    env
}

/// Starts `evpack build --out out/pack.zip` over `env` (an old pack already there), waits
/// until the pack's temporary file exists, runs `act` with the child's pid, and returns the
/// build's output; `None` (with a message) if the build was over before `act` could matter.
fn race(env: &TestEnv, act: impl FnOnce(u32)) -> Option<Output> {
    let out = old_pack(env);
    let mut child = Command::new(evpack_bin())
        .current_dir(env.root())
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .args([
            "build",
            "-q",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--date",
            DATE,
        ])
        .args(["--out", "out/pack.zip"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start evpack build");
    let started = Instant::now();
    loop {
        if names_in(&out).iter().any(|n| n.ends_with(".part")) {
            break;
        }
        if child.try_wait().expect("poll the build").is_some() {
            let output = child.wait_with_output().expect("collect output");
            panic!(
                "the build ended before writing its temporary file: {:?}\n{}",
                output.status.code(),
                stderr(&output)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no temporary file after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    act(child.id());
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().expect("poll the build").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the build did not end within 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("collect output");
    if output.status.success() {
        eprintln!(
            "SKIPPED: the build finished before the test could act; make {BIG} larger on this machine"
        );
        return None;
    }
    Some(output)
}

/// Runs a change to the evidence against a build and checks it fails naming `victim`.
fn change_during_build(change: impl FnOnce(&Path), victim: &str) {
    let env = big_env();
    let evidence = env.evidence();
    let Some(output) = race(&env, |_| change(&evidence)) else {
        return;
    };
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(victim),
        "the error does not name {victim}: {err}"
    );
    assert!(err.contains("since the evidence was assessed"), "{err}");
    assert_old_pack_alone(&env.root().join("out"));
}

#[test]
fn ctrl_c_leaves_no_pack_and_no_temporary_file_and_keeps_the_old_pack() {
    if !have_tool("kill", &["-l"]) {
        return;
    }
    let env = big_env();
    let Some(output) = race(&env, |pid| {
        // Past the moment the temporary file appears, the handler is surely installed.
        std::thread::sleep(Duration::from_millis(200));
        let ok = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -INT failed");
    }) else {
        return;
    };
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_old_pack_alone(&env.root().join("out"));
}

/// SIGTERM (a logout, a service stop) and SIGHUP (a closed terminal) are treated like
/// Ctrl-C: no `.part` file left behind.
#[test]
fn sigterm_and_sighup_leave_no_pack_and_no_temporary_file() {
    if !have_tool("kill", &["-l"]) {
        return;
    }
    for signal in ["-TERM", "-HUP"] {
        let env = big_env();
        let Some(output) = race(&env, |pid| {
            std::thread::sleep(Duration::from_millis(200));
            let ok = Command::new("kill")
                .args([signal, &pid.to_string()])
                .status()
                .expect("run kill");
            assert!(ok.success(), "kill {signal} failed");
        }) else {
            return;
        };
        assert!(!output.status.success(), "{signal}");
        assert!(
            stderr(&output).contains("interrupted"),
            "{signal}: {}",
            stderr(&output)
        );
        assert_old_pack_alone(&env.root().join("out"));
    }
}

/// A file swapped for a pipe after the scan: opening it must not wait for a writer.
#[test]
fn a_late_file_swapped_for_a_pipe_is_an_error_naming_it_not_a_hang() {
    change_during_build(
        |ev| {
            std::fs::remove_file(ev.join(LATE)).expect("remove");
            let made = Command::new("mkfifo")
                .arg(ev.join(LATE))
                .status()
                .expect("mkfifo");
            assert!(made.success());
        },
        LATE,
    );
}

/// A folder swapped for a link to a folder outside after the scan: the file of the same
/// name out there is never read into the pack.
#[test]
fn a_late_folder_swapped_for_a_link_outside_is_an_error_and_nothing_outside_is_packed() {
    let outside = tempfile::tempdir().expect("temp dir");
    let late_name = Path::new(LATE).file_name().expect("a file name");
    std::fs::write(outside.path().join(late_name), "OUTSIDE SECRET").expect("write");
    change_during_build(
        |ev| {
            let folder = ev.join(LATE).parent().expect("a folder").to_path_buf();
            std::fs::rename(&folder, folder.with_extension("real")).expect("rename");
            std::os::unix::fs::symlink(outside.path(), &folder).expect("symlink");
        },
        LATE,
    );
}

#[test]
fn a_late_file_that_grows_after_the_scan_is_an_error_naming_it() {
    change_during_build(
        |ev| {
            let mut f = std::fs::File::options()
                .append(true)
                .open(ev.join(LATE))
                .expect("open");
            f.write_all(b"one more row").expect("append");
        },
        LATE,
    );
}

#[test]
fn a_late_file_that_shrinks_after_the_scan_is_an_error_naming_it() {
    change_during_build(
        |ev| {
            std::fs::File::options()
                .write(true)
                .open(ev.join(LATE))
                .and_then(|f| f.set_len(10))
                .expect("truncate");
        },
        LATE,
    );
}

#[test]
fn a_late_file_that_disappears_after_the_scan_is_an_error_naming_it() {
    change_during_build(
        |ev| std::fs::remove_file(ev.join(LATE)).expect("remove"),
        LATE,
    );
}

#[test]
fn a_file_that_grows_while_it_is_read_is_an_error_naming_it() {
    change_during_build(
        |ev| {
            let mut f = std::fs::File::options()
                .append(true)
                .open(ev.join(BIG))
                .expect("open");
            f.write_all(b"appended while packing").expect("append");
        },
        BIG,
    );
}
