"""SNS fidelity: email subscriptions wait for their confirmation, topic attributes round-trip."""

import json


def test_email_subscriptions_stay_pending_confirmation(aws, uid):
    sns = aws("sns")
    topic = sns.create_topic(Name=f"alerts-{uid}")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"ops-{uid}@example.com")
    assert answer["SubscriptionArn"] == "pending confirmation"
    real = sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint=f"bot-{uid}@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert real.startswith(f"{topic}:")
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in listed) == [
        ("email", f"ops-{uid}@example.com", "PendingConfirmation"),
        ("email-json", f"bot-{uid}@example.com", "PendingConfirmation"),
    ]
    assert all(s["TopicArn"] == topic and s["Owner"] == "123456789012" for s in listed)
    assert any(s["SubscriptionArn"] == "PendingConfirmation" and s["TopicArn"] == topic for s in sns.list_subscriptions()["Subscriptions"])
    attributes = sns.get_subscription_attributes(SubscriptionArn=real)["Attributes"]
    assert attributes["PendingConfirmation"] == "true" and attributes["ConfirmationWasAuthenticated"] == "false"
    counts = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (counts["SubscriptionsPending"], counts["SubscriptionsConfirmed"]) == ("2", "0")
    # Subscribing the same address again does not confirm it.
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"ops-{uid}@example.com")["SubscriptionArn"] == "pending confirmation"


def test_topic_encryption_and_policy_round_trip(aws, uid):
    sns, kms = aws("sns"), aws("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name=f"encrypted-{uid}", Attributes={"KmsMasterKeyId": key, "DisplayName": "Alerts"})["TopicArn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                      "Action": "sns:Publish", "Resource": topic}]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == key and attributes["DisplayName"] == "Alerts"
    assert json.loads(attributes["Policy"]) == policy
    sns.set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/sitewarden")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == "alias/sitewarden"
