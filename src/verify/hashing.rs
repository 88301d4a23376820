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
    fn len(self) -> usize {
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
        self.len() * 2
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
    algos: Algos,
    running: Vec<Running>,
    size: u64,
}

impl Hashers {
    pub fn new(algos: Algos) -> Hashers {
        Hashers {
            algos,
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

    pub fn finish(self) -> Digests {
        let mut bytes = Vec::with_capacity(self.algos.iter().map(Algo::len).sum());
        for h in self.running {
            h.finish_into(&mut bytes);
        }
        Digests {
            algos: self.algos,
            bytes: bytes.into_boxed_slice(),
            size: self.size,
        }
    }
}

/// What a member hashed to. Raw bytes, not hex, and only those of the algorithms computed,
/// one after another weakest first: a pack holds tens of thousands of these, and hex is
/// only needed when a digest is compared or printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    algos: Algos,
    bytes: Box<[u8]>,
    /// Bytes actually read.
    pub size: u64,
}

impl Digests {
    /// The digest in lower-case hex, if it was computed.
    pub fn get(&self, a: Algo) -> Option<String> {
        if !self.algos.contains(a) {
            return None;
        }
        let start: usize = self
            .algos
            .iter()
            .take_while(|&x| x < a)
            .map(Algo::len)
            .sum();
        self.bytes.get(start..start + a.len()).map(crate::util::hex)
    }
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
        let d = h.finish();
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
            let got = d.get(a).unwrap_or_default();
            assert!(got.starts_with(want), "{}: {got}", a.name());
            assert_eq!(got.len(), a.hex_len(), "{}", a.name());
        }
        assert_eq!(d.size, 3);
    }

    #[test]
    fn only_the_algorithms_asked_for_are_kept() {
        let mut h = Hashers::new(Algos::default().with(Algo::Sha1).with(Algo::Sha384));
        h.update(b"abc");
        let d = h.finish();
        assert!(d.get(Algo::Sha256).is_none());
        assert!(d
            .get(Algo::Sha384)
            .is_some_and(|s| s.starts_with("cb00753f45a35e8b")));
        assert_eq!(std::mem::size_of_val(&*d.bytes), 20 + 48);
        assert_eq!(
            Algos::default()
                .with(Algo::Md5)
                .with(Algo::Sha224)
                .strongest(),
            Some(Algo::Sha224)
        );
    }
}
