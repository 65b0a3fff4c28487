//! Small, panic-free byte encoding helpers shared by the WAL and the segment format.

pub(crate) use watchtrail_core::varint::{put_uvarint, unzigzag, zigzag};

/// A bounds-checked little-endian reader over a byte slice; every accessor returns `None`
/// instead of panicking when the input is too short or malformed.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Consumes and returns the next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// Consumes exactly `N` bytes into an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }

    /// Little-endian u16.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// Little-endian u32.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// Little-endian u64.
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// Little-endian i64.
    pub(crate) fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }

    /// Unsigned LEB128 varint; `None` when truncated or longer than 64 bits.
    pub(crate) fn uvarint(&mut self) -> Option<u64> {
        watchtrail_core::varint::read_uvarint(self.buf, &mut self.pos)
    }

    /// A varint that must fit in `usize` and be at most `remaining()` (used for lengths).
    pub(crate) fn len_prefix(&mut self) -> Option<usize> {
        let n = usize::try_from(self.uvarint()?).ok()?;
        (n <= self.remaining()).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_rejects_overlong() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            let mut r = Reader::new(&out);
            assert_eq!(r.uvarint(), Some(v));
            assert_eq!(r.remaining(), 0);
        }
        assert_eq!(Reader::new(&[0xff; 11]).uvarint(), None);
        assert_eq!(Reader::new(&[0x80]).uvarint(), None);
        let mut overflow = vec![0xff; 9];
        overflow.push(0x02);
        assert_eq!(Reader::new(&overflow).uvarint(), None);
    }

    #[test]
    fn zigzag_round_trip() {
        for v in [0i64, -1, 1, -2, i64::MIN, i64::MAX, 123_456_789] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn reader_never_reads_past_end() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), None);
        assert_eq!(r.u16(), Some(0x0201));
        assert_eq!(r.bytes(2), None);
        assert_eq!(r.bytes(1), Some(&[3u8][..]));
        assert_eq!(r.remaining(), 0);
    }
}
