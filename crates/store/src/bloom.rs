//! The bloom filter stored in segment footers. Its hash is part of the on-disk format
//! (see `FORMAT.md`) and must never change within a format version.

/// Largest number of probes accepted when reading a filter.
pub(crate) const MAX_BLOOM_HASHES: u32 = 30;

/// A bloom filter over byte-string keys: `bits.len() * 8` bits, `k` probes per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bloom {
    bits: Vec<u8>,
    k: u32,
}

/// FNV-1a 64 followed by the splitmix64 finalizer.
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The bit positions probed for `key` in a filter of `m` bits (double hashing).
fn probes(key: &[u8], k: u32, m: u64) -> impl Iterator<Item = u64> {
    probes_of_hash(key_hash(key), k, m)
}

/// [`probes`] for a key whose [`key_hash`] is `h1`.
fn probes_of_hash(h1: u64, k: u32, m: u64) -> impl Iterator<Item = u64> {
    let h2 = mix(h1 ^ 0x9e37_79b9_7f4a_7c15) | 1;
    (0..u64::from(k)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % m)
}

impl Bloom {
    /// A filter sized for `n` keys at `bits_per_key` bits each (at least 64 bits).
    pub(crate) fn with_capacity(n: usize, bits_per_key: u32) -> Self {
        if bits_per_key == 0 {
            return Bloom {
                bits: Vec::new(),
                k: 0,
            };
        }
        let m_bits = (n as u64).saturating_mul(u64::from(bits_per_key)).max(64);
        let bytes = usize::try_from(m_bits.div_ceil(8)).unwrap_or(usize::MAX / 2);
        // k = bits_per_key * ln 2, the optimum for the configured size.
        let k = ((f64::from(bits_per_key) * std::f64::consts::LN_2).round() as u32)
            .clamp(1, MAX_BLOOM_HASHES);
        Bloom {
            bits: vec![0; bytes],
            k,
        }
    }

    /// Rebuilds a filter from stored bits; the caller validated `k`.
    pub(crate) fn from_parts(bits: Vec<u8>, k: u32) -> Self {
        Bloom { bits, k }
    }

    /// Adds a key.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, key: &[u8]) {
        self.insert_hash(key_hash(key));
    }

    /// Adds the key whose [`key_hash`] is `hash` (for writers that learn the number of keys,
    /// and so the filter's size, only after seeing them all).
    pub(crate) fn insert_hash(&mut self, hash: u64) {
        let m = self.bits.len() as u64 * 8;
        if m == 0 || self.k == 0 {
            return;
        }
        for bit in probes_of_hash(hash, self.k, m) {
            self.bits[(bit / 8) as usize] |= 1 << (bit % 8);
        }
    }

    /// False only when `key` was certainly never inserted. An empty filter says true.
    pub(crate) fn may_contain(&self, key: &[u8]) -> bool {
        let m = self.bits.len() as u64 * 8;
        if m == 0 || self.k == 0 {
            return true;
        }
        probes(key, self.k, m).all(|bit| {
            self.bits
                .get((bit / 8) as usize)
                .is_some_and(|b| b & (1 << (bit % 8)) != 0)
        })
    }

    /// The raw bit array.
    pub(crate) fn bits(&self) -> &[u8] {
        &self.bits
    }

    /// Number of probes per key.
    pub(crate) fn hashes(&self) -> u32 {
        self.k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut b = Bloom::with_capacity(1000, 10);
        for i in 0..1000u32 {
            b.insert(format!("series-{i}").as_bytes());
        }
        for i in 0..1000u32 {
            assert!(b.may_contain(format!("series-{i}").as_bytes()));
        }
        let fp = (0..10_000u32)
            .filter(|i| b.may_contain(format!("other-{i}").as_bytes()))
            .count();
        assert!(fp < 300, "false positive rate too high: {fp}/10000");
    }

    #[test]
    fn hash_is_pinned() {
        // Part of the segment format (FORMAT.md): changing it breaks reading existing
        // segments. The FNV-1a 64 reference value of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(key_hash(b"a"), mix(0xaf63_dc4c_8601_ec8c));
        assert_eq!(key_hash(b""), 17_665_956_581_633_026_203);
        assert_eq!(key_hash(b"cpu/host-a"), 0xb256_fe56_1904_b230);
    }
}
