//! Renderers: each turns one [`Assessment`](crate::assess::Assessment) into bytes. None of
//! them writes files or reads the disk (templates are handed in), so every output is a pure
//! function of the assessment. Which renderer a command uses is the command's choice
//! (`commands/gaps.rs` maps `--format` to one of these).

pub mod chase;
pub mod csv;
pub mod history;
pub mod json;
pub mod list;
pub mod packdoc;
pub mod templates;
pub mod text;

pub use crate::bagit::Withheld;
pub use packdoc::PackFacts;
pub use templates::{LinkStyle, Templates};
