//! Small helpers shared by several modules.

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A path (or other text) shared by every record that names it: the scan's record of a
/// file, each requirement's list that holds it, the periods it covers. One allocation per
/// file instead of a copy per mention, which matters at 200,000 files; reads like a `&str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SharedStr(std::sync::Arc<str>);

impl SharedStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for SharedStr {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&*self.0)
    }
}

impl std::borrow::Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(s.into())
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr(s.into())
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl std::fmt::Display for SharedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A SHA-256 digest, kept as its 32 bytes (a hex `String` costs 88 bytes, and a pack holds
/// one per file) and written as lower-case hex wherever it is shown or serialized.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Hex(pub [u8; 32]);

impl std::fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Encoded whole and written once: a pack lists a digest per file, and the
        // formatter's cost per byte showed in builds of many small files.
        let mut out = [0u8; 64];
        hex::encode_to_slice(self.0, &mut out).map_err(|_| std::fmt::Error)?;
        f.write_str(std::str::from_utf8(&out).map_err(|_| std::fmt::Error)?)
    }
}

impl std::fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Sha256Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Makes a file name safe to print on a terminal: control characters (which could move the
/// cursor or recolour the screen) and bidirectional overrides (which make a name read as
/// another, `cod.exe` shown as `exe.doc`) are shown escaped. Evidence folders hold every
/// name people can type, and some that they paste.
pub fn printable(name: &str) -> String {
    escape_where(name, |c| c.is_control() || is_bidi_control(c))
}

/// [`printable`] for a whole message of several lines: line breaks that the message itself
/// holds are kept, everything else is escaped as there.
pub fn printable_lines(text: &str) -> String {
    escape_where(text, |c| {
        c != '\n' && (c.is_control() || is_bidi_control(c))
    })
}

fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> String {
    if !text.chars().any(&escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that reorder the text around them (Unicode bidirectional controls: marks,
/// embeddings, overrides, isolates).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A path as it may be shown on a terminal (see [`printable`]).
pub fn shown(path: &std::path::Path) -> String {
    printable(&path.display().to_string())
}

/// A lower-case ASCII slug for file names: "Ofsted focused visit" -> "ofsted-focused-visit".
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "pack".to_string()
    } else {
        out
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees half a file and an existing file survives a failed write.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    temp_file_with(folder_of(path), bytes)?
        .persist(path)
        .map_err(|e| crate::Error::io(path, "cannot write", e.error))?;
    Ok(())
}

/// A hidden temporary file in `dir` holding `bytes`, synced; deleted unless persisted.
pub fn temp_file_with(
    dir: &std::path::Path,
    bytes: &[u8],
) -> crate::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut tmp = crate::fsx::new_file_permissions(
        tempfile::Builder::new().prefix(".evpack-").suffix(".tmp"),
    )
    .tempfile_in(dir)
    .map_err(|e| crate::Error::io(dir, "cannot create a temporary file", e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| crate::Error::io(tmp.path(), "cannot write", e))?;
    Ok(tmp)
}

/// The folder a file at `out` goes in (`.` for a bare name).
pub fn folder_of(out: &std::path::Path) -> &std::path::Path {
    match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    }
}

/// Whether `dir` is `folder` or lies inside it, with links and `..` resolved (so
/// `./evidence/../evidence` and a link to the folder count). False when either cannot be
/// resolved: a folder that does not exist holds nothing.
pub fn is_within(dir: &std::path::Path, folder: &std::path::Path) -> bool {
    match (dir.canonicalize(), folder.canonicalize()) {
        (Ok(d), Ok(f)) => d.starts_with(f),
        _ => false,
    }
}

/// Converts a byte offset in `text` to a 1-based (line, column), column counted in chars.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_is_file_name_safe() {
        assert_eq!(slug("Ofsted focused visit"), "ofsted-focused-visit");
        assert_eq!(slug("  <a/b>  "), "a-b");
        assert_eq!(slug("***"), "pack");
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("plain é"), "plain é");
        assert_eq!(printable("cod\u{202e}fdp.exe"), "cod\\u{202e}fdp.exe");
        assert_eq!(printable("a\tb\x7f"), "a\\tb\\u{7f}");
        assert_eq!(printable_lines("x\u{1b}\n  help: y"), "x\\u{1b}\n  help: y");
    }

    #[test]
    fn line_col_counts_from_one() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 8), (3, 1));
        assert_eq!(line_col(t, 5), (2, 3));
    }
}
