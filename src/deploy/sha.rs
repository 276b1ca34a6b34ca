//! A SHA-256 digest kept as its 32 bytes: the form every per-file record holds (a hex `String`
//! costs three times the memory plus an allocation per file, and a 100,000-file site holds several
//! records per file). It is written as lowercase hex wherever it is stored or sent (manifest,
//! digest cache, `x-amz-meta-sha256`), so the stored forms are unchanged. [`Sha::UNKNOWN`] (all
//! zeros, which no content hashes to in practice) stands for an object with no recorded digest,
//! stored as `""` as before: it never equals a file's digest, so such an object is uploaded again.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sha(pub [u8; 32]);

impl Sha {
    pub const UNKNOWN: Sha = Sha([0; 32]);

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha {
        use sha2::Digest as _;
        Sha(sha2::Sha256::digest(bytes).into())
    }

    /// Parses 64 hex digits (either case); `None` for anything else.
    pub fn parse(hex: &str) -> Option<Sha> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Sha(out))
    }

    /// Lowercase hex, as stored.
    pub fn hex(&self) -> String {
        self.to_string()
    }

    /// The base64 form S3 uses in `x-amz-checksum-sha256`.
    pub fn base64(&self) -> String {
        aws_smithy_types::base64::encode(self.0)
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl From<[u8; 32]> for Sha {
    fn from(bytes: [u8; 32]) -> Sha {
        Sha(bytes)
    }
}

impl fmt::Display for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0xf)];
        }
        f.write_str(std::str::from_utf8(&out).expect("hex digits are ASCII"))
    }
}

impl fmt::Debug for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Sha {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if *self == Sha::UNKNOWN {
            return s.serialize_str("");
        }
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sha, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = Sha;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 as 64 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sha, E> {
                if v.is_empty() {
                    return Ok(Sha::UNKNOWN);
                }
                Sha::parse(v).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(Hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_matches_the_reference_digest() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let sha = Sha::of(b"abc");
        assert_eq!(sha.hex(), abc);
        assert_eq!(Sha::parse(abc), Some(sha));
        assert_eq!(Sha::parse(&abc.to_uppercase()), Some(sha));
        assert_eq!(sha.base64(), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        let json = serde_json::to_string(&sha).unwrap();
        assert_eq!(json, format!("\"{abc}\""));
        assert_eq!(serde_json::from_str::<Sha>(&json).unwrap(), sha);
    }

    #[test]
    fn anything_but_64_hex_digits_is_refused() {
        for bad in [
            "",
            "ab",
            &"g".repeat(64),
            &"a".repeat(63),
            &"a".repeat(65),
            &"é".repeat(32),
        ] {
            assert_eq!(Sha::parse(bad), None, "{bad:?}");
        }
        assert!(serde_json::from_str::<Sha>("\"abc\"").is_err());
        // No recorded digest: stored as "", as before.
        assert_eq!(serde_json::from_str::<Sha>("\"\"").unwrap(), Sha::UNKNOWN);
        assert_eq!(serde_json::to_string(&Sha::UNKNOWN).unwrap(), "\"\"");
        assert!(serde_json::from_str::<Sha>("12").is_err());
    }
}
