//! The bytes of a config file as text: TOML is UTF-8, so a file saved in another encoding (UTF-16
//! from a Windows editor or PowerShell's `>`, Latin-1 or Windows-1252) is refused naming the
//! encoding it looks like and, for a stray byte, its line and column.

/// The file's text (a UTF-8 byte-order mark is dropped), or what encoding it seems to be in.
pub(super) fn decode(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(bom) = other_bom(&bytes) {
        return Err(format!(
            "the file is {bom} (it starts with that byte-order mark); TOML files must be UTF-8"
        ));
    }
    if let Some(order) = utf16_without_bom(&bytes) {
        return Err(format!(
            "the file looks like UTF-16 ({order}, without a byte-order mark: every other byte is \
             zero); TOML files must be UTF-8"
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text
            .strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text)),
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = &bytes[..at];
            let line = memchr::memchr_iter(b'\n', before).count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            // Columns count characters, as `toml` does; the part before `at` is valid UTF-8.
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            let byte = bytes[at];
            Err(format!(
                "line {line}, column {column}: the byte 0x{byte:02X} is not UTF-8{}; TOML files \
                 must be UTF-8",
                single_byte_reading(byte)
            ))
        }
    }
}

/// The name of a UTF-16 or UTF-32 byte-order mark at the start of `bytes`.
fn other_bom(bytes: &[u8]) -> Option<&'static str> {
    // UTF-32 LE starts like UTF-16 LE: test it first.
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        Some("UTF-32 (little-endian)")
    } else if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        Some("UTF-32 (big-endian)")
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        Some("UTF-16 (little-endian)")
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

/// `little-endian` or `big-endian` when most odd (or even) bytes are zero, as in UTF-16 text
/// that is mostly ASCII; TOML text never holds a NUL byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() < 4 || !bytes.contains(&0) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let zero_at = |offset: usize| {
        bytes
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    if zero_at(1) * 2 > pairs {
        Some("little-endian")
    } else if zero_at(0) * 2 > pairs {
        Some("big-endian")
    } else {
        None
    }
}

/// What a byte that is not UTF-8 reads as in the single-byte encodings editors save in.
fn single_byte_reading(byte: u8) -> String {
    match byte {
        // Latin-1 and Windows-1252 agree on 0xA0-0xFF.
        0xA0..=0xFF => format!(
            " (it is `{}` in Latin-1 / ISO-8859-1 and Windows-1252: the file seems to be saved \
             in one of those)",
            char::from(byte)
        ),
        0x80..=0x9F => " (a Windows-1252 punctuation byte, such as a curly quote or a dash: the \
                        file seems to be saved in Windows-1252)"
            .to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    const TEXT: &str = "[site]\nname = \"docs\"\nsource = \"dist\"\n";

    #[test]
    fn utf8_with_or_without_a_byte_order_mark_is_text() {
        assert_eq!(decode(TEXT.into()).unwrap(), TEXT);
        let with_bom = [&b"\xEF\xBB\xBF"[..], TEXT.as_bytes()].concat();
        assert_eq!(decode(with_bom).unwrap(), TEXT);
    }

    #[test]
    fn utf16_and_utf32_are_named() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            decode(le).unwrap_err(),
            "the file is UTF-16 (little-endian) (it starts with that byte-order mark); TOML \
             files must be UTF-8"
        );
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert!(
            decode(be)
                .unwrap_err()
                .starts_with("the file is UTF-16 (big-endian)")
        );
        let no_bom: Vec<u8> = TEXT.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(
            decode(no_bom)
                .unwrap_err()
                .starts_with("the file looks like UTF-16 (little-endian, without a byte-order")
        );
        let utf32: Vec<u8> = [0xFF, 0xFE, 0, 0]
            .into_iter()
            .chain(TEXT.chars().flat_map(|c| u32::from(c).to_le_bytes()))
            .collect();
        assert!(
            decode(utf32)
                .unwrap_err()
                .starts_with("the file is UTF-32 (little-endian)")
        );
    }

    #[test]
    fn latin1_and_windows_1252_bytes_are_placed_and_read() {
        let latin1 = b"[site]\nname = \"docs\" # caf\xE9\n".to_vec();
        assert_eq!(
            decode(latin1).unwrap_err(),
            "line 2, column 20: the byte 0xE9 is not UTF-8 (it is `\u{e9}` in Latin-1 / \
             ISO-8859-1 and Windows-1252: the file seems to be saved in one of those); TOML \
             files must be UTF-8"
        );
        let cp1252 = b"# \xE2\x80\x94 fine, then \x93quoted\x94\n".to_vec();
        let error = decode(cp1252).unwrap_err();
        assert!(
            error.starts_with("line 1, column 16: the byte 0x93 is not UTF-8 (a Windows-1252"),
            "{error}"
        );
    }
}
