//! The plain configuration of each command: what the user asked for, with defaults resolved
//! where that needs no I/O. A leaf module: the command-line layer builds these and nothing
//! below the commands ever sees clap.

use std::path::PathBuf;

use chrono::NaiveDate;

/// Where to find the inputs of an assessment.
#[derive(Debug, Clone)]
pub struct InputConfig {
    /// The manifest; `None` = the single `*.toml` in `./manifests`.
    pub manifest: Option<PathBuf>,
    /// The evidence folder.
    pub evidence: PathBuf,
    /// Assess as of this date instead of the visit date.
    pub as_of: Option<NaiveDate>,
}

/// Output formats of `evpack gaps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapsFormat {
    Text,
    Json,
    Csv,
    Markdown,
}

/// Output formats of `evpack list` and `evpack verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOrJson {
    Text,
    Json,
}

/// What `evpack build` was asked to do.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub input: InputConfig,
    /// The pack file; default `<visit-name-slug>-<date>.zip` in the current folder.
    pub out: Option<PathBuf>,
    /// The bagging date recorded in the pack and used for every zip timestamp; default
    /// `SOURCE_DATE_EPOCH`, else today.
    pub date: Option<NaiveDate>,
    /// A folder whose templates replace the built-in ones.
    pub templates: Option<PathBuf>,
    /// Refuse to write a pack when a required requirement is not met.
    pub strict: bool,
    /// Pack the matched files that will not open too (they still count towards nothing);
    /// by default they are left out and listed in `pack.json` as `left_out`.
    pub include_unusable: bool,
    /// No summary and no progress bar.
    pub quiet: bool,
    /// Name the files that match nothing in the pack (by default only counted).
    pub list_unmatched: bool,
    /// Sign the pack with this secret key (opened before anything else is done).
    pub sign: Option<PathBuf>,
    /// A folder of earlier packs and saved assessments to draw readiness over time from.
    pub history: Option<PathBuf>,
}

/// Where `evpack verify` takes the expected SHA-256 of the whole zip from.
#[derive(Debug, Clone)]
pub enum DigestSource {
    /// `--digest HEX`, as typed.
    Given(String),
    /// `--digest-file PACK.zip.sha256`.
    File(PathBuf),
}

/// What `evpack verify` was asked to do.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// A pack zip, or an unzipped bag folder.
    pub pack: PathBuf,
    pub digest: Option<DigestSource>,
    pub format: TextOrJson,
    /// Print only the verdict line (text); JSON is unaffected.
    pub quiet: bool,
    /// Check the pack's signature with this public key: a key file, or the base64 key
    /// itself (`RWQ...`); which one is decided where the key is read.
    pub public_key: Option<std::ffi::OsString>,
    /// The signature file; default `PACK.minisig` beside the pack.
    pub signature: Option<PathBuf>,
}

/// What `evpack key generate` was asked to do.
#[derive(Debug, Clone)]
pub struct KeyGenerateConfig {
    pub secret_key: PathBuf,
    pub public_key: PathBuf,
    /// Write the secret key without a password.
    pub unencrypted: bool,
}

/// What `evpack sign` was asked to do.
#[derive(Debug, Clone)]
pub struct SignConfig {
    /// The pack zip to sign.
    pub pack: PathBuf,
    pub secret_key: PathBuf,
    /// The signature file; default `PACK.minisig` beside the pack.
    pub signature: Option<PathBuf>,
}

/// What `evpack report` was asked to do.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub input: InputConfig,
    /// The HTML file to write.
    pub out: PathBuf,
    pub templates: Option<PathBuf>,
    /// A folder of earlier packs and saved assessments to draw readiness over time from.
    pub history: Option<PathBuf>,
}

/// Output formats of `evpack diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

/// What `evpack diff` was asked to compare.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    /// Each a pack (zip or unzipped folder) or a saved `gaps --format json` file.
    pub old: PathBuf,
    pub new: PathBuf,
    pub format: DiffFormat,
    /// Compare sides of different authorities or manifests anyway.
    pub force: bool,
}

/// One command with its configuration.
#[derive(Debug, Clone)]
pub enum Command {
    Gaps {
        input: InputConfig,
        format: GapsFormat,
        /// The chase list: per owner, what each requirement not met needs, by when.
        by_owner: bool,
    },
    List {
        input: InputConfig,
        format: TextOrJson,
    },
    Build(BuildConfig),
    Verify(VerifyConfig),
    Report(ReportConfig),
    KeyGenerate(KeyGenerateConfig),
    Sign(SignConfig),
    Diff(DiffConfig),
    /// `manifest check [FILE]`; `None` = the default manifest.
    ManifestCheck {
        file: Option<PathBuf>,
    },
}
