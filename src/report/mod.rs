//! Renderers: each turns one [`Assessment`] into bytes. None of them writes files or reads
//! the disk (templates are handed in), so every output is a pure function of the assessment.

pub mod csv;
pub mod json;
pub mod list;
pub mod templates;
pub mod text;

pub use templates::{LinkStyle, Templates};

use crate::assess::Assessment;
use crate::error::Result;

/// Output formats of `evpack gaps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    Markdown,
}

/// Renders `a` in `format`. `color` only affects text.
pub fn render(a: &Assessment, format: Format, color: bool) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Text => text::render(a, color).into_bytes(),
        Format::Json => json::render(a)?,
        Format::Csv => csv::render(a)?,
        Format::Markdown => {
            // Printed to stdout, so links are relative to where the command runs.
            let prefix = format!("{}/", a.evidence_dir.trim_end_matches('/'));
            // Only Markdown needs the templates; parsing them costs more than a small scan.
            Templates::load(None)?
                .markdown(a, LinkStyle::Drive(&prefix))?
                .into_bytes()
        }
    })
}
