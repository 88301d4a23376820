//! Shared test helpers, in one place: temp evidence trees and outside-tool checks here;
//! manifest builders and assessment readers in [`gaps`]; the sample drive and pack readers
//! in [`pack`]; a zip writer that can forge any header in [`rawzip`]; the kernel's count of
//! one run's peak memory in [`memory`].
#![allow(dead_code)]

pub mod docs;
pub mod gaps;
pub mod memory;
pub mod pack;
pub mod rawzip;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;

/// A temp folder with `evidence/` and a manifest, built in one call.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("evidence")).expect("evidence dir");
        TestEnv { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn evidence(&self) -> PathBuf {
        self.root().join("evidence")
    }

    /// Writes a document under `evidence/`, creating folders: a real one of the type its
    /// extension names ([`docs::document_for`]), or text for text and unknown types,
    /// holding `contents` and then its own path, so that no two are identical copies (which
    /// would count once). [`TestEnv::raw`] writes exact bytes.
    pub fn file(&self, rel: &str, contents: &str) -> &Self {
        let text = format!("{contents}\n{rel}\n");
        self.raw(rel, &docs::document_for(rel, &text))
    }

    /// Writes `bytes` under `evidence/` as they are, creating folders.
    pub fn raw(&self, rel: &str, bytes: &[u8]) -> &Self {
        let p = self.evidence().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
        self
    }

    /// Writes `manifest.toml` at the root and returns its path.
    pub fn manifest(&self, text: &str) -> PathBuf {
        let p = self.root().join("manifest.toml");
        std::fs::write(&p, text).expect("write manifest");
        p
    }

    /// `evpack COMMAND -m manifest.toml -e evidence REST...` (`args` is the command, then
    /// the rest), run in the env's root; its output, whatever the exit code.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        let (command, rest) = args.split_first().expect("a command");
        self.cmd()
            .arg(command)
            .args(["-m", "manifest.toml", "-e", "evidence"])
            .args(rest)
            .output()
            .unwrap_or_else(|e| panic!("evpack {command}: {e}"))
    }

    /// `evpack ARGS` run in the env's root.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(cargo_bin("evpack"));
        c.current_dir(self.root()).env("NO_COLOR", "1");
        c
    }
}

/// True when an outside tool is usable. When it is not: inside CI (`CI` set) the test fails,
/// because CI installs every tool; elsewhere it prints a visible skip message.
pub fn have_tool(program: &str, probe_args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe_args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("{program} is required in CI but is not available; .ci/run must install it");
        }
        eprintln!("SKIPPED: {program} is not installed; install it to run this test");
    }
    ok
}

/// The path of the built binary.
pub fn evpack_bin() -> PathBuf {
    cargo_bin("evpack")
}

/// Makes a fixture readable by anyone (folders 0755, files 0644), for a run as another user.
pub fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(dir).expect("stat");
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = if meta.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if meta.is_dir() {
        for e in std::fs::read_dir(dir).expect("list") {
            open_up(&e.expect("entry").path());
        }
    }
}
