//! Signatures (issue 15): `evpack key generate`, `build --sign`, `evpack sign` and
//! `verify --public-key`, through the real binary, and both ways against the real
//! `minisign` (evpack's signatures checked by minisign, minisign's by evpack, with keys
//! made by either).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::pack::{build_cmd, sample_env};
use crate::support::{have_tool, TestEnv};

const PASSWORD: &str = "correct horse battery staple";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o))
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

/// `evpack ARGS` in the env's root, with the key password (or none) in the environment.
fn evpack(env: &TestEnv, password: Option<&str>, args: &[&str]) -> Output {
    let mut c = env.cmd();
    c.env_remove("EVPACK_KEY_PASSWORD");
    if let Some(p) = password {
        c.env("EVPACK_KEY_PASSWORD", p);
    }
    c.args(args).output().expect("run evpack")
}

/// `evpack key generate` with the test password; the key files' paths.
fn generate(env: &TestEnv) -> (PathBuf, PathBuf) {
    let out = evpack(env, Some(PASSWORD), &["key", "generate"]);
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    (env.root().join("evpack.key"), env.root().join("evpack.pub"))
}

/// `evpack build --out OUT ARGS` with the test password; insists on success.
fn build(env: &TestEnv, out: &str, args: &[&str]) -> Output {
    let o = build_cmd(env, &["--out", out])
        .env("EVPACK_KEY_PASSWORD", PASSWORD)
        .args(args)
        .output()
        .expect("run evpack build");
    assert_eq!(code(&o), Some(0), "{}", both(&o));
    o
}

fn verify(env: &TestEnv, args: &[&str]) -> Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    evpack(env, None, &all)
}

fn minisign(env: &TestEnv, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new("minisign")
        .current_dir(env.root())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run minisign");
    // minisign reads a key's password from standard input when it is not a terminal.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("minisign output")
}

/// The public key itself: the second line of a `.pub` file.
fn key_line(public: &Path) -> String {
    nth_line(public, 1)
}

fn trusted_comment_line(sig: &Path) -> String {
    nth_line(sig, 2)
}

/// Line `n` (from 0) of a small text file.
fn nth_line(path: &Path, n: usize) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .nth(n)
        .unwrap_or_else(|| panic!("{} has no line {n}", path.display()))
        .to_string()
}

fn sha256_file(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("read digest file")
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

#[test]
fn key_generate_writes_an_encrypted_pair_and_never_overwrites_either_file() {
    let env = TestEnv::new();
    let out = evpack(&env, Some(PASSWORD), &["key", "generate"]);
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    let secret = env.root().join("evpack.key");
    let public = env.root().join("evpack.pub");
    let text = stdout(&out);
    assert!(text.contains(&key_line(&public)), "{text}");
    assert!(text.contains("Auditors need the public key"), "{text}");
    assert!(
        text.contains("evpack.key") && text.contains("evpack.pub"),
        "{text}"
    );

    let secret_text = std::fs::read_to_string(&secret).expect("secret key");
    assert!(
        secret_text.starts_with("untrusted comment: "),
        "{secret_text}"
    );
    assert!(std::fs::read_to_string(&public)
        .expect("public key")
        .starts_with("untrusted comment: minisign public key: "));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is readable by others");
    }

    // Again: refused, naming the file and what to do, and nothing changes.
    let public_before = std::fs::read(&public).expect("read");
    let again = evpack(&env, Some("other"), &["key", "generate"]);
    assert_eq!(code(&again), Some(2), "{}", both(&again));
    let err = stderr(&again);
    assert!(err.contains("evpack.key: already exists"), "{err}");
    assert!(err.contains("help:"), "{err}");
    assert_eq!(std::fs::read_to_string(&secret).expect("read"), secret_text);
    // Only the public key in the way: refused too, and no secret key is left behind.
    let only_public = evpack(
        &env,
        Some(PASSWORD),
        &["key", "generate", "--secret-key", "new.key"],
    );
    assert_eq!(code(&only_public), Some(2), "{}", both(&only_public));
    assert!(stderr(&only_public).contains("evpack.pub: already exists"));
    assert!(!env.root().join("new.key").exists());
    assert_eq!(std::fs::read(&public).expect("read"), public_before);
}

#[test]
fn an_empty_password_is_refused_and_unencrypted_needs_none() {
    let env = TestEnv::new();
    // (Without EVPACK_KEY_PASSWORD it would ask on the terminal, which a test run started
    // from one has: that path is left to people.)
    let empty = evpack(&env, Some(""), &["key", "generate"]);
    assert_eq!(code(&empty), Some(2), "{}", both(&empty));
    assert!(stderr(&empty).contains("--unencrypted"), "{}", both(&empty));
    assert!(!env.root().join("evpack.key").exists());

    let out = evpack(&env, None, &["key", "generate", "--unencrypted"]);
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    assert!(stdout(&out).contains("NOT encrypted"), "{}", both(&out));
}

// ---------------------------------------------------------------------------------------
// evpack signs, minisign checks
// ---------------------------------------------------------------------------------------

#[test]
fn build_sign_writes_a_signature_minisign_accepts_with_the_pack_digest_and_readiness() {
    let env = sample_env();
    generate(&env);
    let out = build(&env, "sample.zip", &["--sign", "evpack.key"]);
    let sig = env.root().join("sample.zip.minisig");
    assert!(sig.is_file(), "{}", both(&out));
    let sha = sha256_file(&env.root().join("sample.zip.sha256"));
    let comment = trusted_comment_line(&sig);
    for part in [
        "trusted comment: evpack pack sample.zip;",
        &format!("sha256 {sha};"),
        "visit Focused visit, 2021-01-18 (Example Council);",
        "readiness 100% (",
        " required met);",
        "built 2021-01-15",
    ] {
        assert!(comment.contains(part), "{part:?} not in {comment}");
    }
    assert!(
        stdout(&out).contains("Signed: sample.zip.minisig"),
        "{}",
        both(&out)
    );
    // The pack's own README tells the auditor how to check the signature.
    let entries = crate::support::pack::read_pack(&env.root().join("sample.zip"));
    let readme = crate::support::pack::text(&entries, "sample/README.md");
    assert!(
        readme.contains("minisign -Vm sample.zip -p evpack.pub"),
        "{readme}"
    );

    // evpack's own check: key id and trusted comment shown, exit 0.
    let v = verify(&env, &["sample.zip", "--public-key", "evpack.pub"]);
    assert_eq!(code(&v), Some(0), "{}", both(&v));
    assert!(stdout(&v).contains(&comment["trusted comment: ".len()..]));
    assert!(stdout(&v).contains("and signed by key"), "{}", both(&v));

    if !have_tool("minisign", &["-v"]) {
        return;
    }
    let m = minisign(&env, &["-Vm", "sample.zip", "-p", "evpack.pub"], "");
    assert_eq!(code(&m), Some(0), "minisign refused: {}", both(&m));
    let shown = format!("{}{}", stdout(&m), stderr(&m));
    assert!(
        shown.contains(&format!(
            "Trusted comment: evpack pack sample.zip; sha256 {sha};"
        )),
        "{shown}"
    );
}

#[test]
fn evpack_sign_signs_an_existing_pack_with_the_same_comment_as_build_sign() {
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &["--sign", "evpack.key"]);
    let sig = env.root().join("sample.zip.minisig");
    let from_build = trusted_comment_line(&sig);
    std::fs::remove_file(&sig).expect("remove");

    let out = evpack(
        &env,
        Some(PASSWORD),
        &["sign", "sample.zip", "--secret-key", "evpack.key"],
    );
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    assert_eq!(trusted_comment_line(&sig), from_build);
    let v = verify(&env, &["sample.zip", "--public-key", "evpack.pub"]);
    assert_eq!(code(&v), Some(0), "{}", both(&v));

    // --signature puts it elsewhere; verify finds it with the same flag.
    let out = evpack(
        &env,
        Some(PASSWORD),
        &[
            "sign",
            "sample.zip",
            "-s",
            "evpack.key",
            "--signature",
            "other.sig",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    let v = verify(
        &env,
        &[
            "sample.zip",
            "--public-key",
            "evpack.pub",
            "--signature",
            "other.sig",
        ],
    );
    assert_eq!(code(&v), Some(0), "{}", both(&v));

    if have_tool("minisign", &["-v"]) {
        let m = minisign(&env, &["-Vm", "sample.zip", "-p", "evpack.pub"], "");
        assert_eq!(code(&m), Some(0), "{}", both(&m));
    }
}

#[test]
fn evpack_sign_refuses_a_pack_that_does_not_verify() {
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &[]);
    let zip = env.root().join("sample.zip");
    let mut bytes = std::fs::read(&zip).expect("read");
    let at = bytes.len() / 3;
    bytes[at] ^= 0x55;
    std::fs::write(&zip, &bytes).expect("write");

    let out = evpack(
        &env,
        Some(PASSWORD),
        &["sign", "sample.zip", "--secret-key", "evpack.key"],
    );
    assert_eq!(code(&out), Some(1), "{}", both(&out));
    assert!(stderr(&out).contains("not signed"), "{}", both(&out));
    assert!(!env.root().join("sample.zip.minisig").exists());
}

// ---------------------------------------------------------------------------------------
// minisign signs, evpack checks
// ---------------------------------------------------------------------------------------

#[test]
fn minisign_signs_with_an_evpack_key_and_evpack_verify_accepts_it() {
    if !have_tool("minisign", &["-v"]) {
        return;
    }
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &[]);
    let m = minisign(
        &env,
        &[
            "-S",
            "-s",
            "evpack.key",
            "-m",
            "sample.zip",
            "-t",
            "signed by minisign",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code(&m), Some(0), "minisign -S: {}", both(&m));
    let v = verify(&env, &["sample.zip", "--public-key", "evpack.pub"]);
    assert_eq!(code(&v), Some(0), "{}", both(&v));
    assert!(
        stdout(&v).contains("Trusted comment: signed by minisign"),
        "{}",
        both(&v)
    );
}

#[test]
fn a_key_minisign_made_signs_both_ways() {
    if !have_tool("minisign", &["-v"]) {
        return;
    }
    let env = sample_env();
    build(&env, "sample.zip", &[]);
    let g = minisign(&env, &["-G", "-W", "-p", "x.pub", "-s", "x.key"], "");
    assert_eq!(code(&g), Some(0), "minisign -G: {}", both(&g));

    // minisign signs; evpack checks, with the key file and with the key given inline.
    let m = minisign(&env, &["-S", "-s", "x.key", "-m", "sample.zip"], "");
    assert_eq!(code(&m), Some(0), "minisign -S: {}", both(&m));
    let v = verify(&env, &["sample.zip", "--public-key", "x.pub"]);
    assert_eq!(code(&v), Some(0), "{}", both(&v));
    let inline = key_line(&env.root().join("x.pub"));
    let v = verify(&env, &["sample.zip", "--public-key", &inline]);
    assert_eq!(code(&v), Some(0), "{}", both(&v));

    // evpack signs with minisign's (unencrypted) key; minisign checks.
    std::fs::remove_file(env.root().join("sample.zip.minisig")).expect("remove");
    let out = evpack(&env, None, &["sign", "sample.zip", "--secret-key", "x.key"]);
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    let m = minisign(&env, &["-Vm", "sample.zip", "-p", "x.pub"], "");
    assert_eq!(code(&m), Some(0), "minisign -V: {}", both(&m));
}

// ---------------------------------------------------------------------------------------
// What fails
// ---------------------------------------------------------------------------------------

#[test]
fn a_wrong_password_fails_before_anything_is_built() {
    let env = sample_env();
    generate(&env);
    let out = build_cmd(&env, &["--out", "sample.zip", "--sign", "evpack.key"])
        .env("EVPACK_KEY_PASSWORD", "not the password")
        .output()
        .expect("run");
    assert_eq!(code(&out), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("the password does not open evpack.key"),
        "{}",
        both(&out)
    );
    // It failed before the scan: no summary, no pack, no signature.
    assert!(stdout(&out).is_empty(), "{}", both(&out));
    assert!(!env.root().join("sample.zip").exists());
    assert!(!env.root().join("sample.zip.minisig").exists());
}

#[test]
fn a_tampered_pack_with_the_right_key_is_exit_1() {
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &["--sign", "evpack.key"]);
    let zip = env.root().join("sample.zip");
    let mut bytes = std::fs::read(&zip).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&zip, &bytes).expect("write");
    let v = verify(&env, &["sample.zip", "--public-key", "evpack.pub"]);
    assert_eq!(code(&v), Some(1), "{}", both(&v));
    assert!(stdout(&v).contains("NOT verified"), "{}", both(&v));
    if have_tool("minisign", &["-v"]) {
        let m = minisign(&env, &["-Vm", "sample.zip", "-p", "evpack.pub"], "");
        assert_ne!(code(&m), Some(0), "minisign accepted a tampered pack");
    }
}

#[test]
fn an_intact_pack_with_another_packs_signature_is_not_trusted() {
    let env = sample_env();
    generate(&env);
    build(&env, "a.zip", &["--sign", "evpack.key"]);
    build(&env, "b.zip", &[]);
    std::fs::copy(
        env.root().join("a.zip.minisig"),
        env.root().join("b.zip.minisig"),
    )
    .expect("copy");
    let v = verify(
        &env,
        &["b.zip", "--public-key", "evpack.pub", "--format", "json"],
    );
    assert_eq!(code(&v), Some(1), "{}", both(&v));
    let json: Value = serde_json::from_slice(&v.stdout).expect("json");
    assert_eq!(json["verdict"], "differs");
    assert_eq!(json["counts"]["findings"], 0, "the contents are intact");
    assert_eq!(json["signature"]["verified"], false);
    assert!(json["signature"]["trusted_comment"].is_null());
    assert!(json["signature"]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("does not match the pack")));
}

#[test]
fn the_wrong_key_and_a_missing_signature_are_exit_1() {
    let env = sample_env();
    generate(&env);
    let other = evpack(
        &env,
        Some(PASSWORD),
        &["key", "generate", "-s", "other.key", "-p", "other.pub"],
    );
    assert_eq!(code(&other), Some(0), "{}", both(&other));
    build(&env, "sample.zip", &["--sign", "evpack.key"]);

    let v = verify(&env, &["sample.zip", "--public-key", "other.pub"]);
    assert_eq!(code(&v), Some(1), "{}", both(&v));
    assert!(
        stdout(&v).contains("not with the key given"),
        "{}",
        both(&v)
    );

    std::fs::remove_file(env.root().join("sample.zip.minisig")).expect("remove");
    let v = verify(&env, &["sample.zip", "--public-key", "evpack.pub"]);
    assert_eq!(code(&v), Some(1), "{}", both(&v));
    assert!(stdout(&v).contains("no signature file"), "{}", both(&v));
}

#[test]
fn verify_json_carries_the_signature_and_is_null_without_a_key() {
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &["--sign", "evpack.key"]);
    let inline = key_line(&env.root().join("evpack.pub"));
    let v = verify(
        &env,
        &["sample.zip", "--public-key", &inline, "--format", "json"],
    );
    assert_eq!(code(&v), Some(0), "{}", both(&v));
    let json: Value = serde_json::from_slice(&v.stdout).expect("json");
    let s = &json["signature"];
    assert_eq!(s["verified"], true);
    assert_eq!(s["key_id"], s["public_key_id"]);
    assert_eq!(s["key_id"].as_str().map(str::len), Some(16));
    assert!(s["trusted_comment"]
        .as_str()
        .is_some_and(|c| c.starts_with("evpack pack sample.zip; sha256 ")));
    assert!(s["reason"].is_null());

    let v = verify(&env, &["sample.zip", "--format", "json"]);
    assert_eq!(code(&v), Some(0), "{}", both(&v));
    let json: Value = serde_json::from_slice(&v.stdout).expect("json");
    assert!(json["signature"].is_null());
    assert!(
        json["notes"].to_string().contains("was not checked"),
        "a signature beside the pack goes unmentioned: {json}"
    );
}

#[test]
fn hostile_signature_files_and_unusable_arguments() {
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &[]);
    let root = env.root();
    // Garbage, four lines of nonsense, a short global signature, a huge file: each a
    // signature that does not verify (exit 1), named, never a crash.
    std::fs::write(root.join("garbage.sig"), b"\x00\xff not a signature").expect("write");
    std::fs::write(
        root.join("lines.sig"),
        "untrusted comment: x\nRUQ!!!!\ntrusted comment: y\n====\n",
    )
    .expect("write");
    std::fs::write(root.join("huge.sig"), vec![b'A'; 50 << 20]).expect("write");
    for sig in ["garbage.sig", "lines.sig", "huge.sig"] {
        let v = verify(
            &env,
            &[
                "sample.zip",
                "--public-key",
                "evpack.pub",
                "--signature",
                sig,
            ],
        );
        assert_eq!(code(&v), Some(1), "{sig}: {}", both(&v));
        assert!(
            stdout(&v).contains(&format!("Signature {sig}: NOT verified")),
            "{sig}: {}",
            both(&v)
        );
    }

    // Unusable arguments: exit 2, naming what is wrong.
    let v = verify(&env, &["sample.zip", "--public-key", "RWQnot-a-key"]);
    assert_eq!(code(&v), Some(2), "{}", both(&v));
    assert!(stderr(&v).contains("not a public key"), "{}", both(&v));
    let v = verify(&env, &["sample.zip", "--public-key", "evpack.key"]);
    assert_eq!(code(&v), Some(2), "{}", both(&v));
    assert!(stderr(&v).contains("this is a secret key"), "{}", both(&v));
    let v = verify(&env, &["sample.zip", "--signature", "garbage.sig"]);
    assert_eq!(code(&v), Some(2), "--signature without a key: {}", both(&v));
    let v = verify(&env, &["evidence", "--public-key", "evpack.pub"]);
    assert_eq!(code(&v), Some(2), "{}", both(&v));
    assert!(
        stderr(&v).contains("cannot be signature-checked"),
        "{}",
        both(&v)
    );
}

#[test]
fn a_bag_evpack_did_not_build_verifies_but_is_not_signed_by_evpack() {
    use std::io::Write;
    let env = TestEnv::new();
    generate(&env);
    let data = b"hello\n";
    let manifest = format!(
        "{}  data/hello.txt\n",
        crate::support::pack::sha256_hex(data)
    );
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in [
        (
            "b/bagit.txt",
            &b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"[..],
        ),
        ("b/bag-info.txt", &b"Bagging-Date: 2021-01-15\n"[..]),
        ("b/manifest-sha256.txt", manifest.as_bytes()),
        ("b/data/hello.txt", &data[..]),
    ] {
        w.start_file(name, opts).expect("start");
        w.write_all(bytes).expect("write");
    }
    let zip = w.finish().expect("finish").into_inner();
    std::fs::write(env.root().join("b.zip"), zip).expect("write zip");
    assert_eq!(code(&verify(&env, &["b.zip"])), Some(0));

    let out = evpack(&env, Some(PASSWORD), &["sign", "b.zip", "-s", "evpack.key"]);
    assert_eq!(code(&out), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("not a pack evpack built") && stderr(&out).contains("minisign"),
        "{}",
        both(&out)
    );
    assert!(!env.root().join("b.zip.minisig").exists());
}

#[test]
fn a_rebuild_without_sign_warns_that_the_old_signature_may_no_longer_match() {
    let env = sample_env();
    generate(&env);
    build(&env, "sample.zip", &["--sign", "evpack.key"]);
    let out = build_cmd(&env, &["--out", "sample.zip"])
        .output()
        .expect("run");
    assert_eq!(code(&out), Some(0), "{}", both(&out));
    assert!(
        stderr(&out).contains("sample.zip.minisig was made for an earlier build"),
        "{}",
        both(&out)
    );
}
