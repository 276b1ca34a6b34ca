//! Header values shared by many files: a site has a handful of content types and cache policies,
//! so each distinct value is allocated once and every per-file record holds a pointer to it (two
//! `String`s per record cost about 140 bytes; two `Arc<str>` 32).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::{Deserializer, Serializer};

pub type Shared = Arc<str>;

static SEEN: Mutex<Option<HashSet<Shared>>> = Mutex::new(None);

/// The one shared copy of `value`.
pub fn intern(value: &str) -> Shared {
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashSet::new);
    if let Some(shared) = seen.get(value) {
        return shared.clone();
    }
    let shared: Shared = Arc::from(value);
    // Header values are few; a site with many distinct ones (e.g. a cache rule per file) still
    // gets correct records, only without the saving beyond this bound.
    if seen.len() < 4096 {
        seen.insert(shared.clone());
    }
    shared
}

/// `#[serde(deserialize_with)]`: a string, interned.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Shared, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Shared;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Shared, E> {
            Ok(intern(v))
        }
    }
    d.deserialize_str(Visitor)
}

/// `#[serde(serialize_with)]`.
#[allow(clippy::ptr_arg)] // the signature serde asks for
pub fn serialize<S: Serializer>(value: &Shared, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_allocation() {
        let a = intern("text/html; charset=utf-8");
        let b = intern(&String::from("text/html; charset=utf-8"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &intern("text/css; charset=utf-8")));
        assert_eq!(&*a, "text/html; charset=utf-8");
    }
}
