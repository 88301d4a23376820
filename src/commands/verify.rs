//! `evpack verify`: check a pack and say whether it is intact.

use std::path::Path;

use super::write_stdout;
use crate::config::{DigestSource, TextOrJson, VerifyConfig};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::verify::{self, render, Verdict};

pub fn run(cfg: &VerifyConfig) -> Result<Outcome> {
    let digest = match &cfg.digest {
        Some(DigestSource::Given(d)) => Some(parse_digest(d).ok_or_else(|| {
            Error::Usage(format!(
                "--digest {d:?} is not a SHA-256: give the 64 hex digits that `evpack build` printed"
            ))
        })?),
        Some(DigestSource::File(f)) => Some(read_digest_file(f)?),
        None => None,
    };
    let v = verify::verify_path(&cfg.pack, digest.as_deref())?;
    let out = match cfg.format {
        TextOrJson::Text => render::text(&v, cfg.quiet).into_bytes(),
        TextOrJson::Json => render::json(&v)?,
    };
    write_stdout(&out)?;
    Ok(match v.verdict {
        Verdict::Intact => Outcome::Intact,
        Verdict::Differs => Outcome::Differs,
    })
}

fn parse_digest(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Reads a `sha256sum`-format file (`<hex>  <name>`); the first field is the digest, so
/// only the start of the file is read.
fn read_digest_file(path: &Path) -> Result<String> {
    let bytes = verify::read_small_file(path, 64 * 1024, "cannot read the digest file")?;
    let text = String::from_utf8_lossy(&bytes);
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
