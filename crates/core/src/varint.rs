//! LEB128 varints and zigzag, as the commit log, segments, metric chunks, postcard and
//! protobuf all write them: one implementation for every byte format of the project.

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Maps a signed value onto an unsigned one so that small magnitudes stay small.
#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Reads an unsigned LEB128 varint at `*pos` and moves `*pos` past it; `None` (with `*pos`
/// somewhere inside) when the bytes end first or the varint is longer than 64 bits (ten
/// bytes at most, the tenth carrying one bit).
#[inline]
pub fn read_uvarint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    // One byte: the common case of every format here.
    let b = *buf.get(*pos)?;
    if b < 0x80 {
        *pos += 1;
        return Some(u64::from(b));
    }
    read_long(buf, pos)
}

fn read_long(buf: &[u8], pos: &mut usize) -> Option<u64> {
    // One 8-byte load (the last eight bytes of `buf`, shifted, when fewer follow `pos`): the
    // varint's last byte (the first without its high bit) found in one step and its 7-bit
    // groups gathered without a loop. Covers varints of up to eight bytes (56 bits):
    // millisecond timestamps take six, and often end their buffer (a protobuf sample).
    let avail = buf.len().saturating_sub(*pos);
    let word = if avail >= 8 {
        buf.get(*pos..*pos + 8)
    } else if avail > 0 {
        buf.get(buf.len().saturating_sub(8)..)
    } else {
        None
    };
    if let Some(word) = word.and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let word = u64::from_le_bytes(word);
        let (word, present) = if avail >= 8 { (word, u64::MAX) } else { (word >> (8 * (8 - avail)), (1u64 << (8 * avail)) - 1) };
        let ends = !word & 0x8080_8080_8080_8080 & present;
        if ends != 0 {
            // The varint's bytes (every bit up to its last byte's high bit), then their 7-bit
            // groups packed pairwise: 2 × 7 bits in 16, 2 × 14 in 32, 2 × 28 in 64.
            let x = word & (ends ^ (ends - 1)) & 0x7f7f_7f7f_7f7f_7f7f;
            let x = (x & 0x007f_007f_007f_007f) | ((x >> 1) & 0x3f80_3f80_3f80_3f80);
            let x = (x & 0x0000_3fff_0000_3fff) | ((x >> 2) & 0x0fff_c000_0fff_c000);
            let x = (x & 0x0000_0000_0fff_ffff) | ((x >> 4) & 0x00ff_ffff_f000_0000);
            *pos += (ends.trailing_zeros() / 8 + 1) as usize;
            return Some(x);
        }
    }
    let mut v = 0u64;
    for i in 0..10 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if i == 9 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_a_varint() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_uvarint(&out, &mut pos), Some(v));
            assert_eq!(pos, out.len());
        }
        let mut pos = 0;
        assert_eq!(read_uvarint(&[0xff; 11], &mut pos), None, "eleven bytes");
        assert_eq!(read_uvarint(&[0x80], &mut 0), None, "truncated");
        assert_eq!(read_uvarint(&[], &mut 0), None, "empty");
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(read_uvarint(&over, &mut 0), None, "65 bits");
        over[9] = 0x01;
        assert_eq!(read_uvarint(&over, &mut 0), Some(u64::MAX));
    }

    proptest::proptest! {
        /// Varints of every length read back from anywhere in a buffer: with eight bytes or
        /// more after them (one word), near the end (the buffer's last word, shifted) and in a
        /// buffer under eight bytes (byte by byte), non-canonical ones too.
        #[test]
        fn varints_read_back_wherever_they_end(values in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..12), shifts in proptest::collection::vec(0u32..64, 12), pad in 0u8..2) {
            let values: Vec<u64> = values.iter().zip(&shifts).map(|(v, s)| v >> s).collect();
            let mut out = Vec::new();
            for &v in &values {
                put_uvarint(&mut out, v);
            }
            // The same value padded to one more byte (0x80 then 0x00): still that value.
            if pad == 1 && values[0] < 1 << 56 {
                let mut padded = Vec::new();
                put_uvarint(&mut padded, values[0]);
                let last = padded.len() - 1;
                padded[last] |= 0x80;
                padded.push(0);
                let mut pos = 0;
                proptest::prop_assert_eq!(read_uvarint(&padded, &mut pos), Some(values[0]));
                proptest::prop_assert_eq!(pos, padded.len());
            }
            let mut pos = 0;
            for &v in &values {
                proptest::prop_assert_eq!(read_uvarint(&out, &mut pos), Some(v));
            }
            proptest::prop_assert_eq!(pos, out.len());
            // Cut anywhere inside the last varint: refused.
            let mut last = Vec::new();
            put_uvarint(&mut last, *values.last().unwrap_or(&0));
            if last.len() > 1 {
                let cut = &out[..out.len() - 1];
                let mut pos = 0;
                for _ in 1..values.len() {
                    proptest::prop_assert!(read_uvarint(cut, &mut pos).is_some());
                }
                proptest::prop_assert_eq!(read_uvarint(cut, &mut pos), None);
            }
        }
    }

    #[test]
    fn zigzag_keeps_small_magnitudes_small() {
        for v in [0i64, -1, 1, -64, 63, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!((zigzag(0), zigzag(-1), zigzag(1)), (0, 1, 2));
    }
}
