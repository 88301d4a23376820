//! The verifier over arbitrary bytes: it must return a report or an error, never panic,
//! hang or allocate without bound, whatever the zip claims.
//!
//! Run: `cargo +nightly fuzz run verify_zip` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evpack::verify::verify_zip_bytes(data);
});
