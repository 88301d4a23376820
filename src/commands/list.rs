//! `evpack list`: the inventory of the evidence folder.

use super::{gaps_outcome, load_and_assess, write_stdout};
use crate::config::{InputConfig, TextOrJson};
use crate::error::Result;
use crate::exit::Outcome;
use crate::report;

pub fn run(input: &InputConfig, format: TextOrJson) -> Result<Outcome> {
    let loaded = load_and_assess(input, false)?;
    let (scan, a) = (&loaded.scan, &loaded.assessment);
    let out = match format {
        TextOrJson::Text => report::list::render_text(scan, a).into_bytes(),
        TextOrJson::Json => report::list::render_json(scan, a)?,
    };
    write_stdout(&out)?;
    // The help text and README promise exit 1 on gaps for every command that assesses.
    Ok(gaps_outcome(a))
}
