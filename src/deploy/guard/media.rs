//! Which files the content rules skip: media (images, audio, video, fonts, compressed archives)
//! that is what its extension says. A file is skipped only when its first bytes carry its
//! format's signature too, so a text file saved as `notes.png` is still read; every other file,
//! whatever its extension or none, is scanned.

/// A format's signature check on the first bytes of the file.
pub type Signature = fn(&[u8]) -> bool;

/// The signature a file named `key` must start with to be skipped, if its extension is media.
pub fn signature(key: &str) -> Option<Signature> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (_, extension) = name.rsplit_once('.')?;
    let check: Signature = match extension.to_ascii_lowercase().as_str() {
        "png" | "apng" => |b| b.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" | "jpe" | "jfif" => |b| b.starts_with(&[0xFF, 0xD8, 0xFF]),
        "gif" => |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
        "webp" => |b| riff(b, b"WEBP"),
        "wav" => |b| riff(b, b"WAVE"),
        "avi" => |b| riff(b, b"AVI "),
        // ISO base media: `....ftyp` (AVIF, HEIF and the MP4 family).
        "avif" | "heic" | "heif" | "mp4" | "m4v" | "m4a" | "mov" | "3gp" => {
            |b| b.get(4..8) == Some(b"ftyp")
        }
        "ico" | "cur" => |b| b.starts_with(&[0, 0, 1, 0]) || b.starts_with(&[0, 0, 2, 0]),
        "bmp" => |b| b.starts_with(b"BM"),
        "tif" | "tiff" => |b| b.starts_with(b"II*\0") || b.starts_with(b"MM\0*"),
        "jxl" => |b| b.starts_with(&[0xFF, 0x0A]) || b.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n"),
        "webm" | "mkv" | "mka" => |b| b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]),
        // ID3 tag, or an MPEG audio frame sync.
        "mp3" => |b| b.starts_with(b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0),
        "ogg" | "oga" | "ogv" | "opus" => |b| b.starts_with(b"OggS"),
        "flac" => |b| b.starts_with(b"fLaC"),
        "woff" => |b| b.starts_with(b"wOFF"),
        "woff2" => |b| b.starts_with(b"wOF2"),
        "ttf" => |b| b.starts_with(&[0, 1, 0, 0]) || b.starts_with(b"true"),
        "otf" => |b| b.starts_with(b"OTTO"),
        "eot" => |b| b.get(34..36) == Some(b"LP"),
        // Compressed archives (their bytes cannot be searched); a plain `.tar` is read.
        "zip" | "jar" | "epub" | "docx" | "xlsx" | "pptx" | "odt" | "ods" | "odp" => {
            |b| b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06")
        }
        "gz" | "tgz" => |b| b.starts_with(&[0x1F, 0x8B]),
        "bz2" => |b| b.starts_with(b"BZh"),
        "xz" => |b| b.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]),
        "zst" => |b| b.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]),
        "7z" => |b| b.starts_with(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C]),
        "rar" => |b| b.starts_with(b"Rar!\x1a\x07"),
        _ => return None,
    };
    Some(check)
}

fn riff(bytes: &[u8], form: &[u8; 4]) -> bool {
    bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(form)
}
