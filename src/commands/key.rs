//! `evpack key generate`: make a signing key pair, asking for its password.

use super::sign::{ask, env_password, PASSWORD_ENV};
use super::write_stdout;
use crate::config::KeyGenerateConfig;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::sign;
use crate::util::shown;

pub fn generate(cfg: &KeyGenerateConfig) -> Result<Outcome> {
    // Refused before the password is asked: typing it twice for nothing helps no one.
    sign::refuse_existing(&cfg.secret_key, &cfg.public_key)?;
    let password = if cfg.unencrypted {
        None
    } else {
        Some(new_password()?)
    };
    let g = sign::generate(&cfg.secret_key, &cfg.public_key, password)?;
    let protection = if g.encrypted {
        "encrypted with your password"
    } else {
        "NOT encrypted: anyone who can read the file can sign as you"
    };
    write_stdout(
        format!(
            "Public key (key id {}):\n{}\n\nSecret key: {} ({protection}). Keep it private, and keep a copy somewhere safe: packs signed with it can be checked only against its public key.\nPublic key: {}\nAuditors need the public key (the file, or the line above) to check your packs: send it by a different channel from the packs.\n",
            g.key_id,
            g.public_key,
            shown(&cfg.secret_key),
            shown(&cfg.public_key),
        )
        .as_bytes(),
    )?;
    Ok(Outcome::Met)
}

/// The new key's password: `EVPACK_KEY_PASSWORD`, else asked twice on the terminal.
fn new_password() -> Result<String> {
    let password = match env_password()? {
        Some(p) => p,
        None => {
            let first = ask("Password for the new secret key: ")?;
            let again = ask("The same password again: ")?;
            if first != again {
                return Err(Error::Usage(
                    "the two passwords differ: nothing was written; run it again".into(),
                ));
            }
            first
        }
    };
    if password.is_empty() {
        return Err(Error::Usage(format!(
            "an empty password protects nothing: type one (or set {PASSWORD_ENV}), or pass --unencrypted to write the key without one"
        )));
    }
    Ok(password)
}
