//! Packs: a serialized BagIt bag (RFC 8493) in a zip, built from an assessment, and the
//! auditor's check of one.
//!
//! Layout of a pack `NAME.zip` (everything under one top-level folder `NAME/`):
//! `bagit.txt`, `bag-info.txt`, `manifest-sha256.txt`, `tagmanifest-sha256.txt`,
//! `data/<path in the evidence folder>` (only files a requirement matched), `pack.json`,
//! `index.html`, `README.md`, `gaps.csv`, `manifest.toml`.

pub mod bagit;
pub mod build;
mod sink;
pub mod verify;
pub mod zipwrite;

/// The pack's own JSON schema identifier (the assessment schema plus `payload`).
pub const PACK_SCHEMA: &str = "evpack.pack.v1";
