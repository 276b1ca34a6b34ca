//! Stage 1, walk: the files under the source folder, as S3 keys.
//!
//! Keys are the relative paths with `/` separators in Unicode NFC (what browsers send); two files
//! whose names differ only in normalisation would be one key, so they are refused. Symlinks are
//! followed only when their target stays inside the source folder; `exclude` globs drop files.

use std::path::{Path, PathBuf};

use globset::GlobSet;
use unicode_normalization::UnicodeNormalization as _;

use crate::error::{Error, Result};
use crate::output::escape;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// The object key, e.g. `docs/index.html`.
    pub key: String,
    /// Where the bytes are read from (a symlink's target, for symlinks).
    pub path: PathBuf,
    pub size: u64,
}

/// What the walk found besides the files, for warnings.
#[derive(Debug, Default)]
pub struct Skipped {
    /// Symlinks whose target is outside the source folder (or dangling).
    pub outside_links: Vec<String>,
    /// Symlinks to a folder inside the source folder: not followed (the folder is published
    /// under its own name), so a link loop cannot make the walk endless.
    pub folder_links: Vec<String>,
    pub excluded: usize,
}

pub fn walk(root: &Path, exclude: &GlobSet) -> Result<(Vec<LocalFile>, Skipped)> {
    let canonical_root = source_root(root)?;
    // Each file with its path as found on disk (before NFC), for the collision error.
    let mut files: Vec<(LocalFile, String)> = Vec::new();
    let mut skipped = Skipped::default();
    let walker = ignore::WalkBuilder::new(&canonical_root)
        .standard_filters(false)
        .follow_links(false)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| {
            Error::Other(anyhow::Error::new(e).context("cannot walk the source folder"))
        })?;
        if let Some(found) = file_of(&entry, &canonical_root, exclude, &mut skipped)? {
            files.push(found);
        }
    }
    if files.is_empty() {
        return Err(Error::usage_with_hint(
            format!(
                "source folder `{}` has no files to publish",
                escape(&root.display().to_string())
            ),
            "build the site first; a deploy of an empty folder would delete the whole site",
        ));
    }
    files.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    check_nfc_collisions(&files)?;
    Ok((files.into_iter().map(|(f, _)| f).collect(), skipped))
}

/// The source folder, resolved; a missing one or a file is the user's to fix.
fn source_root(root: &Path) -> Result<std::path::PathBuf> {
    let canonical_root = root.canonicalize().map_err(|e| {
        Error::usage_with_hint(
            format!("source folder `{}` cannot be read: {e}", escape(&root.display().to_string())),
            "build the site first, or set `site.source` in sitewarden.toml to the build output folder",
        )
    })?;
    if !canonical_root.is_dir() {
        return Err(Error::usage(format!(
            "source `{}` is not a folder",
            escape(&root.display().to_string())
        )));
    }
    Ok(canonical_root)
}

/// The file an entry publishes, with its path as found on disk; `None` for folders, skipped links,
/// excluded files and special files.
fn file_of(
    entry: &ignore::DirEntry,
    canonical_root: &Path,
    exclude: &GlobSet,
    skipped: &mut Skipped,
) -> Result<Option<(LocalFile, String)>> {
    let Some(file_type) = entry.file_type() else {
        return Ok(None);
    };
    let relative = entry
        .path()
        .strip_prefix(canonical_root)
        .expect("walk stays under its root");
    if relative.as_os_str().is_empty() || file_type.is_dir() {
        return Ok(None);
    }
    let key = key_of(relative)?;
    let path = if file_type.is_symlink() {
        match entry.path().canonicalize() {
            Ok(target) if target.starts_with(canonical_root) && target.is_file() => target,
            Ok(target) if target.starts_with(canonical_root) && target.is_dir() => {
                skipped.folder_links.push(key);
                return Ok(None);
            }
            _ => {
                skipped.outside_links.push(key);
                return Ok(None);
            }
        }
    } else if file_type.is_file() {
        entry.path().to_owned()
    } else {
        return Ok(None); // sockets, fifos, devices
    };
    if exclude.is_match(&key) {
        skipped.excluded += 1;
        return Ok(None);
    }
    let size = std::fs::metadata(&path)
        .map_err(|e| {
            Error::Other(anyhow::Error::new(e).context(format!("cannot read `{}`", path.display())))
        })?
        .len();
    let on_disk = relative.to_str().expect("checked by key_of").to_owned();
    Ok(Some((LocalFile { key, path, size }, on_disk)))
}

/// Two files whose names are equal after NFC would be one S3 key: refused, naming both.
fn check_nfc_collisions(files: &[(LocalFile, String)]) -> Result<()> {
    let Some(pair) = files.windows(2).find(|w| w[0].0.key == w[1].0.key) else {
        return Ok(());
    };
    Err(Error::usage_with_hint(
        format!(
            "`{}` and `{}` are both published as `{}`: their names differ only in Unicode \
             normalisation, and S3 keys are NFC (what browsers send), so one would \
             overwrite the other",
            spelled(&pair[0].1),
            spelled(&pair[1].1),
            escape(&pair[0].0.key)
        ),
        "rename or remove one of them",
    ))
}

/// `path` with every non-ASCII character as its code point (`cafe\u{301}`), so two names that
/// look the same on a terminal can be told apart.
fn spelled(path: &str) -> String {
    use std::fmt::Write as _;
    let escaped = escape(path);
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    out
}

fn key_of(relative: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for component in relative.components() {
        let text = component.as_os_str().to_str().ok_or_else(|| {
            Error::usage(format!(
                "file name `{}` is not valid UTF-8 and cannot be an S3 key",
                escape(&relative.to_string_lossy())
            ))
        })?;
        parts.push(text.nfc().collect::<String>());
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> GlobSet {
        let mut b = globset::GlobSetBuilder::new();
        for p in patterns {
            b.add(
                globset::GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .unwrap(),
            );
        }
        b.build().unwrap()
    }

    #[test]
    fn keys_are_slash_separated_nfc_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        std::fs::write(dir.path().join("b/c/x y#?%+.html"), "1").unwrap();
        // "é" as e + combining acute (NFD) must become the single NFC character.
        std::fs::write(dir.path().join("cafe\u{301}.txt"), "22").unwrap();
        std::fs::write(dir.path().join("a.js.map"), "3").unwrap();
        let (files, skipped) = walk(dir.path(), &globs(&["**/*.map"])).unwrap();
        let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["b/c/x y#?%+.html", "caf\u{e9}.txt"]);
        assert_eq!(files[1].size, 2);
        assert_eq!(skipped.excluded, 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "i").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            dir.path().join("leak.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(dir.path().join("index.html"), dir.path().join("alias.html"))
            .unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/page.html"), "p").unwrap();
        std::os::unix::fs::symlink(dir.path().join("docs"), dir.path().join("manual")).unwrap();
        let (files, skipped) = walk(dir.path(), &GlobSet::empty()).unwrap();
        let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["alias.html", "docs/page.html", "index.html"]);
        assert_eq!(skipped.outside_links, ["leak.txt"]);
        assert_eq!(skipped.folder_links, ["manual"]);
    }

    #[test]
    fn names_equal_after_nfc_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("menu")).unwrap();
        std::fs::write(dir.path().join("menu/caf\u{e9}.html"), "precomposed").unwrap();
        std::fs::write(dir.path().join("menu/cafe\u{301}.html"), "decomposed").unwrap();
        let err = walk(dir.path(), &GlobSet::empty()).unwrap_err();
        assert!(matches!(err, Error::Usage { .. }));
        assert_eq!(
            err.to_string(),
            "`menu/cafe\\u{301}.html` and `menu/caf\\u{e9}.html` are both published as \
             `menu/caf\u{e9}.html`: their names differ only in Unicode normalisation, and S3 \
             keys are NFC (what browsers send), so one would overwrite the other"
        );
        // Folders collide the same way.
        let dir = tempfile::tempdir().unwrap();
        for folder in ["\u{c5}ngstr\u{f6}m", "A\u{30a}ngstro\u{308}m"] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join("index.html"), "x").unwrap();
        }
        let err = walk(dir.path(), &GlobSet::empty()).unwrap_err();
        assert!(
            err.to_string()
                .contains("index.html` are both published as"),
            "{err}"
        );
    }

    #[test]
    fn missing_and_empty_folders_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = walk(&dir.path().join("dist"), &GlobSet::empty()).unwrap_err();
        assert!(matches!(missing, Error::Usage { .. }));
        assert!(
            missing.to_string().contains("dist` cannot be read"),
            "{missing}"
        );
        let empty = walk(dir.path(), &GlobSet::empty()).unwrap_err();
        assert!(
            empty.to_string().ends_with("has no files to publish"),
            "{empty}"
        );
    }
}
