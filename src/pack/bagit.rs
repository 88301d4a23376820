//! BagIt format rules (RFC 8493) shared by the writer and the verifier.

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
    fn info_values_cannot_forge_labels() {
        assert_eq!(
            info_line("External-Description", "a\nPayload-Oxum: 1.1"),
            "External-Description: a Payload-Oxum: 1.1\n"
        );
    }
}
