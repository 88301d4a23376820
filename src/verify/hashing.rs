//! The digest algorithms a bag's manifests can name, and hashing one member with several
//! of them in a single pass over its bytes.

use sha2::{Digest, Sha256, Sha512};

/// A manifest algorithm evpack checks. bagit.py writes sha256 or sha512 by default (and
/// both when asked); older algorithms (md5, sha1) are reported as not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algo {
    Sha256,
    Sha512,
}

impl Algo {
    pub const ALL: [Algo; 2] = [Algo::Sha256, Algo::Sha512];

    /// The name used in `manifest-<name>.txt`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }

    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of a digest in hex digits.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }
}

/// A small set of algorithms (bit set, so it is `Copy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Algos(u8);

impl Algos {
    pub fn with(self, a: Algo) -> Algos {
        Algos(self.0 | Self::bit(a))
    }

    pub fn contains(self, a: Algo) -> bool {
        self.0 & Self::bit(a) != 0
    }

    pub fn union(self, other: Algos) -> Algos {
        Algos(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Algo> {
        Algo::ALL.into_iter().filter(move |a| self.contains(*a))
    }

    fn bit(a: Algo) -> u8 {
        match a {
            Algo::Sha256 => 1,
            Algo::Sha512 => 2,
        }
    }
}

/// Running hashes of one member.
pub struct Hashers {
    sha256: Option<Sha256>,
    sha512: Option<Sha512>,
    size: u64,
}

impl Hashers {
    pub fn new(algos: Algos) -> Hashers {
        Hashers {
            sha256: algos.contains(Algo::Sha256).then(Sha256::new),
            sha512: algos.contains(Algo::Sha512).then(Sha512::new),
            size: 0,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
        self.size += bytes.len() as u64;
    }

    pub fn finish(self) -> Digests {
        Digests {
            sha256: self.sha256.map(|h| {
                let mut d = [0u8; 32];
                d.copy_from_slice(&h.finalize());
                d
            }),
            sha512: self.sha512.map(|h| {
                let mut d = [0u8; 64];
                d.copy_from_slice(&h.finalize());
                d
            }),
            size: self.size,
        }
    }
}

/// What a member hashed to. Raw bytes, not hex: a pack holds tens of thousands of these,
/// and hex is only needed when a digest is compared or printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    sha256: Option<[u8; 32]>,
    sha512: Option<[u8; 64]>,
    /// Bytes actually read.
    pub size: u64,
}

impl Digests {
    /// The digest in lower-case hex, if it was computed.
    pub fn get(&self, a: Algo) -> Option<String> {
        match a {
            Algo::Sha256 => self.sha256.as_ref().map(|d| crate::util::hex(d)),
            Algo::Sha512 => self.sha512.as_ref().map(|d| crate::util::hex(d)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_known_values() {
        let mut h = Hashers::new(Algos::default().with(Algo::Sha256).with(Algo::Sha512));
        h.update(b"a");
        h.update(b"bc");
        let d = h.finish();
        assert_eq!(
            d.get(Algo::Sha256).as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert!(d
            .get(Algo::Sha512)
            .is_some_and(|s| s.starts_with("ddaf35a193617aba")));
        assert_eq!(d.size, 3);
    }
}
