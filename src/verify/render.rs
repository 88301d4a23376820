//! Pure renderers of a verification [`Verification`]: text for a person, JSON for a program.
//! Every name from the pack goes through `printable`, since a hostile pack chooses them.

use std::fmt::Write as _;

use super::{Kind, Verdict, Verification};
use crate::util::printable;

/// Groups of findings, then counts, then a one-line verdict (alone with `quiet`).
pub fn text(r: &Verification, quiet: bool) -> String {
    let mut out = String::new();
    if !quiet {
        heading(&mut out, r);
        finding_groups(&mut out, r);
        if !r.notes.is_empty() {
            out.push('\n');
            for n in &r.notes {
                let _ = writeln!(out, "note: {}", printable(n));
            }
        }
        if !r.warnings.is_empty() {
            let _ = writeln!(out, "\nWarnings ({}): not differences", r.warnings.len());
            for w in &r.warnings {
                let _ = writeln!(out, "  {}", printable(w));
            }
        }
        out.push('\n');
        summary(&mut out, r);
        signature(&mut out, r);
    }
    verdict(&mut out, r);
    out
}

/// The signature check, when a public key was given: who signed, and what they signed for.
fn signature(out: &mut String, r: &Verification) {
    let Some(s) = &r.signature else { return };
    let file = printable(&s.file);
    if s.verified {
        let _ = writeln!(
            out,
            "Signature {file}: verified, made with key {}.",
            s.key_id.as_deref().unwrap_or("?")
        );
        if let Some(c) = &s.trusted_comment {
            let _ = writeln!(out, "Trusted comment: {}", printable(c));
        }
    } else {
        let _ = writeln!(
            out,
            "Signature {file}: NOT verified with key {}: {}",
            s.public_key_id,
            printable(s.reason.as_deref().unwrap_or("unknown reason"))
        );
    }
}

/// What is verified: the pack, its container and bag folder, and the algorithms.
fn heading(out: &mut String, r: &Verification) {
    let bag_folder = if r.container != "zip" {
        String::new()
    } else if r.bag_root.is_empty() {
        ", bag folder at the top level".to_string()
    } else {
        format!(", bag folder {}", printable(&r.bag_root))
    };
    let algorithms = if r.algorithms.is_empty() {
        "no manifest algorithm evpack checks".to_string()
    } else {
        r.algorithms.join(" and ")
    };
    let _ = writeln!(
        out,
        "Verifying {} ({}{bag_folder}; {algorithms})",
        printable(&r.pack),
        r.container,
    );
}

/// One group per kind of finding, each finding with its path, message and values.
fn finding_groups(out: &mut String, r: &Verification) {
    for kind in Kind::ALL {
        let group: Vec<_> = r.findings.iter().filter(|f| f.kind == kind).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({}):", kind.name(), group.len());
        for f in group {
            let path = match f.path.as_deref() {
                None => "(whole pack)".to_string(),
                Some("") => "(bag folder)".to_string(),
                Some(p) => printable(p),
            };
            let _ = writeln!(out, "  {path}: {}", f.message);
            if let (Some(a), Some(e), Some(g)) = (f.algorithm, &f.expected, &f.found) {
                let _ = writeln!(out, "    {a} expected {e}\n    {a} found    {g}");
            }
        }
    }
}

/// What was checked, the whole-zip digest, and the count of each kind of finding.
fn summary(out: &mut String, r: &Verification) {
    let _ = writeln!(
        out,
        "Checked {} payload files ({}) and {} tag files.",
        r.counts.payload_files,
        human_bytes(r.counts.payload_bytes),
        r.counts.tag_files
    );
    if let Some(d) = &r.digest {
        let _ = writeln!(
            out,
            "Whole zip SHA-256 {} the recorded digest.",
            if d.matches {
                "matches"
            } else {
                "does NOT match"
            }
        );
    }
    let counts: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{} {}", r.counts.of(*k), k.name()))
        .collect();
    let _ = writeln!(out, "Findings: {}.", counts.join(", "));
}

fn verdict(out: &mut String, r: &Verification) {
    let pack = printable(&r.pack);
    let signed_by = match &r.signature {
        Some(s) if s.verified => {
            format!(" and signed by key {}", s.key_id.as_deref().unwrap_or("?"))
        }
        _ => String::new(),
    };
    if let Some(s) = r.signature.as_ref().filter(|s| !s.verified) {
        let contents = if r.counts.findings == 0 {
            "; its contents are as listed, but that proves nothing without the signature"
                .to_string()
        } else {
            format!(
                ", and it differs from what was built ({} finding{})",
                r.counts.findings,
                if r.counts.findings == 1 { "" } else { "s" }
            )
        };
        let _ = writeln!(
            out,
            "FAILED: {pack} is not trusted: its signature does not verify with key {}{contents}.",
            s.public_key_id
        );
        return;
    }
    let _ = match r.verdict {
        Verdict::Intact => writeln!(
            out,
            "OK: {pack} is intact{signed_by}: every file as built, nothing missing, nothing added."
        ),
        Verdict::Differs => writeln!(
            out,
            "FAILED: {pack} differs from what was built ({} finding{}).",
            r.counts.findings,
            if r.counts.findings == 1 { "" } else { "s" }
        ),
    };
}

pub fn json(r: &Verification) -> crate::Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(r)
        .map_err(|e| crate::Error::json("the verification report", e))?;
    v.push(b'\n');
    Ok(v)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} bytes");
    }
    let mut v = n as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1_500), "1.5 KB");
        assert_eq!(human_bytes(2_000_000_000), "2.0 GB");
    }
}
