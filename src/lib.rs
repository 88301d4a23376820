//! evpack: evidence gap analysis, BagIt pack building and pack verification for a
//! children's services improvement team preparing for an Ofsted visit.
//!
//! Data flows one way: [`manifest`] + [`scan`] -> [`assess`] -> ([`report`] | [`pack`]);
//! a pack -> [`pack::verify`].

pub mod assess;
pub mod cli;
pub mod dating;
pub mod error;
pub mod manifest;
pub mod pack;
pub mod report;
pub mod scan;
pub mod util;

pub use error::{Error, Result};

/// The version recorded in packs and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
