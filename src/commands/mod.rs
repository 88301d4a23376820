//! The command layer: the only code that prints, looks at the terminal, installs signal
//! handling or picks an [`Outcome`]. One file per command; each turns its config into a
//! call of the library and renders what comes back.
//!
//! Nothing in the library imports this module, so data flows one way:
//! manifest + scan -> assessment -> (reports | pack); pack -> (verification | diff).

mod build;
mod diff;
mod gaps;
mod history;
mod key;
mod list;
mod manifest;
mod progress;
mod report;
mod sign;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::assess::{self, AssessOptions, Assessment};
use crate::config::{Command, InputConfig};
use crate::content;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::manifest::Manifest;
use crate::scan::{self, Scan};

/// Runs one command.
pub fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Gaps {
            input,
            format,
            by_owner,
        } => gaps::run(&input, format, by_owner),
        Command::List { input, format } => list::run(&input, format),
        Command::Build(cfg) => build::run(&cfg),
        Command::Verify(cfg) => verify::run(&cfg),
        Command::Report(cfg) => report::run(&cfg),
        Command::KeyGenerate(cfg) => key::generate(&cfg),
        Command::Sign(cfg) => sign::run(&cfg),
        Command::Diff(cfg) => diff::run(&cfg),
        Command::ManifestCheck { file } => manifest::check(file),
    }
}

/// The inputs of an assessment, loaded, and the assessment itself.
struct Assessed {
    manifest: Manifest,
    scan: Scan,
    assessment: Assessment,
}

/// The manifest path: as given, else the single `*.toml` in `./manifests`.
fn manifest_path(given: Option<&Path>) -> Result<std::path::PathBuf> {
    match given {
        Some(m) => Ok(m.to_path_buf()),
        None => crate::manifest::default_manifest(Path::new("manifests")),
    }
}

/// Loads the manifest, scans and assesses: the start of every command but `verify`.
/// Loads the manifest, scans, checks and assesses; a long scan shows its progress on a
/// terminal unless `quiet`.
fn load_and_assess(cfg: &InputConfig, quiet: bool) -> Result<Assessed> {
    let manifest = Manifest::load(&manifest_path(cfg.manifest.as_deref())?)?;
    let progress = progress::ScanProgress::start(quiet);
    let mut scan = scan::scan_counted(&cfg.evidence, &progress.tally)?;
    assess::apply_given_dates(&manifest, &mut scan);
    if let Some(as_of) = cfg.as_of.filter(|d| *d > manifest.visit.date) {
        note(&format!(
            "evpack: warning: --as-of {as_of} is after the visit date {}: the assessment counts evidence the inspectors will not see by then",
            manifest.visit.date
        ));
    }
    let matched = assess::match_files(&manifest, &scan)?;
    let checks = content::check_files_counted(
        &scan,
        matched.any(),
        &content::Limits::default(),
        &progress.tally,
    )?;
    drop(progress);
    let opts = AssessOptions { as_of: cfg.as_of };
    let assessment = assess::assess(&manifest, &scan, &matched, &checks, &opts)?;
    for w in &assessment.warnings {
        note(&format!("evpack: warning: {}", crate::util::printable(w)));
    }
    Ok(Assessed {
        manifest,
        scan,
        assessment,
    })
}

/// `Met` when every required requirement is met, else `Gaps`.
fn gaps_outcome(a: &Assessment) -> Outcome {
    if a.summary.ready() {
        Outcome::Met
    } else {
        Outcome::Gaps
    }
}

/// Whether to colour terminal output: only on a terminal, never with `NO_COLOR` set.
fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes to standard output. A closed pipe (`evpack list | head`) is not an error: the
/// reader has what it wanted. The command's outcome still decides the exit code, so a
/// failing verification piped into `head -1` still exits 1.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("<stdout>", "cannot write", e))
        }
        _ => Ok(()),
    }
}

/// Streams to standard output through a buffer, with [`write_stdout`]'s rule for a closed
/// pipe: for documents too large to build whole first.
fn stream_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("<stdout>", "cannot write", e))
        }
        _ => Ok(()),
    }
}

/// Writes a line to standard error (progress notes, warnings: never data).
fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
