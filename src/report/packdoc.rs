//! What a pack's own documents say about the pack: what it is, what is inside and how to
//! check it without evpack; and the plain-text form of its `README.md`.
//!
//! The pack travels without the people who built it. Whoever opens it (an inspector, an
//! auditor, the lead a year later) must learn from its first screen what it is and how
//! to check that it is whole, with tools nobody here wrote.
//!
//! `README.md` is read as plain text as often as rendered: a text editor, `less`, the
//! preview of an upload site. So it is wrapped at [`WRAP`] columns ([`Wrapped`]) and
//! escapes nothing as HTML; file names go in code spans, which every Markdown viewer
//! shows as they are.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::bagit::{self, Withheld};
use crate::util::{is_bidi_control, printable};

/// Columns of `README.md`.
pub const WRAP: usize = 78;

/// Facts about a pack that its assessment does not hold.
#[derive(Debug, Clone)]
pub struct PackFacts {
    /// The zip's file name, as written.
    pub file_name: String,
    /// The folder inside the zip (and its name once unzipped).
    pub bag: String,
    pub built: chrono::NaiveDate,
    /// Evidence files and bytes in `data/`.
    pub files: usize,
    pub bytes: u64,
    /// A signature (`<file>.minisig`) is written beside the pack.
    pub signed: bool,
    /// Names left out of the pack's documents; `None` when they are listed.
    pub withheld: Option<Withheld>,
}

/// The `pack` object of a pack's documents' view.
pub fn view(f: &PackFacts) -> Value {
    let zip = shell_word(&f.file_name);
    let bag = shell_word(&f.bag);
    let verify = if f.signed {
        format!("evpack verify {zip} --public-key evpack.pub")
    } else {
        format!("evpack verify {zip}")
    };
    let inside = [
        (
            bagit::DATA_DIR,
            format!(
                "the {} evidence files ({}), in their folders as they were on the drive",
                f.files,
                human_bytes(f.bytes)
            ),
        ),
        (
            bagit::INDEX_HTML,
            "this summary as a page for a browser, each file linked".into(),
        ),
        (bagit::README_MD, "this summary as plain text".into()),
        (
            bagit::PACK_JSON,
            "the whole assessment for programs: every requirement, file, date and digest".into(),
        ),
        (
            bagit::GAPS_CSV,
            "the gap register, one row per requirement, for a spreadsheet".into(),
        ),
        (
            bagit::INVENTORY_CSV,
            "every evidence file with its date, size, SHA-256 and the requirements it serves"
                .into(),
        ),
        (
            bagit::MANIFEST_TOML,
            "the manifest: what each requirement asks for".into(),
        ),
        (
            bagit::MANIFEST_SHA256,
            "the SHA-256 of every evidence file".into(),
        ),
        (
            bagit::TAGMANIFEST_SHA256,
            "the SHA-256 of every other file in the pack".into(),
        ),
        (
            bagit::BAG_INFO,
            "who made the pack, when, and its size (BagIt)".into(),
        ),
        (bagit::BAGIT, "the BagIt version (RFC 8493)".into()),
    ];
    json!({
        "file_name": f.file_name,
        "bag": f.bag,
        "built": f.built.to_string(),
        "built_long": f.built.format("%-d %B %Y").to_string(),
        "files": f.files,
        "size": human_bytes(f.bytes),
        "signed": f.signed,
        "withheld": f.withheld,
        "inside": inside.iter().map(|(name, what)| json!({"name": name, "what": what})).collect::<Vec<_>>(),
        "check": {
            "evpack": verify,
            "unzip": format!("unzip {zip}"),
            "bagit": format!("bagit.py --validate {bag}"),
            "sha256_zip": format!("sha256sum -c {}", shell_word(&format!("{}.sha256", f.file_name))),
            "sha256_cd": format!("cd {bag}"),
            "sha256_payload": format!("sha256sum -c {}", bagit::MANIFEST_SHA256),
            "sha256_tags": format!("sha256sum -c {}", bagit::TAGMANIFEST_SHA256),
            "minisign": format!("minisign -Vm {zip} -p evpack.pub"),
        },
    })
}

/// A word a shell (Unix or Windows) reads as one: quoted when it holds anything but
/// letters, digits and `._-`.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\\\""))
    }
}

/// `1.2 GB`, `340 kB`: sizes as file managers show them (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} bytes");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The README's escape: control characters and bidi controls are made visible (as the
/// terminal output does), `<` is backslash-escaped so a viewer shows it rather than reading
/// markup, and `&` only where it would start an entity (`&lt;`). Nothing else: the text
/// must read as itself in a text editor.
pub fn escape_plain(s: &str) -> String {
    let s = printable(&s.replace(['\n', '\r'], " "));
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '<' => out.push_str("\\<"),
            '&' if starts_entity(&s[i + 1..]) => out.push_str("\\&"),
            c if is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// `lt;`, `#60;`, `amp;`: what after `&` a Markdown viewer reads as a character reference.
fn starts_entity(rest: &str) -> bool {
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '#')
        .collect();
    !name.is_empty() && rest[name.len()..].starts_with(';')
}

/// A Markdown code span holding `s` exactly: fenced with one backtick more than the longest
/// run inside it, padded with a space where it starts or ends with one (CommonMark 6.1).
pub fn code_span(s: &str) -> String {
    let s = printable(s);
    let s: String = s.chars().filter(|&c| !is_bidi_control(c)).collect();
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Wraps what is written through it at [`WRAP`] columns, line by line, as a stream. A
/// list item's continuation lines are indented under its text; headings, table rows,
/// indented code and fenced code are left as they are (wrapping would change them).
pub struct Wrapped<W: Write> {
    inner: W,
    line: Vec<u8>,
    in_fence: bool,
}

impl<W: Write> Wrapped<W> {
    pub fn new(inner: W) -> Wrapped<W> {
        Wrapped {
            inner,
            line: Vec::new(),
            in_fence: false,
        }
    }

    fn emit_line(&mut self) -> io::Result<()> {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.trim_start().starts_with("```") {
            self.in_fence = !self.in_fence;
        }
        if self.in_fence || keep_as_is(&line) {
            return writeln!(self.inner, "{line}");
        }
        let indent = continuation_indent(&line);
        let opts = textwrap::Options::new(WRAP)
            .subsequent_indent(&indent)
            .break_words(false)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .word_separator(textwrap::WordSeparator::AsciiSpace);
        for piece in textwrap::wrap(&line, opts) {
            writeln!(self.inner, "{}", piece.trim_end())?;
        }
        Ok(())
    }

    /// Writes what is left of the last line.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.line.is_empty() {
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            write!(self.inner, "{line}")?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Wrapped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            self.line.extend_from_slice(&rest[..nl]);
            self.emit_line()?;
            rest = &rest[nl + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn keep_as_is(line: &str) -> bool {
    line.chars().count() <= WRAP
        || line.starts_with('#')
        || line.starts_with('|')
        || line.starts_with("    ")
        || line.starts_with('\t')
}

/// The indent that puts a list item's continuation under its text: `- `, `1. `, and the
/// item's own indent.
fn continuation_indent(line: &str) -> String {
    let lead = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[lead..];
    let marker = if rest.starts_with("- ") || rest.starts_with("* ") {
        2
    } else {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(". ") {
            digits + 2
        } else {
            0
        }
    };
    " ".repeat(lead + marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(text: &str) -> String {
        let mut w = Wrapped::new(Vec::new());
        w.write_all(text.as_bytes()).expect("write");
        String::from_utf8(w.finish().expect("finish")).expect("utf-8")
    }

    #[test]
    fn long_lines_wrap_at_78_with_list_items_indented_under_their_text() {
        let item = format!("- {}", "word ".repeat(40));
        let out = wrapped(&format!("{item}\n1. {}\nshort\n", "other ".repeat(30)));
        for line in out.lines() {
            assert!(line.chars().count() <= WRAP, "{line:?}");
        }
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("- word"));
        assert!(lines[1].starts_with("  word"), "{:?}", lines[1]);
        let numbered = lines
            .iter()
            .position(|l| l.starts_with("1. "))
            .expect("item");
        assert!(lines[numbered + 1].starts_with("   other"));
        assert_eq!(lines.last(), Some(&"short"));
    }

    #[test]
    fn code_headings_and_a_last_line_without_a_break_are_kept() {
        let long = "x ".repeat(60);
        let text = format!("# {long}\n    {long}\n```\n{long}\n```\nend");
        assert_eq!(
            wrapped(&text),
            format!("# {long}\n    {long}\n```\n{long}\n```\nend")
        );
    }

    #[test]
    fn a_long_word_is_not_broken() {
        let path = "a/".repeat(60);
        let out = wrapped(&format!("see {path} here\n"));
        assert!(out.lines().any(|l| l == path), "{out}");
    }

    #[test]
    fn plain_escape_keeps_text_as_itself_but_defuses_markup() {
        assert_eq!(escape_plain("Q&A minutes & notes"), "Q&A minutes & notes");
        assert_eq!(escape_plain("<b>x</b> &lt;"), "\\<b>x\\</b> \\&lt;");
        assert_eq!(escape_plain("a\u{202E}b\nc"), "a\\u{202e}b c");
    }

    #[test]
    fn code_spans_hold_backticks_and_control_characters_safely() {
        assert_eq!(code_span("a/b c.pdf"), "`a/b c.pdf`");
        assert_eq!(code_span("it`s"), "``it`s``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert!(!code_span("a\u{1b}[2J").contains('\u{1b}'));
    }

    #[test]
    fn commands_quote_names_a_shell_would_split() {
        assert_eq!(shell_word("pack-2021.zip"), "pack-2021.zip");
        assert_eq!(shell_word("Visit pack.zip"), "\"Visit pack.zip\"");
    }

    #[test]
    fn sizes_read_as_a_file_manager_shows_them() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1_250_000), "1.2 MB");
        assert_eq!(human_bytes(3_180_000_000), "3.2 GB");
    }
}
