//! `evpack gaps`: the gap analysis in the format asked for.

use super::{gaps_outcome, load_and_assess, stream_stdout, use_color, write_stdout};
use crate::config::{GapsFormat, InputConfig};
use crate::error::Result;
use crate::exit::Outcome;
use crate::report::{self, LinkStyle, Templates};

pub fn run(input: &InputConfig, format: GapsFormat) -> Result<Outcome> {
    let a = load_and_assess(input, false)?.assessment;
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
