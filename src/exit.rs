//! The exit-code contract, stated once. `--help` prints [`HELP`] and the README quotes it;
//! scheduled jobs and CI scripts depend on these numbers, so they never change meaning.
//!
//! Library code never picks an exit code: commands return an [`Outcome`] (or an error), and
//! `main` turns it into a number here.

/// What a command concluded. Each variant says what happened, so that a pack that differs
/// is never called a "gap" on its way to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every required requirement is met (`gaps`, `list`, `report`), or the pack was written
    /// (`build`), or the manifest is valid (`manifest check`).
    Met,
    /// A required requirement is not met (`build` still wrote the pack).
    Gaps,
    /// `build --strict` refused to write a pack because of gaps.
    Refused,
    /// `verify`: the pack is intact.
    Intact,
    /// `verify`: the pack differs from what was built.
    Differs,
    /// `diff`: nothing required got worse.
    NoWorse,
    /// `diff`: a required requirement got worse, or readiness fell.
    Worse,
}

/// Success.
pub const OK: u8 = 0;
/// Gaps found, a pack refused, or a pack that differs.
pub const FINDINGS: u8 = 1;
/// The input is unusable: bad manifest, missing folder, unreadable pack, any other error.
pub const UNUSABLE: u8 = 2;

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Met | Outcome::Intact | Outcome::NoWorse => OK,
            Outcome::Gaps | Outcome::Refused | Outcome::Differs | Outcome::Worse => FINDINGS,
        }
    }
}

/// The contract as `--help` shows it (the README's table says the same).
pub const HELP: &str = "\
Exit codes:
  0  every required requirement is met (verify: the pack is intact)
  1  gaps in required requirements (verify: the pack differs from what was built;
     build --strict: the pack was refused)
  2  the input is unusable: bad manifest, missing folder, unreadable pack, other errors";

/// The contract of `verify`, for its own `--help`.
pub const VERIFY_HELP: &str = "\
Exit codes:
  0  the pack is intact
  1  the pack differs from what was built (each difference is listed), or, with
     --public-key, its signature is missing, bad or by another key
  2  not a readable pack at all (not a zip, truncated, no bagit.txt, unreadable),
     or a --public-key that is not a minisign public key";

/// The contract of `sign` and `key generate`, for their own `--help`.
pub const SIGN_HELP: &str = "\
Exit codes:
  0  signed
  1  the pack does not verify: not signed
  2  unusable input: no such pack or key, wrong password, other errors";

/// The contract of `diff`, for its own `--help`.
pub const DIFF_HELP: &str = "\
Exit codes:
  0  nothing required got worse
  1  a required requirement got worse, or readiness fell
  2  a side cannot be read, or the two are of different authorities or manifests
     (--force compares them anyway)";
