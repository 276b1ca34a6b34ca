//! An object's ETag as the manifest and the listing keep it: S3's ETags are almost always 32 hex
//! digits in quotes, with `-N` after a multipart upload, so they are held as 16 bytes and a part
//! count (no allocation; the manifest and the listing each hold one per file). Any other form is
//! kept as it came. Written back exactly as S3 sent it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Etag {
    /// `"<32 hex digits>"`, or `"<32 hex digits>-<parts>"` when `parts` is not 0.
    Hex {
        digest: [u8; 16],
        parts: u16,
    },
    Other(Box<str>),
}

impl Etag {
    pub fn new(text: &str) -> Etag {
        Etag::compact(text).unwrap_or_else(|| Etag::Other(text.into()))
    }

    fn compact(text: &str) -> Option<Etag> {
        let inner = text.strip_prefix('"')?.strip_suffix('"')?;
        let (hex, parts) = match inner.split_once('-') {
            Some((hex, parts)) => {
                // Only the canonical spelling of the count, so that writing it back is exact.
                if parts.starts_with('0') || !parts.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (hex, parts.parse::<u16>().ok()?)
            }
            None => (inner, 0),
        };
        if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut digest = [0u8; 16];
        for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let text = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
        }
        Some(Etag::Hex { digest, parts })
    }
}

impl Default for Etag {
    fn default() -> Etag {
        Etag::Other(Box::from(""))
    }
}

impl From<String> for Etag {
    fn from(text: String) -> Etag {
        Etag::compact(&text).unwrap_or_else(|| Etag::Other(text.into_boxed_str()))
    }
}

impl From<&str> for Etag {
    fn from(text: &str) -> Etag {
        Etag::new(text)
    }
}

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Etag::Hex { digest, parts } => {
                f.write_str("\"")?;
                for byte in digest {
                    write!(f, "{byte:02x}")?;
                }
                if *parts != 0 {
                    write!(f, "-{parts}")?;
                }
                f.write_str("\"")
            }
            Etag::Other(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Etag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Etag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Etag, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Etag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ETag")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Etag, E> {
                Ok(Etag::new(v))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_written_back_exactly_as_it_came() {
        for text in [
            "\"9b2cf535f27731c974343645a3985328\"",
            "\"9b2cf535f27731c974343645a3985328-12\"",
            "\"9b2cf535f27731c974343645a3985328-65535\"",
            // Kept as they came: upper case, a count of 0 or with a leading zero, too large a
            // count, no quotes, a weak validator, nothing.
            "\"9B2CF535F27731C974343645A3985328\"",
            "\"9b2cf535f27731c974343645a3985328-0\"",
            "\"9b2cf535f27731c974343645a3985328-012\"",
            "\"9b2cf535f27731c974343645a3985328-65536\"",
            "9b2cf535f27731c974343645a3985328",
            "W/\"abc\"",
            "",
        ] {
            let etag = Etag::new(text);
            assert_eq!(etag.to_string(), text);
            assert_eq!(Etag::from(text.to_owned()), etag);
            let json = serde_json::to_string(&etag).unwrap();
            assert_eq!(serde_json::from_str::<Etag>(&json).unwrap(), etag);
        }
        assert!(matches!(
            Etag::new("\"9b2cf535f27731c974343645a3985328-12\""),
            Etag::Hex { parts: 12, .. }
        ));
        assert_ne!(
            Etag::new("\"9b2cf535f27731c974343645a3985328\""),
            Etag::new("\"9b2cf535f27731c974343645a3985329\"")
        );
        assert!(std::mem::size_of::<Etag>() <= 24);
    }
}
