//! `evpack diff`: what changed between two packs, two saved assessments, or one of each.

use serde_json::Value;

use crate::support::gaps::{area, manifest, req};
use crate::support::pack::build_cmd;
use crate::support::TestEnv;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn diff(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .arg("diff")
        .args(args)
        .output()
        .expect("run evpack diff")
}

fn build(env: &TestEnv, out: &str) {
    let o = build_cmd(env, &["--out", out, "--quiet"])
        .output()
        .expect("run evpack build");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

const PLAN: &[u8] = b"# Recovery plan\n\nThe same bytes wherever the file lives.\n";

/// Four areas: audits and scorecards (A), minutes (B), reports and plans (C).
fn tree() -> TestEnv {
    let env = TestEnv::new();
    env.file("audits/Audit 2020-12-01.md", "first version")
        .file("scorecards/Scorecard 2020-12.csv", "x")
        .file("minutes/Minutes 2020-12-03.md", "x")
        .raw("plans/Plan 2020-11-01.md", PLAN)
        // Empty: a pack leaves it out, a saved assessment lists it.
        .raw("audits/Empty 2020-12-02.md", b"");
    env.manifest(&manifest(&[
        area(
            "A",
            &[
                req("R", &["audits/**"], ""),
                req("S", &["scorecards/**"], ""),
            ],
        ),
        area("B", &[req("M", &["minutes/**"], "")]),
        area(
            "C",
            &[
                req("Rep", &["reports/**"], "required = false"),
                req("P", &["plans/**"], ""),
            ],
        ),
    ]));
    env
}

/// The next month: a report added, the minutes removed, the audit changed, the plan moved.
fn next_month(env: &TestEnv) {
    env.file("reports/Report 2020-12-15.md", "x").file(
        "audits/Audit 2020-12-01.md",
        "second version, longer than the first",
    );
    std::fs::remove_file(env.evidence().join("minutes/Minutes 2020-12-03.md")).expect("remove");
    std::fs::create_dir_all(env.evidence().join("plans/archive")).expect("mkdir");
    std::fs::rename(
        env.evidence().join("plans/Plan 2020-11-01.md"),
        env.evidence().join("plans/archive/Plan 2020-11-01.md"),
    )
    .expect("move");
}

#[test]
fn two_packs_name_every_kind_of_change_and_exit_1_when_a_requirement_got_worse() {
    let env = tree();
    build(&env, "old.zip");
    next_month(&env);
    build(&env, "new.zip");

    let out = diff(&env, &["old.zip", "new.zip"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "Readiness: 100% -> 75% (down 25)",
        "Areas whose RAG changed (1)\n  B        green -> red\n",
        "Worse (1)\n  M        Requirement M: met -> missing\n           no file matches `minutes/**`\n",
        "Better (1)\n  Rep      Requirement Rep: missing -> met [advisory]\n",
        "Evidence (compared by SHA-256): 1 added, 1 removed, 1 modified, 1 moved\n",
        "  added     reports/Report 2020-12-15.md\n",
        "  removed   minutes/Minutes 2020-12-03.md\n",
        "  modified  audits/Audit 2020-12-01.md\n",
        "  moved     plans/Plan 2020-11-01.md -> plans/archive/Plan 2020-11-01.md\n",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }

    let out = diff(&env, &["old.zip", "new.zip", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["schema"], "evpack.diff.v1");
    assert_eq!(v["compared_by"], "sha256");
    assert_eq!(v["readiness"]["old"], 100);
    assert_eq!(v["readiness"]["new"], 75);
    assert_eq!(
        v["areas"],
        serde_json::json!([{"id": "B", "old": "green", "new": "red"}])
    );
    let reqs = v["requirements"].as_array().expect("requirements");
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    // In manifest order, each with the new side's reasons.
    assert_eq!(reqs[0]["id"], "M");
    assert_eq!(reqs[0]["old"], "met");
    assert_eq!(reqs[0]["new"], "missing");
    assert_eq!(reqs[0]["change"], "worse");
    assert_eq!(reqs[0]["reasons"][0], "no file matches `minutes/**`");
    assert_eq!(reqs[1]["id"], "Rep");
    assert_eq!(reqs[1]["change"], "better");
    assert_eq!(
        v["files"],
        serde_json::json!({
            "added": ["reports/Report 2020-12-15.md"],
            "removed": ["minutes/Minutes 2020-12-03.md"],
            "modified": ["audits/Audit 2020-12-01.md"],
            "moved": [{"from": "plans/Plan 2020-11-01.md", "to": "plans/archive/Plan 2020-11-01.md"}],
        })
    );

    let md = stdout(&diff(&env, &["old.zip", "new.zip", "--format", "md"]));
    assert!(md.starts_with("# What changed\n"), "{md}");
    assert!(
        md.contains("\n## Worse\n\n- **M Requirement M**: met -> missing\n"),
        "{md}"
    );

    // The other way round, nothing required got worse: the minutes come back.
    let out = diff(&env, &["new.zip", "old.zip"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("Worse (1)\n  Rep"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_pack_against_itself_is_unchanged_and_exits_0() {
    let env = tree();
    build(&env, "old.zip");
    let out = diff(&env, &["old.zip", "old.zip"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Readiness: 100% -> 100% (unchanged)"),
        "{text}"
    );
    assert!(text.contains("No requirement changed status."), "{text}");
    assert!(
        text.contains("Evidence (compared by SHA-256): 0 added, 0 removed, 0 modified, 0 moved"),
        "{text}"
    );

    // An unzipped pack reads as the zip does.
    let file = std::fs::File::open(env.root().join("old.zip")).expect("open the pack");
    zip::ZipArchive::new(file)
        .expect("a zip")
        .extract(env.root().join("unzipped"))
        .expect("unzip");
    let out = diff(&env, &["unzipped/old", "old.zip", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["old"]["kind"], "pack");
    assert_eq!(v["compared_by"], "sha256");
    assert_eq!(
        v["files"],
        serde_json::json!({"added": [], "removed": [], "modified": [], "moved": []})
    );
}

fn save_gaps(env: &TestEnv, file: &str) {
    let out = env.run(&["gaps", "--format", "json"]);
    std::fs::write(env.root().join(file), &out.stdout).expect("save the assessment");
}

#[test]
fn saved_assessments_are_compared_by_path_size_and_date_and_say_so() {
    let env = tree();
    save_gaps(&env, "old.json");
    build(&env, "old.zip");
    next_month(&env);
    save_gaps(&env, "new.json");

    for (old, new) in [("old.json", "new.json"), ("old.zip", "new.json")] {
        let out = diff(&env, &[old, new, "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["compared_by"], "path, size and date");
        assert!(
            v["notes"][0]
                .as_str()
                .expect("a note")
                .contains("no digests"),
            "{v}"
        );
        // The audit grew, so it shows as modified; the plan kept its size and date.
        assert_eq!(
            v["files"]["modified"],
            serde_json::json!(["audits/Audit 2020-12-01.md"])
        );
        assert_eq!(
            v["files"]["moved"][0]["to"],
            "plans/archive/Plan 2020-11-01.md"
        );
        assert_eq!(
            v["files"]["added"],
            serde_json::json!(["reports/Report 2020-12-15.md"])
        );
        assert_eq!(
            v["files"]["removed"],
            serde_json::json!(["minutes/Minutes 2020-12-03.md"])
        );
        let mixed = v["notes"].as_array().expect("notes").iter().any(|n| {
            n.as_str()
                .is_some_and(|n| n.contains("will not open are not compared"))
        });
        assert_eq!(mixed, old == "old.zip", "{}", v["notes"]);
    }
    let text = stdout(&diff(&env, &["old.json", "new.json"]));
    assert!(
        text.contains("Evidence (compared by path, size and date: no digests)"),
        "{text}"
    );
    assert_eq!(diff(&env, &["old.json", "old.json"]).status.code(), Some(0));
}

#[test]
fn sides_of_different_authorities_are_refused_unless_forced() {
    let env = tree();
    save_gaps(&env, "ours.json");
    let other = std::fs::read_to_string(env.root().join("manifest.toml"))
        .expect("manifest")
        .replace("Example Council", "Other Council");
    env.manifest(&other);
    save_gaps(&env, "theirs.json");

    let out = diff(&env, &["ours.json", "theirs.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("theirs.json"), "{err}");
    assert!(err.contains("different authorities"), "{err}");
    assert!(err.contains("--force"), "{err}");

    let out = diff(&env, &["ours.json", "theirs.json", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out)
        .contains("Note: compared with --force although they are of different authorities"));
}

#[test]
fn unusable_sides_exit_2_naming_the_file() {
    let env = tree();
    build(&env, "old.zip");
    std::fs::write(env.root().join("notes.txt"), "hello").expect("write");
    std::fs::write(env.root().join("fake.zip"), b"PK\x03\x04 not really a zip").expect("write");
    std::fs::write(
        env.root().join("cut.json"),
        b"{\"schema\": \"evpack.assessment.v1\", \"areas\": [",
    )
    .expect("write");
    // A real zip that is no pack.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("x/bagit.txt", zip::write::SimpleFileOptions::default())
        .expect("start");
    std::io::Write::write_all(
        &mut w,
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .expect("write");
    std::fs::write(
        env.root().join("bag.zip"),
        w.finish().expect("zip").into_inner(),
    )
    .expect("write");

    for (file, says) in [
        ("notes.txt", "neither a zip, a folder nor a JSON file"),
        ("fake.zip", "fake.zip"),
        ("cut.json", "is not an evpack assessment"),
        ("bag.zip", "the pack holds no readable `pack.json`"),
        ("nowhere.zip", "nowhere.zip"),
    ] {
        let out = diff(&env, &["old.zip", file]);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(file) && err.contains(says), "{file}: {err}");
    }
}

/// Files in each of the two large packs below.
const MANY: usize = 50_000;

/// Peak resident memory allowed to diff two packs of [`MANY`] files: the process (about
/// 10 MB), the larger zip's central directory while it is judged, and per file on each
/// side its path and a compact record (size, digest, date) in a hash table.
const MANY_PEAK_KIB: u64 = 48 * 1024;

/// A pack zip holding only `bagit.txt` and a `pack.json` of `n` files (each listed in the
/// payload and by a requirement, as a built pack lists them), written here rather than
/// built (which would take minutes in a debug build). `changed` files get other digests.
fn pack_json_only(n: usize, changed: usize) -> Vec<u8> {
    let mut payload = Vec::with_capacity(n);
    let mut files = Vec::with_capacity(n);
    for k in 0..n {
        let rel = format!("returns/batch {:03}/Return n{k:06} 2020-12-01.csv", k / 500);
        let sha = crate::support::pack::sha256_hex(format!("{k} {}", k < changed).as_bytes());
        payload.push(serde_json::json!({"path": format!("data/{rel}"), "size": 20, "sha256": sha}));
        files.push(
            serde_json::json!({"path": rel, "date": "2020-12-01", "size": 20, "sha256": sha}),
        );
    }
    let pack_json = serde_json::json!({
        "schema": "evpack.assessment.v1",
        "visit": {"name": "Focused visit", "authority": "Example Council", "date": "2021-01-18"},
        "manifest": {"path": "manifest.toml", "sha256": "ab".repeat(32)},
        "reference_date": "2021-01-18",
        "summary": {"readiness_percent": 100},
        "areas": [{"id": "A", "rag": "green", "requirements": [
            {"id": "R1", "title": "Returns", "required": true, "status": "met", "reasons": [], "files": files}
        ]}],
        "pack_schema": "evpack.pack.v1",
        "bag": {"name": "many", "bagging_date": "2021-01-10"},
        "payload": payload,
    });
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, bytes) in [
        (
            "many/bagit.txt",
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
        ),
        (
            "many/pack.json",
            serde_json::to_vec(&pack_json).expect("JSON"),
        ),
    ] {
        w.start_file(name, deflated).expect("start");
        std::io::Write::write_all(&mut w, &bytes).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

#[test]
fn diff_holds_a_compact_record_a_file_and_never_a_whole_pack_json() {
    let env = TestEnv::new();
    std::fs::write(env.root().join("a.zip"), pack_json_only(MANY, 0)).expect("write");
    std::fs::write(env.root().join("b.zip"), pack_json_only(MANY, 3)).expect("write");
    let (out, peak_kib) = crate::support::memory::run_measured(
        env.root(),
        &["diff", "a.zip", "b.zip", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["files"]["modified"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["files"]["added"].as_array().map(Vec::len), Some(0));
    eprintln!("diff of two packs of {MANY} files peaked at {peak_kib} KiB");
    assert!(
        peak_kib < MANY_PEAK_KIB,
        "diff peaked at {peak_kib} KiB for {MANY} files a side (limit {MANY_PEAK_KIB})"
    );
}

#[test]
fn diff_help_states_its_exit_codes() {
    let env = TestEnv::new();
    let help = stdout(&diff(&env, &["--help"]));
    for code in [
        "0  nothing required got worse",
        "1  a required requirement got worse, or readiness fell",
        "2  a side cannot be read",
    ] {
        assert!(help.contains(code), "{code} not in {help}");
    }
}
