//! The gap register: one row per requirement that is not met, in manifest order, with the
//! columns an improvement plan matrix has; then one row per matched file that will not open
//! (its `status` is the check, `file` its path), since replacing it is work to chase too. Spreadsheet programs treat a cell starting with
//! `=`, `+`, `-` or `@` as a formula, so such cells are prefixed with `'` (manifest text and
//! file names are not ours to trust).

use crate::assess::{AreaResult, Assessment, RequirementResult, Status, UnusableFile};

pub const HEADER: [&str; 11] = [
    "area_id",
    "area_title",
    "requirement_id",
    "requirement_title",
    "status",
    "required",
    "owner",
    "newest",
    "files_in_window",
    "reasons",
    "file",
];

/// Writes the register to `out` as it goes: a drive of thousands of files that will not
/// open has a row each.
pub fn write(a: &Assessment, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    write_rows(a, out).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    })
}

fn write_rows(a: &Assessment, out: &mut dyn std::io::Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for area in &a.areas {
        for r in area.requirements.iter().filter(|r| r.status != Status::Met) {
            let files = r.files_in_window.to_string();
            let row = [
                area.id.as_str(),
                area.title.as_str(),
                r.id.as_str(),
                r.title.as_str(),
                r.status.label(),
                if r.required { "yes" } else { "no (advisory)" },
                r.owner.as_deref().unwrap_or(""),
                r.newest.as_deref().unwrap_or(""),
                files.as_str(),
                &r.reasons.join("; "),
                "",
            ];
            w.write_record(row.iter().map(|c| defuse(c)))?;
        }
    }
    for u in &a.unusable {
        w.write_record(unusable_row(a, u).iter().map(|c| defuse(c)))?;
    }
    w.flush()?;
    Ok(())
}

/// The row of a file that will not open: the requirements it would serve, their areas and
/// owners, each list joined with `; `.
fn unusable_row(a: &Assessment, u: &UnusableFile) -> [String; 11] {
    let serving: Vec<(&AreaResult, &RequirementResult)> = a
        .areas
        .iter()
        .flat_map(|ar| ar.requirements.iter().map(move |r| (ar, r)))
        .filter(|(_, r)| u.requirements.contains(&r.id))
        .collect();
    let join = |f: &dyn Fn(&(&AreaResult, &RequirementResult)) -> String| {
        let mut seen: Vec<String> = Vec::new();
        for item in &serving {
            let v = f(item);
            if !v.is_empty() && !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen.join("; ")
    };
    let detail = u
        .detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    [
        join(&|(ar, _)| ar.id.clone()),
        join(&|(ar, _)| ar.title.clone()),
        join(&|(_, r)| r.id.clone()),
        join(&|(_, r)| r.title.clone()),
        u.check.label().to_string(),
        if serving.iter().any(|(_, r)| r.required) {
            "yes"
        } else {
            "no (advisory)"
        }
        .to_string(),
        join(&|(_, r)| r.owner.clone().unwrap_or_default()),
        String::new(),
        String::new(),
        format!("the file will not open ({}){detail}", u.check.label()),
        u.path.to_string(),
    ]
}

pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}
