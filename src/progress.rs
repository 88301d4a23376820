//! How far a long step has got, counted by the library as it works and shown (or not) by
//! the command layer. A shared drive over SMB can take minutes to scan; the counters are
//! relaxed atomics, which cost nothing next to opening a file.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The steps of reading an evidence folder, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Listing folders and opening files.
    Scanning,
    /// Looking inside the matched files (do they open?).
    Checking,
}

/// Counters for one run over an evidence folder.
#[derive(Debug, Default)]
pub struct Tally {
    found: AtomicUsize,
    to_check: AtomicUsize,
    checked: AtomicUsize,
}

impl Tally {
    /// A file was found and opened.
    pub fn found(&self) {
        self.found.fetch_add(1, Ordering::Relaxed);
    }

    /// Checking starts, of `n` files.
    pub fn checking(&self, n: usize) {
        self.to_check.store(n, Ordering::Relaxed);
    }

    /// One more file checked.
    pub fn checked(&self) {
        self.checked.fetch_add(1, Ordering::Relaxed);
    }

    /// The step under way, and its counts: files found; or files checked of how many.
    pub fn now(&self) -> (Step, usize, usize) {
        let to_check = self.to_check.load(Ordering::Relaxed);
        if to_check == 0 {
            (Step::Scanning, self.found.load(Ordering::Relaxed), 0)
        } else {
            (
                Step::Checking,
                self.checked.load(Ordering::Relaxed),
                to_check,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_scanning_then_checking() {
        let t = Tally::default();
        t.found();
        t.found();
        assert_eq!(t.now(), (Step::Scanning, 2, 0));
        t.checking(5);
        t.checked();
        assert_eq!(t.now(), (Step::Checking, 1, 5));
    }
}
