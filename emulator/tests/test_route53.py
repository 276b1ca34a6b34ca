"""Route 53 fidelity: change batches validated like AWS, alias/CAA round trips, CallerReference."""

import pytest
from botocore.exceptions import ClientError

CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"


@pytest.fixture
def r53(aws):
    return aws("route53")


@pytest.fixture
def zone(r53, uid):
    name = f"{uid}.example.com"
    zone_id = r53.create_hosted_zone(Name=name, CallerReference=f"ref-{uid}")["HostedZone"]["Id"]
    return zone_id, name


def change(r53, zone_id, *changes):
    return r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": list(changes)})


def rrset(name, rtype="TXT", values=('"v1"',), ttl=300):
    return {"Name": name, "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}


def records(r53, zone_id, name, rtype):
    sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [s for s in sets if s["Name"] == f"{name}." and s["Type"] == rtype]


def test_create_existing_record_set_fails(r53, zone):
    zone_id, name = zone
    change(r53, zone_id, {"Action": "CREATE", "ResourceRecordSet": rrset(f"www.{name}")})
    for values in (('"v1"',), ('"other"',)):
        with pytest.raises(ClientError) as exc:
            change(r53, zone_id, {"Action": "CREATE", "ResourceRecordSet": rrset(f"www.{name}", values=values)})
        assert exc.value.response["Error"]["Code"] == "InvalidChangeBatch"
        assert "already exists" in exc.value.response["Error"]["Message"]
    assert len(records(r53, zone_id, f"www.{name}", "TXT")) == 1


def test_batch_is_atomic(r53, zone):
    zone_id, name = zone
    with pytest.raises(ClientError) as exc:
        change(
            r53, zone_id,
            {"Action": "CREATE", "ResourceRecordSet": rrset(f"a.{name}")},
            {"Action": "CREATE", "ResourceRecordSet": rrset(f"a.{name}")},
        )
    assert exc.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert records(r53, zone_id, f"a.{name}", "TXT") == []


def test_delete_requires_existing_matching_set(r53, zone):
    zone_id, name = zone
    with pytest.raises(ClientError) as exc:
        change(r53, zone_id, {"Action": "DELETE", "ResourceRecordSet": rrset(f"gone.{name}")})
    assert exc.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert "not found" in exc.value.response["Error"]["Message"]

    change(r53, zone_id, {"Action": "CREATE", "ResourceRecordSet": rrset(f"d.{name}", values=('"a"', '"b"'))})
    for wrong in (rrset(f"d.{name}", values=('"a"',)), rrset(f"d.{name}", values=('"a"', '"b"'), ttl=60)):
        with pytest.raises(ClientError) as exc:
            change(r53, zone_id, {"Action": "DELETE", "ResourceRecordSet": wrong})
        assert exc.value.response["Error"]["Code"] == "InvalidChangeBatch"
        assert "do not match" in exc.value.response["Error"]["Message"]
    change(r53, zone_id, {"Action": "DELETE", "ResourceRecordSet": rrset(f"D.{name}.", values=('"b"', '"a"'))})
    assert records(r53, zone_id, f"d.{name}", "TXT") == []


def test_upsert_replaces(r53, zone):
    zone_id, name = zone
    change(r53, zone_id, {"Action": "UPSERT", "ResourceRecordSet": rrset(f"u.{name}", values=('"one"',))})
    change(r53, zone_id, {"Action": "UPSERT", "ResourceRecordSet": rrset(f"u.{name}", values=('"two"',), ttl=60)})
    (only,) = records(r53, zone_id, f"u.{name}", "TXT")
    assert (only["TTL"], only["ResourceRecords"]) == (60, [{"Value": '"two"'}])


def test_alias_and_caa_round_trip(r53, zone):
    zone_id, name = zone
    alias = {"HostedZoneId": CLOUDFRONT_ZONE, "DNSName": "d111111abcdef8.cloudfront.net.", "EvaluateTargetHealth": False}
    caa = rrset(name, "CAA", ('0 issue "amazon.com"', '0 issuewild ";"', '0 iodef "mailto:sec@example.com"'), 3600)
    change(
        r53, zone_id,
        {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": "A", "AliasTarget": alias}},
        {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": "AAAA", "AliasTarget": alias}},
        {"Action": "CREATE", "ResourceRecordSet": caa},
    )
    for rtype in ("A", "AAAA"):
        (got,) = records(r53, zone_id, name, rtype)
        assert got["AliasTarget"] == alias and "TTL" not in got and "ResourceRecords" not in got
    (got,) = records(r53, zone_id, name, "CAA")
    assert got["ResourceRecords"] == caa["ResourceRecords"] and got["TTL"] == 3600

    with pytest.raises(ClientError) as exc:
        change(r53, zone_id, {"Action": "DELETE", "ResourceRecordSet": {
            "Name": name, "Type": "A", "AliasTarget": dict(alias, DNSName="other.cloudfront.net.")}})
    assert exc.value.response["Error"]["Code"] == "InvalidChangeBatch"
    change(r53, zone_id, {"Action": "DELETE", "ResourceRecordSet": {"Name": name, "Type": "A", "AliasTarget": alias}})
    assert records(r53, zone_id, name, "A") == []


def test_repeated_caller_reference_fails(r53, uid):
    r53.create_hosted_zone(Name=f"{uid}.example.org", CallerReference=f"same-{uid}")
    with pytest.raises(ClientError) as exc:
        r53.create_hosted_zone(Name=f"{uid}.example.org", CallerReference=f"same-{uid}")
    assert exc.value.response["Error"]["Code"] == "HostedZoneAlreadyExists"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    zones = r53.list_hosted_zones_by_name(DNSName=f"{uid}.example.org")["HostedZones"]
    assert len([z for z in zones if z["Name"] == f"{uid}.example.org."]) == 1


def test_change_ids_are_unique_and_waiter_succeeds(r53, zone):
    zone_id, name = zone
    first = change(r53, zone_id, {"Action": "CREATE", "ResourceRecordSet": rrset(f"w1.{name}")})["ChangeInfo"]
    second = change(r53, zone_id, {"Action": "CREATE", "ResourceRecordSet": rrset(f"w2.{name}")})["ChangeInfo"]
    assert first["Id"] != second["Id"] and first["Id"].startswith("/change/")
    r53.get_waiter("resource_record_sets_changed").wait(Id=second["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert r53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    with pytest.raises(ClientError) as exc:
        r53.get_change(Id="/change/CNOSUCHCHANGE")
    assert exc.value.response["Error"]["Code"] == "NoSuchChange"


def test_query_logging_configs_are_listed_by_zone(aws, r53, zone, uid):
    zone_id, _ = zone
    bare = zone_id.split("/")[-1]
    # The zone id as CLI and SDK users pass it: bare, or with the `/hostedzone/` prefix.
    assert r53.list_query_logging_configs(HostedZoneId=bare)["QueryLoggingConfigs"] == []
    assert r53.list_query_logging_configs(HostedZoneId=zone_id)["QueryLoggingConfigs"] == []
    other = r53.create_hosted_zone(Name=f"other-{uid}.example.com", CallerReference=f"other-{uid}")
    group = f"/aws/route53/{uid}"
    aws("logs").create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"
    r53.create_query_logging_config(HostedZoneId=other["HostedZone"]["Id"].split("/")[-1], CloudWatchLogsLogGroupArn=arn)
    assert r53.list_query_logging_configs(HostedZoneId=bare)["QueryLoggingConfigs"] == []
    configs = r53.list_query_logging_configs(HostedZoneId=other["HostedZone"]["Id"])["QueryLoggingConfigs"]
    assert [c["CloudWatchLogsLogGroupArn"] for c in configs] == [arn]
    with pytest.raises(ClientError) as err:
        r53.list_query_logging_configs(HostedZoneId="ZNOSUCHZONE")
    assert err.value.response["Error"]["Code"] == "NoSuchHostedZone"
