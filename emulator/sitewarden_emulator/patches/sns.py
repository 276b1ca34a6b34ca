"""SNS: email subscriptions wait for a confirmation nobody gives, deliveries to SQS need the queue's
permission, and a subscriber's failure never fails the Publish.

- Email and email-json subscriptions stay pending, as in AWS until the recipient clicks the link:
  Subscribe answers `SubscriptionArn` "pending confirmation" (the real ARN only with
  ReturnSubscriptionArn=true), ListSubscriptions(ByTopic) shows "PendingConfirmation" in place of
  the ARN, GetSubscriptionAttributes reports PendingConfirmation "true", and nothing is delivered to
  them. GetTopicAttributes counts SubscriptionsPending and SubscriptionsConfirmed (moto: always 0).
- An SQS subscription receives a message only if the queue exists and its policy allows
  `sns.amazonaws.com` to `sqs:SendMessage` on the queue with `aws:SourceArn` = the topic ARN (and
  `aws:SourceAccount`), and, for an SSE-KMS queue, its key is enabled and lets `sns.amazonaws.com`
  `kms:GenerateDataKey` and `kms:Decrypt`; otherwise AWS drops the message (moto delivers always,
  or fails the Publish when the queue is gone). Attempts go to the delivery log of `events.py`.
- RawMessageDelivery "false" means the envelope (moto tests the string's truth, so "false" meant
  raw), and values other than true/false are refused as in AWS.
- The envelope's UnsubscribeURL names the subscription (moto: a fixed, made-up ARN in us-east-1).
"""


from moto.sns.exceptions import InvalidParameterValue, SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription
from moto.sns.responses import SNSResponse
from moto.utilities.arns import parse_arn

from .events import DeliveryDenied, check_kms_key, describe_error, record_delivery, service_allowed
from ._wrap import wrap as _wrap

SNS_PRINCIPAL = "sns.amazonaws.com"
CONFIRMED_BY_EMAIL = ("email", "email-json")


def _pending(subscription: Subscription) -> bool:
    return subscription.attributes.get("PendingConfirmation") is True


def _check_queue(subscription: Subscription) -> None:
    from moto.sqs.models import sqs_backends

    arn = parse_arn(subscription.endpoint)
    queue = sqs_backends[arn.account][arn.region].queues.get(arn.resource_id)
    if queue is None:
        raise DeliveryDenied("the queue does not exist")
    topic = subscription.topic
    context = {"aws:SourceArn": topic.arn, "aws:SourceAccount": topic.account_id}
    if not service_allowed(queue._policy_json, SNS_PRINCIPAL, ["sqs:SendMessage"], queue.queue_arn, context):
        raise DeliveryDenied(f"the queue policy does not allow {SNS_PRINCIPAL} sqs:SendMessage from {topic.arn}")
    if getattr(queue, "kms_master_key_id", None):
        check_kms_key(queue.kms_master_key_id, arn.account, arn.region, SNS_PRINCIPAL, context)


def _listed(subscription: Subscription) -> dict:
    return {
        "SubscriptionArn": "PendingConfirmation" if _pending(subscription) else subscription.arn,
        "Owner": subscription.owner,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic.arn,
    }


def apply() -> None:
    @_wrap(SNSBackend, "subscribe")
    def subscribe(original, self, topic_arn, endpoint, protocol):
        known = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = original(self, topic_arn, endpoint, protocol)
        if known is None and protocol in CONFIRMED_BY_EMAIL:
            subscription.attributes["PendingConfirmation"] = True
            subscription.attributes["ConfirmationWasAuthenticated"] = False
        return subscription

    @_wrap(SNSResponse, "subscribe")
    def subscribe_response(original, self):
        result = original(self)
        subscription = self.backend.subscriptions.get(result.result["SubscriptionArn"])
        wants_arn = str(self._get_param("ReturnSubscriptionArn") or "").lower() == "true"
        if subscription is not None and _pending(subscription) and not wants_arn:
            result.result["SubscriptionArn"] = "pending confirmation"
        return result

    for name in ("list_subscriptions", "list_subscriptions_by_topic"):

        @_wrap(SNSResponse, name)
        def listing(original, self):
            result = original(self)
            result.result["Subscriptions"] = [_listed(s) for s in result.result["Subscriptions"]]
            return result

    @_wrap(SNSResponse, "get_topic_attributes")
    def get_topic_attributes(original, self):
        result = original(self)
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        subscriptions = self.backend._get_topic_subscriptions(topic)
        pending = sum(1 for s in subscriptions if _pending(s))
        attributes = result.result["Attributes"]
        attributes["SubscriptionsPending"] = str(pending)
        attributes["SubscriptionsConfirmed"] = str(len(subscriptions) - pending)
        return result

    @_wrap(SNSBackend, "set_subscription_attributes")
    def set_subscription_attributes(original, self, arn, name, value):
        if name == "RawMessageDelivery":
            if str(value).lower() not in ("true", "false"):
                raise SNSInvalidParameter(f"Invalid parameter: RawMessageDelivery: Invalid value [{value}]. Must be true or false.")
            value = str(value).lower() == "true"
        return original(self, arn, name, value)

    @_wrap(SNSResponse, "set_subscription_attributes")
    def set_subscription_attributes_response(original, self):
        # moto's response reads any string other than "true" as false; AWS refuses it.
        value = self._get_param("AttributeValue")
        if self._get_param("AttributeName") == "RawMessageDelivery" and str(value).lower() not in ("true", "false"):
            raise SNSInvalidParameter(f"Invalid parameter: RawMessageDelivery: Invalid value [{value}]. Must be true or false.")
        return original(self)

    @_wrap(Subscription, "publish")
    def publish(original, self, message, message_id, *args, **kwargs):
        if _pending(self):
            return None  # an unconfirmed subscription receives nothing
        if self.protocol != "sqs":
            return original(self, message, message_id, *args, **kwargs)
        matcher = self._filter_policy_matcher
        attributes = kwargs.get("message_attributes", args[1] if len(args) > 1 else None)
        if matcher is not None and not matcher.matches(attributes, message):
            return None
        try:
            _check_queue(self)
            original(self, message, message_id, *args, **kwargs)
        except (InvalidParameterValue, SNSInvalidParameter):
            raise  # the publisher's error (e.g. a MessageStructure without the protocol's key)
        except DeliveryDenied as denied:
            record_delivery(self.topic.arn, self.endpoint, "failed", str(denied))
        except Exception as err:  # a subscriber's failure is not the publisher's
            record_delivery(self.topic.arn, self.endpoint, "failed", describe_error(err))
        else:
            record_delivery(self.topic.arn, self.endpoint, "delivered")
        return None

    @_wrap(Subscription, "get_post_data")
    def get_post_data(original, self, *args, **kwargs):
        data = original(self, *args, **kwargs)
        region = self.topic.sns_backend.region_name
        data["UnsubscribeURL"] = f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={self.arn}"
        return data
