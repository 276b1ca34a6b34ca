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
// Redirects keep the query string. sitewarden puts the site's settings (JSON) in place of the
// placeholder below.

var CONFIG = SITEWARDEN_CONFIG;

var STATUS_TEXT = {
    301: 'Moved Permanently',
    302: 'Found',
    307: 'Temporary Redirect',
    308: 'Permanent Redirect'
};

// The query string as the viewer sent it (values arrive still percent-encoded).
function queryString(querystring) {
    var parts = [];
    for (var name in querystring) {
        var entry = querystring[name];
        var values = entry.multiValue ? entry.multiValue : [entry];
        for (var i = 0; i < values.length; i++) {
            parts.push(values[i].value === '' ? name : name + '=' + values[i].value);
        }
    }
    return parts.length ? '?' + parts.join('&') : '';
}

function redirect(status, location) {
    return {
        statusCode: status,
        statusDescription: STATUS_TEXT[status],
        headers: { location: { value: location } }
    };
}

function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var query = queryString(request.querystring);
    var host = request.headers.host ? request.headers.host.value.toLowerCase() : '';

    if (CONFIG.apex && CONFIG.wwwHosts.indexOf(host) !== -1) {
        return redirect(301, 'https://' + CONFIG.apex + uri + query);
    }
    // `hasOwnProperty`: a path such as `/constructor` must not match Object's prototype.
    if (Object.prototype.hasOwnProperty.call(CONFIG.exact, uri)) {
        var exact = CONFIG.exact[uri];
        return redirect(exact.status, exact.to + query);
    }
    for (var i = 0; i < CONFIG.prefixes.length; i++) {
        var rule = CONFIG.prefixes[i];
        if (uri.indexOf(rule.from) === 0) {
            var splat = uri.substring(rule.from.length);
            return redirect(rule.status, rule.to.split(':splat').join(splat) + query);
        }
    }
    if (uri.charAt(uri.length - 1) === '/') {
        request.uri = uri + 'index.html';
        return request;
    }
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (CONFIG.directoryRedirect && last.indexOf('.') === -1 && uri.indexOf('/.well-known/') !== 0) {
        return redirect(301, uri + '/' + query);
    }
    return request;
}
