// sitewarden viewer-request function (CloudFront Functions, runtime cloudfront-js-2.0).
//
// Behind Origin Access Control the bucket's REST endpoint serves keys, not directories, and knows
// nothing of redirects: this function does what S3 website hosting used to do, in this order:
//   1. www → apex: a request for a `www.` alias is redirected (301) to the site's domain;
//   2. configured redirects: exact paths first, then `/prefix/*` rules (longest prefix first),
//      where `:splat` in the target stands for the rest of the path;
//   3. `dir/` is served from `dir/index.html`;
//   4. `dir` (last segment without a dot) is redirected (301) to `dir/`, unless an SPA fallback
//      handles unknown paths; files under `/.well-known/` (extensionless by standard, such as
//      `apple-app-site-association`) are served as they are.
// Redirects keep the query string and never name a host the config does not: a path Location
// starts with exactly one `/` (browsers read `//host` and `/\host` as a host).
// sitewarden puts the site's settings (JSON) in place of the placeholder below.

var CONFIG = SITEWARDEN_CONFIG;

var STATUS_TEXT = {
    301: 'Moved Permanently',
    302: 'Found',
    307: 'Temporary Redirect',
    308: 'Permanent Redirect'
};

// CloudFront passes path and query as the viewer sent them. The path is matched as browsers send
// it (`from` is written so): escapes in upper case, controls, space, `"#<>?` etc. and non-ASCII
// encoded. Locations stay printable ASCII: browsers drop a tab, so `/\t/x` would be `//x`.
// (Runs of characters, so that a character outside the BMP is encoded whole.)
var PATH_CHARS = /%[0-9A-Fa-f]{2}|[^\x21\x24-\x3B\x3D\x40-\x5F\x61-\x7A\x7C\x7E]+/g;
var QUERY_CHARS = /[^\x21\x22\x24-\x7E]+/g;

function encode(text, chars) {
    return text.replace(chars, function (c) {
        if (c.charAt(0) === '%') {
            return c.toUpperCase();
        }
        try {
            return encodeURIComponent(c);
        } catch (e) {
            return '%EF%BF%BD'; // a lone surrogate
        }
    });
}

// The query string (values still percent-encoded), without the `?`.
function queryString(querystring) {
    var parts = [];
    for (var name in querystring) {
        var entry = querystring[name];
        var values = entry.multiValue ? entry.multiValue : [entry];
        for (var i = 0; i < values.length; i++) {
            parts.push(values[i].value === '' ? name : name + '=' + values[i].value);
        }
    }
    return encode(parts.join('&'), QUERY_CHARS);
}

// A path on this site: exactly one `/`, then anything but `/` or `\`.
function local(path) {
    return '/' + path.replace(/^[\/\\]+/, '');
}

// A path target stays on the site whatever the splat starts with (`/:splat`, `/go//evil.com`).
function target(to, splat) {
    var location = to.split(':splat').join(splat);
    return to.charAt(0) === '/' ? local(location) : location;
}

// The query joins the Location's own with `&`, before any `#`.
function redirect(status, location, query) {
    if (query) {
        var hash = location.indexOf('#');
        var fragment = hash === -1 ? '' : location.substring(hash);
        var base = hash === -1 ? location : location.substring(0, hash);
        var join = base.indexOf('?') === -1 ? '?' : /[?&]$/.test(base) ? '' : '&';
        location = base + join + query + fragment;
    }
    return {
        statusCode: status,
        statusDescription: STATUS_TEXT[status],
        headers: { location: { value: location } }
    };
}

function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var path = encode(uri, PATH_CHARS);
    var query = queryString(request.querystring);
    var host = request.headers.host ? request.headers.host.value.toLowerCase() : '';

    if (CONFIG.apex && CONFIG.wwwHosts.indexOf(host) !== -1) {
        return redirect(301, 'https://' + CONFIG.apex + local(path), query);
    }
    // `hasOwnProperty`: a path such as `/constructor` must not match Object's prototype.
    if (Object.prototype.hasOwnProperty.call(CONFIG.exact, path)) {
        var exact = CONFIG.exact[path];
        return redirect(exact.status, target(exact.to, ''), query);
    }
    for (var i = 0; i < CONFIG.prefixes.length; i++) {
        var rule = CONFIG.prefixes[i];
        if (path.indexOf(rule.from) === 0) {
            return redirect(rule.status, target(rule.to, path.substring(rule.from.length)), query);
        }
    }
    if (uri.charAt(uri.length - 1) === '/') {
        request.uri = uri + 'index.html';
        return request;
    }
    var last = path.substring(path.lastIndexOf('/') + 1);
    if (CONFIG.directoryRedirect && last.indexOf('.') === -1 && path.indexOf('/.well-known/') !== 0) {
        return redirect(301, local(path + '/'), query);
    }
    return request;
}
