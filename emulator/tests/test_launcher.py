"""The launcher serves moto on 127.0.0.1 with the patch layer applied."""

from urllib.parse import urlparse


def test_listens_on_loopback_only(endpoint):
    assert urlparse(endpoint).hostname == "127.0.0.1"


def test_answers_as_the_default_test_account(aws):
    identity = aws("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
