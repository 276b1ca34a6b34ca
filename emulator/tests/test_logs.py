"""CloudWatch Logs vended-log deliveries (CloudFront standard logging v2 → S3), us-east-1."""

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"


@pytest.fixture
def logs(aws):
    return aws("logs", region="us-east-1")


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def setup_delivery(logs, uid):
    distribution = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E{uid.upper()}"
    source = logs.put_delivery_source(
        name=f"src-{uid}", resourceArn=distribution, logType="ACCESS_LOGS", tags={"app": "sitewarden"}
    )["deliverySource"]
    destination = logs.put_delivery_destination(
        name=f"dst-{uid}",
        outputFormat="parquet",
        deliveryDestinationConfiguration={"destinationResourceArn": f"arn:aws:s3:::logs-{uid}/cloudfront"},
        tags={"app": "sitewarden"},
    )["deliveryDestination"]
    return distribution, source, destination


def test_delivery_source_and_destination_round_trip(logs, uid):
    distribution, source, destination = setup_delivery(logs, uid)
    assert source["name"] == f"src-{uid}"
    assert source["arn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-source:src-{uid}"
    assert source["resourceArns"] == [distribution]
    assert source["service"] == "cloudfront" and source["logType"] == "ACCESS_LOGS"
    assert source["tags"] == {"app": "sitewarden"}

    assert destination["arn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-destination:dst-{uid}"
    assert destination["deliveryDestinationType"] == "S3"
    assert destination["outputFormat"] == "parquet"
    assert destination["deliveryDestinationConfiguration"] == {
        "destinationResourceArn": f"arn:aws:s3:::logs-{uid}/cloudfront"
    }

    assert source["name"] in [s["name"] for s in logs.describe_delivery_sources()["deliverySources"]]
    assert destination["name"] in [d["name"] for d in logs.describe_delivery_destinations()["deliveryDestinations"]]
    assert logs.get_delivery_source(name=source["name"])["deliverySource"]["resourceArns"] == [distribution]
    assert logs.get_delivery_destination(name=destination["name"])["deliveryDestination"]["outputFormat"] == "parquet"
    assert logs.list_tags_for_resource(resourceArn=source["arn"])["tags"] == {"app": "sitewarden"}
    logs.tag_resource(resourceArn=destination["arn"], tags={"env": "test"})
    assert logs.list_tags_for_resource(resourceArn=destination["arn"])["tags"] == {"app": "sitewarden", "env": "test"}

    for call in (
        lambda: logs.get_delivery_source(name=f"nope-{uid}"),
        lambda: logs.get_delivery_destination(name=f"nope-{uid}"),
        lambda: logs.delete_delivery_source(name=f"nope-{uid}"),
        lambda: logs.delete_delivery_destination(name=f"nope-{uid}"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException"


def test_delivery_lifecycle(logs, uid):
    _, source, destination = setup_delivery(logs, uid)
    delivery = logs.create_delivery(
        deliverySourceName=source["name"], deliveryDestinationArn=destination["arn"], tags={"app": "sitewarden"}
    )["delivery"]
    assert delivery["id"] and delivery["deliverySourceName"] == source["name"]
    assert delivery["deliveryDestinationArn"] == destination["arn"]
    assert delivery["deliveryDestinationType"] == "S3"
    assert delivery["arn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery:{delivery['id']}"
    assert delivery["tags"] == {"app": "sitewarden"}

    with pytest.raises(ClientError) as exc:
        logs.create_delivery(deliverySourceName=source["name"], deliveryDestinationArn=destination["arn"])
    assert error_code(exc) == "ConflictException"

    got = logs.get_delivery(id=delivery["id"])["delivery"]
    assert (got["id"], got["deliverySourceName"], got["deliveryDestinationArn"]) == (
        delivery["id"], source["name"], destination["arn"])
    assert delivery["id"] in [d["id"] for d in logs.describe_deliveries()["deliveries"]]

    # A source or destination in use by a delivery cannot be deleted.
    for call in (
        lambda: logs.delete_delivery_source(name=source["name"]),
        lambda: logs.delete_delivery_destination(name=destination["name"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ConflictException"

    logs.delete_delivery(id=delivery["id"])
    with pytest.raises(ClientError) as exc:
        logs.get_delivery(id=delivery["id"])
    assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        logs.delete_delivery(id=delivery["id"])
    assert error_code(exc) == "ResourceNotFoundException"

    logs.delete_delivery_source(name=source["name"])
    logs.delete_delivery_destination(name=destination["name"])
    assert source["name"] not in [s["name"] for s in logs.describe_delivery_sources()["deliverySources"]]


def test_create_delivery_requires_existing_ends(logs, uid):
    _, source, destination = setup_delivery(logs, uid)
    with pytest.raises(ClientError) as exc:
        logs.create_delivery(deliverySourceName=f"nope-{uid}", deliveryDestinationArn=destination["arn"])
    assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        logs.create_delivery(
            deliverySourceName=source["name"],
            deliveryDestinationArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-destination:nope-{uid}",
        )
    assert error_code(exc) == "ResourceNotFoundException"
