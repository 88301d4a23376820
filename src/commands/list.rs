//! `evpack list`: the inventory of the evidence folder.

use super::{gaps_outcome, load_and_assess, stream_stdout};
use crate::config::{InputConfig, TextOrJson};
use crate::error::Result;
use crate::exit::Outcome;
use crate::report;

pub fn run(input: &InputConfig, format: TextOrJson) -> Result<Outcome> {
    let loaded = load_and_assess(input, false)?;
    let (scan, a) = (&loaded.scan, &loaded.assessment);
    match format {
        TextOrJson::Text => stream_stdout(|out| report::list::write_text(scan, a, out))?,
        TextOrJson::Json => stream_stdout(|out| report::list::write_json(scan, a, out))?,
    }
    // The help text and README promise exit 1 on gaps for every command that assesses.
    Ok(gaps_outcome(a))
}
