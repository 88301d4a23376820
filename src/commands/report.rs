//! `evpack report`: the standalone readiness dashboard.

use std::path::{Path, PathBuf};

use super::{gaps_outcome, load_and_assess, note};
use crate::config::ReportConfig;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::report::{LinkStyle, Templates};
use crate::util::printable;

pub fn run(cfg: &ReportConfig) -> Result<Outcome> {
    refuse_out_in_evidence(&cfg.out, &cfg.input.evidence)?;
    super::history::check_folder(cfg.history.as_deref())?;
    let a = load_and_assess(&cfg.input, false)?.assessment;
    let mut templates = Templates::load(cfg.templates.as_deref())?;
    if let Some(dir) = &cfg.history {
        // The dashboard speaks for the day it is made, or for --as-of.
        let date = cfg
            .input
            .as_of
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        super::history::show(&mut templates, dir, &a, date, "this report")?;
    }
    let prefix = relative_prefix(&cfg.out, &cfg.input.evidence);
    let html = templates.html(&a, LinkStyle::Drive(&prefix))?;
    crate::util::write_atomically(&cfg.out, html.as_bytes())?;
    note(&format!(
        "Wrote {}: readiness {}%, {} of {} required requirements met",
        printable(&cfg.out.display().to_string()),
        a.summary.readiness_percent,
        a.summary.required_met,
        a.summary.required_total
    ));
    Ok(gaps_outcome(&a))
}

/// The report must not be written inside the evidence folder: it would replace an evidence
/// file of the same name, and be scanned as evidence next time. Both paths are resolved
/// (`..`, links) before they are compared: the check `build` makes for its pack.
fn refuse_out_in_evidence(out: &Path, evidence: &Path) -> Result<()> {
    if crate::util::is_within(crate::util::folder_of(out), evidence) {
        return Err(Error::input(
            out,
            "the report would be written inside the evidence folder",
            "write it elsewhere with --out (the evidence folder is never written to, and a report there would be scanned as evidence next time)",
        ));
    }
    Ok(())
}

/// The link prefix from a report at `out` to the evidence folder: relative when both are
/// relative paths (the usual case on a shared drive), else absolute.
fn relative_prefix(out: &Path, evidence: &Path) -> String {
    let abs = |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
    let out_dir = abs(out).parent().map(Path::to_path_buf).unwrap_or_default();
    let ev = abs(evidence);
    let out_parts: Vec<_> = out_dir.components().collect();
    let ev_parts: Vec<_> = ev.components().collect();
    let common = out_parts
        .iter()
        .zip(&ev_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut prefix = String::new();
    for _ in common..out_parts.len() {
        prefix.push_str("../");
    }
    for part in &ev_parts[common..] {
        prefix.push_str(&part.as_os_str().to_string_lossy());
        prefix.push('/');
    }
    prefix
}
