//! Stage 1, walk: the files under the source folder, as S3 keys.
//!
//! Keys are the relative paths with `/` separators in Unicode NFC (what browsers send); two files
//! whose names differ only in normalisation or only in letter case would be one page, so they are
//! refused. Symlinks are followed only when their target stays inside the source folder; `exclude`
//! globs drop files. What cannot be published as a file — FIFOs, sockets, devices, symlink loops,
//! unreadable files, names that are not UTF-8 or hold control characters, keys over S3's 1,024
//! bytes, files too large to upload — is refused before anything is read or sent, every one listed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use unicode_normalization::UnicodeNormalization as _;

use super::upload::PART_SIZE;
use crate::error::{Error, Result};
use crate::output::escape;

/// S3's longest object key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;
/// S3's most parts in one multipart upload.
const MAX_PARTS: u64 = 10_000;
/// The largest file an upload can carry: [`MAX_PARTS`] parts of [`PART_SIZE`] (78.1 GiB).
pub const MAX_FILE_SIZE: u64 = MAX_PARTS * PART_SIZE;
/// Refusals listed in one error; the rest are counted.
const LISTED: usize = 20;

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

/// An entry of the source folder that cannot be published: its path as found (escaped) and why.
#[derive(Debug)]
struct Refusal {
    name: String,
    reason: String,
}

impl Refusal {
    fn new(relative: &Path, reason: impl Into<String>) -> Refusal {
        Refusal {
            name: shorten(&shown(relative)),
            reason: reason.into(),
        }
    }
}

pub fn walk(root: &Path, exclude: &GlobSet) -> Result<(Vec<LocalFile>, Skipped)> {
    let canonical_root = source_root(root)?;
    // Each file with its path as found on disk (before NFC), for the collision errors.
    let mut files: Vec<(LocalFile, String)> = Vec::new();
    let mut skipped = Skipped::default();
    let mut refused = Vec::new();
    let walker = ignore::WalkBuilder::new(&canonical_root)
        .standard_filters(false)
        .follow_links(false)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build();
    for entry in walker {
        let found = match entry {
            Ok(entry) => file_of(&entry, &canonical_root, exclude, &mut skipped),
            Err(e) => Err(unwalkable(&e, &canonical_root)),
        };
        match found {
            Ok(Some(file)) => files.push(file),
            Ok(None) => {}
            Err(refusal) => refused.push(refusal),
        }
    }
    if !refused.is_empty() {
        return Err(refusal_error(root, &refused));
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
    check_case_collisions(&files)?;
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

/// The file an entry publishes, with its path as found on disk; `None` for folders, skipped links
/// and excluded files; a [`Refusal`] for what cannot be published.
fn file_of(
    entry: &ignore::DirEntry,
    canonical_root: &Path,
    exclude: &GlobSet,
    skipped: &mut Skipped,
) -> Result<Option<(LocalFile, String)>, Refusal> {
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
    let key = key_of(relative).ok_or_else(|| {
        Refusal::new(
            relative,
            "the name is not valid UTF-8, so it cannot be an S3 key or a URL",
        )
    })?;
    if exclude.is_match(&key) {
        skipped.excluded += 1;
        return Ok(None);
    }
    check_key(&key).map_err(|reason| Refusal::new(relative, reason))?;
    let path = if file_type.is_symlink() {
        match link_target(entry.path(), canonical_root)
            .map_err(|reason| Refusal::new(relative, reason))?
        {
            Link::File(target) => target,
            Link::Folder => {
                skipped.folder_links.push(key);
                return Ok(None);
            }
            Link::Outside => {
                skipped.outside_links.push(key);
                return Ok(None);
            }
        }
    } else if file_type.is_file() {
        entry.path().to_owned()
    } else {
        return Err(Refusal::new(
            relative,
            format!("{}, not a regular file", special_kind(&file_type)),
        ));
    };
    let size = readable_size(&path).map_err(|reason| Refusal::new(relative, reason))?;
    let on_disk = relative.to_str().expect("checked by key_of").to_owned();
    Ok(Some((LocalFile { key, path, size }, on_disk)))
}

/// What a key may not be: control characters (URLs, S3 listings and terminals mangle them) and
/// longer than S3 allows.
fn check_key(key: &str) -> Result<(), String> {
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the name contains the control character U+{:04X}, which URLs and S3 listings \
             cannot carry as is",
            u32::from(c)
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "its key is {} bytes long; S3 keys are at most {MAX_KEY_BYTES} bytes (UTF-8)",
            key.len()
        ));
    }
    Ok(())
}

/// Where a symlink inside the source folder leads.
enum Link {
    /// A file inside the source folder: published under the link's name.
    File(PathBuf),
    /// A folder inside the source folder: not followed.
    Folder,
    /// Outside the source folder, or nowhere (dangling): not followed.
    Outside,
}

fn link_target(link: &Path, canonical_root: &Path) -> Result<Link, String> {
    let target = match link.canonicalize() {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Link::Outside),
        Err(e) => {
            return Err(match link_loop(link) {
                Some(chain) => format!("a symlink loop ({chain})"),
                None => format!("a symlink that cannot be resolved: {e}"),
            });
        }
    };
    if !target.starts_with(canonical_root) {
        return Ok(Link::Outside);
    }
    let metadata = std::fs::metadata(&target).map_err(|e| format!("cannot be read: {e}"))?;
    let inside = target.strip_prefix(canonical_root).unwrap_or(&target);
    let shown = escape(&inside.to_string_lossy()).into_owned();
    if metadata.is_file() {
        Ok(Link::File(target))
    } else if metadata.is_dir() {
        Ok(Link::Folder)
    } else {
        Err(format!(
            "a symlink to `{shown}`, {}, not a regular file",
            special_kind(&metadata.file_type())
        ))
    }
}

/// The chain `a → b → a` when following `link` comes back to a link already met.
fn link_loop(link: &Path) -> Option<String> {
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let mut chain = vec![link.to_owned()];
    let mut current = link.to_owned();
    for _ in 0..40 {
        let target = std::fs::read_link(&current).ok()?;
        let next = current.parent().map_or(target.clone(), |p| p.join(&target));
        let looped = chain.contains(&next);
        chain.push(next.clone());
        if looped {
            let names: Vec<String> = chain
                .iter()
                .map(|p| escape(&name(p)).into_owned())
                .collect();
            return Some(format!("`{}`", names.join("` → `")));
        }
        current = next;
    }
    None
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// The size of a regular file this process can read (opening it proves that), within what an
/// upload can carry.
fn readable_size(path: &Path) -> Result<u64, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let size = metadata.len();
    if size > MAX_FILE_SIZE {
        return Err(format!(
            "{size} bytes, over the {MAX_FILE_SIZE}-byte (78.1 GiB) limit of an upload \
             ({MAX_PARTS} parts of {} MiB)",
            PART_SIZE >> 20
        ));
    }
    Ok(size)
}

/// A folder the walk could not enter (or another error of the walk), as a refusal.
fn unwalkable(error: &ignore::Error, canonical_root: &Path) -> Refusal {
    let mut inner = error;
    let mut path = None;
    loop {
        match inner {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(p.clone());
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err;
            }
            _ => break,
        }
    }
    let reason = match inner.io_error() {
        // The walk's I/O errors wrap the system's error in one that repeats the path.
        Some(e) => {
            let system = std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .unwrap_or(e);
            format!("folder cannot be read: {system}")
        }
        None => format!("cannot be walked: {inner}"),
    };
    let relative = path
        .as_deref()
        .and_then(|p| p.strip_prefix(canonical_root).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Refusal::new(relative, reason)
}

fn refusal_error(root: &Path, refused: &[Refusal]) -> Error {
    let mut lines: Vec<String> = refused
        .iter()
        .take(LISTED)
        .map(|r| format!("  `{}`: {}", r.name, r.reason))
        .collect();
    if refused.len() > LISTED {
        lines.push(format!("  ... and {} more", refused.len() - LISTED));
    }
    Error::usage_with_hint(
        format!(
            "the source folder `{}` has {} file(s) that cannot be published:\n{}",
            escape(&root.display().to_string()),
            refused.len(),
            lines.join("\n")
        ),
        "only readable regular files (and symlinks to them inside the folder) are published: \
         remove, rename or fix these, or add them to `deploy.exclude`",
    )
}

/// A path as text: control characters escaped, bytes that are not UTF-8 as `\xE9`.
fn shown(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::fmt::Write as _;
        use std::os::unix::ffi::OsStrExt as _;
        let mut out = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(&escape(chunk.valid()));
            for byte in chunk.invalid() {
                let _ = write!(out, "\\x{byte:02X}");
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        escape(&path.to_string_lossy()).into_owned()
    }
}

/// A long name as its start and end, so that an error line stays readable.
fn shorten(name: &str) -> String {
    const KEEP: usize = 40;
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= 2 * KEEP + 1 {
        return name.to_owned();
    }
    let head: String = chars[..KEEP].iter().collect();
    let tail: String = chars[chars.len() - KEEP..].iter().collect();
    format!("{head}…{tail}")
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

/// Two keys that differ only in letter case are one file on a case-insensitive file system
/// (macOS, Windows: where sites are often built and checked out) and one path to people and
/// links that do not mind case: one would hide the other. Refused, naming both.
fn check_case_collisions(files: &[(LocalFile, String)]) -> Result<()> {
    let mut seen: HashMap<String, &str> = HashMap::with_capacity(files.len());
    for (file, _) in files {
        if let Some(first) = seen.insert(file.key.to_lowercase(), &file.key) {
            return Err(Error::usage_with_hint(
                format!(
                    "`{}` and `{}` differ only in letter case: on a case-insensitive file \
                     system or path they are one file, so one would hide the other",
                    escape(first),
                    escape(&file.key)
                ),
                "rename or remove one of them, or add one to `deploy.exclude`",
            ));
        }
    }
    Ok(())
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

/// The key of a relative path: `/`-separated, each part in NFC; `None` if a part is not UTF-8.
fn key_of(relative: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in relative.components() {
        parts.push(component.as_os_str().to_str()?.nfc().collect::<String>());
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests;
