//! `Content-Encoding: gzip` request bodies, decompressed with a ceiling so that a small body
//! cannot expand without bound.

use std::io::Read;

/// Why a compressed body was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    /// Not a valid gzip stream.
    #[error("request body is not valid gzip: {0}")]
    Invalid(String),
    /// Decompressed size exceeds the limit.
    #[error("decompressed request body exceeds {0} bytes")]
    TooLarge(usize),
}

/// Decompresses `body`, refusing output larger than `limit` bytes.
pub fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, GzipError> {
    let decoder = flate2::read::MultiGzDecoder::new(body);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| GzipError::Invalid(e.to_string()))?;
    if out.len() > limit {
        return Err(GzipError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trip_and_limits() {
        assert_eq!(decompress(&gz(b"hello"), 10).unwrap(), b"hello");
        assert_eq!(decompress(&gz(&[0u8; 1000]), 999), Err(GzipError::TooLarge(999)));
        assert!(matches!(decompress(b"not gzip", 100), Err(GzipError::Invalid(_))));
        let mut truncated = gz(b"hello world");
        truncated.truncate(truncated.len() - 4);
        assert!(decompress(&truncated, 100).is_err());
    }
}
