//! SHA-256 of two byte streams at once.
//!
//! One SHA-256 stream is a chain of dependent rounds: on x86-64 with the SHA extensions the
//! round instruction's latency, not its throughput, sets the speed, and the SHA unit sits
//! idle half the time. Stepping a second, independent stream through the same rounds fills
//! those gaps, so two streams hashed together cost little more than one. `evpack build`
//! hashes every stored evidence file twice (its own digest for the BagIt manifest, and the
//! digest of the whole pack it lies in), which is exactly two streams over the same bytes.
//!
//! [`Sha256`] is an ordinary incremental hasher; [`update_pair`] feeds two of them at once.
//! Without the SHA extensions (or on other architectures) both fall back to the `sha2`
//! crate's compression function, so results never depend on the machine.

#![cfg_attr(not(target_arch = "x86_64"), forbid(unsafe_code))]

const BLOCK: usize = 64;

const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// An incremental SHA-256 hasher.
#[derive(Clone)]
pub struct Sha256 {
    state: [u32; 8],
    /// Bytes of an incomplete block, waiting for the rest.
    pending: [u8; BLOCK],
    pending_len: usize,
    /// Total bytes fed, for the padding.
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256 {
            state: H0,
            pending: [0; BLOCK],
            pending_len: 0,
            len: 0,
        }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        let rest = self.top_up(data);
        let whole = rest.len() / BLOCK * BLOCK;
        compress1(&mut self.state, &rest[..whole]);
        self.keep(&rest[whole..]);
    }

    /// The digest of everything fed.
    pub fn finalize(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8);
        let mut tail = [0u8; 2 * BLOCK];
        let n = self.pending_len;
        tail[..n].copy_from_slice(&self.pending[..n]);
        tail[n] = 0x80;
        // The length goes in the last 8 bytes of the block that has room for it.
        let end = if n + 1 + 8 <= BLOCK { BLOCK } else { 2 * BLOCK };
        tail[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        compress1(&mut self.state, &tail[..end]);
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// Completes the pending block from the front of `data` (compressing it once full) and
    /// returns what is left of `data`. Afterwards either nothing is pending or nothing is
    /// left.
    fn top_up<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.pending_len == 0 {
            return data;
        }
        let take = (BLOCK - self.pending_len).min(data.len());
        self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
        self.pending_len += take;
        if self.pending_len == BLOCK {
            let block = self.pending;
            compress1(&mut self.state, &block);
            self.pending_len = 0;
        }
        &data[take..]
    }

    /// Keeps a tail shorter than a block for later.
    fn keep(&mut self, tail: &[u8]) {
        debug_assert!(tail.len() < BLOCK && (self.pending_len == 0 || tail.is_empty()));
        if !tail.is_empty() {
            self.pending[..tail.len()].copy_from_slice(tail);
            self.pending_len = tail.len();
        }
    }
}

/// Feeds `da` to `a` and `db` to `b`, hashing the two together where both have whole
/// blocks. Same result as `a.update(da); b.update(db)`, nearly twice as fast when the two
/// are about the same length.
pub fn update_pair(a: &mut Sha256, da: &[u8], b: &mut Sha256, db: &[u8]) {
    let ra = a.top_up(da);
    let rb = b.top_up(db);
    let blocks_a = ra.len() / BLOCK;
    let blocks_b = rb.len() / BLOCK;
    let both = blocks_a.min(blocks_b) * BLOCK;
    compress2(&mut a.state, &ra[..both], &mut b.state, &rb[..both]);
    compress1(&mut a.state, &ra[both..blocks_a * BLOCK]);
    compress1(&mut b.state, &rb[both..blocks_b * BLOCK]);
    a.keep(&ra[blocks_a * BLOCK..]);
    b.keep(&rb[blocks_b * BLOCK..]);
}

/// Compresses whole blocks (`data.len()` a multiple of 64) into `state`.
fn compress1(state: &mut [u32; 8], data: &[u8]) {
    let (blocks, rest) = data.as_chunks::<BLOCK>();
    debug_assert!(rest.is_empty());
    // sha2 picks its own SHA-NI kernel at run time; a lone stream gains nothing from ours.
    sha2::block_api::compress256(state, blocks);
}

/// Compresses `a` into `sa` and `b` into `sb`; both hold the same number of whole blocks.
fn compress2(sa: &mut [u32; 8], a: &[u8], sb: &mut [u32; 8], b: &[u8]) {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if ni::available() {
        ni::compress2(sa, a, sb, b);
        return;
    }
    compress1(sa, a);
    compress1(sb, b);
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod ni {
    //! The two-stream kernel on the SHA extensions. Each 64-byte block is 16 groups of four
    //! rounds; the two streams' groups alternate, so one stream's rounds run while the
    //! other's wait on their results. The state is kept in the instructions' ABEF/CDGH
    //! layout for the whole run and converted only at the ends.
    use std::arch::x86_64::*;

    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// Byte order of a big-endian message word, as a shuffle.
    const BSWAP: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

    pub(super) fn available() -> bool {
        is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse2")
            && is_x86_feature_detected!("ssse3")
            && is_x86_feature_detected!("sse4.1")
    }

    pub(super) fn compress2(sa: &mut [u32; 8], a: &[u8], sb: &mut [u32; 8], b: &[u8]) {
        assert_eq!(
            a.len(),
            b.len(),
            "both streams need the same number of blocks"
        );
        assert_eq!(a.len() % 64, 0, "whole blocks only");
        assert!(available(), "the SHA extensions are needed");
        // SAFETY: the CPU has every feature the kernel is compiled for (checked just above),
        // and the kernel reads only whole 64-byte blocks inside `a` and `b` (checked above).
        unsafe { kernel(sa, a, sb, b) }
    }

    /// A state in the instructions' layout: words A, B, E, F and C, D, G, H.
    #[derive(Clone, Copy)]
    struct State {
        abef: __m128i,
        cdgh: __m128i,
    }

    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load_state(s: &[u32; 8]) -> State {
        // SAFETY: [u32; 8] is 32 readable bytes; unaligned loads; SSE2 is baseline on x86-64.
        let (abcd, efgh) = unsafe {
            (
                _mm_loadu_si128(s.as_ptr().cast()),
                _mm_loadu_si128(s.as_ptr().add(4).cast()),
            )
        };
        let t = _mm_shuffle_epi32(abcd, 0xB1);
        let e = _mm_shuffle_epi32(efgh, 0x1B);
        State {
            abef: _mm_alignr_epi8(t, e, 8),
            cdgh: _mm_blend_epi16(e, t, 0xF0),
        }
    }

    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn store_state(st: State, s: &mut [u32; 8]) {
        let t = _mm_shuffle_epi32(st.abef, 0x1B);
        let u = _mm_shuffle_epi32(st.cdgh, 0xB1);
        let abcd = _mm_blend_epi16(t, u, 0xF0);
        let efgh = _mm_alignr_epi8(u, t, 8);
        // SAFETY: [u32; 8] is 32 writable bytes; unaligned stores.
        unsafe {
            _mm_storeu_si128(s.as_mut_ptr().cast(), abcd);
            _mm_storeu_si128(s.as_mut_ptr().add(4).cast(), efgh);
        }
    }

    /// The 16 message words of a block, byte-swapped into four vectors.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load_block(block: &[u8; 64]) -> [__m128i; 4] {
        // SAFETY: BSWAP is 16 readable bytes, and each load reads 16 of the block's 64.
        unsafe {
            let mask = _mm_loadu_si128(BSWAP.as_ptr().cast());
            [0, 1, 2, 3]
                .map(|i| _mm_shuffle_epi8(_mm_loadu_si128(block.as_ptr().add(16 * i).cast()), mask))
        }
    }

    /// Rounds 4i..4i+4 of one stream, with the message schedule for the rounds ahead.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn rounds4(st: &mut State, m: &mut [__m128i; 4], i: usize) {
        // Sliced, so a group number past 15 panics instead of reading past K.
        let k4 = &K[4 * i..4 * i + 4];
        // SAFETY: `k4` is 4 words, 16 readable bytes; unaligned load.
        let k = unsafe { _mm_loadu_si128(k4.as_ptr().cast()) };
        let wk = _mm_add_epi32(m[i & 3], k);
        st.cdgh = _mm_sha256rnds2_epu32(st.cdgh, st.abef, wk);
        if (3..=14).contains(&i) {
            // W[t] for the group after next: its sigma1 half (msg2) and the W[t-7] term.
            let t = _mm_alignr_epi8(m[i & 3], m[(i + 3) & 3], 4);
            m[(i + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(i + 1) & 3], t), m[i & 3]);
        }
        st.abef = _mm_sha256rnds2_epu32(st.abef, st.cdgh, _mm_shuffle_epi32(wk, 0x0E));
        if (1..=12).contains(&i) {
            // The W[t-16] + sigma0(W[t-15]) half, needed up to group 12 for W[60..64].
            m[(i + 3) & 3] = _mm_sha256msg1_epu32(m[(i + 3) & 3], m[i & 3]);
        }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn kernel(sa: &mut [u32; 8], a: &[u8], sb: &mut [u32; 8], b: &[u8]) {
        let mut x = load_state(sa);
        let mut y = load_state(sb);
        let (blocks_a, _) = a.as_chunks::<64>();
        let (blocks_b, _) = b.as_chunks::<64>();
        for (ba, bb) in blocks_a.iter().zip(blocks_b) {
            let (x0, y0) = (x, y);
            let mut ma = load_block(ba);
            let mut mb = load_block(bb);
            // Literal group numbers: unrolled, the range tests in `rounds4` vanish at
            // compile time and the schedule stays in registers.
            macro_rules! groups {
                ($($i:literal)*) => { $(
                    rounds4(&mut x, &mut ma, $i);
                    rounds4(&mut y, &mut mb, $i);
                )* };
            }
            groups!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
            x.abef = _mm_add_epi32(x.abef, x0.abef);
            x.cdgh = _mm_add_epi32(x.cdgh, x0.cdgh);
            y.abef = _mm_add_epi32(y.abef, y0.abef);
            y.cdgh = _mm_add_epi32(y.cdgh, y0.cdgh);
        }
        store_state(x, sa);
        store_state(y, sb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::Digest;

    fn reference(data: &[u8]) -> [u8; 32] {
        sha2::Sha256::digest(data).into()
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 examples.
        let mut h = Sha256::new();
        h.update(b"abc");
        assert_eq!(
            h.finalize(),
            reference(b"abc"),
            "abc must hash like the sha2 crate"
        );
        let empty = Sha256::new().finalize();
        assert_eq!(
            empty[..4],
            [0xe3, 0xb0, 0xc4, 0x42],
            "SHA-256 of nothing starts e3b0c442"
        );
    }

    #[test]
    fn every_padding_boundary() {
        // Lengths around one and two blocks cover both padding cases (length fits in the
        // last block, or needs another).
        for n in 0..200 {
            let data = bytes(n, 7);
            let mut h = Sha256::new();
            h.update(&data);
            assert_eq!(h.finalize(), reference(&data), "length {n}");
        }
    }

    #[test]
    fn pair_of_long_streams() {
        let a = bytes(1 << 20, 1);
        let b = bytes((1 << 20) + 17, 2);
        let (mut ha, mut hb) = (Sha256::new(), Sha256::new());
        update_pair(&mut ha, &a, &mut hb, &b);
        assert_eq!(ha.finalize(), reference(&a));
        assert_eq!(hb.finalize(), reference(&b));
    }

    #[test]
    fn portable_and_kernel_agree() {
        // On machines with the SHA extensions this pits the interleaved kernel against
        // sha2's own; elsewhere only the fallback runs, and the test says so.
        #[cfg(target_arch = "x86_64")]
        if !ni::available() {
            eprintln!("SKIPPED: no SHA extensions here; the two-stream kernel is not tested");
        }
        let a = bytes(64 * 100, 3);
        let b = bytes(64 * 100, 4);
        let (mut sa, mut sb) = (H0, H0);
        compress2(&mut sa, &a, &mut sb, &b);
        let (mut ra, mut rb) = (H0, H0);
        compress1(&mut ra, &a);
        compress1(&mut rb, &b);
        assert_eq!((sa, sb), (ra, rb));
    }

    proptest! {
        /// Any two streams, cut into any pieces, fed in pairs or alone, give sha2's digests.
        #[test]
        fn pieces_in_any_order(
            a in proptest::collection::vec(any::<u8>(), 0..2000),
            b in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec((0usize..300, 0usize..300, any::<bool>()), 0..20),
        ) {
            let (mut ha, mut hb) = (Sha256::new(), Sha256::new());
            let (mut ia, mut ib) = (0, 0);
            for (na, nb, paired) in cuts {
                let ja = (ia + na).min(a.len());
                let jb = (ib + nb).min(b.len());
                if paired {
                    update_pair(&mut ha, &a[ia..ja], &mut hb, &b[ib..jb]);
                } else {
                    ha.update(&a[ia..ja]);
                    hb.update(&b[ib..jb]);
                }
                ia = ja;
                ib = jb;
            }
            update_pair(&mut ha, &a[ia..], &mut hb, &b[ib..]);
            prop_assert_eq!(ha.finalize(), reference(&a));
            prop_assert_eq!(hb.finalize(), reference(&b));
        }
    }
}
