//! `evpack verify` against packs made to hurt the auditor's machine or to fool the verdict:
//! tag files that inflate to gigabytes, a forged evpack pack without its tag manifest, a
//! FIFO where the pack or the digest file should be, data hidden in a folder entry, and a
//! reader that closes the pipe after one line. Every zip is forged in code.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::memory;
use crate::support::pack::{build_ok, sample_env};
use crate::support::rawzip::{self as raw, RawEntry};
use crate::support::{evpack_bin, TestEnv};

// ---- memory: the peak resident size of the evpack process, measured by the kernel ----

/// The most memory `evpack verify` may use on hostile input, in KiB: the README promises
/// under 256 MB; nothing is read whole, and each of these takes under 25 MB.
const MEMORY_LIMIT_KIB: i64 = 64 * 1024;

/// Runs `evpack ARGS` in `dir` with its peak memory measured (see `support::memory`);
/// returns its exit code, its peak resident memory in KiB and its standard output.
fn run_measured(dir: &Path, args: &[&str]) -> (i32, i64, Vec<u8>) {
    let (out, kib) = memory::run_measured(dir, args);
    let kib = i64::try_from(kib).expect("a size");
    (out.status.code().unwrap_or(-1), kib, out.stdout)
}

/// Verifies `zip` (written as `hostile.zip`) with the peak memory measured; insists it
/// stays under the bound, and that the measurement saw a real process. Returns the exit
/// code and the JSON report.
#[track_caller]
fn verify_bounded(zip: &[u8]) -> (i32, Value) {
    let env = TestEnv::new();
    std::fs::write(env.root().join("hostile.zip"), zip).expect("write zip");
    let (code, kib, stdout) =
        run_measured(env.root(), &["verify", "hostile.zip", "--format", "json"]);
    assert!(kib > 1024, "a peak of {kib} KiB cannot be evpack's");
    assert!(
        kib < MEMORY_LIMIT_KIB,
        "verify took {} MiB at its peak (limit {} MiB)",
        kib / 1024,
        MEMORY_LIMIT_KIB / 1024
    );
    (code, serde_json::from_slice(&stdout).unwrap_or(Value::Null))
}

const MIB: usize = 1024 * 1024;

/// A deflated entry whose data is `bytes`, deflated fast (the bytes are large and repetitive).
fn big_entry(name: &str, bytes: &[u8]) -> RawEntry {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("deflate");
    let packed = e.finish().expect("deflate");
    RawEntry {
        method: 8,
        compressed_size: packed.len() as u32,
        size: bytes.len() as u32,
        crc: crc32fast::hash(bytes),
        data: packed,
        ..RawEntry::new(name, b"")
    }
}

/// A minimal bag (no payload) with `entries` added, or put in place of the bag's own
/// entries of the same name.
fn bag_with(entries: Vec<RawEntry>) -> Vec<u8> {
    let mut all = raw::bag(&[]);
    for e in entries {
        match all.iter_mut().find(|x| x.name == e.name) {
            Some(x) => *x = e,
            None => all.push(e),
        }
    }
    raw::write(&all)
}

#[track_caller]
fn assert_finding(v: &Value, kind: &str, path: &str, message_has: &str) {
    let ok = v["findings"].as_array().is_some_and(|a| {
        a.iter().any(|f| {
            f["kind"] == kind
                && f["path"] == path
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(message_has))
        })
    });
    assert!(
        ok,
        "no {kind} finding for {path:?} mentioning {message_has:?} in\n{}",
        serde_json::to_string_pretty(&v["findings"]).unwrap_or_default()
    );
}

#[test]
fn manifests_of_algorithms_evpack_does_not_check_are_not_held_in_memory() {
    // 200 entries of 60 MiB of zeros each: a 12 MB zip that once took 2.4 GB for 40 of
    // them, and ended the process at 200.
    let zeros = vec![0u8; 60 * MIB];
    let one = big_entry("bag/manifest-x00000.txt", &zeros);
    drop(zeros);
    let entries: Vec<RawEntry> = (0..200)
        .map(|i| RawEntry {
            name: format!("bag/manifest-x{i:05}.txt").into_bytes(),
            ..one.clone()
        })
        .collect();
    let (code, v) = verify_bounded(&bag_with(entries));
    assert_eq!(code, 0, "{v}");
    let notes = v["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 200, "{notes:?}");
    assert!(notes[0]
        .as_str()
        .is_some_and(|n| n.starts_with("manifest-x00000.txt not checked")));
}

#[test]
fn tag_files_of_any_size_are_read_in_bounded_memory() {
    // Each under the old per-file limit of 64 MiB, together 360 MiB: once they shared a
    // budget, and pack.json, read last, was not read. Now each streams, and all are read.
    let junk = vec![b'x'; 60 * MIB];
    let names = [
        "bag/bag-info.txt",
        "bag/manifest-sha256.txt",
        "bag/manifest-sha512.txt",
        "bag/tagmanifest-sha256.txt",
        "bag/tagmanifest-sha512.txt",
        "bag/pack.json",
    ];
    let one = big_entry(names[0], &junk);
    drop(junk);
    let entries = names
        .iter()
        .map(|n| RawEntry {
            name: n.as_bytes().to_vec(),
            ..one.clone()
        })
        .collect();
    let (code, v) = verify_bounded(&bag_with(entries));
    assert_eq!(code, 1, "{v}");
    assert_finding(&v, "tag", "bag-info.txt", "line 1");
    for manifest in &names[1..5] {
        let name = manifest.trim_start_matches("bag/");
        assert_finding(&v, "tag", name, "a line of 62914560 bytes");
    }
    assert_finding(&v, "consistency", "pack.json", "not valid pack JSON");
}

/// One tag file full of what costs the most memory to report (each as large as tag files
/// could once be and still be read whole).
fn assert_bounded_with(name: &str, bytes: &[u8], kind: &str, message_has: &str) {
    let zip = bag_with(vec![big_entry(&format!("bag/{name}"), bytes)]);
    let (code, v) = verify_bounded(&zip);
    assert_eq!(code, 1, "{name}: {}", v["counts"]);
    assert_finding(&v, kind, name, message_has);
    let findings = v["findings"].as_array().map_or(0, Vec::len);
    assert!(findings <= 10_010, "{name}: {findings} findings");
}

#[test]
fn a_tag_file_of_bad_lines_is_reported_within_bounds() {
    // Six million lines: each once cost a finding of some 150 bytes.
    let lines = b"x\n".repeat(6 * MIB);
    assert_bounded_with("bag-info.txt", &lines, "tag", "more problems");
    let mut bagit = raw::bag(&[])[0].data.clone();
    bagit.extend_from_slice(&lines);
    assert_bounded_with("bagit.txt", &bagit, "tag", "more problems");
    assert_bounded_with("manifest-sha256.txt", &lines, "tag", "more problems");
}

#[test]
fn a_tag_file_of_one_huge_line_is_reported_within_bounds() {
    let line = vec![1u8; 60 * MIB];
    assert_bounded_with(
        "manifest-sha256.txt",
        &line,
        "tag",
        "longer than any manifest line",
    );
    assert_bounded_with("bag-info.txt", &line, "tag", "not a `Label: value` line");
}

#[test]
fn a_manifest_of_files_that_are_not_there_is_reported_within_bounds() {
    let mut text = String::with_capacity(60 * MIB);
    let zero = "0".repeat(64);
    let mut i = 0u64;
    while text.len() < 60 * MIB {
        text.push_str(&format!("{zero}  data/f{i:010}\n"));
        i += 1;
    }
    assert_bounded_with(
        "manifest-sha256.txt",
        text.as_bytes(),
        "missing",
        "more files",
    );
}

#[test]
fn a_pack_json_of_empty_or_absent_files_is_reported_within_bounds() {
    let head = b"{\"pack_schema\":\"evpack.pack.v1\",\"payload\":[";
    // Four million items: each once cost a 64-byte struct and a finding.
    let mut empty = head.to_vec();
    empty.extend_from_slice(&b"{},".repeat(4 * MIB));
    empty.extend_from_slice(b"{}]}");
    assert_bounded_with("pack.json", &empty, "consistency", "more problems");
    let mut absent = head.to_vec();
    let mut i = 0u64;
    while absent.len() < 60 * MIB {
        absent.extend_from_slice(format!("{{\"path\":\"data/f{i:010}\"}},").as_bytes());
        i += 1;
    }
    absent.extend_from_slice(b"{}]}");
    assert_bounded_with("pack.json", &absent, "consistency", "more problems");
}

#[test]
fn a_pack_json_of_deep_nesting_or_huge_strings_is_read_within_bounds() {
    // pack.json streams through the parser: what it would hold of these is bounded.
    let schema = b"{\"pack_schema\":\"evpack.pack.v1\",";
    let huge = vec![b'a'; 60 * MIB];
    // A path of 60 MiB, which the parser reads (and cuts).
    let mut long_path = schema.to_vec();
    long_path.extend_from_slice(b"\"payload\":[{\"path\":\"");
    long_path.extend_from_slice(&huge);
    long_path.extend_from_slice(b"\"}]}");
    assert_bounded_with(
        "pack.json",
        &long_path,
        "consistency",
        "longer than any file's",
    );
    // A string of 60 MiB that it skips: valid, and costs nothing.
    let mut skipped = schema.to_vec();
    skipped.extend_from_slice(b"\"payload\":[],\"reasons\":[\"");
    skipped.extend_from_slice(&huge);
    skipped.extend_from_slice(b"\"]}");
    let (code, v) = verify_bounded(&bag_with(vec![big_entry("bag/pack.json", &skipped)]));
    assert_eq!(code, 1, "{}", v["counts"]);
    assert!(
        !v["findings"].to_string().contains("not valid pack JSON"),
        "{}",
        v["findings"]
    );
    assert_finding(&v, "missing", "index.html", "evpack pack");
    // Nesting 60 million deep, skipped and tracked a byte a level, would be 60 MB.
    let mut deep = schema.to_vec();
    deep.extend_from_slice(b"\"x\":");
    deep.extend(std::iter::repeat_n(b'[', 60 * MIB));
    assert_bounded_with("pack.json", &deep, "consistency", "levels deep");
}

// ---- an evpack pack stripped of what protects its tag files ----

/// The entries of a zip we trust (our own build), as (name, bytes).
fn read_zip(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).expect("entry");
            let mut v = Vec::new();
            f.read_to_end(&mut v).expect("read");
            (f.name().expect("a UTF-8 name").to_string(), v)
        })
        .collect()
}

fn write_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in entries {
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .expect("start");
        w.write_all(bytes).expect("write");
    }
    w.finish().expect("finish");
}

fn verify_json(env: &TestEnv, pack: &str) -> (i32, Value) {
    let out = env
        .cmd()
        .args(["verify", pack, "--format", "json"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run evpack");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().expect("exit code"), v)
}

#[test]
fn an_evpack_pack_without_its_tag_manifest_and_with_a_forged_dashboard_differs() {
    let env = sample_env();
    build_ok(&env, "pack.zip", &[]);
    let forged: Vec<(String, Vec<u8>)> = read_zip(&env.root().join("pack.zip"))
        .into_iter()
        .filter(|(n, _)| n != "pack/tagmanifest-sha256.txt")
        .map(|(n, d)| {
            if n == "pack/index.html" {
                (n, b"<!doctype html><p>Everything is ready.</p>".to_vec())
            } else {
                (n, d)
            }
        })
        .collect();
    write_zip(&env.root().join("forged.zip"), &forged);
    let (code, v) = verify_json(&env, "forged.zip");
    assert_eq!(code, 1, "{v}");
    assert_finding(&v, "missing", "tagmanifest-sha256.txt", "evpack pack");
    assert_finding(&v, "tag", "index.html", "tagmanifest-sha256.txt");

    // Unzipped, the same.
    let dir = env.root().join("unzipped");
    for (n, d) in &forged {
        let p = dir.join(n);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, d).expect("write");
    }
    let (code, v) = verify_json(&env, "unzipped/pack");
    assert_eq!(code, 1, "{v}");
    assert_finding(&v, "missing", "tagmanifest-sha256.txt", "evpack pack");
    assert_finding(&v, "tag", "index.html", "tagmanifest-sha256.txt");
}

#[test]
fn an_evpack_pack_missing_a_tag_file_evpack_writes_differs() {
    let env = sample_env();
    build_ok(&env, "pack.zip", &[]);
    // gaps.csv removed, and its line taken out of the tag manifest to hide it.
    let forged: Vec<(String, Vec<u8>)> = read_zip(&env.root().join("pack.zip"))
        .into_iter()
        .filter(|(n, _)| n != "pack/gaps.csv")
        .map(|(n, d)| {
            if n == "pack/tagmanifest-sha256.txt" {
                let text = String::from_utf8(d).expect("utf8");
                let kept: String = text
                    .lines()
                    .filter(|l| !l.ends_with(" gaps.csv"))
                    .map(|l| format!("{l}\n"))
                    .collect();
                (n, kept.into_bytes())
            } else {
                (n, d)
            }
        })
        .collect();
    write_zip(&env.root().join("forged.zip"), &forged);
    let (code, v) = verify_json(&env, "forged.zip");
    assert_eq!(code, 1, "{v}");
    assert_finding(&v, "missing", "gaps.csv", "evpack pack");
    let (code, v) = verify_json(&env, "pack.zip");
    assert_eq!(code, 0, "the untouched pack is intact: {v}");
}

// ---- FIFOs where a file should be ----

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo failed");
}

#[test]
fn a_fifo_given_as_the_pack_is_refused_without_waiting() {
    let env = TestEnv::new();
    mkfifo(&env.root().join("pack.zip"));
    let out = env
        .cmd()
        .args(["verify", "pack.zip"])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("evpack verify returns");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("pack.zip"), "{err}");
    assert!(err.contains("not a regular file or folder"), "{err}");
}

#[test]
fn a_fifo_given_as_the_digest_file_is_refused_without_waiting() {
    let env = sample_env();
    build_ok(&env, "pack.zip", &[]);
    mkfifo(&env.root().join("digest.sha256"));
    let out = env
        .cmd()
        .args(["verify", "pack.zip", "--digest-file", "digest.sha256"])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("evpack verify returns");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("digest.sha256"), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

// ---- data hidden in a folder entry ----

#[test]
fn a_folder_entry_that_carries_data_is_unsafe() {
    let env = TestEnv::new();
    let mut e = raw::bag(&[("a.txt", b"first file\n")]);
    e.push(RawEntry::new("bag/data/", b""));
    e.push(RawEntry::new(
        "bag/data/hidden/",
        b"a payload nobody listed",
    ));
    e.push(RawEntry::deflated(
        "bag/data/also hidden/",
        b"deflated and hidden",
    ));
    std::fs::write(env.root().join("t.zip"), raw::write(&e)).expect("write");
    let (code, v) = verify_json(&env, "t.zip");
    assert_eq!(code, 1, "{v}");
    assert_finding(&v, "unsafe", "data/hidden/", "folder entry");
    assert_finding(&v, "unsafe", "data/also hidden/", "folder entry");
    assert_eq!(
        v["counts"]["findings"], 2,
        "an empty folder entry is fine: {v}"
    );
}

// ---- a reader that stops after one line ----

#[test]
fn a_closed_pipe_does_not_turn_a_failing_verdict_into_success() {
    // Thousands of findings: far more output than a pipe holds, so evpack's write meets a
    // closed pipe (EPIPE) rather than finishing into the pipe's buffer.
    let env = TestEnv::new();
    let mut e = raw::bag(&[("a.txt", b"first file\n")]);
    for i in 0..5_000 {
        e.push(RawEntry::new(
            &format!("bag/data/unlisted file number {i:05}.txt"),
            b"x",
        ));
    }
    std::fs::write(env.root().join("bad.zip"), raw::write(&e)).expect("write");
    let mut child = Command::new(evpack_bin())
        .args(["verify", "bad.zip"])
        .current_dir(env.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn evpack");
    let mut first = String::new();
    {
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("read one line");
        // Dropped here: the pipe's read end closes, as with `| head -1`.
    }
    let status = child.wait().expect("wait for evpack");
    assert!(first.starts_with("Verifying bad.zip"), "{first}");
    assert_eq!(status.code(), Some(1), "{status:?}");
}
