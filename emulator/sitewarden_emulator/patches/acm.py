"""ACM: requested certificates honour KeyAlgorithm and the order DomainName + SubjectAlternativeNames,
are signed by an "Amazon" RSA issuer, and describe themselves as AWS does (KeyAlgorithm "RSA-2048",
one DNS validation CNAME per domain, key usages); ListCertificates filters by key type (RSA only by
default) and returns full summaries; an in-use certificate cannot be deleted."""

import datetime
import hashlib
from functools import cache, wraps

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import NameOID
from moto.acm.exceptions import AWSValidationException
from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.acm.responses import AWSCertificateManagerResponse
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow


class ResourceInUseException(AWSError):
    TYPE = "ResourceInUseException"


CURVES = {"EC_prime256v1": ec.SECP256R1, "EC_secp384r1": ec.SECP384R1, "EC_secp521r1": ec.SECP521R1}
RSA_SIZES = {"RSA_1024": 1024, "RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
KEY_USAGES = {"RSA": ["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"], "EC": ["DIGITAL_SIGNATURE"]}
EXTENDED_KEY_USAGES = [
    {"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"},
    {"Name": "TLS_WEB_CLIENT_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.2"},
]


@cache
def _issuer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*attributes: tuple) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _key_algorithm(bundle: CertBundle) -> str:
    """The API enum value (RSA_2048, EC_prime256v1)."""
    key = bundle._key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return next((k for k, c in CURVES.items() if c.name == key.curve.name), f"EC_{key.curve.name}")
    return f"RSA_{key.key_size}"


def _domains(bundle: CertBundle) -> list[str]:
    return list(dict.fromkeys([bundle.common_name, *bundle.sans]))


def _validation_record(bundle: CertBundle, domain: str) -> dict:
    """DNS validation CNAME, stable per certificate and domain (a wildcard validates its base)."""
    digest = hashlib.sha256(f"{bundle.arn}|{domain}".encode()).hexdigest()
    base = domain[2:] if domain.startswith("*.") else domain
    return {
        "Name": f"_{digest[:32]}.{base}.",
        "Type": "CNAME",
        "Value": f"_{digest[32:]}.{digest[:10]}.acm-validations.aws.",
    }


def generate_cert(cls, domain_name, account_id, region, sans=None, cert_authority_arn=None, key_algorithm=None):
    """Leaf certificate for DomainName + SANs (in request order), signed by an RSA "Amazon" issuer."""
    key_algorithm = key_algorithm or "RSA_2048"
    if key_algorithm in CURVES:
        key = ec.generate_private_key(CURVES[key_algorithm]())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_SIZES[key_algorithm])
    names = list(dict.fromkeys([domain_name, *(sans or [])]))
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name((NameOID.COMMON_NAME, domain_name)))
        .issuer_name(_name((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "Amazon"),
                           (NameOID.COMMON_NAME, "Amazon RSA 2048 M02")))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=395))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(_issuer_key(), hashes.SHA256())
    )
    return cls(
        certificate=cert.public_bytes(serialization.Encoding.PEM),
        private_key=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert_type="PRIVATE" if cert_authority_arn else "AMAZON_ISSUED",
        cert_status="ISSUED" if cert_authority_arn else "PENDING_VALIDATION",
        cert_authority_arn=cert_authority_arn,
        account_id=account_id,
        region=region,
    )


def apply() -> None:
    CertBundle.generate_cert = classmethod(generate_cert)

    describe = CertBundle.describe

    @wraps(describe)
    def describe_bundle(self):
        result = describe(self)
        detail = result["Certificate"]
        algorithm = _key_algorithm(self)
        detail["KeyAlgorithm"] = algorithm.replace("_", "-", 1)  # AWS answers RSA-2048, EC-prime256v1
        detail["SubjectAlternativeNames"] = _domains(self)
        if self.type == "AMAZON_ISSUED":
            by_domain = {o["DomainName"]: o for o in detail.get("DomainValidationOptions", [])}
            detail["DomainValidationOptions"] = [
                dict(by_domain[d], ResourceRecord=_validation_record(self, d)) for d in _domains(self) if d in by_domain
            ]
        if self.status == "ISSUED":
            detail["KeyUsages"] = [{"Name": n} for n in KEY_USAGES[algorithm.split("_")[0]]]
            detail["ExtendedKeyUsages"] = EXTENDED_KEY_USAGES
        else:
            detail.pop("IssuedAt", None)
        return result

    CertBundle.describe = describe_bundle

    def request_certificate(self, domain_name, idempotency_token, subject_alt_names, tags,
                            cert_authority_arn=None, cert_options=None, key_algorithm=None):
        if idempotency_token is not None:
            arn = self._get_arn_from_idempotency_token(idempotency_token)
            if arn and arn in self._certificates:
                return arn
        if key_algorithm and key_algorithm not in CURVES and key_algorithm not in RSA_SIZES:
            raise AWSValidationException(f"Invalid key algorithm: {key_algorithm}")
        cert = CertBundle.generate_cert(domain_name, self.account_id, self.region_name, subject_alt_names,
                                        cert_authority_arn, key_algorithm)
        cert.cert_options.update(cert_options or {})
        if tags:
            cert.tags.add(tags)
        self._certificates[cert.arn] = cert
        if idempotency_token is not None:
            self._set_idempotency_token_arn(idempotency_token, cert.arn)
        return cert.arn

    AWSCertificateManagerBackend.request_certificate = request_certificate

    original_request = AWSCertificateManagerResponse.request_certificate

    @wraps(original_request)
    def request_response(self):
        backend_request = self.acm_backend.request_certificate
        key_algorithm = self._get_param("KeyAlgorithm")
        self.acm_backend.request_certificate = lambda *a: backend_request(*a, key_algorithm=key_algorithm)
        try:
            return original_request(self)
        finally:
            del self.acm_backend.request_certificate

    AWSCertificateManagerResponse.request_certificate = request_response

    original_list = AWSCertificateManagerBackend.list_certificates

    def list_certificates(self, statuses, includes):
        # Without Includes.keyTypes, AWS lists RSA_1024 and RSA_2048 certificates only.
        includes = dict(includes or {})
        key_types = includes.pop("keyTypes", None) or ["RSA_1024", "RSA_2048"]
        return [c for c in original_list(self, statuses, includes) if _key_algorithm(c) in key_types]

    AWSCertificateManagerBackend.list_certificates = list_certificates

    def list_certificates_response(self):
        summaries = []
        for bundle in self.acm_backend.list_certificates(
            self._get_param("CertificateStatuses"), self._get_param("Includes")
        ):
            detail = bundle.describe()["Certificate"]
            summary = {k: v for k, v in detail.items() if k in SUMMARY_FIELDS}
            summary.update(
                SubjectAlternativeNameSummaries=detail["SubjectAlternativeNames"],
                HasAdditionalSubjectAlternativeNames=False,
                KeyUsages=[u["Name"] for u in detail.get("KeyUsages", [])],
                ExtendedKeyUsages=[u["Name"] for u in detail.get("ExtendedKeyUsages", [])],
                InUse=bool(detail.get("InUseBy")),
                ExportOption=bundle.cert_options.get("Export", "DISABLED"),
                Exported=False,
            )
            summaries.append(summary)
        return ActionResult({"CertificateSummaryList": summaries})

    AWSCertificateManagerResponse.list_certificates = list_certificates_response

    original_delete = AWSCertificateManagerBackend.delete_certificate

    @wraps(original_delete)
    def delete_certificate(self, arn):
        # A certificate associated with a distribution or load balancer cannot be deleted.
        if arn in self._certificates and self._certificates[arn].in_use_by:
            raise ResourceInUseException(message=f"Certificate {arn} is in use.")
        return original_delete(self, arn)

    AWSCertificateManagerBackend.delete_certificate = delete_certificate


SUMMARY_FIELDS = {
    "CertificateArn", "DomainName", "Status", "Type", "KeyAlgorithm", "RenewalEligibility",
    "NotBefore", "NotAfter", "CreatedAt", "IssuedAt", "ImportedAt", "RevokedAt",
}
