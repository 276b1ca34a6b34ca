"""ACM fidelity (us-east-1, as CloudFront requires): DNS-validated certificates as a CDN tool reads them."""

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def acm(aws):
    return aws("acm", region="us-east-1")


def request(acm, domain, **extra):
    return acm.request_certificate(
        DomainName=domain,
        SubjectAlternativeNames=[domain, f"www.{domain}"],
        ValidationMethod="DNS",
        Options={"CertificateTransparencyLoggingPreference": "ENABLED"},
        KeyAlgorithm="RSA_2048",
        **extra,
    )["CertificateArn"]


def test_request_and_describe_dns_certificate(acm, uid):
    domain = f"{uid}.example.com"
    tags = [{"Key": "app", "Value": "sitewarden"}]
    arn = request(acm, domain, IdempotencyToken=f"tok{uid}", Tags=tags)
    assert arn.startswith("arn:aws:acm:us-east-1:123456789012:certificate/")
    assert request(acm, domain, IdempotencyToken=f"tok{uid}", Tags=tags) == arn

    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["DomainName"] == domain
    assert cert["SubjectAlternativeNames"] == [domain, f"www.{domain}"]
    assert cert["Status"] == "ISSUED" and cert["Type"] == "AMAZON_ISSUED"
    assert cert["KeyAlgorithm"] == "RSA-2048"
    assert cert["Options"]["CertificateTransparencyLoggingPreference"] == "ENABLED"
    assert cert["SignatureAlgorithm"] == "SHA256WITHRSA"
    assert [u["Name"] for u in cert["KeyUsages"]] == ["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"]
    assert cert["InUseBy"] == []
    assert cert["RenewalEligibility"] == "INELIGIBLE"
    options = cert["DomainValidationOptions"]
    assert [o["DomainName"] for o in options] == [domain, f"www.{domain}"]
    for option in options:
        assert option["ValidationMethod"] == "DNS" and option["ValidationStatus"] == "SUCCESS"
        assert option["ValidationDomain"] == option["DomainName"]
        record = option["ResourceRecord"]
        assert record["Type"] == "CNAME"
        assert record["Name"].startswith("_") and record["Name"].endswith(f".{option['DomainName']}.")
        assert record["Value"].startswith("_") and record["Value"].endswith(".acm-validations.aws.")
    assert options[0]["ResourceRecord"]["Name"] != options[1]["ResourceRecord"]["Name"]

    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == tags


def test_list_certificates_filters_and_delete(acm, uid):
    domain = f"{uid}.example.net"
    rsa = request(acm, domain)
    ec = acm.request_certificate(DomainName=f"ec.{domain}", ValidationMethod="DNS", KeyAlgorithm="EC_prime256v1")["CertificateArn"]

    listed = {c["CertificateArn"]: c for c in acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]}
    assert listed[rsa]["KeyAlgorithm"] == "RSA-2048" and listed[rsa]["DomainName"] == domain
    assert ec not in listed  # default keyTypes: RSA_1024 and RSA_2048 only
    assert listed[rsa]["SubjectAlternativeNameSummaries"] == [domain, f"www.{domain}"]
    assert listed[rsa]["Status"] == "ISSUED" and listed[rsa]["InUse"] is False

    assert acm.describe_certificate(CertificateArn=ec)["Certificate"]["KeyAlgorithm"] == "EC-prime256v1"
    with_ec = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert ec in [c["CertificateArn"] for c in with_ec]
    assert rsa not in [c["CertificateArn"] for c in with_ec]

    acm.delete_certificate(CertificateArn=rsa)
    with pytest.raises(ClientError) as exc:
        acm.describe_certificate(CertificateArn=rsa)
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert rsa not in [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
