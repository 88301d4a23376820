//! Hashing the members on every core.
//!
//! Workers take files largest first from one shared queue: each takes the next file when
//! it is free, so one big file does not finish last on its own. (Splitting the sorted list
//! between workers, as a plain parallel iterator does, would hand one worker nearly all
//! the bytes.) Each worker keeps one set of buffers and hashers for every file it takes,
//! and hands what it hashed on a batch at a time.
//!
//! Small files hashed with SHA-256 alone (an evpack pack's payload) are read whole and
//! hashed two at a time ([`evpack_sha256x2::update_pair`]): one SHA-256 stream leaves the
//! SHA unit idle half the time, and a second stream fills the gaps, so two cost little more
//! than one.

use std::sync::atomic::{AtomicUsize, Ordering};

use evpack_sha256x2::{update_pair, Sha256};

use super::hashing::{Algo, Algos, Hashers, State};
use super::store::{Buffers, Member, Problem, Store};

/// Largest file read whole to be hashed in a pair.
const PAIR_MAX: usize = 64 * 1024;

/// Files a worker hashes before it hands them on.
const BATCH: usize = 4096;

/// What a worker hashed: per member its id, how the read ended and the bytes read; the
/// digests one after another (as many bytes as the member's algorithms give); and the
/// problems.
#[derive(Default)]
pub struct Hashed {
    pub done: Vec<(usize, State, u64)>,
    pub digests: Vec<u8>,
    pub problems: Vec<(usize, Problem)>,
}

impl Hashed {
    fn add(&mut self, id: usize, read: Result<(), Problem>, size: u64, digests: &[u8]) {
        let state = match read {
            Ok(()) => State::Read,
            Err(p) => {
                let state = if p.soft { State::Soft } else { State::Unread };
                self.problems.push((id, p));
                state
            }
        };
        self.done.push((id, state, size));
        self.digests.extend_from_slice(digests);
    }

    fn add_hashed(&mut self, id: usize, read: Result<(), Problem>, h: &mut Hashers) {
        let size = h.size();
        self.add(id, read, size, &[]);
        h.finish_into(&mut self.digests);
    }
}

/// Hashes members `ids` (each with `algos_for` its path) on every core; `record` takes each
/// worker's batches.
pub fn hash_members(
    store: &dyn Store,
    members: &[Member],
    mut ids: Vec<usize>,
    algos_for: &(dyn Fn(&str) -> Algos + Sync),
    record: &(dyn Fn(&mut Hashed) + Sync),
) {
    ids.sort_by(|&a, &b| {
        let (a, b) = (&members[a], &members[b]);
        b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path))
    });
    let next = AtomicUsize::new(0);
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads() {
            scope.spawn(|_| {
                let mut w = Worker {
                    store,
                    out: Hashed::default(),
                    bufs: Buffers::new(),
                    hashers: Hashers::new(Algos::default()),
                    waiting: None,
                    whole: Vec::with_capacity(PAIR_MAX),
                };
                while let Some(&id) = ids.get(next.fetch_add(1, Ordering::Relaxed)) {
                    w.hash(id, &members[id], algos_for(&members[id].path));
                    if w.out.done.len() >= BATCH {
                        record(&mut w.out);
                    }
                }
                w.alone();
                record(&mut w.out);
            });
        }
    });
}

/// One worker's state.
struct Worker<'s> {
    store: &'s dyn Store,
    out: Hashed,
    bufs: Buffers,
    hashers: Hashers,
    /// A small file read whole, waiting for another to be hashed with.
    waiting: Option<(usize, Result<(), Problem>, Vec<u8>)>,
    /// The next small file's bytes.
    whole: Vec<u8>,
}

impl Worker<'_> {
    fn hash(&mut self, id: usize, m: &Member, algos: Algos) {
        let sha256 = Algos::default().with(Algo::Sha256);
        if algos == sha256 && m.size <= PAIR_MAX as u64 {
            return self.hash_small(id, m);
        }
        self.hashers.reset(algos);
        let h = &mut self.hashers;
        let read = self.store.stream(m, &mut self.bufs, &mut |b| h.update(b));
        self.out.add_hashed(id, read, &mut self.hashers);
    }

    /// Reads a small file whole and pairs it with the one waiting, or waits. One that grows
    /// past [`PAIR_MAX`] while it is read is hashed on its own.
    fn hash_small(&mut self, id: usize, m: &Member) {
        let (whole, h) = (&mut self.whole, &mut self.hashers);
        whole.clear();
        let mut alone = false;
        let read = self.store.stream(m, &mut self.bufs, &mut |b| {
            if !alone && whole.len() + b.len() > PAIR_MAX {
                alone = true;
                h.reset(Algos::default().with(Algo::Sha256));
                h.update(whole);
            }
            if alone {
                h.update(b);
            } else {
                whole.extend_from_slice(b);
            }
        });
        if alone {
            return self.out.add_hashed(id, read, &mut self.hashers);
        }
        match self.waiting.take() {
            None => {
                let spare = Vec::with_capacity(PAIR_MAX);
                self.waiting = Some((id, read, std::mem::replace(&mut self.whole, spare)));
            }
            Some((first, first_read, first_bytes)) => {
                let (mut a, mut b) = (Sha256::new(), Sha256::new());
                update_pair(&mut a, &first_bytes, &mut b, &self.whole);
                let size = first_bytes.len() as u64;
                self.out.add(first, first_read, size, &a.finalize());
                self.out
                    .add(id, read, self.whole.len() as u64, &b.finalize());
                // Its buffer serves the next file.
                self.whole = first_bytes;
            }
        }
    }

    /// Hashes the file left waiting, if any, on its own.
    fn alone(&mut self) {
        if let Some((id, read, bytes)) = self.waiting.take() {
            let mut h = Sha256::new();
            h.update(&bytes);
            self.out.add(id, read, bytes.len() as u64, &h.finalize());
        }
    }
}
