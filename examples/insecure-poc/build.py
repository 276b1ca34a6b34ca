"""Build the classic insecure "proof of concept" static website in the local AWS emulator.

    build.py DOMAIN REGION        (run by build.sh, which checks AWS_ENDPOINT_URL and credentials)

What countless tutorials set up: a bucket named like the domain with static website hosting, Block
Public Access off, ACLs enabled with a public-read bucket ACL, a public-read bucket policy, no
encryption configuration, no versioning, no logging, and a Route53 A alias from the domain to the
S3 website endpoint.

Idempotent: a second run reuses the zone and the bucket and rewrites the same configuration and the
same bytes. stdout: one JSON object; progress on stderr.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# S3 website endpoints and their Route53 alias hosted zone ids, per region
# (https://docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints).
# Older regions use "s3-website-REGION", newer ones "s3-website.REGION".
WEBSITE_ENDPOINTS = {
    "us-east-1": ("s3-website-us-east-1.amazonaws.com", "Z3AQBSTGFYJSTF"),
    "us-east-2": ("s3-website.us-east-2.amazonaws.com", "Z2O1EMRO9K5GLX"),
    "us-west-1": ("s3-website-us-west-1.amazonaws.com", "Z2F56UZL2M1ACD"),
    "us-west-2": ("s3-website-us-west-2.amazonaws.com", "Z3BJ6K6RIION7M"),
    "ca-central-1": ("s3-website.ca-central-1.amazonaws.com", "Z1QDHH18159H29"),
    "eu-west-1": ("s3-website-eu-west-1.amazonaws.com", "Z1BKCTXD74EZPE"),
    "eu-west-2": ("s3-website.eu-west-2.amazonaws.com", "Z3GKZC51ZF0DB4"),
    "eu-west-3": ("s3-website.eu-west-3.amazonaws.com", "Z3R1K369G5AVDG"),
    "eu-central-1": ("s3-website.eu-central-1.amazonaws.com", "Z21DNDUVLTQW6Q"),
    "eu-north-1": ("s3-website.eu-north-1.amazonaws.com", "Z3BAZG2TWCNX0D"),
    "ap-south-1": ("s3-website.ap-south-1.amazonaws.com", "Z11RGJOFQNVJUP"),
    "ap-northeast-1": ("s3-website-ap-northeast-1.amazonaws.com", "Z2M4EHUR26P7ZW"),
    "ap-northeast-2": ("s3-website.ap-northeast-2.amazonaws.com", "Z3W03O7B5YMIYP"),
    "ap-southeast-1": ("s3-website-ap-southeast-1.amazonaws.com", "Z3O0J2DXBE1FTB"),
    "ap-southeast-2": ("s3-website-ap-southeast-2.amazonaws.com", "Z1WCIGYICN2BYD"),
    "sa-east-1": ("s3-website-sa-east-1.amazonaws.com", "Z7KQH4QJS55SO"),
}

ENDPOINT_RE = re.compile(r"^http://127\.0\.0\.1:([1-9][0-9]{0,4})$")
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def log(message: str) -> None:
    print(f"insecure-poc: {message}", file=sys.stderr, flush=True)


def usage_error(message: str) -> None:
    log(message)
    sys.exit(2)


# --- the site: fixed bytes, so every run uploads exactly the same content -----------------------


def page(title: str, body: str) -> bytes:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '  <meta charset="utf-8">\n'
        f"  <title>{title}</title>\n"
        '  <link rel="stylesheet" href="/css/site.css">\n'
        "</head>\n"
        "<body>\n"
        '  <header><img src="/img/logo.png" alt="" width="32" height="32">'
        ' <a href="/">Proof of concept</a></header>\n'
        f"{body}"
        "</body>\n"
        "</html>\n"
    ).encode()


# A 32x32 RGBA PNG (a padlock), 270 bytes; starts with the non-UTF-8 PNG signature.
LOGO_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAA1UlEQVR42u3XSQrCQBBG4Zwk54yzxnme5+l2fY34loVg"
    "F8QuEOmCb6fwaPgXSZJ48ZTLsrz4Rgz4rwDL/8SA3wlwq7RwRzzQQA9TbHBGhhYGmGOHK6roYIQlDrijji4mWKd6kNvy"
    "wwsqaGOIBfa4oYYcY5SI1QM+lLsTnmiijxlKxOoBAZ7ZF6sHBHhmX6weEOCZfbF6QIBn9sXqAQbTk7F6gMH0ZKweYDA9"
    "GasHGExPxuoBBtOTsXqAwfRkrB5gMD0ZqwcYTE/G6gEG05Ox8UMn3vu9AFKprNUGyM30AAAAAElFTkSuQmCC"
)

CSS = (
    "body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; color: #222; }\n"
    "header { display: flex; gap: .5rem; align-items: center; border-bottom: 1px solid #ddd; }\n"
    "a { color: #c05a00; }\n"
).encode()

# key → (body, Content-Type, WebsiteRedirectLocation)
OBJECTS: dict[str, tuple[bytes, str, str | None]] = {
    "index.html": (
        page(
            "Proof of concept",
            "  <h1>It works</h1>\n"
            "  <p>Served straight from an S3 website bucket.</p>\n"
            "  <ul>\n"
            '    <li><a href="/about/">About</a></li>\n'
            '    <li><a href="/blog/first-post.html">First post</a></li>\n'
            '    <li><a href="/old-blog/first-post.html">First post (old address)</a></li>\n'
            '    <li><a href="/old-page.html">Old page</a></li>\n'
            "  </ul>\n",
        ),
        "text/html",
        None,
    ),
    "about/index.html": (
        page("About", "  <h1>About</h1>\n  <p>A weekend project that became the company website.</p>\n"),
        "text/html",
        None,
    ),
    "blog/first-post.html": (
        page("First post", "  <h1>First post</h1>\n  <p>Hello from the blog.</p>\n"),
        "text/html",
        None,
    ),
    "404.html": (
        page("Not found", '  <h1>Not found</h1>\n  <p>Try the <a href="/">home page</a>.</p>\n'),
        "text/html",
        None,
    ),
    "css/site.css": (CSS, "text/css", None),
    "img/logo.png": (LOGO_PNG, "image/png", None),
    # An empty object whose only job is to redirect (x-amz-website-redirect-location).
    "old-page.html": (b"", "text/html", "/about/"),
}

WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "404.html"},
    "RoutingRules": [
        {
            "Condition": {"KeyPrefixEquals": "old-blog/"},
            "Redirect": {"ReplaceKeyPrefixWith": "blog/", "HttpRedirectCode": "301"},
        }
    ],
}


# --- steps ----------------------------------------------------------------------------------------


def zone_name_for(domain: str) -> str:
    labels = domain.split(".")
    return domain if len(labels) <= 2 else ".".join(labels[1:])


def ensure_zone(route53, zone: str) -> str:
    fqdn = zone + "."
    found = route53.list_hosted_zones_by_name(DNSName=fqdn)["HostedZones"]
    for z in found:
        if z["Name"] == fqdn and not z.get("Config", {}).get("PrivateZone", False):
            zone_id = z["Id"].split("/")[-1]
            log(f"hosted zone {zone}: exists ({zone_id})")
            return zone_id
    created = route53.create_hosted_zone(
        Name=zone,
        CallerReference=f"insecure-poc-{uuid.uuid4()}",
        HostedZoneConfig={"Comment": "insecure-poc example", "PrivateZone": False},
    )
    zone_id = created["HostedZone"]["Id"].split("/")[-1]
    log(f"hosted zone {zone}: created ({zone_id})")
    return zone_id


def bucket_exists(s3, bucket: str, region: str) -> bool:
    """Whether the bucket exists; one in another region is a usage error (exit 2, nothing written)."""
    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchBucket":
            return False
        raise
    if location != region:
        usage_error(f"bucket {bucket} already exists in {location}, not {region}")
    return True


def ensure_bucket(s3, bucket: str, region: str, exists: bool) -> None:
    if exists:
        log(f"bucket {bucket}: exists in {region}")
    else:
        params: dict = {"Bucket": bucket}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**params)
            log(f"bucket {bucket}: created in {region}")
        except ClientError as e:
            if e.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                raise
            log(f"bucket {bucket}: exists in {region}")

    # Block Public Access off and ACLs enabled, as in the old tutorials.
    s3.delete_public_access_block(Bucket=bucket)
    log(f"bucket {bucket}: Block Public Access removed")
    try:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        log(f"bucket {bucket}: object ownership ObjectWriter (ACLs enabled)")
    except ClientError as e:
        log(f"bucket {bucket}: PutBucketOwnershipControls refused, skipped ({e.response['Error']['Code']})")
    # The tutorials' "make it public" step: a public-read bucket ACL next to the policy.
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    log(f"bucket {bucket}: public-read bucket ACL")


def configure_website(s3, bucket: str) -> None:
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=WEBSITE)
    log(f"bucket {bucket}: website hosting (index.html, 404.html, old-blog/ → blog/ 301)")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadGetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    log(f"bucket {bucket}: public-read bucket policy")


def upload(s3, bucket: str) -> dict[str, str]:
    hashes = {}
    for key, (body, content_type, redirect) in OBJECTS.items():
        params = {"Bucket": bucket, "Key": key, "Body": body, "ContentType": content_type}
        if redirect is not None:
            params["WebsiteRedirectLocation"] = redirect
        s3.put_object(**params)
        hashes[key] = hashlib.sha256(body).hexdigest()
        log(f"object {key}: {len(body)} bytes" + (f", redirect to {redirect}" if redirect else ""))
    return dict(sorted(hashes.items()))


def alias_record(route53, zone_id: str, domain: str, target: str, target_zone: str) -> None:
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Comment": "insecure-poc: the domain on the S3 website endpoint",
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": domain + ".",
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": target_zone,
                            "DNSName": target + ".",
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ],
        },
    )
    log(f"record {domain} A: alias to {target} ({target_zone})")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        usage_error("usage: build.py DOMAIN REGION")
    domain, region = argv[1].rstrip(".").lower(), argv[2]

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    match = ENDPOINT_RE.match(endpoint)
    if not match or int(match.group(1)) > 65535:
        usage_error(
            f"refusing AWS_ENDPOINT_URL={endpoint!r}: only the local emulator, http://127.0.0.1:<port>"
        )

    labels = domain.split(".")
    if len(labels) < 2 or not all(LABEL_RE.match(label) for label in labels) or len(domain) > 63:
        usage_error(
            f"{argv[1]!r} is not a usable domain: at least two labels of lowercase letters, digits "
            "and hyphens, at most 63 characters (the bucket is named like the domain)"
        )
    if region not in WEBSITE_ENDPOINTS:
        usage_error(
            f"no S3 website endpoint known for region {region!r}; known: "
            + ", ".join(sorted(WEBSITE_ENDPOINTS))
        )
    website_host, website_zone = WEBSITE_ENDPOINTS[region]

    session = boto3.session.Session(
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
    )
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3})
    s3 = session.client("s3", region_name=region, endpoint_url=endpoint, config=config)
    route53 = session.client("route53", region_name="us-east-1", endpoint_url=endpoint, config=config)

    bucket = domain
    exists = bucket_exists(s3, bucket, region)  # before any write
    zone_id = ensure_zone(route53, zone_name_for(domain))
    ensure_bucket(s3, bucket, region, exists)
    configure_website(s3, bucket)
    # Deliberately left at their defaults: no encryption configuration, versioning or logging.
    objects = upload(s3, bucket)
    alias_record(route53, zone_id, domain, website_host, website_zone)

    json.dump(
        {
            "bucket": bucket,
            "region": region,
            "zone_id": zone_id,
            "website_endpoint": f"{bucket}.{website_host}",
            "objects": objects,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    log(f"done: http://{bucket}.{website_host}/ (in the emulator)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ClientError as e:
        err = e.response.get("Error", {})
        log(f"{e.operation_name} failed: {err.get('Code')}: {err.get('Message')}")
        sys.exit(1)
