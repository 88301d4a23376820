//! `evpack sign`, and the password and signing steps `build --sign` shares: the only place
//! that reads a key's password, from the environment or the terminal.

use std::path::Path;

use super::{note, write_stdout};
use crate::config::SignConfig;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::sign::{self, PackFacts, SigningKey};
use crate::util::{printable, shown};
use crate::verify::{self, render, Verdict};

/// Scripts and tests give the password here instead of typing it.
pub(super) const PASSWORD_ENV: &str = "EVPACK_KEY_PASSWORD";

pub fn run(cfg: &SignConfig) -> Result<Outcome> {
    // The pack is looked at before the password is asked: no typing for a pack that is
    // not there.
    let meta = std::fs::metadata(&cfg.pack)
        .map_err(|e| Error::io(&cfg.pack, "cannot open the pack", e))?;
    if meta.is_dir() {
        return Err(Error::input(
            &cfg.pack,
            "this is a folder: a signature covers the pack zip's bytes, and an unzipped pack has none",
            "sign the pack zip that `evpack build` wrote",
        ));
    }
    let key = unlock_key(&cfg.secret_key)?;
    let v = verify::verify_path(&cfg.pack, None)?;
    if v.verdict != Verdict::Intact {
        write_stdout(render::text(&v, false).as_bytes())?;
        note(&format!(
            "evpack: not signed: {} does not verify ({} finding{}, listed above); a signature \
             would vouch for a pack that is not as built. Rebuild it, then sign.",
            shown(&cfg.pack),
            v.counts.findings,
            if v.counts.findings == 1 { "" } else { "s" }
        ));
        return Ok(Outcome::Differs);
    }
    let facts = sign::pack_facts(&cfg.pack)?;
    let out = cfg
        .signature
        .clone()
        .unwrap_or_else(|| sign::signature_path_for(&cfg.pack));
    let comment = sign::trusted_comment(&facts);
    sign::sign_pack(&key, &cfg.pack, &comment, &out)?;
    write_stdout(signed(&key, &cfg.pack, &out, &comment).as_bytes())?;
    Ok(Outcome::Met)
}

/// Reads a secret key and opens it, asking for its password when it has one. Called before
/// any other work, so a wrong password fails at once.
pub(super) fn unlock_key(path: &Path) -> Result<SigningKey> {
    let locked = sign::read_secret_key(path)?;
    let password = if locked.is_encrypted() {
        Some(match env_password()? {
            Some(p) => p,
            None => ask(&format!("Password for {}: ", shown(locked.path())))?,
        })
    } else {
        None
    };
    locked.unlock(password)
}

/// After `build` wrote the pack: sign it with `key`; without a key, warn about a signature
/// left from an earlier build, which no longer matches the new pack.
pub(super) fn after_build(key: Option<&SigningKey>, out: &Path, facts: PackFacts) -> Result<()> {
    let sig_path = sign::signature_path_for(out);
    match key {
        Some(key) => {
            let comment = sign::trusted_comment(&facts);
            sign::sign_pack(key, out, &comment, &sig_path).map_err(|e| {
                Error::Usage(format!(
                    "the pack was written but not signed: {e}\n  help: sign it with `evpack sign {}`",
                    shown(out)
                ))
            })?;
            write_stdout(signed(key, out, &sig_path, &comment).as_bytes())
        }
        None => {
            if sig_path.symlink_metadata().is_ok() {
                note(&format!(
                    "evpack: warning: {} was made for an earlier build; unless this pack is byte for byte the same, it no longer matches: sign again (evpack sign {} --secret-key KEY) or delete it",
                    shown(&sig_path),
                    shown(out)
                ));
            }
            Ok(())
        }
    }
}

/// What was signed, with what, and how an auditor checks it.
fn signed(key: &SigningKey, pack: &Path, sig: &Path, comment: &str) -> String {
    // The public key beside the secret one, as `key generate` and `minisign -G` name them.
    let public = key.path.with_extension("pub");
    let public = if public.is_file() {
        shown(&public)
    } else {
        "PUBLIC_KEY".to_string()
    };
    let (sig_arg, sig_x) = if *sig == sign::signature_path_for(pack) {
        (String::new(), String::new())
    } else {
        (
            format!(" --signature {}", shown(sig)),
            format!(" -x {}", shown(sig)),
        )
    };
    format!(
        "Signed: {} (key id {})\nTrusted comment: {}\nCheck it with: evpack verify {pack} --public-key {public}{sig_arg} (or: minisign -Vm {pack} -p {public}{sig_x})\n",
        shown(sig),
        key.key_id,
        printable(comment),
        pack = shown(pack),
    )
}

/// `EVPACK_KEY_PASSWORD`, when set.
pub(super) fn env_password() -> Result<Option<String>> {
    match std::env::var(PASSWORD_ENV) {
        Ok(p) => Ok(Some(p)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::Usage(format!(
            "{PASSWORD_ENV} is not valid UTF-8: set it to the key's password as text"
        ))),
    }
}

/// Asks on the terminal, without echo.
pub(super) fn ask(prompt: &str) -> Result<String> {
    rpassword::prompt_password(prompt).map_err(|e| {
        Error::Usage(format!(
            "cannot ask for the password on a terminal ({e})\n  help: run it in a terminal, or set {PASSWORD_ENV} to the password"
        ))
    })
}
