//! Command-line layer: clap definitions only, turned into the plain configs of
//! [`crate::config`]. Nothing below the commands sees clap.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{
    BuildConfig, Command as Config, DiffConfig, DiffFormat, DigestSource, GapsFormat, InputConfig,
    KeyGenerateConfig, ReportConfig, SignConfig, TextOrJson, VerifyConfig,
};
use crate::exit;

/// Parses the process arguments (clap exits on `--help`, `--version` and usage errors).
pub fn parse() -> Config {
    Cli::parse().into_config()
}

#[derive(Debug, Parser)]
#[command(
    name = "evpack",
    version,
    about = "Evidence gap analysis, packs and verification for an Ofsted visit",
    long_about = "evpack reads a manifest (TOML) that maps each Ofsted priority and Commissioner \
recommendation to the evidence it requires, scans the evidence folder, flags gaps, builds a \
checksummed BagIt pack, and verifies packs.",
    after_help = exit::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Flag what is missing, out of date or incomplete, and who owns it.
    #[command(after_help = exit::HELP)]
    Gaps {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// The chase list: per owner, each requirement not met, what it needs and by when
        /// (owners without a name last). Markdown pastes into an email.
        #[arg(long)]
        by_owner: bool,
    },
    /// Inventory: every evidence file with its date, where the date came from and the
    /// requirements it serves, then the files that match nothing.
    #[command(after_help = exit::HELP)]
    List {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Build the pack: a reproducible, checksummed BagIt zip of exactly the evidence the
    /// manifest asks for, with a readable index and a gap statement.
    #[command(after_help = exit::HELP)]
    Build {
        #[command(flatten)]
        input: InputArgs,
        /// The pack to write, or an existing folder to write it in (then named
        /// <visit-name>-<date>.zip, the default, in the current folder). `.zip` is added to a
        /// name without it.
        #[arg(long, short = 'o', value_name = "PACK.zip|DIR/")]
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
        /// Pack matched files that will not open (empty, wrong type, damaged,
        /// password-protected) anyway; they still count towards nothing.
        #[arg(long)]
        include_unusable: bool,
        /// No summary and no progress bar; errors are still printed.
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Name the files that match no requirement in the pack's index, README and
        /// pack.json. By default the pack gives only how many there are: a file name on a
        /// children's services drive can identify a child.
        #[arg(long)]
        list_unmatched: bool,
        /// Sign the pack with this secret key (minisign format): writes PACK.zip.minisig.
        /// The key's password is asked first (or taken from EVPACK_KEY_PASSWORD).
        #[arg(long, value_name = "SECRET_KEY")]
        sign: Option<PathBuf>,
        /// A folder of earlier packs and saved `gaps --format json` files: the pack's
        /// index.html shows readiness over time.
        #[arg(long, value_name = "DIR")]
        history: Option<PathBuf>,
    },
    /// Check a pack (zip or unzipped folder): every byte as built, nothing missing, nothing
    /// added.
    #[command(after_help = exit::VERIFY_HELP)]
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
        /// Also check the pack's minisign signature with this public key: the key file
        /// (evpack.pub) or the key itself (RWQ...). A bad or missing signature is exit 1.
        #[arg(long, value_name = "KEY")]
        public_key: Option<std::ffi::OsString>,
        /// The signature file. Default: PACK.zip.minisig beside the pack.
        #[arg(long, value_name = "FILE", requires = "public_key")]
        signature: Option<PathBuf>,
    },
    /// Sign an existing pack (minisign format) after verifying it: writes PACK.zip.minisig.
    #[command(after_help = exit::SIGN_HELP)]
    Sign {
        /// The pack zip.
        pack: PathBuf,
        /// The secret key; its password is asked (or taken from EVPACK_KEY_PASSWORD).
        #[arg(long, short = 's', value_name = "FILE", default_value = "evpack.key")]
        secret_key: PathBuf,
        /// The signature file to write. Default: PACK.zip.minisig beside the pack.
        #[arg(long, value_name = "FILE")]
        signature: Option<PathBuf>,
    },
    /// Signing keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Write the readiness dashboard: one self-contained, accessible HTML page.
    #[command(after_help = exit::HELP)]
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
        /// A folder of earlier packs and saved `gaps --format json` files: the dashboard
        /// shows readiness over time.
        #[arg(long, value_name = "DIR")]
        history: Option<PathBuf>,
    },
    /// What changed between two packs (zip or folder) or saved `gaps --format json` files:
    /// readiness, areas, requirements better and worse, evidence added, removed, modified
    /// and moved.
    #[command(after_help = exit::DIFF_HELP)]
    Diff {
        /// The earlier pack or saved assessment.
        old: PathBuf,
        /// The later pack or saved assessment.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormatArg::Text)]
        format: DiffFormatArg,
        /// Compare sides of different authorities or manifests anyway.
        #[arg(long)]
        force: bool,
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

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Make a signing key pair (minisign format). Never overwrites a key file.
    Generate {
        /// The secret key to write (encrypted with a password asked twice, or taken from
        /// EVPACK_KEY_PASSWORD). Keep it private.
        #[arg(long, short = 's', value_name = "FILE", default_value = "evpack.key")]
        secret_key: PathBuf,
        /// The public key to write: what auditors need to check your signatures.
        #[arg(long, short = 'p', value_name = "FILE", default_value = "evpack.pub")]
        public_key: PathBuf,
        /// Write the secret key without a password (for machines that sign unattended).
        #[arg(long)]
        unencrypted: bool,
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
enum DiffFormatArg {
    Text,
    Json,
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

impl InputArgs {
    fn into_config(self) -> InputConfig {
        InputConfig {
            manifest: self.manifest,
            evidence: self.evidence,
            as_of: self.as_of,
        }
    }
}

impl From<FormatArg> for GapsFormat {
    fn from(f: FormatArg) -> GapsFormat {
        match f {
            FormatArg::Text => GapsFormat::Text,
            FormatArg::Json => GapsFormat::Json,
            FormatArg::Csv => GapsFormat::Csv,
            FormatArg::Md => GapsFormat::Markdown,
        }
    }
}

impl From<ListFormat> for TextOrJson {
    fn from(f: ListFormat) -> TextOrJson {
        match f {
            ListFormat::Text => TextOrJson::Text,
            ListFormat::Json => TextOrJson::Json,
        }
    }
}

impl Cli {
    fn into_config(self) -> Config {
        match self.command {
            Command::Gaps {
                input,
                format,
                by_owner,
            } => Config::Gaps {
                input: input.into_config(),
                format: format.into(),
                by_owner,
            },
            Command::List { input, format } => Config::List {
                input: input.into_config(),
                format: format.into(),
            },
            Command::Build {
                input,
                out,
                date,
                templates,
                strict,
                include_unusable,
                quiet,
                list_unmatched,
                sign,
                history,
            } => Config::Build(BuildConfig {
                input: input.into_config(),
                out,
                date,
                templates,
                strict,
                include_unusable,
                quiet,
                list_unmatched,
                sign,
                history,
            }),
            Command::Verify {
                pack,
                digest,
                digest_file,
                format,
                quiet,
                public_key,
                signature,
            } => Config::Verify(VerifyConfig {
                pack,
                digest: digest
                    .map(DigestSource::Given)
                    .or(digest_file.map(DigestSource::File)),
                format: format.into(),
                quiet,
                public_key,
                signature,
            }),
            Command::Sign {
                pack,
                secret_key,
                signature,
            } => Config::Sign(SignConfig {
                pack,
                secret_key,
                signature,
            }),
            Command::Key {
                command:
                    KeyCommand::Generate {
                        secret_key,
                        public_key,
                        unencrypted,
                    },
            } => Config::KeyGenerate(KeyGenerateConfig {
                secret_key,
                public_key,
                unencrypted,
            }),
            Command::Report {
                input,
                out,
                templates,
                history,
            } => Config::Report(ReportConfig {
                input: input.into_config(),
                out,
                templates,
                history,
            }),
            Command::Diff {
                old,
                new,
                format,
                force,
            } => Config::Diff(DiffConfig {
                old,
                new,
                format: match format {
                    DiffFormatArg::Text => DiffFormat::Text,
                    DiffFormatArg::Json => DiffFormat::Json,
                    DiffFormatArg::Md => DiffFormat::Markdown,
                },
                force,
            }),
            Command::Manifest {
                command: ManifestCommand::Check { file },
            } => Config::ManifestCheck { file },
        }
    }
}
