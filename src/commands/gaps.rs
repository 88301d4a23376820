//! `evpack gaps`: the gap analysis in the format asked for.

use super::{gaps_outcome, load_and_assess, stream_stdout, use_color, write_stdout};
use crate::config::{GapsFormat, InputConfig};
use crate::error::Result;
use crate::exit::Outcome;
use crate::report::{self, LinkStyle, Templates};

pub fn run(input: &InputConfig, format: GapsFormat, by_owner: bool) -> Result<Outcome> {
    let a = load_and_assess(input, false)?.assessment;
    if by_owner {
        chase(&a, format)?;
        return Ok(gaps_outcome(&a));
    }
    let out = match format {
        GapsFormat::Text => report::text::render(&a, use_color()).into_bytes(),
        GapsFormat::Json => {
            stream_stdout(|out| report::json::write(&a, out))?;
            return Ok(gaps_outcome(&a));
        }
        GapsFormat::Csv => {
            stream_stdout(|out| report::csv::write(&a, out))?;
            return Ok(gaps_outcome(&a));
        }
        GapsFormat::Markdown => {
            // Printed to stdout, so links are relative to where the command runs.
            let prefix = format!("{}/", a.evidence_dir.trim_end_matches('/'));
            // Only Markdown needs the templates; parsing them costs more than a small scan.
            Templates::load(None)?
                .markdown(&a, LinkStyle::Drive(&prefix))?
                .into_bytes()
        }
    };
    write_stdout(&out)?;
    Ok(gaps_outcome(&a))
}

/// `gaps --by-owner`: the chase list in the format asked for.
fn chase(a: &crate::assess::Assessment, format: GapsFormat) -> Result<()> {
    let list = crate::assess::chase::chase_list(a);
    match format {
        GapsFormat::Text => write_stdout(report::chase::text(&list).as_bytes()),
        GapsFormat::Markdown => write_stdout(report::chase::markdown(&list).as_bytes()),
        GapsFormat::Csv => stream_stdout(|out| report::chase::write_csv(&list, out)),
        GapsFormat::Json => stream_stdout(|out| {
            serde_json::to_writer_pretty(&mut *out, &list)?;
            out.write_all(b"\n")
        }),
    }
}
