// sitewarden viewer-response function (CloudFront Functions, runtime cloudfront-js-2.0).
//
// Content-Security-Policy "auto": deploy stores each HTML page's own strict policy in its object's
// metadata, which S3 sends as `x-amz-meta-csp`; this copies it into `Content-Security-Policy` and
// drops the metadata header. A response without it keeps the response headers policy's site-wide
// policy (set there with Override off, so this function's value wins whichever runs last).
// CloudFront runs no viewer-response function when the origin answers 400 or more: error pages get
// the headers policy's policy, which is why that one is strict and covers the error page.

function handler(event) {
    var response = event.response;
    var headers = response.headers;
    var policy = headers['x-amz-meta-csp'];
    if (policy && policy.value) {
        headers['content-security-policy'] = { value: policy.value };
    }
    delete headers['x-amz-meta-csp'];
    return response;
}
