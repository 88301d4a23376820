//! The digest algorithms a bag's manifests can name, and hashing one member with several
//! of them in a single pass over its bytes.

use sha2::Digest;

/// A manifest algorithm evpack checks: every one RFC 8493 and the tools in use write.
/// bagit.py writes sha256 or sha512 by default; older bags (and bagit.py's defaults for
/// years) carry md5 and sha1, which are checked too but prove less ([`Algo::is_weak`]).
/// Ordered weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algo {
    pub const ALL: [Algo; 6] = [
        Algo::Md5,
        Algo::Sha1,
        Algo::Sha224,
        Algo::Sha256,
        Algo::Sha384,
        Algo::Sha512,
    ];

    /// The name used in `manifest-<name>.txt`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Md5 => "md5",
            Algo::Sha1 => "sha1",
            Algo::Sha224 => "sha224",
            Algo::Sha256 => "sha256",
            Algo::Sha384 => "sha384",
            Algo::Sha512 => "sha512",
        }
    }

    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of a digest in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Algo::Md5 => 16,
            Algo::Sha1 => 20,
            Algo::Sha224 => 28,
            Algo::Sha256 => 32,
            Algo::Sha384 => 48,
            Algo::Sha512 => 64,
        }
    }

    /// Length of a digest in hex digits.
    pub fn hex_len(self) -> usize {
        self.bytes() * 2
    }

    /// md5 and sha1 catch accidental damage, but anyone can make a different file with the
    /// same digest: they cannot show that nobody changed the pack on purpose.
    pub fn is_weak(self) -> bool {
        matches!(self, Algo::Md5 | Algo::Sha1)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A small set of algorithms (bit set, so it is `Copy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Algos(u8);

impl Algos {
    pub fn with(self, a: Algo) -> Algos {
        Algos(self.0 | a.bit())
    }

    pub fn contains(self, a: Algo) -> bool {
        self.0 & a.bit() != 0
    }

    pub fn union(self, other: Algos) -> Algos {
        Algos(self.0 | other.0)
    }

    /// The algorithms in the set, weakest first.
    pub fn iter(self) -> impl Iterator<Item = Algo> {
        Algo::ALL.into_iter().filter(move |a| self.contains(*a))
    }

    /// The strongest algorithm in the set.
    pub fn strongest(self) -> Option<Algo> {
        self.iter().last()
    }
}

/// One running hash.
enum Running {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Running {
    fn new(a: Algo) -> Running {
        match a {
            Algo::Md5 => Running::Md5(md5::Md5::new()),
            Algo::Sha1 => Running::Sha1(sha1::Sha1::new()),
            Algo::Sha224 => Running::Sha224(sha2::Sha224::new()),
            Algo::Sha256 => Running::Sha256(sha2::Sha256::new()),
            Algo::Sha384 => Running::Sha384(sha2::Sha384::new()),
            Algo::Sha512 => Running::Sha512(sha2::Sha512::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Running::Md5(h) => h.update(bytes),
            Running::Sha1(h) => h.update(bytes),
            Running::Sha224(h) => h.update(bytes),
            Running::Sha256(h) => h.update(bytes),
            Running::Sha384(h) => h.update(bytes),
            Running::Sha512(h) => h.update(bytes),
        }
    }

    fn finish_into(self, out: &mut Vec<u8>) {
        match self {
            Running::Md5(h) => out.extend_from_slice(&h.finalize()),
            Running::Sha1(h) => out.extend_from_slice(&h.finalize()),
            Running::Sha224(h) => out.extend_from_slice(&h.finalize()),
            Running::Sha256(h) => out.extend_from_slice(&h.finalize()),
            Running::Sha384(h) => out.extend_from_slice(&h.finalize()),
            Running::Sha512(h) => out.extend_from_slice(&h.finalize()),
        }
    }
}

/// Running hashes of one member, weakest algorithm first.
pub struct Hashers {
    running: Vec<Running>,
    size: u64,
}

impl Hashers {
    pub fn new(algos: Algos) -> Hashers {
        Hashers {
            running: algos.iter().map(Running::new).collect(),
            size: 0,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for h in &mut self.running {
            h.update(bytes);
        }
        self.size += bytes.len() as u64;
    }

    /// Starts over with `algos`, keeping its allocation: a worker hashes two hundred
    /// thousand files with one.
    pub fn reset(&mut self, algos: Algos) {
        self.running.clear();
        self.running.extend(algos.iter().map(Running::new));
        self.size = 0;
    }

    /// Bytes hashed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the digests to `out`, one after another weakest first, and empties.
    pub fn finish_into(&mut self, out: &mut Vec<u8>) {
        for h in self.running.drain(..) {
            h.finish_into(out);
        }
        self.size = 0;
    }

    /// The digests, one after another weakest first (a row of a [`Table`] in its layout
    /// when the algorithms are the table's).
    pub fn finish(mut self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.finish_into(&mut bytes);
        bytes
    }
}

/// How a member's read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    /// Not read, or not to the end (the member is reported): nothing to compare.
    #[default]
    Unread,
    /// Read to the end.
    Read,
    /// Read to the end, and only a check value disagreed (the zip's CRC-32): its digests
    /// are good.
    Soft,
}

/// What every member hashed to, in one flat table indexed by member: raw digests, not hex,
/// each algorithm at a fixed offset of the member's row, and only the algorithms some
/// member is hashed with. Two hundred thousand members hashed with SHA-256 take 41 bytes
/// each; hex is made only when a digest is printed.
#[derive(Debug, Default)]
pub struct Table {
    /// Where each algorithm's digest starts in a row, if rows have it (by [`Algo`] order).
    offsets: [Option<usize>; 6],
    stride: usize,
    rows: Vec<u8>,
    /// Bytes read.
    sizes: Vec<u64>,
    state: Vec<State>,
    /// The algorithms each member was hashed with (a subset of the layout).
    hashed: Vec<Algos>,
}

impl Table {
    /// A table of `members` rows, none read yet.
    pub fn new(members: usize, layout: Algos) -> Table {
        let mut offsets = [None; 6];
        let mut stride = 0;
        for a in layout.iter() {
            offsets[a as usize] = Some(stride);
            stride += a.bytes();
        }
        Table {
            offsets,
            stride,
            rows: vec![0; members * stride],
            sizes: vec![0; members],
            state: vec![State::Unread; members],
            hashed: vec![Algos::default(); members],
        }
    }

    /// Records member `i`: how its read ended, the bytes read, and `digests` (as
    /// [`Hashers::finish`] gives them for `algos`).
    pub fn record(&mut self, i: usize, state: State, size: u64, algos: Algos, digests: &[u8]) {
        let row = i * self.stride;
        let mut at = 0;
        for a in algos.iter() {
            if let (Some(off), Some(d)) = (self.offset(a), digests.get(at..at + a.bytes())) {
                self.rows[row + off..row + off + a.bytes()].copy_from_slice(d);
            }
            at += a.bytes();
        }
        self.state[i] = state;
        self.sizes[i] = size;
        self.hashed[i] = algos;
    }

    fn offset(&self, a: Algo) -> Option<usize> {
        self.offsets[a as usize]
    }

    pub fn state(&self, i: usize) -> State {
        self.state.get(i).copied().unwrap_or_default()
    }

    /// Whether member `i` was read to the end.
    pub fn is_read(&self, i: usize) -> bool {
        self.state(i) != State::Unread
    }

    /// Bytes read of member `i`, if it was read to the end.
    pub fn size(&self, i: usize) -> Option<u64> {
        self.is_read(i).then(|| self.sizes[i])
    }

    /// Member `i`'s digest by `a`, if it was read and hashed with it.
    pub fn get(&self, i: usize, a: Algo) -> Option<&[u8]> {
        if !self.is_read(i) || !self.hashed[i].contains(a) {
            return None;
        }
        let start = i * self.stride + self.offset(a)?;
        self.rows.get(start..start + a.bytes())
    }
}

/// Writes the bytes `hex` spells (either case) into `out`; `false` unless it is hex of
/// exactly that many bytes.
pub fn unhex_into(hex: &str, out: &mut [u8]) -> bool {
    hex::decode_to_slice(hex, out).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_known_values() {
        let all = Algo::ALL.into_iter().fold(Algos::default(), Algos::with);
        let mut h = Hashers::new(all);
        h.update(b"a");
        h.update(b"bc");
        let mut t = Table::new(1, all);
        t.record(0, State::Read, h.size(), all, &h.finish());
        // The FIPS 180 and RFC 1321 test vectors for "abc".
        let starts = [
            (Algo::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (Algo::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                Algo::Sha224,
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                Algo::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (Algo::Sha384, "cb00753f45a35e8bb5a03d699ac65007"),
            (Algo::Sha512, "ddaf35a193617aba"),
        ];
        for (a, want) in starts {
            let got = t.get(0, a).map(crate::util::hex).unwrap_or_default();
            assert!(got.starts_with(want), "{}: {got}", a.name());
            assert_eq!(got.len(), a.hex_len(), "{}", a.name());
        }
        assert_eq!(t.size(0), Some(3));
    }

    #[test]
    fn only_the_algorithms_asked_for_are_kept() {
        let asked = Algos::default().with(Algo::Sha1).with(Algo::Sha384);
        let mut h = Hashers::new(asked);
        h.update(b"abc");
        let mut t = Table::new(2, asked.with(Algo::Sha256));
        t.record(1, State::Soft, 3, asked, &h.finish());
        assert!(t.get(1, Algo::Sha256).is_none());
        assert!(t.get(0, Algo::Sha1).is_none(), "row 0 was never read");
        assert!(t
            .get(1, Algo::Sha384)
            .is_some_and(|d| crate::util::hex(d).starts_with("cb00753f45a35e8b")));
        assert_eq!(t.stride, 20 + 32 + 48);
        assert_eq!(
            Algos::default()
                .with(Algo::Md5)
                .with(Algo::Sha224)
                .strongest(),
            Some(Algo::Sha224)
        );
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(crate::util::hex(&bytes), "0001abff");
        let mut out = [0u8; 4];
        assert!(unhex_into("0001ABff", &mut out));
        assert_eq!(out, bytes);
        assert!(!unhex_into("0001abf", &mut out));
        assert!(!unhex_into("0001abfg", &mut out));
        assert!(!unhex_into("00\u{e9}", &mut out[..2]));
    }
}
