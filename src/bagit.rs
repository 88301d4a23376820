//! The pack format in one home: BagIt rules (RFC 8493) and evpack's own tag files, shared
//! by the writer ([`crate::pack`]) and the verifier ([`crate::verify`]). Tag-file names,
//! manifest lines, `Payload-Oxum`, `bag-info.txt` labels and the `pack.json` types are
//! defined here and nowhere else.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The pack's own JSON schema identifier (the assessment schema plus `payload`).
pub const PACK_SCHEMA: &str = "evpack.pack.v1";

/// Tag-file names, relative to the bag folder.
pub const BAGIT: &str = "bagit.txt";
pub const BAG_INFO: &str = "bag-info.txt";
pub const MANIFEST_SHA256: &str = "manifest-sha256.txt";
pub const TAGMANIFEST_SHA256: &str = "tagmanifest-sha256.txt";
pub const PACK_JSON: &str = "pack.json";
pub const INDEX_HTML: &str = "index.html";
pub const README_MD: &str = "README.md";
pub const GAPS_CSV: &str = "gaps.csv";
pub const MANIFEST_TOML: &str = "manifest.toml";
/// The folder holding the payload.
pub const DATA_DIR: &str = "data/";

/// Every tag file an evpack pack carries, in the byte order of their names (the order they
/// are written in the zip).
pub const EVPACK_TAG_FILES: [&str; 9] = [
    README_MD,
    BAG_INFO,
    BAGIT,
    GAPS_CSV,
    INDEX_HTML,
    MANIFEST_SHA256,
    MANIFEST_TOML,
    PACK_JSON,
    TAGMANIFEST_SHA256,
];

/// The `bagit.txt` every evpack bag carries.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// Encodes a path for a manifest line: only CR, LF and `%` are percent-encoded (RFC 8493
/// section 2.1.3), so every other name reads the same as on disk.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Decodes a manifest path. Any `%XX` is decoded (other tools encode more than the three
/// required characters); a `%` not followed by two hex digits is kept as it is.
pub fn decode_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One manifest line: `<hex digest> <path>` (any run of spaces or tabs between them).
pub fn manifest_line(hex_digest: &str, path: &str) -> String {
    format!("{hex_digest}  {}\n", encode_path(path))
}

/// Parses one manifest line into (digest, decoded path). `None` if malformed.
pub fn parse_manifest_line(line: &str) -> Option<(String, String)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let split = line.find([' ', '\t'])?;
    let (digest, rest) = line.split_at(split);
    let path = rest.trim_start_matches([' ', '\t']);
    // sha256sum marks binary mode with a leading '*'.
    let path = path.strip_prefix('*').unwrap_or(path);
    if digest.is_empty() || path.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((digest.to_ascii_lowercase(), decode_path(path)))
}

/// `Payload-Oxum`: total payload bytes and file count.
pub fn payload_oxum(bytes: u64, files: u64) -> String {
    format!("{bytes}.{files}")
}

/// Formats one `bag-info.txt` label. Values are folded onto one line: a newline in a value
/// would start a new (forged) label.
pub fn info_line(label: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("{label}: {clean}\n")
}

/// `manifest-<alg>.txt` -> (false, alg); `tagmanifest-<alg>.txt` -> (true, alg).
pub fn manifest_name(path: &str) -> Option<(bool, &str)> {
    if path.contains('/') {
        return None;
    }
    let stem = path.strip_suffix(".txt")?;
    if let Some(alg) = stem.strip_prefix("tagmanifest-") {
        Some((true, alg))
    } else {
        stem.strip_prefix("manifest-").map(|alg| (false, alg))
    }
}

/// Whether a path in the bag is payload (under `data/`).
pub fn is_payload(path: &str) -> bool {
    path.starts_with(DATA_DIR)
}

/// `pack.json` as written: the assessment (same schema as `gaps --format json`, each file
/// with its SHA-256) plus the bag and the payload list. `A` is the assessment, flattened.
#[derive(Serialize)]
pub struct PackDoc<'a, A: Serialize, L: Serialize> {
    #[serde(flatten)]
    pub assessment: &'a A,
    pub pack_schema: &'static str,
    pub bag: BagJson<'a>,
    pub payload: &'a [PayloadEntry],
    /// Matched files that will not open, left out of the payload, with why and the
    /// requirements they would have served (empty when built with `--include-unusable`).
    pub left_out: &'a [L],
}

#[derive(Serialize)]
pub struct BagJson<'a> {
    pub name: &'a str,
    pub bagging_date: &'a str,
}

/// One payload file in `pack.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PayloadEntry {
    /// `data/<path in the evidence folder>`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// The requirements the file serves.
    pub serves: Vec<String>,
}

/// A file in `pack.json` as the verifier reads it: an item of `payload` (path under
/// `data/`) or of a requirement's `files` (path relative to the evidence folder). Every
/// field is optional (a hostile pack may leave any out, and each absence is its own
/// finding); strings are borrowed from the file's bytes.
#[derive(Deserialize)]
pub struct PackFileRead<'a> {
    #[serde(borrow)]
    pub path: Option<Cow<'a, str>>,
    pub size: Option<u64>,
    #[serde(borrow)]
    pub sha256: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        for p in ["data/a b.txt", "data/100%.csv", "data/odd\nname", "data/é"] {
            assert_eq!(decode_path(&encode_path(p)), p);
        }
        assert_eq!(encode_path("data/100%\r\n"), "data/100%25%0D%0A");
        assert_eq!(decode_path("data/%zz"), "data/%zz");
        assert_eq!(decode_path("data/50%"), "data/50%");
    }

    #[test]
    fn parses_lines() {
        assert_eq!(
            parse_manifest_line("ABCD  data/x y.txt"),
            Some(("abcd".into(), "data/x y.txt".into()))
        );
        assert_eq!(
            parse_manifest_line("abcd *data/x"),
            Some(("abcd".into(), "data/x".into()))
        );
        assert_eq!(parse_manifest_line("nothex data/x"), None);
        assert_eq!(parse_manifest_line("abcd"), None);
    }

    #[test]
    fn pack_json_reads_what_it_writes() {
        #[derive(Serialize)]
        struct Areas {
            areas: Vec<serde_json::Value>,
        }
        let payload = [PayloadEntry {
            path: "data/a.pdf".into(),
            size: 3,
            sha256: "ab".into(),
            serves: vec!["P1.1".into()],
        }];
        let a = Areas {
            areas: vec![serde_json::json!({"requirements": [{"id": "P1.1",
                "files": [{"path": "a.pdf", "size": 3, "sha256": "ab"}]}]})],
        };
        let doc = PackDoc {
            assessment: &a,
            pack_schema: PACK_SCHEMA,
            bag: BagJson {
                name: "b",
                bagging_date: "2021-01-01",
            },
            payload: &payload,
            left_out: &[] as &[String],
        };
        let bytes = serde_json::to_vec(&doc).expect("serialize");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("parse");
        assert_eq!(v["pack_schema"], PACK_SCHEMA);
        let item_text = v["payload"][0].to_string();
        let item: PackFileRead = serde_json::from_str(&item_text).expect("item");
        assert_eq!(item.path.as_deref(), Some("data/a.pdf"));
        assert_eq!(item.size, Some(3));
        assert_eq!(item.sha256.as_deref(), Some("ab"));
        let req = &v["areas"][0]["requirements"][0];
        assert_eq!(req["id"], "P1.1");
        let file_text = req["files"][0].to_string();
        let file: PackFileRead = serde_json::from_str(&file_text).expect("file");
        assert_eq!(file.path.as_deref(), Some("a.pdf"));
    }

    #[test]
    fn tag_files_are_in_name_order() {
        let mut sorted = EVPACK_TAG_FILES;
        sorted.sort_unstable();
        assert_eq!(sorted, EVPACK_TAG_FILES);
        assert_eq!(manifest_name(MANIFEST_SHA256), Some((false, "sha256")));
        assert_eq!(manifest_name(TAGMANIFEST_SHA256), Some((true, "sha256")));
    }

    #[test]
    fn info_values_cannot_forge_labels() {
        assert_eq!(
            info_line("External-Description", "a\nPayload-Oxum: 1.1"),
            "External-Description: a Payload-Oxum: 1.1\n"
        );
    }
}
