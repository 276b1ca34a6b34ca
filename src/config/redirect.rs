//! What a redirect may say: the spelling the viewer-request function matches paths in, and the
//! targets it can emit without sending visitors to a host the config does not name.

use unicode_normalization::UnicodeNormalization as _;

/// How the viewer-request function spells a redirect's `from` and the request path it compares
/// with it: Unicode NFC, then the characters browsers percent-encode in a path (controls, space,
/// `"`, `#`, `<`, `>`, `?`, backtick, `{`, `}`, non-ASCII) as UTF-8 escapes, and every escape in
/// upper case, so `/café`, `/caf%C3%A9` and `/caf%c3%a9` are one path.
pub fn redirect_path(path: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let nfc: String = path.nfc().collect();
    let bytes = nfc.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escape = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        if let (b'%', Some(hex)) = (b, escape) {
            out.push('%');
            out.extend(hex.iter().map(|h| char::from(h.to_ascii_uppercase())));
            i += 3;
            continue;
        }
        if b <= b' ' || b >= 0x7f || b"\"#<>?`{}".contains(&b) {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push(char::from(b));
        }
        i += 1;
    }
    out
}

/// A redirect target the function can emit without sending visitors to a host the config does not
/// name: a path (`/…`, not `//…` or `/\…`, which browsers read as a host) or an `http(s)://host`
/// URL whose `:splat` comes after `scheme://host/`. The function makes a path target safe whatever
/// the splat holds (`/:splat` with a splat of `/evil.com` stays on the site).
pub(super) fn check_redirect_target(to: &str) -> Result<(), String> {
    if to.chars().any(char::is_control) {
        return Err(format!(
            "`{}` contains a control character",
            to.escape_debug()
        ));
    }
    if let Some(path) = to.strip_prefix('/') {
        if path.starts_with(['/', '\\']) {
            return Err(format!(
                "`{to}` starts with `//` or `/\\`, which browsers read as another host; write \
                 `https://host/…` to send visitors to another site"
            ));
        }
        return Ok(());
    }
    let Some(rest) = to
        .strip_prefix("https://")
        .or_else(|| to.strip_prefix("http://"))
    else {
        return Err(format!(
            "`{to}` must be a path starting with `/` or an http(s) URL"
        ));
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let path_start = to.len() - rest.len() + authority.len();
    if let Some(splat) = to.find(":splat")
        && (splat <= path_start || !to[path_start..].starts_with('/'))
    {
        return Err(format!(
            "`{to}`: `:splat` must come after `scheme://host/` (as in \
             `https://example.org/:splat`), so that no request path can change the host"
        ));
    }
    if authority.contains('@') {
        return Err(format!(
            "`{to}` has a user name before `@`, which hides the real host from readers; write the \
             URL without it"
        ));
    }
    if !is_host_and_port(authority) {
        return Err(format!(
            "`{to}`: `{authority}` is not a host name (ASCII letters, digits, `-` and `.`, an \
             optional `:port`; an international name in its `xn--` form)"
        ));
    }
    Ok(())
}

/// `host` or `host:port`, the host a DNS name or an IPv4 or bracketed IPv6 address.
fn is_host_and_port(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.starts_with('[') || host.ends_with(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => {
            !ipv6.is_empty()
                && ipv6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        // A trailing dot is the fully qualified form of the same name.
        None => host
            .strip_suffix('.')
            .unwrap_or(host)
            .split('.')
            .all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }),
    };
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_paths_are_spelled_as_browsers_send_them() {
        assert_eq!(redirect_path("/cafe\u{301}"), "/caf%C3%A9");
        assert_eq!(redirect_path("/caf%c3%a9"), "/caf%C3%A9");
        assert_eq!(
            redirect_path("/a b\t\"#<>?`{}\u{7f}"),
            "/a%20b%09%22%23%3C%3E%3F%60%7B%7D%7F"
        );
        assert_eq!(redirect_path("/100%/%zz/%4"), "/100%/%zz/%4");
        assert_eq!(redirect_path("/文档/*"), "/%E6%96%87%E6%A1%A3/*");
        assert_eq!(
            redirect_path("/a-b_c.d~e!$&'()*+,;=:@"),
            "/a-b_c.d~e!$&'()*+,;=:@"
        );
    }
}
