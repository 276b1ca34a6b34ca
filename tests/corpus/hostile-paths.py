#!/usr/bin/env python3
"""Writes hostile-paths.txt: request paths an attacker would try against the viewer-request
function's redirects, from how browsers (WHATWG URL parsing) read a Location header.

Each line of the output is one path as a JSON string (so tabs, newlines, NUL and lone surrogates
survive); `#` lines are comments naming the family that follows. Run it again after editing:
    python3 tests/corpus/hostile-paths.py > tests/corpus/hostile-paths.txt
"""

import json

HOSTS = [
    "evil.com",
    "3627734734",  # decimal IPv4
    "0xd83ad6ce",  # hexadecimal IPv4
    "0330.072.0326.0316",  # octal IPv4
    "216.58.214.206",
    "[::ffff:d83a:d6ce]",
    "evil%2Eexample",  # the dot only after decoding
    "evil\u3002com",  # ideographic full stop, `.` after IDNA
    "evil\uff0ecom",  # fullwidth full stop
    "\uff45\uff56\uff49\uff4c.com",  # fullwidth letters
    "evil.com:443",
    "@evil.com",
    "user:pass@evil.com",
    "example.com@evil.com",
]

# Ways to start a path that a browser may read as `//` (another host), or that decode to it.
STARTS = [
    "//",
    "///",
    "////",
    "/\\",
    "/\\\\",
    "\\\\",
    "\\/",
    "/\\/",
    "/\t/",
    "/\n/",
    "/\r/",
    "/\t\\",
    "\t//",
    "/%2F",
    "/%2f",
    "/%2F%2F",
    "/%5C",
    "/%5c%5c",
    "/%09/",
    "/%0A/",
    "/%00/",
    "/\uff0f",
    "/\uff0f\uff0f",
    "/./",
    "/../",
    "/.//",
    "/..//",
]

# The prefixes of the test configs' redirects, and paths that reach the directory redirect.
PREFIXES = ["", "/go", "/blog", "/blog/archive", "/docs", "/ext"]

HANDWRITTEN = {
    "scheme-relative and host forms": [
        "//evil.com",
        "//evil.com/",
        "//evil.com/x",
        "//evil.com?x",
        "//evil.com#x",
        "//3627734734",
        "//evil%2Eexample",
        "//[::1]",
        "//%65vil.com",
        "//evil.com%2F..",
        "//evil.com%00.example.com",
        "//evil.com\\@example.com",
        "/" * 20 + "evil.com",
        "/\\/\\/\\evil.com",
    ],
    "no leading slash (CloudFront always sends one; the function must not rely on it)": [
        "",
        "evil.com",
        "@evil.com",
        "\\\\evil.com",
        "\\/evil.com",
        "https://evil.com",
        "https:evil.com",
        "http:/evil.com",
        "https:\\\\evil.com",
        "javascript:alert(1)",
        "data:text/html,x",
        "\t\n//evil.com",
        " //evil.com",
    ],
    "scheme-like paths": [
        "/https://evil.com",
        "/http:\\\\evil.com",
        "/javascript:alert(1)",
        "/:splat",
        "/:splat/evil.com",
    ],
    "userinfo": [
        "/@evil.com",
        "//@evil.com",
        "/%40evil.com",
        "//example.com%40evil.com",
        "/evil.com@",
    ],
    "dot segments": [
        "/.",
        "/..",
        "/./",
        "/../",
        "/...",
        "/.%2E",
        "/%2e%2e",
        "/..\\evil.com",
        "/.\\\\evil.com",
        "/./..//evil.com",
        "/a/../..//evil.com",
        "/%2E%2E/%2E%2E//evil.com",
    ],
    "query and fragment characters in the path": [
        "/#//evil.com",
        "/?//evil.com",
        "/%23//evil.com",
        "/%3F//evil.com",
        "/go/#/evil.com",
        "/go/?/evil.com",
    ],
    "controls and whitespace (browsers drop tab, CR, LF anywhere)": [
        "/\x00/evil.com",
        "/\x01/evil.com",
        "/\x0b/evil.com",
        "/\x0c/evil.com",
        "/\x1f/evil.com",
        "/\x7f/evil.com",
        "/ /evil.com",
        "/\u00a0/evil.com",
        "/\u2028/evil.com",
        "/\ufeff/evil.com",
        "/a\tb",
        "/go/\t/evil.com",
        "/go/\n\\evil.com",
    ],
    "unicode slashes and dots": [
        "/\u2215evil.com",
        "/\u2044evil.com",
        "/\ufe68evil.com",
        "/\uff3cevil.com",
        "//evil\uff61com",
        "/%EF%BC%8F%EF%BC%8Fevil.com",
        "/go/\uff0f\uff0fevil.com",
    ],
    "non-ASCII and broken UTF-16": [
        "/caf\u00e9",
        "/cafe\u0301",
        "/caf%C3%A9",
        "/caf%c3%a9",
        "/\u6587\u6863/x",
        "/%E6%96%87%E6%A1%A3//evil.com",
        "/\ud83d\ude00",
        "/\ud800",
        "/\udc00//evil.com",
        "/go/\ud800/evil.com",
    ],
    "redirect sources of the test configs": [
        "/old",
        "/old/",
        "/away",
        "/caf%C3%A9",
        "/go",
        "/go/",
        "/go/a",
        "/go//",
        "/blog/",
        "/blog/archive/",
        "/blog/archive//evil.com",
        "/blog/archive/@evil.com",
        "/blog/archive/\\evil.com",
        "/docs/",
        "/docs//x",
        "/ext/",
        "/ext/%2F%2Fevil.com",
        "/.well-known/x",
        "/.well-known//evil.com",
        "/constructor",
        "/__proto__",
    ],
}


def lines():
    seen = set()
    for family, paths in HANDWRITTEN.items():
        yield f"# {family}"
        for path in paths:
            if path not in seen:
                seen.add(path)
                yield json.dumps(path)
    yield "# generated: each redirect prefix x each double-slash form x each host"
    for prefix in PREFIXES:
        for start in STARTS:
            for host in HOSTS:
                # Every form with the first two hosts; every host with the plain forms.
                if host not in HOSTS[:2] and start not in ("//", "/\\", "/%2F"):
                    continue
                path = prefix + start + host
                if path not in seen:
                    seen.add(path)
                    yield json.dumps(path)


if __name__ == "__main__":
    for line in lines():
        print(line)
