//! The line that shows a long scan is alive: on stderr, only on a terminal (never in a
//! pipe, a file or a CI log), only once the scan has run for a couple of seconds (a quick
//! run stays quiet), and cleared when the scan is done.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::progress::{Step, Tally};

/// How long a scan runs before its progress is shown.
const SHOW_AFTER: Duration = Duration::from_secs(2);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Shows `tally` while it lives (see the module docs).
pub(super) struct ScanProgress {
    pub tally: Arc<Tally>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScanProgress {
    /// Starts watching; `quiet` (or a stderr that is not a terminal) shows nothing.
    pub fn start(quiet: bool) -> ScanProgress {
        let tally = Arc::new(Tally::default());
        let done = Arc::new(AtomicBool::new(false));
        let thread = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let (tally, done) = (Arc::clone(&tally), Arc::clone(&done));
            std::thread::spawn(move || show(&tally, &done, delay()))
        });
        ScanProgress {
            tally,
            done,
            thread,
        }
    }
}

impl Drop for ScanProgress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The wait before showing: [`SHOW_AFTER`], or `EVPACK_PROGRESS_AFTER_MS` (the tests use
/// it to see the line without a slow scan).
fn delay() -> Duration {
    std::env::var("EVPACK_PROGRESS_AFTER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(SHOW_AFTER, Duration::from_millis)
}

fn show(tally: &Tally, done: &AtomicBool, after: Duration) {
    let start = Instant::now();
    while start.elapsed() < after {
        if done.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(TICK);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    while !done.load(Ordering::Relaxed) {
        bar.set_message(words(tally.now()));
        bar.tick();
        std::thread::sleep(TICK);
    }
    bar.finish_and_clear();
}

fn words((step, n, of): (Step, usize, usize)) -> String {
    match step {
        Step::Scanning => format!("scanning the evidence folder: {n} files found"),
        Step::Checking => format!("checking that the matched files open: {n} of {of}"),
    }
}
