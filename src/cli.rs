//! Command-line layer: clap definitions, turned into plain configs that the rest of the
//! program uses (nothing below this module sees clap), and the mapping of outcomes to exit
//! codes.
//!
//! Exit codes: 0 = every required requirement met / pack intact; 1 = gaps / differences
//! found (or `build --strict` refused); 2 = unusable input (bad manifest, missing folder,
//! unreadable pack) or any other error. A closed pipe (`evpack list | head`) is success.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::assess::{self, AssessOptions, Assessment};
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use crate::report::{self, Format, Templates};
use crate::scan::{self, Scan};

const EXIT_CODES: &str = "\
Exit codes:
  0  every required requirement is met (verify: the pack is intact)
  1  gaps in required requirements (verify: the pack differs from what was built;
     build --strict: the pack was refused)
  2  the input is unusable: bad manifest, missing folder, unreadable pack, other errors";

#[derive(Debug, Parser)]
#[command(
    name = "evpack",
    version,
    about = "Evidence gap analysis, packs and verification for an Ofsted visit",
    long_about = "evpack reads a manifest (TOML) that maps each Ofsted priority and Commissioner \
recommendation to the evidence it requires, scans the evidence folder, flags gaps, builds a \
checksummed BagIt pack, and verifies packs.",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Flag what is missing, out of date or incomplete, and who owns it.
    #[command(after_help = EXIT_CODES)]
    Gaps {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
    /// Inventory: every evidence file with its date, where the date came from and the
    /// requirements it serves, then the files that match nothing.
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Build the pack: a reproducible, checksummed BagIt zip of exactly the evidence the
    /// manifest asks for, with a readable index and a gap statement.
    #[command(after_help = EXIT_CODES)]
    Build {
        #[command(flatten)]
        input: InputArgs,
        /// The pack to write. Default: <visit-name>-<date>.zip in the current folder.
        #[arg(long, short = 'o', value_name = "PACK.zip")]
        out: Option<PathBuf>,
        /// The bagging date (YYYY-MM-DD) recorded in the pack and used for every timestamp
        /// in the zip. Default: SOURCE_DATE_EPOCH if set, else today.
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// A folder whose report.md.hbs / report.html.hbs replace the built-in templates.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Refuse to write a pack (exit 1) when a required requirement is not met.
        #[arg(long)]
        strict: bool,
        /// No summary and no progress bar; errors are still printed.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Check a pack (zip or unzipped folder): every byte as built, nothing missing, nothing
    /// added.
    #[command(after_help = "Exit codes:
  0  the pack is intact
  1  the pack differs from what was built (each difference is listed)
  2  not a readable pack at all (not a zip, truncated, no bagit.txt, unreadable)")]
    Verify {
        /// The pack zip, or an unzipped pack (any BagIt bag with sha256/sha512 manifests).
        pack: PathBuf,
        /// Also check the whole zip against this SHA-256 (as printed by `evpack build`).
        #[arg(long, value_name = "HEX", conflicts_with = "digest_file")]
        digest: Option<String>,
        /// Also check the whole zip against the SHA-256 in this file (PACK.zip.sha256).
        #[arg(long, value_name = "FILE")]
        digest_file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        /// Print only the verdict line.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Write the readiness dashboard: one self-contained, accessible HTML page.
    #[command(after_help = EXIT_CODES)]
    Report {
        #[command(flatten)]
        input: InputArgs,
        /// The HTML file to write.
        #[arg(
            long,
            short = 'o',
            value_name = "FILE",
            default_value = "readiness.html"
        )]
        out: PathBuf,
        /// A folder whose report.html.hbs replaces the built-in template.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// Manifest tools.
    Manifest {
        #[command(subcommand)]
        command: ManifestCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ManifestCommand {
    /// Validate a manifest without scanning (exit 0 valid, 2 invalid).
    Check {
        /// The manifest; default: the single *.toml in ./manifests.
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct InputArgs {
    /// The manifest (TOML). Default: the single *.toml in ./manifests.
    #[arg(long, short = 'm', value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The evidence folder.
    #[arg(long, short = 'e', value_name = "DIR", default_value = "evidence")]
    evidence: PathBuf,
    /// Assess as of this date (YYYY-MM-DD) instead of the visit date.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Csv,
    Md,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date: write it as YYYY-MM-DD, e.g. 2021-01-18"))
}

/// Where to find the inputs of an assessment.
#[derive(Debug, Clone)]
pub struct InputConfig {
    pub manifest: PathBuf,
    pub evidence: PathBuf,
    pub assess: AssessOptions,
}

impl InputArgs {
    fn into_config(self) -> Result<InputConfig> {
        let manifest = match self.manifest {
            Some(m) => m,
            None => manifest::default_manifest(Path::new("manifests"))?,
        };
        Ok(InputConfig {
            manifest,
            evidence: self.evidence,
            assess: AssessOptions { as_of: self.as_of },
        })
    }
}

/// Loads the manifest, scans and assesses: the start of every command but `verify`.
pub fn load_and_assess(cfg: &InputConfig) -> Result<(Manifest, Scan, Assessment)> {
    let manifest = Manifest::load(&cfg.manifest)?;
    let scan = scan::scan(&cfg.evidence)?;
    let assessment = assess::assess(&manifest, &scan, &cfg.assess)?;
    Ok((manifest, scan, assessment))
}

/// Whether to colour terminal output: only on a terminal, never with `NO_COLOR` set.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// What a command concluded, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Gaps,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Gaps) => ExitCode::from(1),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("evpack: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Gaps { input, format } => {
            let cfg = input.into_config()?;
            let (_, _, a) = load_and_assess(&cfg)?;
            let format = match format {
                FormatArg::Text => Format::Text,
                FormatArg::Json => Format::Json,
                FormatArg::Csv => Format::Csv,
                FormatArg::Md => Format::Markdown,
            };
            let out = report::render(&a, format, use_color())?;
            write_stdout(&out)?;
            Ok(gaps_outcome(&a))
        }
        Command::List { input, format } => {
            let cfg = input.into_config()?;
            let (_, scan, a) = load_and_assess(&cfg)?;
            let out = match format {
                ListFormat::Text => report::list::render_text(&scan, &a).into_bytes(),
                ListFormat::Json => report::list::render_json(&scan, &a)?,
            };
            write_stdout(&out)?;
            Ok(Outcome::Ok)
        }
        Command::Build {
            input,
            out,
            date,
            templates,
            strict,
            quiet,
        } => crate::pack::build::run(&crate::pack::build::BuildConfig {
            input: input.into_config()?,
            out,
            date,
            templates,
            strict,
            quiet,
        }),
        Command::Verify {
            pack,
            digest,
            digest_file,
            format,
            quiet,
        } => {
            let digest = match (digest, digest_file) {
                (Some(d), _) => Some(parse_digest(&d).ok_or_else(|| {
                    Error::Usage(format!(
                        "--digest {d:?} is not a SHA-256: give the 64 hex digits that `evpack build` printed"
                    ))
                })?),
                (None, Some(f)) => Some(read_digest_file(&f)?),
                (None, None) => None,
            };
            crate::pack::verify::run(&crate::pack::verify::VerifyConfig {
                pack,
                digest,
                format: match format {
                    ListFormat::Text => crate::pack::verify::VerifyFormat::Text,
                    ListFormat::Json => crate::pack::verify::VerifyFormat::Json,
                },
                quiet,
            })
        }
        Command::Report {
            input,
            out,
            templates,
        } => {
            let cfg = input.into_config()?;
            let (_, _, a) = load_and_assess(&cfg)?;
            let templates = Templates::load(templates.as_deref())?;
            let prefix = relative_prefix(&out, &cfg.evidence);
            let html = templates.html(&a, report::LinkStyle::Drive(&prefix))?;
            crate::util::write_atomically(&out, html.as_bytes())?;
            eprintln!(
                "Wrote {}: readiness {}%, {} of {} required requirements met",
                out.display(),
                a.summary.readiness_percent,
                a.summary.required_met,
                a.summary.required_total
            );
            Ok(gaps_outcome(&a))
        }
        Command::Manifest {
            command: ManifestCommand::Check { file },
        } => {
            let path = match file {
                Some(f) => f,
                None => manifest::default_manifest(Path::new("manifests"))?,
            };
            let m = Manifest::load(&path)?;
            let reqs = m.requirements().count();
            let required = m.requirements().filter(|(_, r)| r.required).count();
            write_stdout(
                format!(
                    "{}: valid: {}, {} ({} required, {} advisory); visit {} on {}, look-back {} months\n",
                    path.display(),
                    plural(m.areas.len(), "area"),
                    plural(reqs, "requirement"),
                    required,
                    reqs - required,
                    m.visit.name,
                    m.visit.date,
                    m.visit.lookback_months
                )
                .as_bytes(),
            )?;
            Ok(Outcome::Ok)
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn gaps_outcome(a: &Assessment) -> Outcome {
    if a.summary.ready() {
        Outcome::Ok
    } else {
        Outcome::Gaps
    }
}

fn parse_digest(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Reads a `sha256sum`-format file (`<hex>  <name>`); the first field is the digest.
fn read_digest_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(path, "cannot read the digest file", e))?;
    text.split_whitespace()
        .next()
        .and_then(parse_digest)
        .ok_or_else(|| {
            Error::input(
                path,
                "no SHA-256 found (expected `<64 hex digits>  <pack name>`)",
                "pass the PACK.zip.sha256 file that `evpack build` wrote, or --digest HEX",
            )
        })
}

/// The link prefix from a report at `out` to the evidence folder: relative when both are
/// relative paths (the usual case on a shared drive), else absolute.
fn relative_prefix(out: &Path, evidence: &Path) -> String {
    let abs = |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
    let out_dir = abs(out).parent().map(Path::to_path_buf).unwrap_or_default();
    let ev = abs(evidence);
    let out_parts: Vec<_> = out_dir.components().collect();
    let ev_parts: Vec<_> = ev.components().collect();
    let common = out_parts
        .iter()
        .zip(&ev_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut prefix = String::new();
    for _ in common..out_parts.len() {
        prefix.push_str("../");
    }
    for part in &ev_parts[common..] {
        prefix.push_str(&part.as_os_str().to_string_lossy());
        prefix.push('/');
    }
    prefix
}

pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", "cannot write", e))
}
