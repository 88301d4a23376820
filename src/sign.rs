//! Signatures over a pack zip, in minisign's format, so that an auditor can check who made
//! a pack with the `minisign` tool alone, without evpack.
//!
//! The cryptography is the `minisign` crate's (pre-hashed Ed25519 signatures over the
//! BLAKE2b-512 of the file, scrypt-encrypted secret keys, 8-byte key ids); this module only
//! decides what is signed, what the trusted comment says, and treats every file it reads as
//! hostile: key and signature files are read with a size limit, and a signature's layout is
//! judged before the crate parses it. A pack is hashed as a stream, never held in memory.
//!
//! No password is read here: the command layer asks for it (terminal or environment) and
//! passes it in.

use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ct_codecs::{Base64, Decoder};
use minisign::{KeyPair, PublicKey, SecretKey, SecretKeyBox, SignatureBox};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::util::{is_bidi_control, shown};
use crate::verify::SignatureCheck;

/// What minisign appends to a file's name for its signature.
pub const SIGNATURE_SUFFIX: &str = ".minisig";

/// Key files are a few hundred bytes; anything past this is not a key.
const KEY_FILE_LIMIT: u64 = 64 * 1024;
/// A minisign signature is four lines; minisign itself reads a trusted comment of at most
/// 8 KiB. Anything past this is not a signature, and is not read further.
const SIGNATURE_FILE_LIMIT: u64 = 64 * 1024;
/// `bag-info.txt` as evpack writes it is well under 1 KiB.
const BAG_INFO_LIMIT: u64 = 64 * 1024;
/// Each name in a trusted comment is cut to this many characters, so that the comment stays
/// far below the 8 KiB minisign reads of it, whatever the manifest holds.
const FIELD_CHARS: usize = 120;

/// Raw sizes of minisign's records (its file format, as both minisign and the crate write
/// it): a secret key, a public key, a signature line, a global signature.
const SECRET_KEY_BYTES: usize = 158;
const PUBLIC_KEY_BYTES: usize = 42;
const SIGNATURE_BYTES: usize = 74;
const GLOBAL_SIGNATURE_BYTES: usize = 64;
/// The checksum that ends a secret key record.
const CHECKSUM_BYTES: usize = 32;
/// Algorithm tags: Ed25519, pre-hashed Ed25519, scrypt key encryption, no encryption.
const ALG_ED25519: &[u8; 2] = b"Ed";
const ALG_PREHASHED: &[u8; 2] = b"ED";
const KDF_SCRYPT: &[u8; 2] = b"Sc";
const KDF_NONE: &[u8; 2] = &[0, 0];

/// `PACK.zip` -> `PACK.zip.minisig`, where minisign looks for it.
pub fn signature_path_for(pack: &Path) -> PathBuf {
    let mut name = pack.as_os_str().to_owned();
    name.push(SIGNATURE_SUFFIX);
    PathBuf::from(name)
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

/// A key pair just written.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The public key as one base64 line (`RWQ...`), as minisign prints it.
    pub public_key: String,
    /// The key id, 16 hex digits.
    pub key_id: String,
    pub encrypted: bool,
}

/// Refuses when either key file exists (or is a dangling link): a key is never overwritten,
/// since the packs it signed would then check against nothing.
pub fn refuse_existing(secret_key: &Path, public_key: &Path) -> Result<()> {
    if secret_key == public_key {
        return Err(Error::Usage(format!(
            "--secret-key and --public-key both name {}: give the two keys different files",
            shown(secret_key)
        )));
    }
    for (path, which) in [(secret_key, "secret"), (public_key, "public")] {
        if path.symlink_metadata().is_ok() {
            return Err(existing(path, which));
        }
    }
    Ok(())
}

fn existing(path: &Path, which: &str) -> Error {
    Error::input(
        path,
        format!("already exists; evpack never overwrites a key (the {which} key file)"),
        "keep it and sign with it (evpack build --sign evpack.key); to make a new pair, move \
         the old files somewhere safe first, or name new ones with --secret-key and --public-key",
    )
}

/// Makes a key pair and writes both files: the secret key encrypted with `password` (`None`:
/// unencrypted), readable by its owner alone; neither file is ever overwritten, and when the
/// second cannot be written the first is removed.
pub fn generate(
    secret_key: &Path,
    public_key: &Path,
    password: Option<String>,
) -> Result<Generated> {
    refuse_existing(secret_key, public_key)?;
    let encrypted = password.is_some();
    let pair = match password {
        Some(p) => KeyPair::generate_encrypted_keypair(Some(p)),
        None => KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(|e| Error::Internal(format!("cannot make a key pair: {e}")))?;
    let comment = if encrypted {
        "evpack secret key (encrypted): keep it private"
    } else {
        "evpack secret key (unencrypted): keep it private"
    };
    let secret_text = pair
        .sk
        .to_box(Some(comment))
        .map_err(|e| Error::Internal(format!("cannot encode the secret key: {e}")))?
        .into_string();
    let public_box = pair
        .pk
        .to_box()
        .map_err(|e| Error::Internal(format!("cannot encode the public key: {e}")))?;
    write_new(secret_key, secret_text.as_bytes(), true)?;
    if let Err(e) = write_new(public_key, &public_box.to_bytes(), false) {
        // Nothing half-done: a secret key without its public key signs packs no one can
        // check. The file was created by this call a moment ago.
        let _ = std::fs::remove_file(secret_key);
        return Err(e);
    }
    Ok(Generated {
        public_key: pair.pk.to_base64(),
        key_id: key_id(pair.pk.keynum()),
        encrypted,
    })
}

/// Creates `path` (never replacing a file), writes `bytes` and syncs; `private` files are
/// readable by their owner alone.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    if private {
        owner_only(&mut options);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            existing(path, if private { "secret" } else { "public" })
        } else {
            Error::io(path, "cannot create the key file", e)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, "cannot write the key file", e))
}

/// The platform seam for a secret file's permissions: 0600 on Unix.
#[cfg(unix)]
fn owner_only(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600);
}

/// Elsewhere (Windows, when it is supported) the folder's permissions apply for now.
#[cfg(not(unix))]
fn owner_only(_options: &mut OpenOptions) {}

/// A secret key file read and judged, not yet opened.
pub struct LockedKey {
    path: PathBuf,
    text: String,
    /// The key record, decoded.
    raw: Vec<u8>,
    encrypted: bool,
}

/// A secret key ready to sign, with its public half (to check each signature it makes).
pub struct SigningKey {
    sk: SecretKey,
    pk: PublicKey,
    /// The secret key file it was read from.
    pub path: PathBuf,
    /// The key id, 16 hex digits.
    pub key_id: String,
}

/// Reads a minisign secret key file (evpack's or minisign's own) and says whether it needs a
/// password; nothing is decrypted yet.
pub fn read_secret_key(path: &Path) -> Result<LockedKey> {
    let text = read_text(path, KEY_FILE_LIMIT, "cannot read the secret key", KEY_HELP)?;
    let not_a_key = |why: &str| {
        Error::input(
            path,
            format!("not a minisign secret key: {why}"),
            "give the secret key file that `evpack key generate` (or `minisign -G`) wrote, \
             evpack.key by default",
        )
    };
    let raw = second_line_base64(&text).ok_or_else(|| not_a_key("no key line"))?;
    if raw.len() == PUBLIC_KEY_BYTES {
        return Err(Error::input(
            path,
            "this is a public key; signing needs the secret key",
            "give the secret key file (evpack.key), not the .pub file",
        ));
    }
    if raw.len() != SECRET_KEY_BYTES || &raw[..2] != ALG_ED25519 {
        return Err(not_a_key("the key line is not an Ed25519 secret key"));
    }
    let encrypted = match &raw[2..4] {
        kdf if kdf == KDF_SCRYPT => true,
        kdf if kdf == KDF_NONE => false,
        _ => return Err(not_a_key("it is encrypted in a way minisign does not know")),
    };
    Ok(LockedKey {
        path: path.to_path_buf(),
        text,
        raw,
        encrypted,
    })
}

const KEY_HELP: &str = "give the secret key file that `evpack key generate` wrote";

impl LockedKey {
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the key: `password` for an encrypted key (ignored for an unencrypted one).
    pub fn unlock(self, password: Option<String>) -> Result<SigningKey> {
        let boxed = SecretKeyBox::from_string(&self.text)
            .map_err(|e| Error::Internal(format!("secret key box: {e}")))?;
        let sk = if self.encrypted {
            let password = password.ok_or_else(|| {
                Error::Internal("an encrypted key was opened without a password".into())
            })?;
            SecretKey::from_box(boxed, Some(password)).map_err(|e| match e.kind() {
                minisign::ErrorKind::Verify => wrong_password(&self.path),
                _ => Error::input(
                    &self.path,
                    format!("cannot open the secret key: {e}"),
                    KEY_HELP,
                ),
            })?
        } else if self.raw[SECRET_KEY_BYTES - CHECKSUM_BYTES..]
            .iter()
            .all(|&b| b == 0)
        {
            // `minisign -G -W` writes an unencrypted key with no checksum (minisign never
            // checks one there), which the crate's loader refuses; its raw form carries the
            // same key. A damaged one is still caught: each signature is checked with the
            // key's public half before it is written.
            SecretKey::from_bytes(&self.raw).map_err(|e| damaged(&self.path, &e))?
        } else {
            SecretKey::from_unencrypted_box(boxed).map_err(|e| damaged(&self.path, &e))?
        };
        let pk = PublicKey::from_secret_key(&sk).map_err(|e| damaged(&self.path, &e))?;
        Ok(SigningKey {
            key_id: key_id(pk.keynum()),
            sk,
            pk,
            path: self.path,
        })
    }
}

fn damaged(path: &Path, e: &minisign::PError) -> Error {
    Error::input(
        path,
        format!("the secret key is damaged: {e}"),
        "use the copy you kept of it, or make a new pair with `evpack key generate`",
    )
}

fn wrong_password(path: &Path) -> Error {
    let name = path.file_name().map_or_else(
        || shown(path),
        |n| crate::util::printable(&n.to_string_lossy()),
    );
    let whole = if path.parent().is_some_and(|p| !p.as_os_str().is_empty()) {
        format!(" ({})", shown(path))
    } else {
        String::new()
    };
    Error::Usage(format!(
        "the password does not open {name}{whole}\n  help: type the password chosen when the key \
         was made (`evpack key generate`); EVPACK_KEY_PASSWORD, when set, is used instead of asking"
    ))
}

/// A public key to check signatures with.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pk: PublicKey,
    /// The key id, 16 hex digits.
    pub key_id: String,
}

/// `--public-key`: the base64 key itself (`RWQ...`, 56 characters), else a public key file
/// (evpack's or minisign's: a comment line, then the key).
pub fn read_public_key(arg: &OsStr) -> Result<VerifyingKey> {
    if let Some(k) = arg.to_str().and_then(|s| inline_public_key(s.trim())) {
        return Ok(k);
    }
    let path = Path::new(arg);
    let help = "give the public key file (evpack.pub) or the key itself (the RWQ... line \
                `evpack key generate` printed)";
    if path.symlink_metadata().is_err() {
        return Err(Error::input(
            path,
            "no such file, and not a public key either",
            help,
        ));
    }
    let text = read_text(path, KEY_FILE_LIMIT, "cannot read the public key", help)?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
        .find_map(inline_public_key)
        .ok_or_else(|| {
            let secret = second_line_base64(&text).is_some_and(|r| r.len() == SECRET_KEY_BYTES);
            if secret {
                Error::input(
                    path,
                    "this is a secret key; checking needs the public key",
                    "give the .pub file; and keep the secret key to yourself",
                )
            } else {
                Error::input(path, "not a minisign public key", help)
            }
        })
}

fn inline_public_key(s: &str) -> Option<VerifyingKey> {
    let raw = decode_base64(s)?;
    if raw.len() != PUBLIC_KEY_BYTES || &raw[..2] != ALG_ED25519 {
        return None;
    }
    let pk = PublicKey::from_base64(s).ok()?;
    Some(VerifyingKey {
        key_id: key_id(pk.keynum()),
        pk,
    })
}

/// A key id as minisign prints it: the 8 bytes little-endian, as 16 upper-case hex digits.
fn key_id(keynum: &[u8]) -> String {
    let mut bytes = [0u8; 8];
    let n = keynum.len().min(8);
    bytes[..n].copy_from_slice(&keynum[..n]);
    format!("{:016X}", u64::from_le_bytes(bytes))
}

// ---------------------------------------------------------------------------------------
// The trusted comment
// ---------------------------------------------------------------------------------------

/// What a pack's signature vouches for besides its bytes: the trusted comment's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFacts {
    /// The pack's file name (no folder: the folder is the lead's, not the pack's).
    pub file_name: String,
    /// The whole zip's SHA-256, lower-case hex (as in `PACK.zip.sha256`).
    pub sha256: String,
    /// The visit: "NAME, DATE (AUTHORITY)", as `bag-info.txt` describes it.
    pub visit: String,
    /// Readiness in percent ("62").
    pub readiness_percent: String,
    /// "N of M" required requirements met.
    pub required_met: String,
    /// The bagging date (YYYY-MM-DD).
    pub built: String,
}

impl PackFacts {
    /// The facts of a pack just built, from what the build knew.
    pub fn of_build(
        out: &Path,
        sha256: &str,
        a: &crate::assess::Assessment,
        date: chrono::NaiveDate,
    ) -> PackFacts {
        PackFacts {
            file_name: file_name(out),
            sha256: sha256.to_string(),
            visit: format!("{}, {} ({})", a.visit.name, a.visit.date, a.visit.authority),
            readiness_percent: a.summary.readiness_percent.to_string(),
            required_met: format!("{} of {}", a.summary.required_met, a.summary.required_total),
            built: date.to_string(),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The trusted comment: one line, every name folded onto it (control characters, line
/// breaks and bidirectional controls become spaces) and cut to a length minisign reads.
pub fn trusted_comment(f: &PackFacts) -> String {
    format!(
        "evpack pack {}; sha256 {}; visit {}; readiness {}% ({} required met); built {}",
        one_line(&f.file_name),
        one_line(&f.sha256),
        one_line(&f.visit),
        one_line(&f.readiness_percent),
        one_line(&f.required_met),
        one_line(&f.built),
    )
}

/// `text` as a single line of at most [`FIELD_CHARS`] characters: runs of white space,
/// control and bidirectional characters become one space; a longer text ends in `…`.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut gap = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() || is_bidi_control(c) {
            gap = !out.is_empty();
            continue;
        }
        if chars + usize::from(gap) >= FIELD_CHARS {
            out.push('…');
            return out;
        }
        if gap {
            out.push(' ');
            chars += 1;
            gap = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// The facts of an existing pack, from its own `bag-info.txt` (read in the zip, never
/// extracted) and its SHA-256. `pack` should have verified first.
pub fn pack_facts(pack: &Path) -> Result<PackFacts> {
    let info =
        crate::verify::read_tag_file(pack, "bag-info.txt", BAG_INFO_LIMIT)?.ok_or_else(|| {
            Error::input(
                pack,
                "the pack has no bag-info.txt",
                "give a pack that `evpack build` wrote",
            )
        })?;
    let info = String::from_utf8_lossy(&info);
    facts_from_bag_info(pack, &info, sha256_of(pack)?)
}

/// Reads the fields evpack writes into `bag-info.txt` (`Label: value`, one a line; BagIt's
/// indented continuation lines are joined).
fn facts_from_bag_info(pack: &Path, info: &str, sha256: String) -> Result<PackFacts> {
    let fields = bag_info_fields(info);
    let field = |label: &str| -> Result<String> {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                Error::input(
                    pack,
                    format!(
                        "its bag-info.txt has no {label}: not a pack evpack built, so evpack \
                         cannot say what it holds"
                    ),
                    "sign it with minisign directly (minisign -Sm PACK.zip), or rebuild it \
                     with `evpack build --sign`",
                )
            })
    };
    let description = field("External-Description")?;
    let visit = description
        .strip_prefix("Evidence pack for ")
        .unwrap_or(&description)
        .to_string();
    Ok(PackFacts {
        file_name: file_name(pack),
        sha256,
        visit,
        readiness_percent: field("Evpack-Readiness-Percent")?,
        required_met: field("Evpack-Required-Met")?,
        built: field("Bagging-Date")?,
    })
}

fn bag_info_fields(info: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in info.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    fields
}

/// The whole file's SHA-256, streamed.
fn sha256_of(path: &Path) -> Result<String> {
    let mut file = open_pack(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io(path, "cannot read the pack", e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(crate::util::hex(&h.finalize()))
}

/// Opens a pack zip without waiting on a FIFO or device, and refuses anything but a file.
fn open_pack(path: &Path) -> Result<std::fs::File> {
    let (file, meta) = crate::verify::open_no_wait(path)
        .map_err(|e| Error::io(path, "cannot open the pack", e))?;
    if meta.is_dir() {
        return Err(Error::input(
            path,
            "this is a folder: a signature covers the pack zip's bytes, and an unzipped pack \
             has none",
            "give the pack zip (PACK.zip) that the signature belongs to",
        ));
    }
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file (a FIFO, socket or device); not read",
            "give the pack zip that `evpack build` wrote",
        ));
    }
    Ok(file)
}

// ---------------------------------------------------------------------------------------
// Signing and checking
// ---------------------------------------------------------------------------------------

/// Signs the whole zip (pre-hashed, as `minisign -S` does by default) with `comment` as
/// the trusted comment, checks the new signature with the key's public half, and writes it
/// to `out` whole or not at all.
pub fn sign_pack(key: &SigningKey, pack: &Path, comment: &str, out: &Path) -> Result<()> {
    refuse_to_replace(out, pack)?;
    let file = std::io::BufReader::with_capacity(1 << 20, open_pack(pack)?);
    let signature = minisign::sign(
        Some(&key.pk),
        &key.sk,
        file,
        Some(comment),
        Some("signature from evpack secret key"),
    )
    .map_err(|e| match e.kind() {
        minisign::ErrorKind::Io => Error::input(
            pack,
            format!("cannot read the pack to sign it: {e}"),
            "check the pack is readable and try again",
        ),
        _ => Error::Internal(format!("signing {} failed: {e}", shown(pack))),
    })?;
    crate::util::write_atomically(out, &signature.to_bytes())
}

/// A signature replaces only an earlier signature: the pack itself, a key or any other
/// file at `out` is refused untouched (`--signature` is typed by hand).
fn refuse_to_replace(out: &Path, pack: &Path) -> Result<()> {
    if out.symlink_metadata().is_err() {
        return Ok(());
    }
    let help = "give --signature a new file name, or move that file away first";
    if let (Ok(a), Ok(b)) = (out.canonicalize(), pack.canonicalize()) {
        if a == b {
            return Err(Error::input(
                out,
                "is the pack itself: the signature would replace it",
                help,
            ));
        }
    }
    let is_signature = crate::verify::read_small_file(out, 4096, "cannot read")
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|t| {
            t.starts_with("untrusted comment: ")
                && second_line_base64(&t).is_some_and(|r| r.len() == SIGNATURE_BYTES)
        });
    if is_signature {
        Ok(())
    } else {
        Err(Error::input(
            out,
            "exists and is not a minisign signature: not replaced",
            help,
        ))
    }
}

/// Checks the signature in `signature` over the bytes of the pack zip `pack` with `key`.
/// Never an error: a signature that is missing, unreadable, malformed, made with another
/// key or over other bytes is a check that failed, with the reason.
pub fn check_signature(pack: &Path, signature: &Path, key: &VerifyingKey) -> SignatureCheck {
    let mut check = SignatureCheck {
        file: signature.display().to_string(),
        key_id: None,
        public_key_id: key.key_id.clone(),
        trusted_comment: None,
        verified: false,
        reason: None,
    };
    match check_inner(pack, signature, key, &mut check) {
        Ok(comment) => {
            check.verified = true;
            check.trusted_comment = Some(comment);
        }
        Err(reason) => check.reason = Some(reason),
    }
    check
}

fn check_inner(
    pack: &Path,
    signature: &Path,
    key: &VerifyingKey,
    check: &mut SignatureCheck,
) -> std::result::Result<String, String> {
    let sig = read_signature(signature)?;
    let signer = key_id(sig.keynum());
    check.key_id = Some(signer.clone());
    if !sig.is_prehashed() {
        // A legacy signature covers the raw bytes, which the crate would read whole into
        // memory; minisign has made pre-hashed ones by default since 0.8.
        return Err(
            "a legacy (not pre-hashed) signature, which evpack does not check: sign again \
             with `evpack sign` or `minisign -S`"
                .into(),
        );
    }
    if sig.keynum() != key.pk.keynum() {
        return Err(format!(
            "made with key {signer}, not with the key given ({}): check with the signer's own \
             public key",
            key.key_id
        ));
    }
    let file = open_pack(pack).map_err(|e| e.to_string())?;
    minisign::verify(&key.pk, &sig, file, true, false, false).map_err(|e| match e.kind() {
        minisign::ErrorKind::Io => format!("cannot read the pack: {e}"),
        _ => "the signature does not match the pack: the pack (or its trusted comment) was \
              changed after it was signed"
            .to_string(),
    })?;
    sig.trusted_comment()
        .map_err(|e| format!("unreadable trusted comment: {e}"))
}

/// Reads a signature file, bounded, and judges its layout before the minisign crate parses
/// it: the crate trusts the length of the global signature (a short one would make it index
/// past the end), so every line is checked here first.
fn read_signature(path: &Path) -> std::result::Result<SignatureBox, String> {
    let bytes = match crate::verify::read_small_file(
        path,
        SIGNATURE_FILE_LIMIT + 1,
        "cannot read the signature",
    ) {
        Ok(b) => b,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "no signature file at {}: give it with --signature FILE",
                shown(path)
            ))
        }
        Err(Error::Io { source, .. }) => return Err(format!("cannot read it: {source}")),
        Err(_) => return Err("not a regular file; not read".into()),
    };
    if bytes.len() as u64 > SIGNATURE_FILE_LIMIT {
        return Err(format!(
            "larger than {} KiB, so not a minisign signature; not read further",
            SIGNATURE_FILE_LIMIT / 1024
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| not_a_signature("it is not text"))?;
    let lines: Vec<&str> = text.lines().collect();
    let (Some(untrusted), Some(sig_line), Some(trusted), Some(global)) =
        (lines.first(), lines.get(1), lines.get(2), lines.get(3))
    else {
        return Err(not_a_signature("fewer than the four lines a signature has"));
    };
    let sig_ok = decode_base64(sig_line.trim()).is_some_and(|r| {
        r.len() == SIGNATURE_BYTES && (&r[..2] == ALG_PREHASHED || &r[..2] == ALG_ED25519)
    });
    let global_ok = decode_base64(global.trim()).is_some_and(|r| r.len() == GLOBAL_SIGNATURE_BYTES);
    if !untrusted.starts_with("untrusted comment: ")
        || !trusted.starts_with("trusted comment: ")
        || !sig_ok
        || !global_ok
    {
        return Err(not_a_signature("its lines are not a minisign signature's"));
    }
    SignatureBox::from_string(text).map_err(|e| not_a_signature(&e.to_string()))
}

fn not_a_signature(why: &str) -> String {
    format!("not a minisign signature ({why})")
}

/// Reads a small text file (a key), bounded, refusing FIFOs and devices without waiting.
fn read_text(path: &Path, limit: u64, action: &'static str, help: &str) -> Result<String> {
    let bytes = crate::verify::read_small_file(path, limit + 1, action).map_err(|e| match e {
        // The verifier's help names a digest file; this is a key.
        Error::Input { path, message, .. } => Error::input(path, message, help),
        other => other,
    })?;
    if bytes.len() as u64 > limit {
        return Err(Error::input(
            path,
            format!("larger than {} KiB: not a key file", limit / 1024),
            help.to_string(),
        ));
    }
    String::from_utf8(bytes).map_err(|_| Error::input(path, "not a key file (not text)", help))
}

/// The base64 of a key file's second line (the first is its untrusted comment).
fn second_line_base64(text: &str) -> Option<Vec<u8>> {
    decode_base64(text.lines().nth(1)?.trim())
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    // Every record is well under this; a longer line is refused undecoded.
    if s.is_empty() || s.len() > 1024 {
        return None;
    }
    Base64::decode_to_vec(s, None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> PackFacts {
        PackFacts {
            file_name: "focused-visit-2021-01-15.zip".into(),
            sha256: "ab".repeat(32),
            visit: "Focused visit, 2021-01-18 (Example Council)".into(),
            readiness_percent: "62".into(),
            required_met: "5 of 8".into(),
            built: "2021-01-15".into(),
        }
    }

    #[test]
    fn the_trusted_comment_names_the_pack_its_digest_the_visit_and_the_readiness() {
        assert_eq!(
            trusted_comment(&facts()),
            format!(
                "evpack pack focused-visit-2021-01-15.zip; sha256 {}; visit Focused visit, \
                 2021-01-18 (Example Council); readiness 62% (5 of 8 required met); built \
                 2021-01-15",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn names_are_folded_onto_one_line_and_cut() {
        let mut f = facts();
        f.visit = "Visit\r\nForged: line\u{1b}[31m \u{202e}x\t\t end ".into();
        let c = trusted_comment(&f);
        assert!(
            !c.contains(['\n', '\r', '\t', '\u{1b}', '\u{202e}']),
            "{c:?}"
        );
        assert!(c.contains("visit Visit Forged: line [31m x end;"), "{c}");

        assert_eq!(one_line(&"x".repeat(500)).chars().count(), FIELD_CHARS + 1);
        assert!(one_line(&"é".repeat(500)).ends_with('…'));
        assert_eq!(one_line("  \n "), "");
        f.visit = "v".repeat(100_000);
        f.file_name = "\u{2028}".repeat(10_000);
        assert!(trusted_comment(&f).len() < 1024);
    }

    #[test]
    fn bag_info_gives_the_same_facts_as_the_build() {
        let info = "Source-Organization: Example Council\n\
                    External-Description: Evidence pack for Focused visit, 2021-01-18 (Example\n  Council)\n\
                    Bagging-Date: 2021-01-15\n\
                    Evpack-Readiness-Percent: 62\n\
                    Evpack-Required-Met: 5 of 8\n";
        let f = facts_from_bag_info(
            Path::new("dir/focused-visit-2021-01-15.zip"),
            info,
            "ab".repeat(32),
        )
        .expect("facts");
        assert_eq!(f, facts());
        let missing = facts_from_bag_info(Path::new("p.zip"), "Bagging-Date: x\n", String::new());
        assert!(missing.is_err());
    }

    #[test]
    fn a_signature_with_a_short_global_signature_is_refused_not_a_panic() {
        let dir = tempfile::tempdir().expect("tmp");
        let sig = dir.path().join("p.zip.minisig");
        let line2 = {
            let mut raw = b"ED".to_vec();
            raw.extend([1u8; 72]);
            <ct_codecs::Base64 as ct_codecs::Encoder>::encode_to_string(&raw).expect("b64")
        };
        std::fs::write(
            &sig,
            format!("untrusted comment: x\n{line2}\ntrusted comment: y\nAAAA\n"),
        )
        .expect("write");
        let err = read_signature(&sig).err().expect("refused");
        assert!(err.contains("not a minisign signature"), "{err}");
    }

    #[test]
    fn key_ids_read_as_minisign_prints_them() {
        assert_eq!(key_id(&[1, 2, 3, 4, 5, 6, 7, 0xAB]), "AB07060504030201");
    }

    #[test]
    fn the_signature_goes_beside_the_pack() {
        assert_eq!(
            signature_path_for(Path::new("a/p.zip")),
            PathBuf::from("a/p.zip.minisig")
        );
    }
}
