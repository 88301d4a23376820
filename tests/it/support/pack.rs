//! Pack fixtures and helpers: the sample council drive, building it through the binary,
//! and reading a pack back with the `zip` crate.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::Output;

use sha2::{Digest, Sha256};
use zip::CompressionMethod;

use super::{docs, TestEnv};

/// The bagging date every test passes unless it tests the default.
pub const DATE: &str = "2021-01-15";

/// The manifest of the sample-like fixture: every requirement is met.
pub const MANIFEST: &str = r#"[visit]
name = "Focused visit"
authority = "Example Council"
date = 2021-01-18

[[area]]
id = "P1"
kind = "ofsted-priority"
title = "Services to care leavers"

[[area.requirement]]
id = "P1.1"
title = "Pathway plan audits"
evidence = "audit"
paths = ["audits/**/*pathway*"]
min_files = 2
owner = "Head of Service, Care Leavers"

[[area.requirement]]
id = "P1.2"
title = "Care leavers scorecard"
evidence = "scorecard"
paths = ["scorecards/**/*care*leaver*"]
cadence = "quarterly"
owner = "Head of Performance"

[[area]]
id = "C1"
kind = "commissioner-recommendation"
title = "Leadership grip"

[[area.requirement]]
id = "C1.1"
title = "Improvement plan and its annexes"
evidence = "plan"
paths = ["improvement plan/**", "hostile/**", "audits/**/*pathway*"]
owner = "Improvement Programme Manager"
"#;

/// A file name that reads as markup once an escape is undone: `<` and `>` themselves are
/// names Windows refuses, so a pack can never hold them, but entities are plain text to it.
pub const HOSTILE: &str = "hostile/&lt;img src=x onerror=alert(1)&gt; 2020-12-05.md";

/// Matched evidence of the fixture, relative to `evidence/`, with the requirements it serves.
pub const MATCHED: &[(&str, &[&str])] = &[
    (
        "audits/pathway plans/Pathway plan audit 2020-10-15.docx",
        &["P1.1", "C1.1"],
    ),
    (
        "audits/pathway plans/Pathway plan audit 2020-12-10.md",
        &["P1.1", "C1.1"],
    ),
    (HOSTILE, &["C1.1"]),
    ("improvement plan/Annex photo 2020-12-03.jpg", &["C1.1"]),
    ("improvement plan/Annexes 2020-12-04.zip", &["C1.1"]),
    (
        "improvement plan/Improvement plan 2020-11-30.pdf",
        &["C1.1"],
    ),
    ("improvement plan/Plan matrix 2020-12-01.csv", &["C1.1"]),
    ("improvement plan/Plan summary 2020-11-30.txt", &["C1.1"]),
    ("improvement plan/Short note 2020-12-02.txt", &["C1.1"]),
    (
        "scorecards/2020-09/Care leavers scorecard Sep 2020.csv",
        &["P1.2"],
    ),
    (
        "scorecards/2020-12/Care leavers scorecard Dec 2020.xlsx",
        &["P1.2"],
    ),
];

/// On disk but never in a pack: unmatched, or litter the scan ignores (some of it inside a
/// folder a requirement matches whole).
pub const NOT_PACKED: &[&str] = &[
    "Staff rota draft.docx",
    "misc/old notes.txt",
    "scorecards/2020-12/Workforce scorecard Dec 2020.csv",
    "Thumbs.db",
    "improvement plan/Thumbs.db",
    "improvement plan/desktop.ini",
    "improvement plan/~$provement plan 2020-11-30.docx",
    "improvement plan/.DS_Store",
    "improvement plan/.drafts/Improvement plan draft 2020-12-01.md",
    "audits/pathway plans/~$Pathway plan audit 2020-12-10.md",
    "audits/pathway plans/.pathway plan audit 2020-12-11.md",
];

/// Every tag file of a pack, in zip order.
pub const TAG_FILES: &[&str] = &[
    "README.md",
    "bag-info.txt",
    "bagit.txt",
    "gaps.csv",
    "index.html",
    "inventory.csv",
    "manifest-sha256.txt",
    "manifest.toml",
    "pack.json",
    "tagmanifest-sha256.txt",
];

/// Deterministic bytes that do not compress (xorshift), so stored and deflated differ.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A real document named `name` of exactly `size` bytes, padded with noise from `seed`
/// ([`docs::padded`]).
pub fn sized(name: &str, size: usize, seed: u64) -> Vec<u8> {
    let mut filler = 1;
    for _ in 0..4 {
        let doc = docs::padded(name, name, &noise(filler, seed));
        if doc.len() == size {
            return doc;
        }
        // The padding's own length is written in decimal in a PDF: a second round settles it.
        filler = (filler + size)
            .checked_sub(doc.len())
            .expect("size too small for the format");
    }
    panic!("cannot make {name} exactly {size} bytes");
}

/// Writes `bytes` under `evidence/`, creating folders.
pub fn put(env: &TestEnv, rel: &str, bytes: &[u8]) {
    let p = env.evidence().join(rel);
    std::fs::create_dir_all(p.parent().expect("a parent folder")).expect("mkdir");
    std::fs::write(&p, bytes).expect("write evidence");
}

/// The sample-like fixture: [`MATCHED`] and [`NOT_PACKED`] on disk, [`MANIFEST`] at the root.
pub fn sample_env() -> TestEnv {
    let env = TestEnv::new();
    let csv: String = (0..40_000)
        .map(|i| format!("{i},child {i},placement,2020-12-01\n"))
        .collect();
    assert!(
        csv.len() > (1 << 20),
        "the matrix must exceed the in-memory deflate limit"
    );
    // Real documents, padded with noise to the sizes the zip writer's tests need.
    let doc = |i: usize, size: usize| sized(MATCHED[i].0, size, i as u64);
    put(&env, MATCHED[0].0, &doc(0, 3_000));
    put(
        &env,
        MATCHED[1].0,
        b"# Pathway plan audit\n\n12 plans read; 9 good.\n",
    );
    put(&env, HOSTILE, b"<script>alert(1)</script>\n");
    put(&env, MATCHED[3].0, &doc(3, 70_000));
    put(&env, MATCHED[4].0, &noise(20_000, 4));
    put(&env, MATCHED[8].0, b"Note.\n");
    // Several read chunks (256 KiB) and zip stream blocks (512 KiB) and then some: a stored
    // file hashed from the stream crosses block boundaries.
    put(&env, MATCHED[5].0, &doc(5, (512 << 10) * 3 + 17));
    put(&env, MATCHED[6].0, csv.as_bytes());
    put(
        &env,
        MATCHED[7].0,
        "Summary \u{e9}\r\nline two\r\n".as_bytes(),
    );
    put(&env, MATCHED[9].0, b"measure,value\nin touch,94%\n");
    // Exactly two read chunks: the reader's last chunk is full, then the file ends.
    put(&env, MATCHED[10].0, &doc(10, 512 << 10));
    for (i, rel) in NOT_PACKED.iter().enumerate() {
        put(&env, rel, format!("not evidence {i}\n").as_bytes());
    }
    env.manifest(MANIFEST);
    env
}

/// `evpack build -m manifest.toml -e evidence --date DATE ARGS`, SOURCE_DATE_EPOCH unset.
pub fn build_cmd(env: &TestEnv, args: &[&str]) -> assert_cmd::Command {
    let mut c = env.cmd();
    c.env_remove("SOURCE_DATE_EPOCH")
        .args([
            "build",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--date",
            DATE,
        ])
        .args(args);
    c
}

/// Builds `out` (relative to the root) and insists on success; returns the output.
pub fn build_ok(env: &TestEnv, out: &str, args: &[&str]) -> Output {
    let output = build_cmd(env, &["--out", out])
        .args(args)
        .output()
        .expect("run evpack build");
    assert_eq!(
        output.status.code(),
        Some(0),
        "evpack build failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// One zip entry as read back with the `zip` crate.
pub struct Entry {
    pub name: String,
    pub bytes: Vec<u8>,
    pub method: CompressionMethod,
    pub unix_mode: Option<u32>,
    /// (year, month, day, hour, minute, second)
    pub modified: Option<(u16, u8, u8, u8, u8, u8)>,
    /// Where the entry's data starts in the zip.
    pub data_start: Option<u64>,
}

/// Every entry of a zip, in central-directory order, with its data.
pub fn read_pack(zip_path: &Path) -> Vec<Entry> {
    let file = std::fs::File::open(zip_path).expect("open the pack");
    let mut z = zip::ZipArchive::new(file).expect("the pack is a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("a zip entry");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).expect("read a zip entry");
            Entry {
                data_start: f.data_start(),
                name: f.name().expect("a UTF-8 entry name").into_owned(),
                method: f.compression(),
                unix_mode: f.unix_mode(),
                modified: f.last_modified().map(|d| {
                    (
                        d.year(),
                        d.month(),
                        d.day(),
                        d.hour(),
                        d.minute(),
                        d.second(),
                    )
                }),
                bytes,
            }
        })
        .collect()
}

/// The entry called `name`.
pub fn entry<'a>(entries: &'a [Entry], name: &str) -> &'a Entry {
    entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entry {name:?} in the pack"))
}

/// An entry's bytes as text.
pub fn text<'a>(entries: &'a [Entry], name: &str) -> &'a str {
    std::str::from_utf8(&entry(entries, name).bytes)
        .unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Names in a folder (not recursive), to catch leftovers such as `.NAME.xxxx.part`.
pub fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("list a folder")
        .map(|e| {
            e.expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Decodes `%XX` in a link.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ASCII after %");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits after %"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("a UTF-8 link")
}

/// Every `attr="..."` value in an HTML text (`href`, `src`).
pub fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let key = format!("{attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest[..rest.find('"').expect("a closing quote")].to_string()
        })
        .collect()
}

/// The README as one line per paragraph: its lines are wrapped at spaces, so a line break
/// and the indent after it stand for one space.
pub fn unwrapped(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for line in md.lines() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line.trim_start());
    }
    out
}

/// The `data/...` paths a README names in code spans (one backtick each side).
pub fn readme_payload_paths(md: &str) -> Vec<String> {
    let flat = unwrapped(md);
    flat.match_indices("`data/")
        .filter(|(i, _)| !flat[..*i].ends_with('`'))
        .map(|(i, _)| {
            let rest = &flat[i + 1..];
            rest[..rest.find('`').expect("a closing backtick")].to_string()
        })
        .filter(|p| p != "data/")
        .collect()
}

/// Parses `SHA-256: <hex>  <name>` from the build's stdout.
pub fn printed_digest(stdout: &[u8]) -> (String, String) {
    let out = String::from_utf8_lossy(stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("SHA-256: "))
        .unwrap_or_else(|| panic!("no `SHA-256:` line in:\n{out}"));
    let (hex, name) = line.split_once("  ").expect("`<hex>  <name>`");
    (hex.to_string(), name.to_string())
}

/// `evpack gaps --format json` of the fixture, as the pack's documents should agree with.
pub fn gaps_json_of(env: &TestEnv) -> serde_json::Value {
    let out = env
        .cmd()
        .args([
            "gaps",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--format",
            "json",
        ])
        .output()
        .expect("evpack gaps");
    serde_json::from_slice(&out.stdout).expect("gaps JSON")
}
