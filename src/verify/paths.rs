//! The paths a pack holds, each stored once (the members' own), and numbered: the checks
//! keep what they know of a file against its number, in flat tables, rather than in maps
//! keyed by a copy of its path.

use std::cell::Cell;
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use super::store::Member;

/// Longest path a manifest line or `pack.json` may name: no file system holds a longer
/// one, and a path is printed whole in a finding.
pub const MAX_PATH_BYTES: usize = 4096;

/// Every path the pack holds, by id: the members that may be read (ids `0..members`), then
/// the entries that were reported and not read, with their declared sizes. Found by hash,
/// listed in byte order.
pub struct Paths<'m> {
    members: &'m [Member],
    flagged: &'m [(String, u64)],
    /// Open addressing, linear probing: 1 + id, or 0 for an empty slot. Half full at most.
    slots: Vec<usize>,
    /// Keyed at random per run: a pack cannot pick names that collide.
    hasher: RandomState,
    /// Ids in the byte order of their paths.
    sorted: Vec<usize>,
    /// The id after the last one found: manifests and `pack.json` list files in the order
    /// evpack packs them, so the next path asked for is most often this one's.
    next: Cell<usize>,
}

impl<'m> Paths<'m> {
    pub fn new(members: &'m [Member], flagged: &'m [(String, u64)]) -> Paths<'m> {
        let len = members.len() + flagged.len();
        let mut paths = Paths {
            members,
            flagged,
            slots: vec![0; (2 * len).next_power_of_two().max(16)],
            hasher: RandomState::new(),
            sorted: (0..len).collect(),
            next: Cell::new(0),
        };
        for id in 0..len {
            let mut slot = paths.home(paths.path(id));
            while paths.slots[slot] != 0 {
                slot = (slot + 1) & (paths.slots.len() - 1);
            }
            paths.slots[slot] = id + 1;
        }
        // Already in order for a pack evpack wrote, which the sort sees in one pass.
        let mut sorted = std::mem::take(&mut paths.sorted);
        sorted.sort_by(|&a, &b| paths.path(a).cmp(paths.path(b)));
        paths.sorted = sorted;
        paths
    }

    fn home(&self, path: &str) -> usize {
        // The low bits of a 64-bit hash; the table is far smaller than 2^64.
        (self.hasher.hash_one(path) as usize) & (self.slots.len() - 1)
    }

    /// How many paths.
    pub fn len(&self) -> usize {
        self.members.len() + self.flagged.len()
    }

    pub fn path(&self, id: usize) -> &'m str {
        match self.members.get(id) {
            Some(m) => &m.path,
            None => self
                .flagged
                .get(id - self.members.len())
                .map_or("", |(p, _)| p.as_str()),
        }
    }

    /// The id of `path`, if the pack holds it.
    pub fn find(&self, path: &str) -> Option<usize> {
        let guess = self.next.get();
        if guess < self.len() && self.path(guess) == path {
            self.next.set(guess + 1);
            return Some(guess);
        }
        let mut slot = self.home(path);
        loop {
            let id = self.slots[slot].checked_sub(1)?;
            if self.path(id) == path {
                self.next.set(id + 1);
                return Some(id);
            }
            slot = (slot + 1) & (self.slots.len() - 1);
        }
    }

    /// Whether `id` is a member (may have been read), not an entry reported unread.
    pub fn is_member(&self, id: usize) -> bool {
        id < self.members.len()
    }

    /// The members, in the byte order of their paths.
    pub fn members_sorted(&self) -> impl Iterator<Item = usize> + '_ {
        self.sorted.iter().copied().filter(|&id| self.is_member(id))
    }
}

/// A set of small numbers (ids), a bit each.
#[derive(Debug, Default, Clone)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    pub fn insert(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// The paths a finding already names, so that later checks say nothing more of them: the
/// pack's by id, others (files a manifest lists that the pack lacks) by path.
#[derive(Debug, Default)]
pub struct Named {
    ids: Bits,
    others: HashSet<String>,
}

impl Named {
    pub fn new(paths: &Paths) -> Named {
        Named {
            ids: Bits::new(paths.len()),
            others: HashSet::new(),
        }
    }

    pub fn insert_id(&mut self, id: usize) {
        self.ids.insert(id);
    }

    pub fn insert_other(&mut self, path: &str) {
        self.others.insert(path.to_string());
    }

    pub fn has_id(&self, id: usize) -> bool {
        self.ids.contains(id)
    }

    pub fn has_other(&self, path: &str) -> bool {
        self.others.contains(path)
    }

    /// Whether `path` (with its id, if the pack holds it) is named.
    pub fn has(&self, id: Option<usize>, path: &str) -> bool {
        match id {
            Some(id) => self.has_id(id),
            None => self.has_other(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_found_and_listed_in_order() {
        let members: Vec<Member> = ["data/b", "bagit.txt", "data/a"]
            .iter()
            .enumerate()
            .map(|(key, p)| Member {
                path: p.to_string(),
                size: 0,
                key,
            })
            .collect();
        let flagged = vec![("data/evil".to_string(), 3)];
        let paths = Paths::new(&members, &flagged);
        for id in 0..paths.len() {
            assert_eq!(paths.find(paths.path(id)), Some(id));
        }
        assert_eq!(paths.find("data/c"), None);
        assert!(!paths.is_member(3));
        let sorted: Vec<&str> = paths.members_sorted().map(|i| paths.path(i)).collect();
        assert_eq!(sorted, ["bagit.txt", "data/a", "data/b"]);
        let mut bits = Bits::new(70);
        bits.insert(69);
        bits.insert(700);
        assert!(bits.contains(69) && !bits.contains(68) && !bits.contains(700));
    }
}
