//! Thin entry point: parse arguments, run, map the outcome to an exit code.
//!
//! Exit codes are part of the contract (README, `--help`): 0 everything required is in
//! order, 1 gaps or differences were found, 2 the input could not be used at all.

use std::process::ExitCode;

fn main() -> ExitCode {
    evpack::cli::main()
}
