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

/// The walk's refusal of `dir`, with its first line (naming the folder and count) dropped.
fn refusals(dir: &Path, exclude: &GlobSet) -> Vec<String> {
    let err = walk(dir, exclude).unwrap_err();
    assert!(matches!(err, Error::Usage { .. }), "{err}");
    let text = err.to_string();
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(
        first.ends_with("file(s) that cannot be published:"),
        "{first}"
    );
    rest.lines().map(|l| l.trim_start().to_owned()).collect()
}

#[cfg(unix)]
#[test]
fn fifos_sockets_and_links_to_them_are_refused_unless_excluded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "i").unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("app.sock")).unwrap();
    std::os::unix::fs::symlink("pipe", dir.path().join("to-pipe")).unwrap();
    assert_eq!(
        refusals(dir.path(), &GlobSet::empty()),
        [
            "`app.sock`: a socket, not a regular file",
            "`pipe`: a FIFO (named pipe), not a regular file",
            "`to-pipe`: a symlink to `pipe`, a FIFO (named pipe), not a regular file",
        ]
    );
    let (files, skipped) = walk(dir.path(), &globs(&["pipe", "*-pipe", "*.sock"])).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(skipped.excluded, 3);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_refused_with_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "i").unwrap();
    std::os::unix::fs::symlink("b", dir.path().join("a")).unwrap();
    std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
    std::os::unix::fs::symlink("self", dir.path().join("self")).unwrap();
    assert_eq!(
        refusals(dir.path(), &GlobSet::empty()),
        [
            "`a`: a symlink loop (`a` → `b` → `a`)",
            "`b`: a symlink loop (`b` → `a` → `b`)",
            "`self`: a symlink loop (`self` → `self`)",
        ]
    );
}

#[test]
fn control_characters_and_keys_over_1024_bytes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new\nline.html"), "n").unwrap();
    std::fs::write(dir.path().join("del\u{7f}.html"), "d").unwrap();
    // Each folder name is within the file system's 255 bytes; the key is not within S3's 1,024.
    let deep: PathBuf = (0..6).map(|i| format!("{i}{}", "x".repeat(199))).collect();
    std::fs::create_dir_all(dir.path().join(&deep)).unwrap();
    std::fs::write(dir.path().join(&deep).join("index.html"), "deep").unwrap();
    let lines = refusals(dir.path(), &GlobSet::empty());
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("`0xxxxxxxxx")
            && lines[0].ends_with(
                "xxxxx/index.html`: its key is 1216 bytes long; S3 keys are at most 1024 bytes (UTF-8)"
            ),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "`del\\u{7f}.html`: the name contains the control character U+007F, which URLs and S3 \
         listings cannot carry as is"
    );
    assert_eq!(
        lines[2],
        "`new\\nline.html`: the name contains the control character U+000A, which URLs and S3 \
         listings cannot carry as is"
    );
}

#[test]
fn names_that_differ_only_in_case_are_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("A.html"), "upper").unwrap();
    std::fs::write(dir.path().join("a.html"), "lower").unwrap();
    let err = walk(dir.path(), &GlobSet::empty()).unwrap_err();
    assert!(matches!(err, Error::Usage { .. }));
    assert_eq!(
        err.to_string(),
        "`A.html` and `a.html` differ only in letter case: on a case-insensitive file system or \
         path they are one file, so one would hide the other"
    );
    let (files, _) = walk(dir.path(), &globs(&["A.html"])).unwrap();
    assert_eq!(files[0].key, "a.html");
}

#[test]
fn a_6_gib_sparse_file_is_walked_for_a_multipart_upload_and_one_over_the_limit_is_refused() {
    use crate::deploy::upload::{MULTIPART_THRESHOLD, PART_SIZE};
    let dir = tempfile::tempdir().unwrap();
    let big = std::fs::File::create(dir.path().join("disk.img")).unwrap();
    big.set_len(6 << 30).unwrap(); // sparse: no disk used
    let (files, _) = walk(dir.path(), &GlobSet::empty()).unwrap();
    assert_eq!(files[0].size, 6 << 30);
    assert!(files[0].size > MULTIPART_THRESHOLD);
    assert_eq!(
        files[0].size.div_ceil(PART_SIZE),
        768,
        "well within 10,000 parts"
    );
    big.set_len(MAX_FILE_SIZE + 1).unwrap();
    assert_eq!(
        refusals(dir.path(), &GlobSet::empty()),
        [
            "`disk.img`: 83886080001 bytes, over the 83886080000-byte (78.1 GiB) limit of an upload \
          (10000 parts of 8 MiB)"
        ]
    );
}
