//! `gaps --format json`: the assessment as documented in the README (schema
//! `evpack.assessment.v1`). Field names are a contract: add, never rename.

use crate::assess::Assessment;
use crate::error::{Error, Result};

pub fn render(a: &Assessment) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(a).map_err(|e| Error::json("the JSON report", e))?;
    out.push(b'\n');
    Ok(out)
}
