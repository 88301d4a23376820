//! `evpack verify`: check a pack and say whether it is intact, and, given a public key,
//! whether its signature is the signer's.

use std::path::Path;

use super::write_stdout;
use crate::config::{DigestSource, TextOrJson, VerifyConfig};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::sign;
use crate::util::shown;
use crate::verify::{self, render, Verdict, Verification};

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
    // The key is read before the pack, so a key that cannot be used costs no hashing.
    let key = cfg
        .public_key
        .as_deref()
        .map(sign::read_public_key)
        .transpose()?;
    if key.is_some() && cfg.pack.is_dir() {
        return Err(Error::input(
            &cfg.pack,
            "an unzipped pack folder cannot be signature-checked: the signature covers the \
             zip's bytes",
            "verify the pack zip the signature came with (evpack verify PACK.zip --public-key ...)",
        ));
    }
    let v = verify::verify_path(&cfg.pack, digest.as_deref())?;
    let v = match &key {
        Some(key) => {
            let sig = cfg
                .signature
                .clone()
                .unwrap_or_else(|| sign::signature_path_for(&cfg.pack));
            v.with_signature(sign::check_signature(&cfg.pack, &sig, key))
        }
        None => note_unchecked_signature(v, &cfg.pack),
    };
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

/// Without a key, a signature beside the pack goes unchecked: say so, and how to check it.
fn note_unchecked_signature(mut v: Verification, pack: &Path) -> Verification {
    let sig = sign::signature_path_for(pack);
    if v.container == "zip" && sig.is_file() {
        v.notes.push(format!(
            "{} beside the pack was not checked: give the signer's public key to check it (evpack verify {} --public-key evpack.pub)",
            shown(&sig),
            shown(pack)
        ));
    }
    v
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
