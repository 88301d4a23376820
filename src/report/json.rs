//! `gaps --format json`: the assessment as documented in the README (schema
//! `evpack.assessment.v1`). Field names are a contract: add, never rename.
//!
//! Written as a stream: on a large drive the document runs to tens of megabytes, which need
//! not be held as well as the assessment it is made from.

use std::io::Write;

use crate::assess::Assessment;

/// Writes the assessment as pretty JSON and a final newline.
pub fn write(a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, a)?;
    out.write_all(b"\n")
}
