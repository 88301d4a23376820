//! One integration-test binary: every test drives the real `evpack` binary (assert_cmd) over
//! a fixture tree built in code. Each module owns one capability.

mod build;
mod build_atomic;
mod build_repro;
mod build_tools;
mod build_zip64;
mod chase;
mod checks;
mod dates_council;
mod diff;
mod gaps;
mod gaps_dates;
mod gaps_manifest;
mod gaps_scale;
mod gaps_scan;
mod history;
mod pack_docs;
mod progress;
mod report;
mod report_scale;
mod scale_memory;
mod scan_race;
mod sign;
mod support;
mod verify;
mod verify_hostile;
mod verify_interop;
mod verify_scale;
