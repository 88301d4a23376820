//! `evpack build` is reproducible: the same evidence, manifest and date give the same bytes,
//! whatever the folder the pack is written to, the time of day or the files' own times.

use std::time::{Duration, SystemTime};

use crate::support::pack::{build_ok, read_pack, sample_env, DATE, MATCHED};

fn mkdirs(env: &crate::support::TestEnv, dirs: &[&str]) {
    for d in dirs {
        std::fs::create_dir_all(env.root().join(d)).expect("mkdir");
    }
}

#[test]
fn two_builds_with_the_same_date_into_different_folders_are_byte_identical() {
    let env = sample_env();
    mkdirs(&env, &["one", "two/deeper"]);
    let first = build_ok(&env, "one/pack.zip", &[]);
    // A second apart, so a wall-clock time leaking into the zip would show.
    std::thread::sleep(Duration::from_millis(1100));
    let second = build_ok(&env, "two/deeper/pack.zip", &[]);
    let a = std::fs::read(env.root().join("one/pack.zip")).expect("read");
    let b = std::fs::read(env.root().join("two/deeper/pack.zip")).expect("read");
    assert!(a == b, "the two packs differ");
    assert_eq!(
        crate::support::pack::printed_digest(&first.stdout),
        crate::support::pack::printed_digest(&second.stdout)
    );
    assert_eq!(
        std::fs::read(env.root().join("one/pack.zip.sha256")).expect("read"),
        std::fs::read(env.root().join("two/deeper/pack.zip.sha256")).expect("read")
    );
}

#[test]
fn source_date_epoch_gives_the_same_bytes_as_the_same_date() {
    let env = sample_env();
    mkdirs(&env, &["dated", "epoch"]);
    build_ok(&env, "dated/pack.zip", &[]);
    // 2021-01-15 13:20:00 UTC: the time of day must not matter.
    let out = env
        .cmd()
        .env("SOURCE_DATE_EPOCH", "1610716800")
        .args(["build", "-m", "manifest.toml", "-e", "evidence"])
        .args(["--out", "epoch/pack.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = std::fs::read(env.root().join("dated/pack.zip")).expect("read");
    let b = std::fs::read(env.root().join("epoch/pack.zip")).expect("read");
    assert!(
        a == b,
        "SOURCE_DATE_EPOCH and --date {DATE} give different packs"
    );

    let bad = env
        .cmd()
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["build", "-m", "manifest.toml", "-e", "evidence"])
        .args(["--out", "epoch/bad.zip"])
        .output()
        .expect("run evpack build");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SOURCE_DATE_EPOCH"));
    assert!(!env.root().join("epoch/bad.zip").exists());
}

#[test]
fn the_evidence_files_own_times_do_not_reach_the_zip() {
    let env = sample_env();
    mkdirs(&env, &["before", "after"]);
    build_ok(&env, "before/pack.zip", &[]);
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    for (rel, _) in MATCHED {
        let f = std::fs::File::options()
            .write(true)
            .open(env.evidence().join(rel))
            .expect("open evidence");
        f.set_modified(old).expect("set mtime");
    }
    build_ok(&env, "after/pack.zip", &[]);
    let a = std::fs::read(env.root().join("before/pack.zip")).expect("read");
    let b = std::fs::read(env.root().join("after/pack.zip")).expect("read");
    assert!(a == b, "file modification times changed the pack");
}

#[test]
fn entries_are_sorted_with_one_timestamp_and_mode_0644() {
    let env = sample_env();
    build_ok(&env, "pack.zip", &[]);
    let entries = read_pack(&env.root().join("pack.zip"));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(
        names, sorted,
        "entries are not in byte order of their names"
    );
    for e in &entries {
        assert_eq!(e.modified, Some((2021, 1, 15, 0, 0, 0)), "{}", e.name);
        assert_eq!(
            e.unix_mode.map(|m| m & 0o7777),
            Some(0o644),
            "{}: mode {:?}",
            e.name,
            e.unix_mode.map(|m| format!("{m:o}"))
        );
        assert!(!e.name.ends_with('/'), "directory entry {}", e.name);
    }

    // Evidence that is executable or read-only on disk is still 0644 in the pack.
    use std::os::unix::fs::PermissionsExt;
    let exec = env.evidence().join(MATCHED[1].0);
    std::fs::set_permissions(&exec, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ro = env.evidence().join(MATCHED[0].0);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    mkdirs(&env, &["modes"]);
    build_ok(&env, "modes/pack.zip", &[]);
    let a = std::fs::read(env.root().join("pack.zip")).expect("read");
    let b = std::fs::read(env.root().join("modes/pack.zip")).expect("read");
    assert!(a == b, "evidence file modes changed the pack");
}

/// The evidence folder and manifest typed three ways (relative, with `./` and a trailing
/// `/`, absolute) give the same pack, and the pack holds no trace of the lead's folders.
#[test]
fn paths_typed_differently_give_the_same_pack_and_leak_no_folder_layout() {
    let env = sample_env();
    mkdirs(&env, &["a", "b", "c"]);
    let root = env.root().to_string_lossy().into_owned();
    let abs_ev = format!("{root}/evidence");
    let abs_manifest = format!("{root}/manifest.toml");
    let mut packs = Vec::new();
    for (out, ev, manifest) in [
        ("a/pack.zip", "evidence", "manifest.toml"),
        ("b/pack.zip", "./evidence/", "./manifest.toml"),
        ("c/pack.zip", abs_ev.as_str(), abs_manifest.as_str()),
    ] {
        let result = env
            .cmd()
            .args(["build", "-q", "--date", DATE, "-m", manifest, "-e", ev])
            .args(["--out", out])
            .output()
            .expect("run evpack build");
        assert_eq!(
            result.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        packs.push(std::fs::read(env.root().join(out)).expect("read"));
    }
    assert!(
        packs[0] == packs[1],
        "`-e ./evidence/` gives a different pack"
    );
    assert!(packs[0] == packs[2], "absolute paths give a different pack");
    for e in read_pack(&env.root().join("c/pack.zip")) {
        let text = String::from_utf8_lossy(&e.bytes);
        assert!(!text.contains(&root), "{} names the lead's folders", e.name);
    }
}
