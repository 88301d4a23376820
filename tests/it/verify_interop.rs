//! `evpack verify` against bags made by bagit-python (`bagit.py`), the tool most archives
//! use: intact bags verify, as folders and zipped with `zip -r`; damaged the same ways,
//! evpack and `bagit.py --validate` agree the bag is invalid.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{have_tool, TestEnv};

fn tools() -> bool {
    have_tool("bagit.py", &["--version"]) && have_tool("zip", &["-v"])
}

/// A bag folder `name` made by `bagit.py --<algo>` over a small tree.
fn make_bag(env: &TestEnv, name: &str, algo: &str) -> PathBuf {
    let files: [(&str, &[u8]); 4] = [
        ("audits/PP audit 2020-12.md", b"# Pathway plan audit\n"),
        ("workforce/SLT vacancies.csv", b"role,vacant\nDCS,no\n"),
        ("board/minutes 50% done.txt", b"percent in the name\n"),
        ("scan.pdf", &[0x25, 0x50, 0x44, 0x46, 0, 1, 2, 3, 255]),
    ];
    let algo = format!("--{algo}");
    bag_of(
        env,
        name,
        &[&algo, "--source-organization", "Devon County Council"],
        &files,
    )
}

/// A bag folder `name` made by `bagit.py ALGOS...` over `files` (path, contents).
fn bag_of(env: &TestEnv, name: &str, algos: &[&str], files: &[(&str, &[u8])]) -> PathBuf {
    let dir = env.root().join(name);
    for (p, d) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, d).expect("write");
    }
    let out = Command::new("bagit.py")
        .args(algos)
        .arg(&dir)
        .output()
        .expect("run bagit.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn bagit_valid(dir: &Path) -> bool {
    Command::new("bagit.py")
        .arg("--validate")
        .arg(dir)
        .output()
        .expect("run bagit.py")
        .status
        .success()
}

/// `zip -r -q NAME.zip NAME` from the bag's parent folder.
fn zip_dir(dir: &Path) -> PathBuf {
    let parent = dir.parent().expect("parent");
    let name = dir.file_name().expect("name");
    let mut zip_name = name.to_os_string();
    zip_name.push(".zip");
    let out = Command::new("zip")
        .current_dir(parent)
        .arg("-rqy")
        .arg(&zip_name)
        .arg(name)
        .output()
        .expect("run zip");
    assert!(out.status.success());
    parent.join(zip_name)
}

/// The bag zipped by Python's `zipfile` (no folder entries, deflated): `NAME.py.zip`.
fn python_zip(dir: &Path) -> PathBuf {
    let zip = dir.with_extension("py.zip");
    let script = r#"
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
base = os.path.dirname(src)
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, base))
"#;
    let ok = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .arg(&zip)
        .status()
        .expect("python3")
        .success();
    assert!(ok);
    zip
}

fn evpack_code(env: &TestEnv, pack: &Path) -> (i32, String) {
    let out = env
        .cmd()
        .arg("verify")
        .arg(pack)
        .output()
        .expect("run evpack");
    (
        out.status.code().expect("code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp")
        .success();
    assert!(ok);
}

#[derive(Clone, Copy, Debug)]
enum Damage {
    Byte,
    Delete,
    Add,
    BagInfo,
    ManifestLine,
}

fn damage(dir: &Path, d: Damage) -> &'static str {
    match d {
        Damage::Byte => {
            let p = dir.join("data/scan.pdf");
            let mut b = std::fs::read(&p).expect("read");
            b[4] ^= 1;
            std::fs::write(p, b).expect("write");
            "data/scan.pdf"
        }
        Damage::Delete => {
            std::fs::remove_file(dir.join("data/workforce/SLT vacancies.csv")).expect("rm");
            "data/workforce/SLT vacancies.csv"
        }
        Damage::Add => {
            std::fs::write(dir.join("data/audits/late.md"), "added after bagging\n")
                .expect("write");
            "data/audits/late.md"
        }
        Damage::BagInfo => {
            let p = dir.join("bag-info.txt");
            let mut t = std::fs::read_to_string(&p).expect("read");
            t = t.replace("Devon County Council", "Somewhere Else");
            std::fs::write(p, t).expect("write");
            "bag-info.txt"
        }
        Damage::ManifestLine => {
            let m = std::fs::read_dir(dir)
                .expect("ls")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("manifest-"))
                })
                .expect("manifest");
            let mut t = std::fs::read_to_string(&m).expect("read");
            t.push_str("this is not a manifest line\n");
            std::fs::write(m, t).expect("write");
            "manifest-"
        }
    }
}

fn interop(algo: &str) {
    let env = TestEnv::new();
    let bag = make_bag(&env, &format!("bag-{algo}"), algo);
    assert!(bagit_valid(&bag));
    let (code, out) = evpack_code(&env, &bag);
    assert_eq!(code, 0, "folder: {out}");
    assert!(out.contains(algo), "{out}");
    let zip = zip_dir(&bag);
    let (code, out) = evpack_code(&env, &zip);
    assert_eq!(code, 0, "zip: {out}");
    let (code, out) = evpack_code(&env, &python_zip(&bag));
    assert_eq!(code, 0, "zipped by Python: {out}");

    for d in [
        Damage::Byte,
        Damage::Delete,
        Damage::Add,
        Damage::BagInfo,
        Damage::ManifestLine,
    ] {
        let copy = env.root().join(format!("damaged-{algo}-{d:?}"));
        copy_dir(&bag, &copy);
        let named = damage(&copy, d);
        // bagit.py --validate exits non-zero on an invalid bag; so must evpack, naming it.
        assert!(!bagit_valid(&copy), "{d:?}: bagit.py says valid");
        let (code, out) = evpack_code(&env, &copy);
        assert_eq!(code, 1, "{d:?} folder: {out}");
        assert!(
            out.contains(named),
            "{d:?} folder: {named} not named in\n{out}"
        );
        let zip = zip_dir(&copy);
        let (code, out) = evpack_code(&env, &zip);
        assert_eq!(code, 1, "{d:?} zip: {out}");
        assert!(
            out.contains(named),
            "{d:?} zip: {named} not named in\n{out}"
        );
    }
}

#[test]
fn bags_made_by_bagit_py_with_sha256_verify_and_damage_is_agreed() {
    if tools() {
        interop("sha256");
    }
}

#[test]
fn bags_made_by_bagit_py_with_sha512_verify_and_damage_is_agreed() {
    if tools() {
        interop("sha512");
    }
}

/// md5, sha1, sha224 and sha384 bags (most bags in the wild, every bag older tools made)
/// verify and fail alike; the weak ones with a warning that is not a finding.
#[test]
fn bags_made_by_bagit_py_with_every_other_algorithm_verify_and_damage_is_agreed() {
    if !tools() {
        return;
    }
    for algo in ["md5", "sha1", "sha224", "sha384"] {
        interop(algo);
        let env = TestEnv::new();
        let bag = make_bag(&env, "bag", algo);
        let out = env
            .cmd()
            .args(["verify", "bag", "--format", "json"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{algo}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["algorithms"], serde_json::json!([algo]));
        let warnings = v["warnings"].to_string();
        let weak = matches!(algo, "md5" | "sha1");
        assert_eq!(
            warnings.contains("detects accidental damage, not deliberate tampering"),
            weak,
            "{algo}: {warnings}"
        );
        assert_eq!(
            v["counts"]["findings"], 0,
            "{algo}: warnings are not findings"
        );
        let text = evpack_code(&env, &bag).1;
        assert_eq!(
            text.contains("Warnings (1): not differences"),
            weak,
            "{algo}: {text}"
        );
    }
}

#[test]
fn a_file_must_agree_with_every_manifest_however_weak() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let dir = bag_of(&env, "two", &["--md5", "--sha256"], &[("x/a.txt", b"a\n")]);
    let (code, out) = evpack_code(&env, &dir);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Warnings"), "sha256 is there: {out}");
    // A forged md5 line: sha256 still agrees, but every manifest present must.
    let m = dir.join("manifest-md5.txt");
    let t = std::fs::read_to_string(&m).expect("read");
    std::fs::write(&m, format!("{}{}", "0".repeat(32), &t[32..])).expect("write");
    let (code, out) = evpack_code(&env, &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("md5"), "{out}");
    assert!(!bagit_valid(&dir));
}

#[test]
fn a_bag_with_both_sha256_and_sha512_checks_both() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let dir = bag_of(
        &env,
        "both",
        &["--sha256", "--sha512"],
        &[("x/a.txt", b"a\n")],
    );
    let out = env
        .cmd()
        .args(["verify", "both", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["algorithms"], serde_json::json!(["sha256", "sha512"]));
    // Damage only the sha512 manifest's record: evpack checks every algorithm present.
    let m = dir.join("manifest-sha512.txt");
    let t = std::fs::read_to_string(&m).expect("read");
    let forged = format!("{}{}", "0".repeat(128), &t[128..]);
    std::fs::write(&m, forged).expect("write");
    let out = env
        .cmd()
        .args(["verify", "both", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["counts"]["modified"], 1, "{v}");
    assert!(!bagit_valid(&dir));
}

/// bagit.py writes `%` as it is: `Report %20 spaced.pdf` is that name (only %0D, %0A and
/// %25 are ever decoded), and `Audit %25.pdf`, which decodes to a name that is not there,
/// is read as written, with a note.
#[test]
fn percent_names_in_a_bagit_py_bag_are_found() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let files: Vec<(&str, &[u8])> = [
        "r/Report %20 spaced.pdf",
        "r/Audit %25.pdf",
        "r/50% done.md",
    ]
    .iter()
    .map(|n| (*n, n.as_bytes()))
    .collect();
    let dir = bag_of(&env, "pct", &["--sha256"], &files);
    assert!(bagit_valid(&dir));
    for pack in [dir.clone(), zip_dir(&dir)] {
        let (code, out) = evpack_code(&env, &pack);
        assert_eq!(code, 0, "{}: {out}", pack.display());
        assert!(
            out.contains("1 path read as written, not percent-decoded"),
            "{out}"
        );
    }
}

/// A bagit.py bag with folders `AUDITS/` and `audits/` holding different files, zipped by
/// Info-ZIP (which writes folder entries): intact, as unzipped, with no warning.
#[test]
fn folders_differing_only_in_case_zipped_by_info_zip_verify() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let files: [(&str, &[u8]); 2] = [("AUDITS/a.md", b"a\n"), ("audits/b.md", b"b\n")];
    let dir = bag_of(&env, "case", &["--sha256"], &files);
    for pack in [dir.clone(), zip_dir(&dir)] {
        let (code, out) = evpack_code(&env, &pack);
        assert_eq!(code, 0, "{}: {out}", pack.display());
        assert!(!out.contains("Warnings"), "{out}");
    }
}

/// System files Windows and macOS leave in a bag after it was made (`.DS_Store`,
/// `Thumbs.db`, a Mac zip's `__MACOSX/`) are named as harmless, not as unexpected files;
/// any other unlisted file still is a finding.
#[test]
fn os_litter_is_a_warning_not_a_finding() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let bag = make_bag(&env, "litter", "sha256");
    std::fs::write(bag.join("data/.DS_Store"), b"\0\0\0\x01Bud1").expect("write");
    std::fs::write(bag.join("data/audits/Thumbs.db"), b"thumbs").expect("write");
    std::fs::create_dir_all(env.root().join("__MACOSX/litter")).expect("mkdir");
    std::fs::write(env.root().join("__MACOSX/litter/._bagit.txt"), b"apple").expect("write");
    let (code, out) = evpack_code(&env, &bag);
    assert_eq!(code, 0, "folder: {out}");
    assert!(out.contains("2 harmless system files"), "{out}");
    let zip = zip_dir(&bag);
    let ok = Command::new("zip")
        .current_dir(env.root())
        .args(["-rqy"])
        .arg(&zip)
        .arg("__MACOSX")
        .status()
        .expect("zip")
        .success();
    assert!(ok);
    let (code, out) = evpack_code(&env, &zip);
    assert_eq!(code, 0, "zip: {out}");
    assert!(out.contains("3 harmless system files"), "{out}");
    std::fs::write(bag.join("data/late.md"), b"added").expect("write");
    let (code, out) = evpack_code(&env, &bag);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("data/late.md"), "{out}");
}

/// A bag whose `fetch.txt` lists a payload file kept elsewhere is incomplete until it is
/// fetched: evpack names it "to fetch" (exit 1) and never fetches it.
#[test]
fn files_listed_in_fetch_txt_and_absent_are_to_fetch() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let bag = make_bag(&env, "fetch", "sha256");
    std::fs::remove_file(bag.join("data/workforce/SLT vacancies.csv")).expect("rm");
    // A port nothing listens on: were it ever fetched, the test would hang or fail.
    std::fs::write(
        bag.join("fetch.txt"),
        "http://127.0.0.1:9/SLT%20vacancies.csv 20 data/workforce/SLT vacancies.csv\n",
    )
    .expect("write");
    let (code, out) = evpack_code(&env, &bag);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("data/workforce/SLT vacancies.csv"), "{out}");
    assert!(out.contains("to fetch"), "{out}");
    assert!(out.contains("evpack never fetches"), "{out}");
}
