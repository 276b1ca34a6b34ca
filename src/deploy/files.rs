//! The files of a manifest or deploy record, by key: one vector sorted by key, searched by
//! bisection. A `BTreeMap` filled one key at a time, as a parser fills it, leaves its nodes about
//! half full, which at 100,000 files is some 20 MB more for the same entries. Stored as the same
//! JSON object as before.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::manifest::Entry;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files(Vec<(String, Entry)>);

impl Files {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Adds or replaces `key`'s entry (keys that come in order are appended).
    pub fn insert(&mut self, key: String, entry: Entry) -> Option<Entry> {
        if self.0.last().is_none_or(|(last, _)| *last < key) {
            self.0.push((key, entry));
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, entry)),
            Err(i) => {
                self.0.insert(i, (key, entry));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.0.iter().map(|(k, e)| (k, e))
    }

    /// Sorted by key, the last of equal keys kept (what inserting them in turn would leave).
    fn from_unsorted(mut entries: Vec<(String, Entry)>) -> Files {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            entries.reverse();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, earlier| later.0 == earlier.0);
        }
        entries.shrink_to_fit();
        Files(entries)
    }
}

impl<'a> IntoIterator for &'a Files {
    type Item = (&'a String, &'a Entry);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Entry)>,
        fn(&'a (String, Entry)) -> (&'a String, &'a Entry),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, e)| (k, e))
    }
}

impl FromIterator<(String, Entry)> for Files {
    fn from_iter<I: IntoIterator<Item = (String, Entry)>>(iter: I) -> Files {
        Files::from_unsorted(iter.into_iter().collect())
    }
}

impl std::ops::Index<&str> for Files {
    type Output = Entry;
    fn index(&self, key: &str) -> &Entry {
        self.get(key)
            .unwrap_or_else(|| panic!("no entry for `{key}`"))
    }
}

impl std::ops::Index<&String> for Files {
    type Output = Entry;
    fn index(&self, key: &String) -> &Entry {
        &self[key.as_str()]
    }
}

impl Serialize for Files {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, entry) in &self.0 {
            map.serialize_entry(key, entry)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Files {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Files, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Files;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of keys to entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Files, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry::<String, Entry>()? {
                    entries.push(pair);
                }
                Ok(Files::from_unsorted(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::sha::Sha;

    fn entry(size: u64) -> Entry {
        Entry {
            sha256: Sha::of(&size.to_le_bytes()),
            size,
            content_type: "text/html".into(),
            cache_control: "no-cache".into(),
            etag: "\"e\"".into(),
            version_id: None,
            csp: None,
            csp_fallback: None,
        }
    }

    #[test]
    fn lookups_inserts_and_the_json_form_behave_as_a_sorted_map() {
        let mut files = Files::default();
        for (key, size) in [("b", 2), ("d", 4), ("a", 1), ("c", 3), ("b", 20)] {
            files.insert(key.to_owned(), entry(size));
        }
        let keys: Vec<&String> = files.keys().collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        assert_eq!(files["b"].size, 20);
        assert!(files.contains_key("c") && !files.contains_key("e"));
        assert_eq!(files.get("e"), None);
        files.get_mut("a").unwrap().size = 10;
        assert_eq!(files[&"a".to_owned()].size, 10);

        // The stored form is the JSON object it always was; an unsorted or repeated one is read
        // as inserting its entries in turn would leave them.
        let json = serde_json::to_value(&files).unwrap();
        assert_eq!(json["d"]["size"], 4);
        let text = serde_json::to_string(&files).unwrap();
        assert_eq!(serde_json::from_str::<Files>(&text).unwrap(), files);
        let shuffled = format!(
            "{{\"d\":{},\"a\":{},\"d\":{}}}",
            serde_json::to_string(&entry(4)).unwrap(),
            serde_json::to_string(&entry(1)).unwrap(),
            serde_json::to_string(&entry(40)).unwrap()
        );
        let read: Files = serde_json::from_str(&shuffled).unwrap();
        assert_eq!(read.keys().collect::<Vec<_>>(), ["a", "d"]);
        assert_eq!(read["d"].size, 40);
        let collected: Files = [("z".to_owned(), entry(1)), ("y".to_owned(), entry(2))]
            .into_iter()
            .collect();
        assert_eq!(collected.keys().collect::<Vec<_>>(), ["y", "z"]);
    }
}
