//! `evpack verify`: a hostile-zip corpus built in code, tampering of a real pack (zipped and
//! unzipped), the whole-zip digest, output formats and exit codes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::rawzip::{self as raw, RawEntry};
use crate::support::TestEnv;

/// Runs `evpack verify ARGS --format json`; returns the exit code and the parsed report
/// (Null when nothing parseable was printed, as for exit 2).
fn verify_json(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let out = env
        .cmd()
        .arg("verify")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run evpack");
    let code = out.status.code().expect("exit code");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, v)
}

/// Writes `bytes` as `name` in the env and verifies it.
fn verify_zip(env: &TestEnv, name: &str, bytes: &[u8]) -> (i32, Value) {
    std::fs::write(env.root().join(name), bytes).expect("write zip");
    verify_json(env, &[name])
}

/// The findings of `kind` whose path is `path`.
fn findings<'a>(v: &'a Value, kind: &str, path: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["kind"] == kind && f["path"] == path)
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn assert_finding(v: &Value, kind: &str, path: &str, message_has: &str) {
    let found = findings(v, kind, path);
    assert!(
        found.iter().any(|f| f["message"]
            .as_str()
            .is_some_and(|m| m.contains(message_has))),
        "no {kind} finding for {path:?} mentioning {message_has:?} in\n{}",
        serde_json::to_string_pretty(&v["findings"]).unwrap_or_default()
    );
}

/// Exit 2 with an error naming the reason.
#[track_caller]
fn assert_unreadable(env: &TestEnv, name: &str, bytes: &[u8], reason: &str) {
    std::fs::write(env.root().join(name), bytes).expect("write");
    let out = env.cmd().args(["verify", name]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(reason), "stderr lacks {reason:?}: {err}");
}

fn payload() -> Vec<(&'static str, &'static [u8])> {
    vec![("a.txt", b"first file\n"), ("sub/b.csv", b"x,y\n1,2\n")]
}

#[test]
fn a_raw_bag_built_in_code_is_intact() {
    let env = TestEnv::new();
    let (code, v) = verify_zip(&env, "bag.zip", &raw::write(&raw::bag(&payload())));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verdict"], "intact");
    assert_eq!(v["bag_root"], "bag/");
    assert_eq!(v["counts"]["payload_files"], 2);
}

#[test]
fn path_traversal_is_unsafe_and_not_read() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    e.push(RawEntry::new(
        "bag/data/../../../etc/cron.d/evil",
        b"* * * * * root sh",
    ));
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/../../../etc/cron.d/evil", "`..`");
}

#[test]
fn absolute_path_is_unsafe() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    e.push(RawEntry::new("/etc/evil", b"x"));
    e.push(RawEntry::new("C:/Windows/evil", b"x"));
    e.push(RawEntry::new("bag\\data\\evil", b"x"));
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "/etc/evil", "absolute path");
    assert_finding(&v, "unsafe", "C:/Windows/evil", "drive letter");
    assert_finding(&v, "unsafe", "bag\\data\\evil", "backslash");
}

#[test]
fn symlink_entry_is_unsafe_and_not_followed() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    let mut link = RawEntry::new("bag/data/passwd", b"/etc/passwd");
    link.external_attr = 0o120_777 << 16;
    e.push(link);
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/passwd", "symbolic link");
    // Reported once: not also "unexpected".
    assert!(findings(&v, "unexpected", "data/passwd").is_empty(), "{v}");
}

#[test]
fn duplicate_names_are_unsafe() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    e.push(RawEntry::new(
        "bag/data/a.txt",
        b"a second, different a.txt",
    ));
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_eq!(findings(&v, "unsafe", "data/a.txt").len(), 1, "{v}");
    assert_finding(&v, "unsafe", "data/a.txt", "duplicate name: 2 entries");
}

/// File names equal ignoring case, or differing only in Unicode normalisation, collide on
/// Windows and macOS: a warning, not a finding (each file is checked, and intact).
#[test]
fn file_names_equal_ignoring_case_or_normalisation_are_warned_about() {
    let env = TestEnv::new();
    let p = vec![
        ("Report.pdf", b"one" as &[u8]),
        ("report.pdf", b"two" as &[u8]),
        ("Revue qualit\u{e9}.md", b"nfc" as &[u8]),
        ("Revue qualite\u{301}.md", b"nfd" as &[u8]),
    ];
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&raw::bag(&p)));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["counts"]["findings"], 0, "{v}");
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings
        .iter()
        .any(|w| w.contains("`data/Report.pdf` and `data/report.pdf`")));
    assert!(warnings.iter().all(|w| w.contains("Windows or macOS")));
}

/// Folders that differ only in case (`AUDITS/`, `audits/`, with different files inside)
/// merge harmlessly when unzipped: no finding, no warning.
#[test]
fn folders_that_differ_only_in_case_are_no_hazard() {
    let env = TestEnv::new();
    let p = vec![
        ("AUDITS/a.pdf", b"one" as &[u8]),
        ("audits/b.pdf", b"two" as &[u8]),
    ];
    let mut entries = raw::bag(&p);
    // As Info-ZIP writes them: an entry for each folder too.
    entries.push(RawEntry::new("bag/data/AUDITS/", b""));
    entries.push(RawEntry::new("bag/data/audits/", b""));
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&entries));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["warnings"], serde_json::json!([]), "{v}");
}

/// The entries of a bag of `payload`, each `(from, to)` of `renames` storing the payload
/// file `from` under the raw name bytes `to`, without the UTF-8 flag; the manifest still
/// names `from`.
fn bag_renamed_unflagged(payload: &[(&str, &[u8])], renames: &[(&str, &[u8])]) -> Vec<RawEntry> {
    let mut entries = raw::bag(payload);
    for (from, to) in renames {
        let full = format!("bag/data/{from}");
        let i = entries
            .iter()
            .position(|e| e.name == full.as_bytes())
            .expect("a payload entry to rename");
        entries[i] = entries[i].clone().unflagged(&[b"bag/data/", *to].concat());
    }
    entries
}

/// Names without the UTF-8 flag are CP437 (APPNOTE appendix D): the bytes an older writer
/// stores for `Café.txt` name the file the manifest lists, with a note.
#[test]
fn names_without_the_utf8_flag_are_read_as_cp437_with_a_note() {
    let env = TestEnv::new();
    let p = vec![
        ("Caf\u{e9}.txt", b"menu" as &[u8]),
        ("M\u{fc}ller/\u{2554}\u{2550}\u{2557}.txt", b"box" as &[u8]),
        ("plain.txt", b"ascii" as &[u8]),
    ];
    let renames: [(&str, &[u8]); 2] = [
        ("Caf\u{e9}.txt", b"Caf\x82.txt"),
        (
            "M\u{fc}ller/\u{2554}\u{2550}\u{2557}.txt",
            b"M\x81ller/\xC9\xCD\xBB.txt",
        ),
    ];
    let zip = raw::write(&bag_renamed_unflagged(&p, &renames));
    let (code, v) = verify_zip(&env, "t.zip", &zip);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verdict"], "intact", "{v}");
    assert_eq!(v["counts"]["payload_files"], 3, "{v}");
    assert_eq!(
        v["notes"],
        serde_json::json!([
            "2 entry names were read as CP437 (the zip does not mark them UTF-8), e.g. `data/Caf\u{e9}.txt`"
        ])
    );
    let out = env.cmd().args(["verify", "t.zip"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("note: 2 entry names were read as CP437"),
        "{text}"
    );
}

/// Many writers store UTF-8 without setting the flag: valid UTF-8 is read as UTF-8, and
/// there is nothing to note.
#[test]
fn valid_utf8_names_without_the_flag_are_read_as_utf8_without_a_note() {
    let env = TestEnv::new();
    let p = vec![("Caf\u{e9}.txt", b"menu" as &[u8])];
    let renames: [(&str, &[u8]); 1] = [("Caf\u{e9}.txt", "Caf\u{e9}.txt".as_bytes())];
    let zip = raw::write(&bag_renamed_unflagged(&p, &renames));
    let (code, v) = verify_zip(&env, "t.zip", &zip);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["notes"], serde_json::json!([]), "{v}");
}

/// A name read as CP437 meets every check a UTF-8 name does, as the name it reads as: a
/// UTF-8 twin is a duplicate, `..` is unsafe. Bytes flagged UTF-8 that are not stay unsafe.
#[test]
fn cp437_names_meet_the_same_checks() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    e.push(RawEntry::new("bag/data/Caf\u{e9}.txt", b"utf-8").unflagged(b"bag/data/Caf\x82.txt"));
    e.push(RawEntry::new("bag/data/Caf\u{e9}.txt", b"utf-8 too"));
    e.push(RawEntry::new("x", b"evil").unflagged(b"bag/data/../../\x82vil"));
    let mut flagged = RawEntry::new("x", b"damaged");
    flagged.name = b"bag/data/Caf\x82.csv".to_vec();
    e.push(flagged);
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1, "{v}");
    assert_eq!(findings(&v, "unsafe", "data/Caf\u{e9}.txt").len(), 1, "{v}");
    assert_finding(
        &v,
        "unsafe",
        "data/Caf\u{e9}.txt",
        "duplicate name: 2 entries",
    );
    assert_finding(&v, "unsafe", "data/../../\u{e9}vil", "`..`");
    assert_finding(&v, "unsafe", "data/Caf\u{fffd}.csv", "not valid UTF-8");
}

#[test]
fn deflate_bomb_stops_at_the_declared_size() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    // 40 MB of zeros deflates to ~40 KB; the central directory claims 1,000 bytes.
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let mut bomb = RawEntry::deflated("bag/data/bomb.bin", &zeros);
    drop(zeros);
    bomb.size = 1000;
    bomb.crc = 0;
    e.push(bomb);
    let zip = raw::write(&e);
    let started = Instant::now();
    let (code, v) = verify_zip(&env, "bomb.zip", &zip);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/bomb.bin", "beyond its declared size");
}

#[test]
fn overlapping_entries_sharing_one_kernel_are_refused_before_reading() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    // One honest-looking 20 MB kernel, then 200 central records all pointing at it: the
    // classic way to make a small zip unzip to gigabytes.
    let kernel = RawEntry::deflated("bag/data/k000", &vec![0u8; 20 * 1024 * 1024]);
    let kernel_at = raw::write(&e).len() - 22 - central_len(&e);
    let mut extra = vec![kernel.clone()];
    for i in 1..200 {
        let mut r = kernel.clone();
        r.name = format!("bag/data/k{i:03}").into_bytes();
        r.offset = Some(kernel_at as u32);
        r.central_only = true;
        extra.push(r);
    }
    e.extend(extra);
    let started = Instant::now();
    let (code, v) = verify_zip(&env, "overlap.zip", &raw::write(&e));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/k000", "overlaps");
    assert_finding(&v, "unsafe", "data/k199", "overlaps");
    assert_eq!(v["counts"]["unsafe"], 200, "{}", v["counts"]);
}

/// Bytes of the central directory `raw::write` emits for these entries.
fn central_len(e: &[RawEntry]) -> usize {
    e.iter().map(|x| 46 + x.name.len()).sum()
}

#[test]
fn overlapping_ranges_in_the_chained_bomb_layout_are_refused() {
    // The other classic layout: local headers one after another, each entry's data running
    // over the headers that follow it to a shared kernel at the end.
    let env = TestEnv::new();
    let kernel = raw::deflate(&vec![0u8; 10 * 1024 * 1024]);
    let n = 20usize;
    let names: Vec<String> = (0..n).map(|i| format!("bag/data/c{i:02}")).collect();
    let mut e = raw::bag(&[]);
    let base = raw::write(&e).len() - 22 - central_len(&e);
    let headers_len: usize = names.iter().map(|nm| 30 + nm.len()).sum();
    let mut at = base;
    for nm in &names {
        let data_start = at + 30 + nm.len();
        let csize = base + headers_len + kernel.len() - data_start;
        let mut r = RawEntry::new(nm, b"");
        r.method = 8;
        r.compressed_size = csize as u32;
        r.size = 10 * 1024 * 1024;
        r.data = Vec::new();
        e.push(r);
        at = data_start;
    }
    // The last header's data is the kernel itself.
    if let Some(last) = e.last_mut() {
        last.data = kernel;
    }
    let started = Instant::now();
    let (code, v) = verify_zip(&env, "chain.zip", &raw::write(&e));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/c00", "overlaps");
    assert_finding(&v, "unsafe", "data/c18", "overlaps");
}

#[test]
fn a_truncated_zip_exits_2() {
    let env = TestEnv::new();
    let zip = raw::write(&raw::bag(&payload()));
    assert_unreadable(&env, "cut.zip", &zip[..zip.len() / 2], "truncated");
    // Cut inside the end record.
    assert_unreadable(&env, "cut2.zip", &zip[..zip.len() - 5], "truncated");
}

#[test]
fn a_local_header_that_disagrees_is_unsafe() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    let mut renamed = RawEntry::new("bag/data/innocent.txt", b"hello");
    renamed.local_name = Some(b"bag/data/../../evil.x".to_vec());
    let mut crc = RawEntry::new("bag/data/crc.txt", b"hello");
    crc.local_crc = Some(1234);
    e.push(renamed);
    e.push(crc);
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/innocent.txt", "local header");
    assert_finding(&v, "unsafe", "data/crc.txt", "CRC-32");
}

#[test]
fn sizes_and_crc_that_disagree_with_the_data_are_unsafe() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    let mut short = RawEntry::deflated("bag/data/short.txt", b"twelve bytes");
    short.size = 100;
    let mut crc = RawEntry::deflated("bag/data/crc.txt", b"data");
    crc.crc ^= 1;
    e.push(short);
    e.push(crc);
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/short.txt", "inflates to 12 bytes");
    // The CRC is reported because nothing else names the file (it is not in the manifest
    // either, so it is also unexpected).
    assert_finding(&v, "unexpected", "data/crc.txt", "not listed");
}

#[test]
fn an_encrypted_entry_is_unsafe() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    if let Some(x) = e.iter_mut().find(|x| x.name == b"bag/data/a.txt") {
        x.flags |= 1;
    }
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unsafe", "data/a.txt", "encrypted");
    // Named once: not also "missing" from the manifest.
    assert!(findings(&v, "missing", "data/a.txt").is_empty(), "{v}");
}

#[test]
fn empty_and_non_zip_files_exit_2() {
    let env = TestEnv::new();
    assert_unreadable(&env, "empty.zip", b"", "empty");
    assert_unreadable(&env, "notes.zip", b"Minutes of the meeting\n", "not a zip");
    assert_unreadable(&env, "big.zip", &vec![b'x'; 200_000], "not a zip");
}

#[test]
fn no_bagit_txt_or_no_path_exits_2() {
    let env = TestEnv::new();
    let zip = raw::write(&[RawEntry::new("docs/a.txt", b"a")]);
    assert_unreadable(&env, "nobag.zip", &zip, "no bagit.txt");
    let out = env
        .cmd()
        .args(["verify", "absent.zip"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.zip"));
    std::fs::create_dir(env.root().join("plain")).expect("mkdir");
    let out = env.cmd().args(["verify", "plain"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no bagit.txt"));
}

#[test]
fn a_bag_zipped_at_the_top_level_is_found() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    for x in &mut e {
        x.name = x.name.strip_prefix(b"bag/").unwrap_or(&x.name).to_vec();
    }
    let (code, v) = verify_zip(&env, "top.zip", &raw::write(&e));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bag_root"], "");
}

#[test]
fn entries_outside_the_bag_folder_and_directory_entries() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    e.push(RawEntry::new("bag/data/", b""));
    e.push(RawEntry::new("bag/data/sub/", b""));
    e.push(RawEntry::new("stowaway.exe", b"MZ"));
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "unexpected", "stowaway.exe", "outside the bag folder");
    assert_eq!(
        v["counts"]["findings"], 1,
        "directory entries are tolerated: {v}"
    );
}

#[test]
fn every_kind_of_damage_is_reported_in_one_run() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    for x in &mut e {
        match x.name.as_slice() {
            b"bag/bagit.txt" => *x = RawEntry::new("bag/bagit.txt", b"BagIt-Version: one\n"),
            b"bag/bag-info.txt" => {
                *x = RawEntry::new("bag/bag-info.txt", b"Payload-Oxum: 1.1\nno colon here\n")
            }
            b"bag/manifest-sha256.txt" => {
                let mut m = String::from_utf8(x.data.clone()).expect("utf8");
                m.push_str("not a manifest line\n");
                m.push_str(&format!("{}  data/gone.txt\n", raw::sha256(b"gone")));
                *x = RawEntry::new("bag/manifest-sha256.txt", m.as_bytes());
            }
            b"bag/data/a.txt" => *x = RawEntry::deflated("bag/data/a.txt", b"first file, edited\n"),
            _ => {}
        }
    }
    e.push(RawEntry::new("bag/data/extra.txt", b"extra"));
    e.push(RawEntry::new("bag/data/../x", b"x"));
    let (code, v) = verify_zip(&env, "t.zip", &raw::write(&e));
    assert_eq!(code, 1);
    assert_finding(&v, "tag", "bagit.txt", "line 1");
    assert_finding(&v, "tag", "bagit.txt", "line 2");
    assert_finding(&v, "tag", "bag-info.txt", "line 2");
    assert_finding(
        &v,
        "tag",
        "bag-info.txt",
        "Payload-Oxum says 1 bytes in 1 files",
    );
    assert_finding(&v, "tag", "manifest-sha256.txt", "malformed");
    assert_finding(&v, "missing", "data/gone.txt", "manifest-sha256.txt");
    assert_finding(&v, "modified", "data/a.txt", "sha256");
    assert_finding(&v, "unexpected", "data/extra.txt", "not listed");
    assert_finding(&v, "unsafe", "data/../x", "`..`");
    let modified = &findings(&v, "modified", "data/a.txt")[0];
    assert_eq!(modified["expected"], raw::sha256(b"first file\n"));
    assert_eq!(modified["found"], raw::sha256(b"first file, edited\n"));
}

#[test]
fn text_output_groups_then_counts_then_a_verdict_and_quiet_prints_the_verdict() {
    let env = TestEnv::new();
    let mut e = raw::bag(&payload());
    e.push(RawEntry::new("bag/data/extra.txt", b"extra"));
    e.push(RawEntry::new("bag/data/esc\u{1b}[31m.txt", b"x"));
    std::fs::write(env.root().join("t.zip"), raw::write(&e)).expect("write");
    let out = env.cmd().args(["verify", "t.zip"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let group = text.find("unexpected (2):").expect("group heading");
    let counts = text.find("Findings: ").expect("counts");
    let verdict = text.find("FAILED: t.zip differs").expect("verdict");
    assert!(group < counts && counts < verdict, "{text}");
    assert!(text.contains("data/extra.txt: in the payload, not listed in manifest-sha256.txt"));
    assert!(
        !text.contains('\u{1b}'),
        "control characters are escaped: {text}"
    );
    assert_eq!(
        text.trim_end()
            .lines()
            .last()
            .map(|l| l.starts_with("FAILED")),
        Some(true)
    );

    let out = env
        .cmd()
        .args(["verify", "t.zip", "--quiet"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("FAILED: t.zip differs from what was built (3 findings)."));
}

#[test]
fn the_verify_library_entry_point_survives_mutated_zips() {
    // The same entry point as the fuzz target, over mutations of a valid bag: never a panic,
    // and every structural lie is either exit-2 material or a finding.
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let zip = raw::write(&raw::bag(&payload()));
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let len = zip.len();
    let strategy = (
        proptest::collection::vec((0..len, any::<u8>()), 1..8),
        0..=len,
    );
    runner
        .run(&strategy, |(edits, cut)| {
            let mut z = zip.clone();
            for (at, b) in edits {
                z[at] = b;
            }
            z.truncate(cut.max(1));
            let _ = evpack::verify::verify_zip_bytes(&z);
            Ok(())
        })
        .expect("no panic on mutated zips");
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..4096), |bytes| {
            let _ = evpack::verify::verify_zip_bytes(&bytes);
            Ok(())
        })
        .expect("no panic on random bytes");
}

// ---- a real pack from `evpack build`, tampered ----

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the sample pack as `pack.zip` in the env (and `pack.zip.sha256`).
fn build_pack(env: &TestEnv) -> PathBuf {
    let out = env
        .cmd()
        .arg("build")
        .arg("--manifest")
        .arg(repo().join("manifests/devon-focused-visit-2021.toml"))
        .arg("--evidence")
        .arg(repo().join("evidence"))
        .args(["--out", "pack.zip", "--date", "2021-01-15", "--quiet"])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run build");
    assert!(
        out.status.code().is_some_and(|c| c <= 1) && env.root().join("pack.zip").is_file(),
        "build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.root().join("pack.zip")
}

/// Every entry of a trusted zip (our own build) as (name, bytes).
fn read_entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).expect("open")).expect("zip");
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).expect("entry");
            let mut v = Vec::new();
            f.read_to_end(&mut v).expect("read");
            (f.name().expect("utf-8 name").to_string(), v)
        })
        .collect()
}

fn write_entries(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let raw: Vec<RawEntry> = entries
        .iter()
        .map(|(n, d)| RawEntry::deflated(n, d))
        .collect();
    raw::write(&raw)
}

/// A payload file of the sample pack (relative to the bag folder), to tamper with.
const VICTIM: &str = "data/audits/pathway plans/Pathway Plan audit 10.12.2020.md";

#[derive(Clone, Copy, Debug)]
enum Tamper {
    Byte,
    Delete,
    Add,
    PackJson,
    BagInfo,
    Rename,
}

const TAMPERS: [Tamper; 6] = [
    Tamper::Byte,
    Tamper::Delete,
    Tamper::Add,
    Tamper::PackJson,
    Tamper::BagInfo,
    Tamper::Rename,
];

/// Applies a tamper to (path in bag, bytes) pairs.
fn tamper(t: Tamper, files: &mut Vec<(String, Vec<u8>)>) {
    let pos = |files: &Vec<(String, Vec<u8>)>, p: &str| {
        files
            .iter()
            .position(|(n, _)| n == p)
            .unwrap_or_else(|| panic!("{p} not in the pack"))
    };
    match t {
        Tamper::Byte => {
            let i = pos(files, VICTIM);
            files[i].1[10] ^= 0x20;
        }
        Tamper::Delete => {
            let i = pos(files, VICTIM);
            files.remove(i);
        }
        Tamper::Add => files.push((
            "data/audits/added later.md".into(),
            b"# not assessed\n".to_vec(),
        )),
        Tamper::PackJson => {
            let i = pos(files, "pack.json");
            let text = String::from_utf8(files[i].1.clone()).expect("utf8");
            files[i].1 = text
                .replacen("\"status\": \"missing\"", "\"status\": \"met\"", 1)
                .into_bytes();
        }
        Tamper::BagInfo => {
            let i = pos(files, "bag-info.txt");
            files[i].1.extend_from_slice(b"Comment: approved\n");
        }
        Tamper::Rename => {
            let i = pos(files, VICTIM);
            files[i].0 = "data/audits/pathway plans/Pathway Plan audit 10.12.2021.md".into();
        }
    }
}

/// What each tamper must produce: (kind, path) findings.
fn expected(t: Tamper) -> Vec<(&'static str, &'static str)> {
    match t {
        Tamper::Byte => vec![("modified", VICTIM)],
        Tamper::Delete => vec![("missing", VICTIM), ("tag", "bag-info.txt")],
        Tamper::Add => vec![("unexpected", "data/audits/added later.md")],
        Tamper::PackJson => vec![("tag", "pack.json")],
        Tamper::BagInfo => vec![("tag", "bag-info.txt")],
        Tamper::Rename => vec![
            ("missing", VICTIM),
            (
                "unexpected",
                "data/audits/pathway plans/Pathway Plan audit 10.12.2021.md",
            ),
        ],
    }
}

#[track_caller]
fn assert_expected(t: Tamper, code: i32, v: &Value) {
    assert_eq!(code, 1, "{t:?}: {v}");
    for (kind, path) in expected(t) {
        assert!(
            !findings(v, kind, path).is_empty(),
            "{t:?}: no {kind} for {path}: {}",
            v["findings"]
        );
    }
}

#[test]
fn a_built_pack_verifies_intact_with_its_digest_file() {
    let env = TestEnv::new();
    build_pack(&env);
    let (code, v) = verify_json(&env, &["pack.zip", "--digest-file", "pack.zip.sha256"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["schema"], "evpack.verify.v1");
    assert_eq!(v["bag_root"], "pack/");
    assert_eq!(v["digest"]["matches"], true);
    assert!(v["counts"]["payload_files"]
        .as_u64()
        .is_some_and(|n| n > 50));
    // The JSON shape the README documents.
    for key in [
        "tool",
        "pack",
        "container",
        "verdict",
        "algorithms",
        "counts",
        "findings",
        "notes",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in [
        "payload_files",
        "payload_bytes",
        "tag_files",
        "findings",
        "digest",
        "modified",
        "missing",
        "unexpected",
        "tag",
        "unsafe",
        "unreadable",
        "consistency",
    ] {
        assert!(v["counts"].get(key).is_some(), "missing counts.{key}");
    }
    let out = env
        .cmd()
        .args(["verify", "pack.zip"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK: pack.zip is intact"));
}

#[test]
fn a_wrong_whole_zip_digest_is_a_finding_and_a_folder_takes_none() {
    let env = TestEnv::new();
    build_pack(&env);
    let (code, v) = verify_json(&env, &["pack.zip", "--digest", &"0".repeat(64)]);
    assert_eq!(code, 1);
    assert_eq!(v["counts"]["digest"], 1);
    assert_eq!(v["digest"]["matches"], false);
    let (code, _) = verify_json(&env, &["pack.zip", "--digest", "zz"]);
    assert_eq!(code, 2);
    let dir = env.root().join("unz");
    for (n, d) in read_entries(&env.root().join("pack.zip")) {
        let p = dir.join(n);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, d).expect("write");
    }
    let (code, _) = verify_json(&env, &["unz/pack", "--digest", &"0".repeat(64)]);
    assert_eq!(code, 2);
    let (code, v) = verify_json(&env, &["unz/pack"]);
    assert_eq!(code, 0, "{v}");
}

/// A pack assembled in the test in the layout `evpack build` writes (bag folder `pack/`,
/// the tag files, `pack.json` with `payload` and per-requirement sha256), so the tampering
/// checks do not depend on the builder alone.
fn assemble_pack(env: &TestEnv) -> PathBuf {
    let payload: Vec<(&str, &[u8])> = vec![
        (
            VICTIM,
            b"# Pathway Plan audit\n\nTen plans audited; eight good.\n",
        ),
        ("data/workforce/SLT structure.csv", b"role,vacant\nDCS,no\n"),
        ("data/100% sure\nodd name.txt", b"names can hold anything\n"),
    ];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut manifest = String::new();
    let mut items = Vec::new();
    let mut bytes = 0;
    for (p, d) in &payload {
        manifest.push_str(&evpack::bagit::manifest_line(&raw::sha256(d), p));
        items.push(serde_json::json!({
            "path": p, "size": d.len(), "sha256": raw::sha256(d), "serves": ["P1.1"],
        }));
        bytes += d.len();
        files.push((p.to_string(), d.to_vec()));
    }
    let victim_rel = VICTIM.strip_prefix("data/").unwrap_or(VICTIM);
    let pack_json = serde_json::json!({
        "schema": "evpack.assessment.v1",
        "pack_schema": "evpack.pack.v1",
        "areas": [{ "id": "P1", "requirements": [
            { "id": "P1.1", "status": "met", "files": [
                { "path": victim_rel, "size": payload[0].1.len(), "sha256": raw::sha256(payload[0].1) }
            ]},
            { "id": "P1.2", "status": "missing", "files": [] }
        ]}],
        "payload": items,
    });
    let tags: Vec<(&str, Vec<u8>)> = vec![
        ("bagit.txt", evpack::bagit::BAGIT_TXT.as_bytes().to_vec()),
        (
            "bag-info.txt",
            format!(
                "Source-Organization: Devon County Council\nBagging-Date: 2021-01-15\nPayload-Oxum: {bytes}.{}\n",
                payload.len()
            )
            .into_bytes(),
        ),
        ("manifest-sha256.txt", manifest.into_bytes()),
        ("pack.json", serde_json::to_vec_pretty(&pack_json).unwrap_or_default()),
        ("index.html", b"<!doctype html><title>Pack</title>".to_vec()),
        ("README.md", b"# Pack\n".to_vec()),
        ("gaps.csv", b"id,status\nP1.2,missing\n".to_vec()),
        ("manifest.toml", b"[visit]\n".to_vec()),
    ];
    let mut tagmanifest = String::new();
    for (n, d) in &tags {
        tagmanifest.push_str(&evpack::bagit::manifest_line(&raw::sha256(d), n));
        files.push((n.to_string(), d.clone()));
    }
    files.push(("tagmanifest-sha256.txt".into(), tagmanifest.into_bytes()));
    let entries: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(n, d)| (format!("pack/{n}"), d))
        .collect();
    let path = env.root().join("pack.zip");
    std::fs::write(&path, write_entries(&entries)).expect("write pack");
    path
}

/// Applies every tampering to `pack` (a zip whose bag folder is `pack/`), zipped and
/// unzipped, and checks each is named.
fn check_tamperings(env: &TestEnv, pack: &Path) {
    let original = read_entries(pack);
    let unprefixed = || -> Vec<(String, Vec<u8>)> {
        original
            .iter()
            .map(|(n, d)| (n.strip_prefix("pack/").unwrap_or(n).to_string(), d.clone()))
            .collect()
    };
    // Rewritten but untampered: intact, so the findings below come from the tampering.
    let (code, v) = verify_zip(env, "same.zip", &write_entries(&original));
    assert_eq!(code, 0, "{v}");
    for t in TAMPERS {
        let mut files = unprefixed();
        tamper(t, &mut files);
        let entries: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(n, d)| (format!("pack/{n}"), d.clone()))
            .collect();
        let (code, v) = verify_zip(env, "tampered.zip", &write_entries(&entries));
        assert_expected(t, code, &v);

        let dir = env.root().join(format!("unzipped-{t:?}"));
        for (n, d) in &files {
            let p = dir.join(n);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, d).expect("write");
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let (code, v) = verify_json(env, &[&name]);
        assert_expected(t, code, &v);
    }
}

#[test]
fn each_tampering_of_an_assembled_pack_is_named() {
    let env = TestEnv::new();
    let pack = assemble_pack(&env);
    let (code, v) = verify_json(&env, &["pack.zip"]);
    assert_eq!(code, 0, "{v}");
    check_tamperings(&env, &pack);
}

#[test]
fn each_tampering_of_a_built_pack_is_named() {
    let env = TestEnv::new();
    let pack = build_pack(&env);
    check_tamperings(&env, &pack);
}

#[test]
fn pack_json_that_disagrees_with_the_payload_is_a_consistency_finding() {
    let env = TestEnv::new();
    let pack = build_pack(&env);
    let mut entries = read_entries(&pack);
    let i = entries
        .iter()
        .position(|(n, _)| n == "pack/pack.json")
        .expect("pack.json");
    let mut doc: Value = serde_json::from_slice(&entries[i].1).expect("json");
    let victim = VICTIM.strip_prefix("data/").expect("data/");
    let mut changed = 0;
    if let Some(areas) = doc["areas"].as_array_mut() {
        for r in areas
            .iter_mut()
            .flat_map(|a| a["requirements"].as_array_mut().into_iter().flatten())
        {
            for f in r["files"].as_array_mut().into_iter().flatten() {
                if f["path"] == victim {
                    f["sha256"] = Value::String("0".repeat(64));
                    changed += 1;
                }
            }
        }
    }
    assert!(changed > 0, "the victim serves a requirement");
    entries[i].1 = serde_json::to_vec_pretty(&doc).expect("json");
    let (code, v) = verify_zip(&env, "t.zip", &write_entries(&entries));
    assert_eq!(code, 1);
    assert_finding(&v, "tag", "pack.json", "tagmanifest-sha256.txt");
    assert_finding(&v, "consistency", VICTIM, "gives sha256 0000");
}

#[test]
fn a_symlink_in_an_unzipped_pack_is_reported_and_not_followed() {
    let env = TestEnv::new();
    let pack = assemble_pack(&env);
    let dir = env.root().join("unz");
    for (n, d) in read_entries(&pack) {
        let p = dir.join(n);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, d).expect("write");
    }
    std::os::unix::fs::symlink("/etc/passwd", dir.join("pack/data/passwd")).expect("symlink");
    let (code, v) = verify_json(&env, &["unz/pack"]);
    assert_eq!(code, 1);
    assert_eq!(v["container"], "folder");
    assert_finding(&v, "unsafe", "data/passwd", "symbolic link");
    assert!(findings(&v, "unexpected", "data/passwd").is_empty(), "{v}");
}

/// A bag whose `bagit.txt` declares `encoding`, with `bag-info.txt` and the manifest in the
/// bytes `encode` makes of their text, holding a file whose name has an accent.
fn bag_in(encoding: &str, encode: impl Fn(&str) -> Vec<u8>) -> Vec<RawEntry> {
    let name = "Revue qualit\u{e9} 2020-12-01.md";
    let body = b"synthetic review\n";
    let manifest = format!("{}  data/{name}\n", raw::sha256(body));
    vec![
        RawEntry::new(
            "bag/bagit.txt",
            format!("BagIt-Version: 1.0\nTag-File-Character-Encoding: {encoding}\n").as_bytes(),
        ),
        RawEntry::new(
            "bag/bag-info.txt",
            &encode(&format!(
                "Source-Organization: Conseil d\u{e9}partemental\nPayload-Oxum: {}.1\n",
                body.len()
            )),
        ),
        RawEntry::new("bag/manifest-sha256.txt", &encode(&manifest)),
        RawEntry::deflated(&format!("bag/data/{name}"), body),
    ]
}

/// `Tag-File-Character-Encoding` is honoured for every tag file: UTF-8, ISO-8859-1 and
/// UTF-16 with a byte-order mark (either byte order); an encoding evpack does not read is a
/// finding naming it.
#[test]
fn tag_files_are_read_in_the_encoding_bagit_txt_declares() {
    let env = TestEnv::new();
    let latin1 = |t: &str| t.chars().map(|c| c as u8).collect::<Vec<u8>>();
    let utf16 = |big: bool| {
        move |t: &str| {
            let mut out = if big {
                vec![0xFE, 0xFF]
            } else {
                vec![0xFF, 0xFE]
            };
            for u in t.encode_utf16() {
                out.extend_from_slice(&if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            out
        }
    };
    let cases: Vec<(&str, Vec<RawEntry>)> = vec![
        ("utf8", bag_in("UTF-8", |t| t.as_bytes().to_vec())),
        ("latin1", bag_in("ISO-8859-1", latin1)),
        ("utf16le", bag_in("UTF-16", utf16(false))),
        ("utf16be", bag_in("UTF-16", utf16(true))),
    ];
    for (what, entries) in cases {
        let (code, v) = verify_zip(&env, &format!("{what}.zip"), &raw::write(&entries));
        assert_eq!(code, 0, "{what}: {v}");
        assert_eq!(v["counts"]["payload_files"], 1, "{what}");
    }
    // Latin-1 bytes under a UTF-8 declaration are not valid UTF-8: named, not guessed.
    let (code, v) = verify_zip(&env, "wrong.zip", &raw::write(&bag_in("UTF-8", latin1)));
    assert_eq!(code, 1, "{v}");
    assert_finding(&v, "tag", "manifest-sha256.txt", "not valid UTF-8");
    let (code, v) = verify_zip(
        &env,
        "sjis.zip",
        &raw::write(&bag_in("Shift_JIS", |t| t.as_bytes().to_vec())),
    );
    assert_eq!(code, 1, "{v}");
    assert_finding(
        &v,
        "tag",
        "bagit.txt",
        "`Shift_JIS` is not one evpack reads",
    );
}

/// Untidy manifest lines that every file still agrees with are warnings (after bagit-java's
/// linter): a file listed twice with the same digest, a path written with `./` or `//`.
#[test]
fn untidy_manifest_lines_are_warnings() {
    let env = TestEnv::new();
    let body = b"synthetic audit\n";
    let d = raw::sha256(body);
    let manifest = format!("{d}  data/a.md\n{d}  data/a.md\n{d}\t./data//b.md\r\n");
    let entries = vec![
        RawEntry::new(
            "bag/bagit.txt",
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        ),
        RawEntry::new("bag/manifest-sha256.txt", manifest.as_bytes()),
        RawEntry::deflated("bag/data/a.md", body),
        RawEntry::deflated("bag/data/b.md", body),
    ];
    let (code, v) = verify_zip(&env, "untidy.zip", &raw::write(&entries));
    assert_eq!(code, 0, "{v}");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("listing a file a second time with the same digest"),
        "{warnings}"
    );
    assert!(
        warnings.contains("written with a leading `./` or a doubled `/`"),
        "{warnings}"
    );
}
