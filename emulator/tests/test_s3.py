"""S3 fidelity: bucket policies with conditions, Block Public Access, Object Ownership, checksums,
SSE-KMS ETags, DeleteObjects limits, lifecycle, and the settings a secure-bucket tool reads back."""

import base64
import hashlib
import json
import urllib.error
import urllib.request
import zlib

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def s3(aws):
    return aws("s3")


@pytest.fixture
def bucket(s3, uid):
    name = f"site-{uid}"
    s3.create_bucket(Bucket=name)
    return name


def tls_and_service_policy(bucket: str, distribution_arn: str) -> dict:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AllowCloudFrontRead",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            {
                "Sid": "AllowLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{arn}/logs/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"{arn}"},
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                },
            },
            {
                "Sid": "DenyCloudFrontDelete",
                "Effect": "Deny",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:DeleteObject",
                "Resource": f"{arn}/*",
            },
        ],
    }


# --- bucket policy evaluation -------------------------------------------------------------------


def test_tls_only_policy_allows_owner_object_calls(s3, bucket):
    policy = tls_and_service_policy(bucket, f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1ABC")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>hi</h1>")
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"<h1>hi</h1>"
    s3.head_object(Bucket=bucket, Key="index.html")
    s3.copy_object(Bucket=bucket, Key="copy.html", CopySource={"Bucket": bucket, "Key": "index.html"})
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 2
    s3.delete_object(Bucket=bucket, Key="copy.html")
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "index.html"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == ["index.html"] and not deleted.get("Errors")


def test_explicit_deny_applies_to_owner(s3, bucket):
    arn = f"arn:aws:s3:::{bucket}"
    s3.put_object(Bucket=bucket, Key="private/a.txt", Body=b"a")
    s3.put_object(Bucket=bucket, Key="public/a.txt", Body=b"a")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["s3:GetObject", "s3:DeleteObject"],
                "Resource": f"{arn}/private/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{arn}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="private/a.txt"),
        lambda: s3.put_object(Bucket=bucket, Key="public/b.txt", Body=b"b"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="private/a.txt")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    s3.get_object(Bucket=bucket, Key="public/a.txt")
    s3.put_object(Bucket=bucket, Key="public/b.txt", Body=b"b", ServerSideEncryption="aws:kms")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "private/a.txt"}]})
    assert result["Errors"][0]["Code"] == "AccessDenied"


def test_anonymous_access_follows_policy(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{endpoint}/{bucket}/a.txt")
    assert exc.value.code == 403
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert urllib.request.urlopen(f"{endpoint}/{bucket}/a.txt").read() == b"a"


def test_presigned_url_acts_as_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"})
    assert urllib.request.urlopen(url).read() == b"a"


# --- Block Public Access / policy status --------------------------------------------------------


def test_block_public_access_rejects_public_policy_and_acls(s3, uid):
    bucket = f"bpa-{uid}"
    s3.create_bucket(Bucket=bucket, ObjectOwnership="ObjectWriter")
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    assert error_code(exc) == "AccessDenied"
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)

    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_and_service_policy(bucket, "arn:aws:cloudfront::1:distribution/E1")))

    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", ACL="private")
    for call in (
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="a.txt", ACL="public-read"),
        lambda: s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b", ACL="public-read"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "AccessDenied"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="b.txt")


def test_policy_status_is_public(s3, bucket):
    arn = f"arn:aws:s3:::{bucket}"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_and_service_policy(bucket, "arn:aws:cloudfront::1:distribution/E1")))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False

    tls_only_allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:GetObject",
                "Resource": f"{arn}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_allow))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


# --- Object Ownership: BucketOwnerEnforced ------------------------------------------------------


def test_bucket_owner_enforced_rejects_acl_writes(s3, uid):
    bucket = f"boe-{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="c.txt", Body=b"c", ACL="private")
    for call in (
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="a.txt", ACL="public-read"),
        lambda: s3.put_object(Bucket=bucket, Key="d.txt", Body=b"d", ACL="public-read"),
        lambda: s3.put_object(Bucket=bucket, Key="d.txt", Body=b"d", GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"'),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "AccessControlListNotSupported"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.get_bucket_acl(Bucket=bucket)
    s3.get_object_acl(Bucket=bucket, Key="a.txt")
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]


def test_acls_cannot_be_disabled_while_the_bucket_acl_grants_beyond_the_owner(s3, uid):
    bucket = f"boe-acl-{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    assert error_code(exc) == "InvalidBucketAclWithObjectOwnership"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    # A private bucket ACL first, then ACLs can be disabled (object ACLs do not matter).
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", ACL="public-read")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )


# --- checksums ----------------------------------------------------------------------------------


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def test_put_object_checksums_are_verified(s3, bucket):
    body = b"hello checksum"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumSHA256=b64(hashlib.sha256(b"other").digest()))
    assert error_code(exc) == "BadDigest"
    assert "SHA256" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ContentMD5=b64(hashlib.md5(b"other").digest()))
    assert error_code(exc) == "BadDigest"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="bad")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    sha = b64(hashlib.sha256(body).digest())
    put = s3.put_object(
        Bucket=bucket, Key="good", Body=body, ChecksumSHA256=sha, ContentMD5=b64(hashlib.md5(body).digest())
    )
    assert put["ChecksumSHA256"] == sha
    assert s3.get_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha
    assert s3.head_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha
    ranged = s3.get_object(Bucket=bucket, Key="good", Range="bytes=0-4", ChecksumMode="ENABLED")
    assert ranged["Body"].read() == body[:5] and "ChecksumSHA256" not in ranged


def test_a_signed_payload_hash_is_verified(s3, bucket, endpoint):
    """SigV4's x-amz-content-sha256, when it is a digest (not UNSIGNED-PAYLOAD), must be the body's."""

    def put(key, body, content_sha256):
        request = urllib.request.Request(
            f"{endpoint}/{bucket}/{key}",
            data=body,
            method="PUT",
            headers={
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/s3/aws4_request, "
                "SignedHeaders=host, Signature=" + "0" * 64,
                "x-amz-content-sha256": content_sha256,
                "Content-Type": "application/octet-stream",
            },
        )
        return urllib.request.urlopen(request)

    body = b"signed body"
    put("signed", body, hashlib.sha256(body).hexdigest())
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == body
    put("unsigned", body, "UNSIGNED-PAYLOAD")
    with pytest.raises(urllib.error.HTTPError) as exc:
        put("mismatch", body, hashlib.sha256(b"other").hexdigest())
    assert exc.value.code == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in exc.value.read()
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="mismatch")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# Standard check values of each algorithm for b"123456789".
CHECK_VALUES = {
    "CRC32": "cbf43926",
    "CRC32C": "e3069283",
    "CRC64NVME": "ae8b14860a799888",
    "SHA1": "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
}


@pytest.mark.parametrize("algorithm", CHECK_VALUES)
def test_checksum_algorithms_verified_and_round_trip(s3, bucket, algorithm):
    body = b"123456789"
    value = b64(bytes.fromhex(CHECK_VALUES[algorithm]))
    put = s3.put_object(Bucket=bucket, Key=algorithm, Body=body, **{f"Checksum{algorithm}": value})
    assert put[f"Checksum{algorithm}"] == value
    got = s3.head_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == value
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key=algorithm, Body=b"12345678", **{f"Checksum{algorithm}": value})
    assert error_code(exc) == "BadDigest"


def _chunked(body: bytes, trailer: str) -> bytes:
    return b"%x\r\n%s\r\n0\r\n%s\r\n\r\n" % (len(body), body, trailer.encode())


def _raw_put(endpoint: str, path: str, body: bytes, trailer: str, signed: bool = False):
    payload = _chunked(body, trailer)
    mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    if signed:
        mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        sig = ";chunk-signature=" + "0" * 64
        payload = b"%x%s\r\n%s\r\n0%s\r\n%s\r\nx-amz-trailer-signature:%s\r\n\r\n" % (
            len(body), sig.encode(), body, sig.encode(), trailer.encode(), b"0" * 64)
    request = urllib.request.Request(
        f"{endpoint}{path}",
        data=payload,
        method="PUT",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/s3/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64,
            "x-amz-content-sha256": mode,
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(body)),
            "x-amz-trailer": trailer.split(":")[0],
            "x-amz-sdk-checksum-algorithm": "SHA256",
        },
    )
    return urllib.request.urlopen(request)


@pytest.mark.parametrize("signed", [False, True])
def test_aws_chunked_trailer_checksum(s3, bucket, endpoint, signed):
    body = b"streamed body " * 100
    sha = b64(hashlib.sha256(body).digest())
    _raw_put(endpoint, f"/{bucket}/streamed", body, f"x-amz-checksum-sha256:{sha}", signed)
    got = s3.get_object(Bucket=bucket, Key="streamed", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumSHA256"] == sha

    wrong = b64(hashlib.sha256(b"x").digest())
    with pytest.raises(urllib.error.HTTPError) as exc:
        _raw_put(endpoint, f"/{bucket}/streamed-bad", body, f"x-amz-checksum-sha256:{wrong}", signed)
    assert exc.value.code == 400 and b"<Code>BadDigest</Code>" in exc.value.read()


def test_boto3_default_trailing_checksum(s3, bucket):
    body = b"default checksum body"
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == b64(zlib.crc32(body).to_bytes(4, "big"))


def test_multipart_sha256_composite_checksum(s3, bucket):
    parts = [b"a" * 5 * 1024 * 1024, b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")
    uid = upload["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=parts[0],
            ChecksumSHA256=b64(hashlib.sha256(b"nope").digest()),
        )
    assert error_code(exc) == "BadDigest"
    done = []
    for number, data in enumerate(parts, 1):
        sha = b64(hashlib.sha256(data).digest())
        resp = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=uid, PartNumber=number, Body=data, ChecksumSHA256=sha
        )
        done.append({"PartNumber": number, "ETag": resp["ETag"], "ChecksumSHA256": sha})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": done})
    composite = b64(hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest())
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == f"{composite}-2"
    assert head["ETag"].endswith('-2"')


def test_upload_part_content_md5_verified(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"data",
            ContentMD5=b64(hashlib.md5(b"other").digest()),
        )
    assert error_code(exc) == "BadDigest"
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid).get("Parts", []) == []


# --- DeleteObjects limit ------------------------------------------------------------------------


def test_delete_objects_rejects_more_than_1000_keys(s3, bucket):
    keys = [{"Key": f"k{i}"} for i in range(1001)]
    with pytest.raises(ClientError) as exc:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    assert error_code(exc) == "MalformedXML"
    assert s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[:1000], "Quiet": True}).get("Errors") is None


# --- SSE-KMS ETags ------------------------------------------------------------------------------


def test_sse_kms_etag_is_not_md5_and_consistent(s3, bucket, aws):
    key_id = aws("kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    body = b"kms body"
    md5 = f'"{hashlib.md5(body).hexdigest()}"'
    first = s3.put_object(Bucket=bucket, Key="k", Body=body)
    second = s3.put_object(Bucket=bucket, Key="k", Body=body)
    assert first["ServerSideEncryption"] == "aws:kms" and first["SSEKMSKeyId"] == key_id
    assert first["BucketKeyEnabled"] is True
    etag = second["ETag"]
    assert etag != md5 and len(etag) == 34 and first["ETag"] != etag
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="k")["ETag"] == etag
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"] == etag
    versions = {v["VersionId"]: v["ETag"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]}
    assert versions == {first["VersionId"]: first["ETag"], second["VersionId"]: etag}
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == body

    plain = s3.put_object(Bucket=bucket, Key="plain", Body=body, ServerSideEncryption="AES256")
    assert plain["ETag"] == md5


def test_sse_kms_objects_cannot_be_read_while_their_key_is_unusable(s3, bucket, aws):
    kms = aws("kms")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain", ServerSideEncryption="AES256")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"

    kms.schedule_key_deletion(KeyId=key_arn, PendingWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(exc) == "KMS.KMSInvalidStateException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # HEAD needs no decryption, and other objects are unaffected.
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"plain"

    kms.cancel_key_deletion(KeyId=key_arn)  # the key comes back disabled
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(exc) == "KMS.DisabledException"
    kms.enable_key(KeyId=key_arn)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"


# --- lifecycle ----------------------------------------------------------------------------------


def test_lifecycle_round_trip(s3, bucket):
    rules = [
        {
            "ID": "old-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
        {
            "ID": "logs",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "Expiration": {"Days": 90},
        },
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules


# --- settings a secure-bucket tool reads back ---------------------------------------------------


def test_secure_bucket_settings_read_back(s3, bucket, uid, aws):
    key_id = aws("kms").create_key()["KeyMetadata"]["KeyId"]
    logs = f"logs-{uid}"
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule == {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id},
        "BucketKeyEnabled": True,
    }

    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"

    pab = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=pab)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == pab

    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    s3.put_bucket_ownership_controls(
        Bucket=logs, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_bucket_acl(Bucket=logs, ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "s3/"}}
    )
    enabled = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert (enabled["TargetBucket"], enabled["TargetPrefix"]) == (logs, "s3/")

    website = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=website)
    got = s3.get_bucket_website(Bucket=bucket)
    assert (got["IndexDocument"], got["ErrorDocument"]) == (website["IndexDocument"], website["ErrorDocument"])
    s3.delete_bucket_website(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert error_code(exc) == "NoSuchWebsiteConfiguration"


def test_versions_copy_metadata_and_odd_keys(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="page.html", Body=b"one", Metadata={"sha": "abc", "Mixed-Case": "X y"})
    v2 = s3.put_object(Bucket=bucket, Key="page.html", Body=b"two")
    versions = s3.list_object_versions(Bucket=bucket, Prefix="page.html")["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(v2["VersionId"], True), (v1["VersionId"], False)]

    copied = s3.copy_object(
        Bucket=bucket, Key="restored.html",
        CopySource={"Bucket": bucket, "Key": "page.html", "VersionId": v1["VersionId"]},
    )
    assert copied["CopySourceVersionId"] == v1["VersionId"]
    restored = s3.get_object(Bucket=bucket, Key="restored.html")
    assert restored["Body"].read() == b"one"
    assert restored["Metadata"] == {"sha": "abc", "mixed-case": "X y"}

    keys = ["dir with space/file name.txt", "ünïcödé/日本.html", "odd/#?%+&=.txt", "a+b c"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
        s3.head_object(Bucket=bucket, Key=key)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert set(keys) <= listed
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert not set(keys) & {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_get_bucket_versioning_has_the_aws_root_element(aws, endpoint, uid):
    # Strict SDKs (the Rust SDK) parse the root element: it must be <VersioningConfiguration>.
    import urllib.request

    s3 = aws("s3")
    bucket = f"versioning-{uid}"
    s3.create_bucket(Bucket=bucket)
    body = urllib.request.urlopen(f"{endpoint}/{bucket}?versioning").read().decode()
    assert "<VersioningConfiguration" in body and "<Status>" not in body
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    body = urllib.request.urlopen(f"{endpoint}/{bucket}?versioning").read().decode()
    assert "<VersioningConfiguration" in body and "<Status>Suspended</Status>" in body
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_access_logging_accepts_a_policy_with_a_tls_deny(aws, uid):
    # The log bucket's policy starts with the standard TLS-only Deny (Principal "*"); moto crashed.
    s3 = aws("s3", region="eu-west-1")
    content, logs = f"content-{uid}", f"logs-{uid}"
    for bucket in (content, logs):
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
            ObjectOwnership="BucketOwnerEnforced",
        )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{logs}", f"arn:aws:s3:::{logs}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{logs}/s3-access/*",
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{content}"}},
            },
        ],
    }
    s3.put_bucket_policy(Bucket=logs, Policy=json.dumps(policy))
    s3.put_bucket_logging(
        Bucket=content,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "s3-access/"}},
    )
    enabled = s3.get_bucket_logging(Bucket=content)["LoggingEnabled"]
    assert enabled == {"TargetBucket": logs, "TargetPrefix": "s3-access/"}
    other = f"other-{uid}"
    s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as err:
        s3.put_bucket_logging(
            Bucket=content,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": other, "TargetPrefix": "x/"}},
        )
    assert err.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"


# --- conditional writes and bucket ownership ----------------------------------------------------


def test_conditional_put_if_none_match_creates_once(s3, bucket):
    s3.put_object(Bucket=bucket, Key="lock", Body=b"a", IfNoneMatch="*")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="lock", Body=b"b", IfNoneMatch="*")
    assert error_code(excinfo) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"a"


def test_conditional_put_if_match_needs_the_current_etag(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="m", Body=b"1")["ETag"]
    second = s3.put_object(Bucket=bucket, Key="m", Body=b"2", IfMatch=first)["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="m", Body=b"3", IfMatch=first)
    assert error_code(excinfo) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="m")["ETag"] == second


def test_conditional_delete_needs_the_current_etag(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="lock", Body=b"1")["ETag"]
    s3.put_object(Bucket=bucket, Key="lock", Body=b"2")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_object(Bucket=bucket, Key="lock", IfMatch=etag)
    assert error_code(excinfo) == "PreconditionFailed"
    current = s3.head_object(Bucket=bucket, Key="lock")["ETag"]
    s3.delete_object(Bucket=bucket, Key="lock", IfMatch=current)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="lock")


def test_racing_if_none_match_writes_have_exactly_one_winner(aws, bucket):
    import threading

    s3 = aws("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for round_ in range(5):
        key = f"lock-{round_}"
        wins, losses = [], []
        barrier = threading.Barrier(8)

        def contend(i: int) -> None:
            client = aws("s3")
            barrier.wait()
            try:
                client.put_object(Bucket=bucket, Key=key, Body=str(i).encode(), IfNoneMatch="*")
                wins.append(i)
            except ClientError as e:
                losses.append(e.response["Error"]["Code"])

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1, (wins, losses)
        assert set(losses) == {"PreconditionFailed"}
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == str(wins[0]).encode()


def test_if_none_match_writes_over_a_delete_marker(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="lock", Body=b"1", IfNoneMatch="*")
    s3.delete_object(Bucket=bucket, Key="lock")
    s3.put_object(Bucket=bucket, Key="lock", Body=b"2", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"2"


def test_expected_bucket_owner_refuses_another_accounts_bucket(aws, uid):
    other = aws("s3")
    other.meta.events.register(
        "before-sign.s3.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", "210987654321")
    )
    name = f"squatted-{uid}"
    other.create_bucket(Bucket=name)
    s3 = aws("s3")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=name, Key="index.html", Body=b"x", ExpectedBucketOwner=ACCOUNT)
    assert error_code(excinfo) == "AccessDenied"
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=ACCOUNT)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=name, ExpectedBucketOwner=ACCOUNT)
    assert error_code(excinfo) == "AccessDenied"
    # The owner's own calls, with its account as the expected owner, go through.
    other.put_object(Bucket=name, Key="a", Body=b"x", ExpectedBucketOwner="210987654321")
    own = f"own-{uid}"
    s3.create_bucket(Bucket=own)
    s3.put_object(Bucket=own, Key="a", Body=b"x", ExpectedBucketOwner=ACCOUNT)
    assert s3.list_objects_v2(Bucket=own, ExpectedBucketOwner=ACCOUNT)["KeyCount"] == 1
