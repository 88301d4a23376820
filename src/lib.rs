//! evpack: evidence gap analysis, BagIt pack building and pack verification for a
//! children's services improvement team preparing for an Ofsted visit.
//!
//! Data flows one way: [`manifest`] + [`scan`] -> [`assess`] -> ([`report`] | [`pack`]);
//! a pack -> [`verify`] and [`diff`]. [`bagit`] owns the pack format that [`pack`] writes and
//! [`verify`] reads; [`sign`] signs a pack zip and checks its signature (minisign's
//! format); [`zipfmt`] owns the zip format that [`pack`] writes and [`verify`] and
//! [`content`] read.
//! Only [`commands`] prints, reads the terminal, handles signals or picks an exit code
//! ([`exit`]); [`cli`] turns arguments into [`config`] values for it. Long steps count
//! their progress in a [`progress::Tally`] for it to show. Nothing in the
//! library imports `cli` or `commands`.

pub mod assess;
pub mod bagit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod content;
pub mod dating;
pub mod diff;
pub mod error;
pub mod exit;
pub mod fsx;
pub mod manifest;
pub mod pack;
pub mod progress;
pub mod report;
pub mod scan;
pub mod sign;
pub mod util;
pub mod verify;
pub mod zipfmt;

pub use error::{Error, Result};

/// The version recorded in packs and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The tool that made a report or pack, as recorded in JSON (`tool {name, version}`).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub const EVPACK: Tool = Tool {
        name: "evpack",
        version: VERSION,
    };
}
