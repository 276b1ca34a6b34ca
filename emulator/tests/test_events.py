"""EventBridge fidelity: CloudTrail "AWS API Call via CloudTrail" events of S3, KMS, CloudFront,
Route 53 and ACM calls reach the rules of the right default bus, and rules deliver (SNS → SQS, SQS)
with the input AWS would send, only where the resource policies let them."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

CLOUDTRAIL = "AWS API Call via CloudTrail"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def control(endpoint, path):
    with urllib.request.urlopen(f"{endpoint}/_sitewarden/{path}", timeout=30) as answer:
        return json.load(answer)


def settle(endpoint):
    """Wait until every call answered so far has been turned into events and delivered."""
    assert control(endpoint, "deliveries?since=0")["drained"]


ENDPOINT = None


@pytest.fixture(autouse=True)
def _remember_endpoint(endpoint):
    global ENDPOINT
    ENDPOINT = endpoint


def settle_calls_before(aws):
    """Events are delivered after the call returns: the calls that set a test up must not reach the
    rule the test creates next."""
    settle(ENDPOINT)


def messages(sqs, queue_url, expected=1):
    found = []
    for _ in range(5):
        found += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if len(found) >= expected:
            break
    return found


def queue(sqs, name, allow_service, source_arn=None):
    """A queue whose policy lets `allow_service` send to it (from `source_arn` only, if given)."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow_service:
        statement = {"Effect": "Allow", "Principal": {"Service": allow_service}, "Action": "sqs:SendMessage", "Resource": arn}
        if source_arn:
            statement["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})})
    return url, arn


def topic_policy(topic_arn, rule_arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish", "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }]})


def alert_pipeline(aws, uid, pattern, region="us-east-1", transformer=None, state="ENABLED", name="alerts"):
    """rule (pattern) → SNS topic (policy for the rule) → SQS queue (policy for the topic)."""
    settle_calls_before(aws)
    events, sns, sqs = aws("events", region=region), aws("sns", region=region), aws("sqs", region=region)
    topic = sns.create_topic(Name=f"{name}-{uid}")["TopicArn"]
    url, queue_arn = queue(sqs, f"{name}-{uid}", "sns.amazonaws.com", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    rule = events.put_rule(Name=f"{name}-{uid}", EventPattern=json.dumps(pattern), State=state)["RuleArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(topic, rule))
    target = {"Id": "topic", "Arn": topic}
    if transformer:
        target["InputTransformer"] = transformer
    events.put_targets(Rule=f"{name}-{uid}", Targets=[target])
    return url, topic, rule


def event_queue(aws, uid, pattern, region="us-east-1", name="events"):
    """rule (pattern) → SQS queue (policy for the rule): the queue receives the events as sent."""
    settle_calls_before(aws)
    events, sqs = aws("events", region=region), aws("sqs", region=region)
    rule = events.put_rule(Name=f"{name}-{uid}", EventPattern=json.dumps(pattern))["RuleArn"]
    url, arn = queue(sqs, f"{name}-{uid}", "events.amazonaws.com", rule)
    events.put_targets(Rule=f"{name}-{uid}", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def cloudtrail_pattern(service, names, **parameters):
    detail = {"eventSource": [f"{service}.amazonaws.com"], "eventName": names}
    if parameters:
        detail["requestParameters"] = {k: [v] for k, v in parameters.items()}
    return {"source": [f"aws.{service}"], "detail-type": [CLOUDTRAIL], "detail": detail}


BUCKET_TRANSFORMER = {
    "InputPathsMap": {
        "bucket": "$.detail.requestParameters.bucketName",
        "event": "$.detail.eventName",
        "who": "$.detail.userIdentity.arn",
        "ip": "$.detail.sourceIPAddress",
        "region": "$.region",
    },
    "InputTemplate": '{"summary": "<event> on <bucket> by <who> from <ip>", "bucket": <bucket>, "region": <region>}',
}


@pytest.fixture
def bucket_alerts(aws, uid):
    s3 = aws("s3")
    bucket, other = f"watched-{uid}", f"other-{uid}"
    for name in (bucket, other):
        s3.create_bucket(Bucket=name)
    pattern = cloudtrail_pattern("s3", ["PutBucketVersioning", "PutBucketPolicy"], bucketName=bucket)
    url, topic, _ = alert_pipeline(aws, uid, pattern, transformer=BUCKET_TRANSFORMER)
    return s3, bucket, other, url, topic


def test_bucket_change_reaches_the_subscribed_queue_transformed(endpoint, aws, bucket_alerts):
    s3, bucket, _, url, topic = bucket_alerts
    sqs = aws("sqs")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    (message,) = messages(sqs, url)
    envelope = json.loads(message["Body"])
    # SNS's notification envelope around the transformed text.
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    assert {"MessageId", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"} <= set(envelope)
    principal = aws("sts").get_caller_identity()["Arn"]
    assert json.loads(envelope["Message"]) == {
        "summary": f"PutBucketVersioning on {bucket} by {principal} from 127.0.0.1",
        "bucket": bucket,
        "region": "us-east-1",
    }
    # Minified, as EventBridge passes JSON on.
    assert envelope["Message"] == json.dumps(json.loads(envelope["Message"]), separators=(",", ":"))


def test_the_event_is_cloudtrails_record_of_the_call(endpoint, aws, uid):
    s3 = aws("s3", region="eu-west-1")
    bucket = f"record-{uid}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    url = event_queue(aws, uid, cloudtrail_pattern("s3", ["PutBucketPolicy"], bucketName=bucket), region="eu-west-1")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
                                                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    answer = s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    (message,) = messages(aws("sqs", region="eu-west-1"), url)
    event = json.loads(message["Body"])
    identity = aws("sts").get_caller_identity()
    assert event["version"] == "0" and event["detail-type"] == CLOUDTRAIL and event["source"] == "aws.s3"
    assert event["account"] == identity["Account"] and event["region"] == "eu-west-1" and event["resources"] == []
    assert event["time"].endswith("Z")
    detail = event["detail"]
    assert detail["eventVersion"] == "1.08"
    assert detail["userIdentity"]["arn"] == identity["Arn"]
    assert detail["userIdentity"]["principalId"] == identity["UserId"]
    assert detail["userIdentity"]["accountId"] == identity["Account"]
    assert detail["userIdentity"]["accessKeyId"] == "testing"
    assert detail["userIdentity"]["type"] == "IAMUser"
    assert detail["eventSource"] == "s3.amazonaws.com" and detail["eventName"] == "PutBucketPolicy"
    assert detail["awsRegion"] == "eu-west-1"
    assert detail["sourceIPAddress"] == "127.0.0.1"
    assert detail["userAgent"].startswith("Boto3/")
    parameters = detail["requestParameters"]
    assert parameters["bucketName"] == bucket and parameters["policy"] == "" and parameters["bucketPolicy"] == policy
    assert parameters["Host"].startswith("127.0.0.1:")
    assert detail["responseElements"] is None
    assert detail["requestID"] == answer["ResponseMetadata"]["RequestId"]
    assert detail["readOnly"] is False and detail["eventType"] == "AwsApiCall" and detail["managementEvent"] is True
    assert detail["recipientAccountId"] == identity["Account"]
    assert detail["eventID"] != event["id"]


def test_subresource_and_body_are_request_parameters(endpoint, aws, uid):
    s3 = aws("s3")
    bucket = f"pab-{uid}"
    s3.create_bucket(Bucket=bucket)
    url = event_queue(aws, uid, cloudtrail_pattern("s3", ["PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"], bucketName=bucket))
    flags = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=flags)
    s3.delete_public_access_block(Bucket=bucket)
    put, delete = (json.loads(m["Body"])["detail"] for m in messages(aws("sqs"), url, expected=2))
    # CloudTrail names these calls PutBucketPublicAccessBlock / DeleteBucketPublicAccessBlock.
    assert put["eventName"] == "PutBucketPublicAccessBlock" and delete["eventName"] == "DeleteBucketPublicAccessBlock"
    assert put["requestParameters"]["publicAccessBlock"] == ""
    assert put["requestParameters"]["PublicAccessBlockConfiguration"] == dict(flags, xmlns="http://s3.amazonaws.com/doc/2006-03-01/")
    assert delete["requestParameters"] == {"bucketName": bucket, "Host": delete["requestParameters"]["Host"], "publicAccessBlock": ""}


def test_a_call_on_another_bucket_is_not_delivered(endpoint, aws, bucket_alerts):
    s3, bucket, other, url, _ = bucket_alerts
    sqs = aws("sqs")
    s3.put_bucket_versioning(Bucket=other, VersioningConfiguration={"Status": "Enabled"})
    settle(endpoint)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    (message,) = messages(sqs, url)
    assert json.loads(json.loads(message["Body"])["Message"])["summary"].startswith(f"PutBucketPolicy on {bucket} ")


def test_read_calls_reach_only_rules_taking_all_management_events(endpoint, aws, uid):
    s3 = aws("s3")
    bucket = f"reads-{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    pattern = {"source": ["aws.s3"], "detail-type": [CLOUDTRAIL], "detail": {"requestParameters": {"bucketName": [bucket]}}}
    writes, _, _ = alert_pipeline(aws, uid, pattern, name="writes")
    everything, _, _ = alert_pipeline(aws, uid, pattern, name="everything", state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    s3.get_bucket_policy(Bucket=bucket)
    sqs = aws("sqs")
    (message,) = messages(sqs, everything)
    detail = json.loads(json.loads(message["Body"])["Message"])["detail"]
    assert detail["eventName"] == "GetBucketPolicy" and detail["readOnly"] is True
    settle(endpoint)
    assert sqs.receive_message(QueueUrl=writes, WaitTimeSeconds=0).get("Messages") is None


def test_object_calls_are_data_events_and_not_sent(endpoint, aws, uid):
    s3 = aws("s3")
    bucket = f"objects-{uid}"
    s3.create_bucket(Bucket=bucket)
    url = event_queue(aws, uid, {"source": ["aws.s3"], "detail": {"requestParameters": {"bucketName": [bucket]}}})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<html></html>")
    s3.delete_object(Bucket=bucket, Key="index.html")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    (message,) = messages(aws("sqs"), url)
    assert json.loads(message["Body"])["detail"]["eventName"] == "PutBucketTagging"


def test_a_failed_call_emits_nothing(endpoint, aws, uid):
    s3 = aws("s3")
    missing = f"missing-{uid}"
    url = event_queue(aws, uid, cloudtrail_pattern("s3", ["PutBucketPolicy"], bucketName=missing))
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=missing, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    assert err.value.response["Error"]["Code"] == "NoSuchBucket"
    settle(endpoint)
    assert aws("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_kms_events_land_in_the_keys_region(endpoint, aws, uid):
    kms = aws("kms", region="eu-west-1")
    key = kms.create_key(Description=f"key-{uid}")["KeyMetadata"]
    pattern = cloudtrail_pattern("kms", ["DisableKey"], keyId=key["Arn"])
    here = event_queue(aws, uid, pattern, region="eu-west-1")
    elsewhere = event_queue(aws, uid, pattern, region="us-east-1")
    kms.disable_key(KeyId=key["Arn"])
    (message,) = messages(aws("sqs", region="eu-west-1"), here)
    event = json.loads(message["Body"])
    assert event["region"] == "eu-west-1" and event["source"] == "aws.kms"
    detail = event["detail"]
    assert detail["eventSource"] == "kms.amazonaws.com" and detail["eventName"] == "DisableKey"
    assert detail["requestParameters"] == {"keyId": key["Arn"]}
    assert detail["responseElements"] is None
    settle(endpoint)
    assert aws("sqs").receive_message(QueueUrl=elsewhere, WaitTimeSeconds=0).get("Messages") is None


def test_kms_cryptographic_calls_are_read_only(endpoint, aws, uid):
    kms = aws("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    url = event_queue(aws, uid, cloudtrail_pattern("kms", [{"prefix": ""}]))
    kms.encrypt(KeyId=key, Plaintext=b"secret")
    kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    kms.enable_key_rotation(KeyId=key)
    settle(endpoint)
    found = [json.loads(m["Body"])["detail"] for m in messages(aws("sqs"), url)]
    assert [(d["eventName"], d["requestParameters"]["keyId"]) for d in found if d["requestParameters"].get("keyId") == key] == [
        ("EnableKeyRotation", key)
    ]


def distribution_config(uid):
    return {
        "CallerReference": f"events-{uid}",
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"site-{uid}.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": CACHING_OPTIMIZED},
        "Comment": f"site {uid}",
        "Enabled": True,
    }


def test_cloudfront_events_land_in_us_east_1(endpoint, aws, uid):
    cf = aws("cloudfront", region="eu-west-1")
    created = cf.create_distribution(DistributionConfig=distribution_config(uid))
    distribution = created["Distribution"]["Id"]
    url = event_queue(aws, uid, cloudtrail_pattern("cloudfront", ["UpdateDistribution"], id=distribution), region="us-east-1")
    current = cf.get_distribution_config(Id=distribution)
    config = dict(current["DistributionConfig"], Enabled=False)
    cf.update_distribution(Id=distribution, IfMatch=current["ETag"], DistributionConfig=config)
    (message,) = messages(aws("sqs", region="us-east-1"), url)
    event = json.loads(message["Body"])
    assert event["region"] == "us-east-1" and event["detail"]["awsRegion"] == "us-east-1"
    detail = event["detail"]
    assert detail["eventSource"] == "cloudfront.amazonaws.com" and detail["eventName"] == "UpdateDistribution"
    parameters = detail["requestParameters"]
    assert parameters["id"] == distribution and parameters["ifMatch"] == current["ETag"]
    assert parameters["distributionConfig"]["enabled"] is False
    assert parameters["distributionConfig"]["origins"]["items"][0]["id"] == "s3"
    assert parameters["distributionConfig"]["comment"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert detail["responseElements"]["distribution"]["id"] == distribution


def test_cloudfront_functions_are_named(endpoint, aws, uid):
    cf = aws("cloudfront")
    name = f"fn-{uid}"
    url = event_queue(aws, uid, cloudtrail_pattern("cloudfront", ["PublishFunction"], name=name))
    created = cf.create_function(Name=name, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                                 FunctionCode=b"function handler(event) { return event.request; }")
    cf.publish_function(Name=name, IfMatch=created["ETag"])
    (message,) = messages(aws("sqs"), url)
    assert json.loads(message["Body"])["detail"]["requestParameters"] == {"name": name, "ifMatch": created["ETag"]}


def test_route53_changes_carry_the_hosted_zone_id(endpoint, aws, uid):
    r53 = aws("route53")
    zone = r53.create_hosted_zone(Name=f"{uid}.example.com", CallerReference=f"events-{uid}")["HostedZone"]["Id"]
    zone_id = zone.split("/")[-1]
    url = event_queue(aws, uid, cloudtrail_pattern("route53", ["ChangeResourceRecordSets"], hostedZoneId=zone_id))
    change = {"Action": "UPSERT", "ResourceRecordSet": {"Name": f"www.{uid}.example.com", "Type": "A", "TTL": 60,
                                                        "ResourceRecords": [{"Value": "192.0.2.1"}]}}
    answer = r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Comment": "go", "Changes": [change]})
    (message,) = messages(aws("sqs"), url)
    event = json.loads(message["Body"])
    assert event["region"] == "us-east-1"
    parameters = event["detail"]["requestParameters"]
    assert parameters["hostedZoneId"] == zone_id
    assert parameters["changeBatch"] == {"comment": "go", "changes": [{"action": "UPSERT", "resourceRecordSet": {
        "name": f"www.{uid}.example.com", "type": "A", "tTL": 60, "resourceRecords": [{"value": "192.0.2.1"}]}}]}
    assert event["detail"]["responseElements"]["changeInfo"]["id"] == answer["ChangeInfo"]["Id"]


def test_acm_events_name_the_certificate(endpoint, aws, uid):
    acm = aws("acm", region="us-east-1")
    url = event_queue(aws, uid, cloudtrail_pattern("acm", ["RequestCertificate", "DeleteCertificate"]))
    arn = acm.request_certificate(DomainName=f"{uid}.example.com", ValidationMethod="DNS", IdempotencyToken=uid[:8])["CertificateArn"]
    acm.delete_certificate(CertificateArn=arn)
    found = [json.loads(m["Body"]) for m in messages(aws("sqs"), url, expected=2)]
    mine = [e for e in found if arn in json.dumps(e["detail"])]
    requested, deleted = mine
    assert requested["region"] == "us-east-1" and requested["detail"]["eventSource"] == "acm.amazonaws.com"
    assert requested["detail"]["requestParameters"]["domainName"] == f"{uid}.example.com"
    assert requested["detail"]["responseElements"] == {"certificateArn": arn}
    assert deleted["detail"]["eventName"] == "DeleteCertificate"
    assert deleted["detail"]["requestParameters"] == {"certificateArn": arn}


def test_an_assumed_role_is_the_principal(endpoint, aws, uid):
    import boto3
    from botocore.config import Config

    iam = aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=f"deployer-{uid}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    credentials = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="ci")["Credentials"]

    def as_role(service):
        return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
                            config=Config(retries={"max_attempts": 1}))

    bucket = f"role-{uid}"
    as_role("s3").create_bucket(Bucket=bucket)
    identity = as_role("sts").get_caller_identity()
    url = event_queue(aws, uid, cloudtrail_pattern("s3", ["PutBucketVersioning"], bucketName=bucket))
    as_role("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    (message,) = messages(aws("sqs"), url)
    who = json.loads(message["Body"])["detail"]["userIdentity"]
    assert who["type"] == "AssumedRole"
    assert who["arn"] == identity["Arn"] and who["principalId"] == identity["UserId"]
    assert who["accessKeyId"] == credentials["AccessKeyId"]
    assert who["sessionContext"]["sessionIssuer"] == {"type": "Role", "principalId": role["RoleId"], "arn": role["Arn"],
                                                      "accountId": identity["Account"], "userName": role["RoleName"]}
    assert who["sessionContext"]["webIdFederationData"] == {}


def test_a_web_identity_session_names_its_provider(endpoint, aws, uid):
    import base64
    import time

    import boto3
    from botocore.config import Config

    def b64url(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    iam = aws("iam")
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    try:
        iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"])
    except ClientError as err:  # the default account's provider, maybe made by another test
        assert err.response["Error"]["Code"] == "EntityAlreadyExists"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                                                     "Action": "sts:AssumeRoleWithWebIdentity"}]}
    role = iam.create_role(RoleName=f"gha-{uid}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    claims = {"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com",
              "sub": "repo:octo-org/site:ref:refs/heads/main", "exp": int(time.time()) + 300}
    token = f"{b64url({'alg': 'none'})}.{b64url(claims)}."
    credentials = aws("sts").assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="gha",
                                                           WebIdentityToken=token)["Credentials"]
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id=credentials["AccessKeyId"],
                      aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
                      config=Config(retries={"max_attempts": 1}))
    bucket = f"gha-{uid}"
    s3.create_bucket(Bucket=bucket)
    url = event_queue(aws, uid, cloudtrail_pattern("s3", ["PutBucketVersioning"], bucketName=bucket))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    (message,) = messages(aws("sqs"), url)
    who = json.loads(message["Body"])["detail"]["userIdentity"]
    assert who["type"] == "AssumedRole" and who["arn"] == f"arn:aws:sts::123456789012:assumed-role/gha-{uid}/gha"
    assert who["sessionContext"]["webIdFederationData"] == {"federatedProvider": provider, "attributes": {}}


# --- delivery: policies and keys ----------------------------------------------------------------


def put_event(events, source, detail):
    answer = events.put_events(Entries=[{"Source": source, "DetailType": "test", "Detail": json.dumps(detail)}])
    assert answer["FailedEntryCount"] == 0


def deliveries_to(endpoint, arn):
    return [d for d in control(endpoint, "deliveries?since=0")["deliveries"] if d["target"] == arn]


def test_the_default_topic_policy_does_not_let_eventbridge_publish(endpoint, aws, uid):
    events, sns, sqs = aws("events"), aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"default-policy-{uid}")["TopicArn"]
    url, arn = queue(sqs, f"default-policy-{uid}", "sns.amazonaws.com", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    events.put_rule(Name=f"default-policy-{uid}", EventPattern=json.dumps({"source": [f"test.{uid}"]}))
    events.put_targets(Rule=f"default-policy-{uid}", Targets=[{"Id": "t", "Arn": topic}])
    put_event(events, f"test.{uid}", {"n": 1})
    settle(endpoint)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    (attempt,) = deliveries_to(endpoint, topic)
    assert attempt["outcome"] == "failed" and "events.amazonaws.com" in attempt["reason"]


def test_an_encrypted_topic_needs_a_key_eventbridge_may_use(endpoint, aws, uid):
    kms = aws("kms")
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ]}
    usable = kms.create_key(Policy=json.dumps(key_policy))["KeyMetadata"]["Arn"]
    # EventBridge sends KMS no source context: a key conditioned on aws:SourceAccount refuses it.
    conditioned = json.loads(json.dumps(key_policy))
    conditioned["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    source_bound = kms.create_key(Policy=json.dumps(conditioned))["KeyMetadata"]["Arn"]
    sqs = aws("sqs")
    for i, (key, delivered) in enumerate(((usable, True), ("alias/aws/sns", False), (source_bound, False))):
        name = f"kms-{i}-{uid}"
        url, topic, _ = alert_pipeline(aws, uid, {"source": [f"kms.{name}"]}, name=name)
        aws("sns").set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue=key)
        put_event(aws("events"), f"kms.{name}", {"n": 1})
        settle(endpoint)
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")
        assert bool(got) is delivered, (key, deliveries_to(endpoint, topic))
    kms.disable_key(KeyId=usable)
    url, topic, _ = alert_pipeline(aws, uid, {"source": [f"disabled.{uid}"]}, name="disabled-key")
    aws("sns").set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue=usable)
    put_event(aws("events"), f"disabled.{uid}", {"n": 1})
    settle(endpoint)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    assert "Disabled" in deliveries_to(endpoint, topic)[-1]["reason"]


def test_a_queue_without_a_policy_for_sns_receives_nothing(endpoint, aws, uid):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"no-queue-policy-{uid}")["TopicArn"]
    url, arn = queue(sqs, f"no-queue-policy-{uid}", None)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")  # succeeds: the subscriber's problem is not the publisher's
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    other_topic = sns.create_topic(Name=f"other-topic-{uid}")["TopicArn"]
    url, arn = queue(sqs, f"other-topic-{uid}", "sns.amazonaws.com", other_topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")  # the policy names another topic
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_raw_message_delivery(endpoint, aws, uid):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"raw-{uid}")["TopicArn"]
    raw_url, raw_arn = queue(sqs, f"raw-{uid}", "sns.amazonaws.com", topic)
    env_url, env_arn = queue(sqs, f"envelope-{uid}", "sns.amazonaws.com", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=env_arn, Attributes={"RawMessageDelivery": "false"})
    sns.publish(TopicArn=topic, Message="plain text", Subject="subject")
    (raw,) = messages(sqs, raw_url)
    assert raw["Body"] == "plain text"
    (wrapped,) = messages(sqs, env_url)
    envelope = json.loads(wrapped["Body"])
    assert envelope["Message"] == "plain text" and envelope["Subject"] == "subject" and envelope["Type"] == "Notification"
    subscription = next(s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Endpoint"] == env_arn)
    assert envelope["UnsubscribeURL"] == f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}"
    with pytest.raises(ClientError) as err:
        sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="RawMessageDelivery", AttributeValue="yes")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"


# --- rules and input ----------------------------------------------------------------------------


@pytest.fixture
def to_queue(aws, uid):
    """PutEvents to a rule whose targets are queues (one per target spec): the bodies received."""
    events, sqs = aws("events"), aws("sqs")
    source = f"input.{uid}"
    rule = events.put_rule(Name=f"input-{uid}", EventPattern=json.dumps({"source": [source]}))["RuleArn"]

    def send(detail, *specs, resources=()):
        urls = []
        targets = []
        for i, spec in enumerate(specs):
            url, arn = queue(sqs, f"input-{uid}-{i}", "events.amazonaws.com", rule)
            urls.append(url)
            targets.append(dict(spec, Id=f"t{i}", Arn=arn))
        events.put_targets(Rule=f"input-{uid}", Targets=targets)
        events.put_events(Entries=[{"Source": source, "DetailType": "Site Deployed", "Detail": json.dumps(detail), "Resources": list(resources)}])
        return [messages(sqs, url)[0]["Body"] for url in urls]

    return send, rule


def test_input_transformer_as_eventbridge_evaluates_it(to_queue):
    send, rule = to_queue
    paths = {"site": "$.detail.site", "files": "$.detail.files", "tags": "$.detail.tags", "first": "$.detail.tags[0]",
             "missing": "$.detail.nothing", "kind": "$.detail-type", "all": "$.detail.owner.*"}
    text, quoted, json_values, reserved, missing = send(
        {"site": "www.example.com", "files": 3, "tags": ["a", "b"], "owner": {"team": "web"}},
        {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": "Deployed <site>: <files> files (<kind>) <tags>"}},
        {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": '"site <site> got <files> files"'}},
        {"InputTransformer": {"InputPathsMap": paths,
                              "InputTemplate": '{"site": <site>, "files": <files>, "tags": <tags>, "first": "<first>", "note": "<site> is \\"live\\"", "owners": <all>}'}},
        {"InputTransformer": {"InputPathsMap": {}, "InputTemplate": '{"rule": <aws.events.rule-name>, "arn": "<aws.events.rule-arn>", "event": <aws.events.event>, "full": <aws.events.event.json>}'}},
        {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": '{"value": <missing>, "text": "[<missing>]"}'}},
    )
    # Plain text: bare values (an array loses its inner quotes).
    assert text == "Deployed www.example.com: 3 files (Site Deployed) [a,b]"
    # A JSON string: passed on as the JSON string it is.
    assert quoted == '"site www.example.com got 3 files"'
    # JSON: unquoted placeholders get JSON values, quoted ones the bare text; minified.
    assert json_values == '{"site":"www.example.com","files":3,"tags":["a","b"],"first":"a","note":"www.example.com is \\"live\\"","owners":["web"]}'
    document = json.loads(reserved)
    assert document["arn"] == rule and document["rule"] == rule.split("/")[-1]
    assert "detail" not in document["event"] and document["event"]["detail-type"] == "Site Deployed"
    assert document["full"]["detail"]["site"] == "www.example.com" and document["full"]["time"].endswith("Z")
    assert json.loads(missing) == {"value": None, "text": "[]"}


def test_input_and_input_path(to_queue):
    send, _ = to_queue
    constant, selected, whole = send({"site": "www.example.com"}, {"Input": '{"fixed": true}'}, {"InputPath": "$.detail"}, {},
                                     resources=["arn:aws:s3:::bucket"])
    assert constant == '{"fixed": true}'
    assert json.loads(selected) == {"site": "www.example.com"}
    event = json.loads(whole)
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["resources"] == ["arn:aws:s3:::bucket"] and event["time"].endswith("Z")


def test_a_disabled_rule_delivers_nothing(endpoint, aws, uid):
    events = aws("events")
    url = event_queue(aws, uid, {"source": [f"disabled.{uid}"]})
    events.disable_rule(Name=f"events-{uid}")
    put_event(events, f"disabled.{uid}", {"n": 1})
    settle(endpoint)
    assert aws("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    events.enable_rule(Name=f"events-{uid}")
    put_event(events, f"disabled.{uid}", {"n": 2})
    (message,) = messages(aws("sqs"), url)
    assert json.loads(message["Body"])["detail"] == {"n": 2}


def test_injected_faults_count_as_aws_failures(endpoint, aws, uid):
    """An `error` fault never reached S3 (no event); an `after` fault's write took effect (an event,
    although the client got a 500)."""
    import boto3
    from botocore.config import Config

    key = f"CT{uid.upper()}"
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key="testing",
                      config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    bucket = f"faults-{uid}"
    s3.create_bucket(Bucket=bucket)
    url = event_queue(aws, uid, cloudtrail_pattern("s3", ["PutBucketVersioning"], bucketName=bucket))
    scope = f"cloudtrail-{uid}"

    def faults(document):
        request = urllib.request.Request(f"{endpoint}/_sitewarden/faults?scope={scope}", data=json.dumps(document).encode(),
                                         method="POST" if document else "DELETE")
        urllib.request.urlopen(request, timeout=10).read()

    try:
        for fault, status in (("error", "Suspended"), ("after", "Enabled")):
            faults({"rules": [{"fault": fault, "access_key": key, "operation": "PutBucketVersioning"}]})
            with pytest.raises(ClientError):
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    finally:
        faults({})
    (message,) = messages(aws("sqs"), url)
    settle(endpoint)
    assert aws("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    detail = json.loads(message["Body"])["detail"]
    assert detail["requestParameters"]["VersioningConfiguration"]["Status"] == "Enabled"
    assert detail["userIdentity"]["accessKeyId"] == key


def test_drain_waits_for_a_call_still_sending_its_answer():
    """A client can read a whole answer before the server has finished its response iterator;
    the deliveries it asks for next must include that call's event."""
    import threading
    import time

    from sitewarden_emulator.patches import cloudtrail

    finished = []

    def done(body):
        finished.append(body)
        cloudtrail._end()

    cloudtrail._begin()
    answer = cloudtrail._Answer(iter([b"<ok/>"]), done)
    chunks = iter(answer)
    assert next(chunks) == b"<ok/>"  # sent: the client has its answer, the iterator is not done
    waited = []
    waiter = threading.Thread(target=lambda: waited.append(cloudtrail.drain(timeout=5)))
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive(), "drain returned while the call was still being answered"
    assert list(chunks) == []  # the server finishes the iterator: the call is queued
    waiter.join(5)
    assert waited == [True] and finished == [b"<ok/>"]
