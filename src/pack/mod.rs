//! Assessment -> pack: a serialized BagIt bag (RFC 8493) in a zip. The format itself (tag
//! names, manifest lines, `pack.json`) lives in [`crate::bagit`]; the auditor's check of a
//! pack in [`crate::verify`].
//!
//! Nothing here prints or installs signal handlers: the caller passes a [`Progress`] sink
//! and a cancel flag, and gets a [`Built`] back (or an error naming the file).

mod build;
mod names;
pub mod out;
mod sink;
pub mod zipwrite;

pub use build::{build, Built, PackRequest};
pub use out::PackPath;
pub use zipwrite::{NoProgress, Progress};
