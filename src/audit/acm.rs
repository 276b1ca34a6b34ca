//! ACM certificate controls: issued by ACM with DNS validation (so it renews) and not about to
//! expire, a strong key, certificate transparency logging, and us-east-1 (CloudFront's region).

use std::time::{Duration, SystemTime};

#[allow(deprecated)] // see `transparency`
use aws_sdk_acm::types::CertificateTransparencyLoggingPreference;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, CertificateType, KeyAlgorithm, ValidationMethod,
};

use super::controls::{ACM_KEY_ALGORITHM, ACM_REGION, ACM_RENEWAL, ACM_TRANSPARENCY};
use super::{Audited, Finding, Kind, Outcome, Sink};
use crate::aws::{Aws, US_EAST_1};
use crate::error::Result;

/// Security Hub's ACM.1 fails a certificate that expires within 30 days.
const EXPIRY_MARGIN: Duration = Duration::from_hours(30 * 24);

/// Evaluates the certificate `arn` (a distribution's viewer certificate).
pub async fn audit(aws: &Aws, arn: &str, findings: &mut Vec<Finding>) -> Result<()> {
    let detail = crate::observe::certificate::detail(aws, arn, &format!("certificate {arn}")).await;
    let name = detail
        .as_ref()
        .ok()
        .and_then(|d| d.domain_name.clone())
        .unwrap_or_else(|| arn.to_owned());
    let mut sink = Sink::new(
        findings,
        Audited::new(Kind::Certificate, name, Some(arn.to_owned())),
    );
    let detail = detail.as_ref();
    let missing = match detail {
        Ok(d) => missing_validation_records(aws, d).await,
        Err(_) => Ok(Vec::new()),
    };
    sink.check(
        ACM_RENEWAL,
        detail.and_then(|d| missing.as_ref().map(|m| renewal(d, SystemTime::now(), m))),
    );
    sink.check(ACM_KEY_ALGORITHM, detail.map(key_algorithm));
    sink.check(ACM_TRANSPARENCY, detail.map(transparency));
    sink.check(ACM_REGION, Ok(region(arn)));
    Ok(())
}

/// The DNS validation CNAMEs that are gone from this account's zones: ACM renews a certificate
/// only while they stay. Names whose zone is not in this account (external DNS) are not checked.
async fn missing_validation_records(aws: &Aws, c: &CertificateDetail) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for record in c
        .domain_validation_options()
        .iter()
        .filter_map(|v| v.resource_record.as_ref())
    {
        let name = record.name.trim_end_matches('.').to_ascii_lowercase();
        if missing.contains(&name) {
            continue; // one record can validate several names
        }
        let Some(sets) = crate::observe::dns::records_of(aws, &name).await? else {
            continue;
        };
        let wanted = record.value.trim_end_matches('.').to_ascii_lowercase();
        let present = sets.iter().any(|s| {
            s.r#type == aws_sdk_route53::types::RrType::Cname
                && s.resource_records()
                    .iter()
                    .any(|r| r.value.trim_end_matches('.').eq_ignore_ascii_case(&wanted))
        });
        if !present {
            missing.push(name);
        }
    }
    Ok(missing)
}

fn renewal(c: &CertificateDetail, now: SystemTime, missing_records: &[String]) -> Outcome {
    let mut problems = Vec::new();
    for name in missing_records {
        problems.push(format!(
            "validation record CNAME {name} is missing (renewal will fail)"
        ));
    }
    match &c.r#type {
        Some(CertificateType::AmazonIssued) => {}
        Some(other) => problems.push(format!("{} (does not renew)", other.as_str())),
        None => problems.push("unknown certificate type".to_owned()),
    }
    let methods: Vec<&str> = c
        .domain_validation_options()
        .iter()
        .filter_map(|v| v.validation_method.as_ref())
        .filter(|m| **m != ValidationMethod::Dns)
        .map(ValidationMethod::as_str)
        .collect();
    if !methods.is_empty() {
        problems.push(format!(
            "{} validation (renewal needs a person)",
            methods.join(", ")
        ));
    }
    if c.status != Some(CertificateStatus::Issued) {
        problems.push(format!(
            "status {}",
            c.status
                .as_ref()
                .map_or("unknown", CertificateStatus::as_str)
        ));
    }
    let expires = c.not_after.and_then(|t| SystemTime::try_from(t).ok());
    if let Some(expires) = expires
        && expires < now + EXPIRY_MARGIN
    {
        problems.push(format!(
            "expires {} (within 30 days)",
            c.not_after.map(|t| t.to_string()).unwrap_or_default()
        ));
    }
    Outcome::unless(
        &problems,
        format!(
            "ACM-issued, DNS-validated, expires {}",
            c.not_after
                .map_or_else(|| "(unknown)".to_owned(), |t| t.to_string())
        ),
    )
}

/// `DescribeCertificate` spells the algorithm `RSA-2048` / `EC-prime256v1` while the API model's
/// enum says `RSA_2048` / `EC_prime256v1` (the SDK then reports the answer as unknown), so the
/// name is compared with `-` read as `_`.
fn key_algorithm(c: &CertificateDetail) -> Outcome {
    let Some(algorithm) = &c.key_algorithm else {
        return Outcome::fail("unknown key algorithm");
    };
    let name = algorithm.as_str();
    match KeyAlgorithm::from(name.replace('-', "_").as_str()) {
        KeyAlgorithm::Rsa2048
        | KeyAlgorithm::Rsa3072
        | KeyAlgorithm::Rsa4096
        | KeyAlgorithm::EcPrime256v1
        | KeyAlgorithm::EcSecp384r1
        | KeyAlgorithm::EcSecp521r1 => Outcome::pass(name),
        _ => Outcome::fail(format!("key algorithm {name}")),
    }
}

// ACM no longer offers the opt-out, but certificates requested before still carry it.
#[allow(deprecated)]
fn transparency(c: &CertificateDetail) -> Outcome {
    // Absent options mean ACM's default: logging enabled.
    match c
        .options
        .as_ref()
        .and_then(|o| o.certificate_transparency_logging_preference.as_ref())
    {
        Some(CertificateTransparencyLoggingPreference::Disabled) => {
            Outcome::fail("certificate transparency logging DISABLED")
        }
        _ => Outcome::pass("certificate transparency logging ENABLED"),
    }
}

fn region(arn: &str) -> Outcome {
    let region = arn.split(':').nth(3).unwrap_or("");
    if region == US_EAST_1 {
        Outcome::pass(US_EAST_1)
    } else {
        Outcome::fail(format!("certificate in `{region}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use aws_sdk_acm::types::{CertificateOptions, DomainValidation};
    use aws_smithy_types::DateTime;

    fn certificate(not_after: SystemTime) -> CertificateDetail {
        CertificateDetail::builder()
            .r#type(CertificateType::AmazonIssued)
            .status(CertificateStatus::Issued)
            .domain_validation_options(
                DomainValidation::builder()
                    .domain_name("docs.example.com")
                    .validation_method(ValidationMethod::Dns)
                    .build()
                    .unwrap(),
            )
            .key_algorithm(KeyAlgorithm::Rsa2048)
            .not_after(DateTime::from(not_after))
            .build()
    }

    #[test]
    #[allow(deprecated)] // the transparency opt-out of older certificates
    fn issued_dns_validated_certificates_pass_until_thirty_days_before_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_hours(24 * 20_000);
        let fresh = certificate(now + Duration::from_hours(24 * 180));
        assert_eq!(renewal(&fresh, now, &[]).status, Status::Pass);
        let unvalidated = renewal(&fresh, now, &["_x.docs.example.com".to_owned()]);
        assert_eq!(
            unvalidated.evidence,
            "validation record CNAME _x.docs.example.com is missing (renewal will fail)"
        );
        assert_eq!(key_algorithm(&fresh).evidence, "RSA_2048");
        assert_eq!(transparency(&fresh).status, Status::Pass);
        let expiring = certificate(now + Duration::from_hours(24 * 10));
        assert!(
            renewal(&expiring, now, &[])
                .evidence
                .contains("within 30 days")
        );
        let mut imported = fresh.clone();
        imported.r#type = Some(CertificateType::Imported);
        assert_eq!(
            renewal(&imported, now, &[]).evidence,
            "IMPORTED (does not renew)"
        );
        let mut weak = fresh;
        weak.key_algorithm = Some(KeyAlgorithm::Rsa1024);
        weak.options = Some(
            CertificateOptions::builder()
                .certificate_transparency_logging_preference(
                    CertificateTransparencyLoggingPreference::Disabled,
                )
                .build(),
        );
        assert_eq!(key_algorithm(&weak).status, Status::Fail);
        // How DescribeCertificate actually answers.
        weak.key_algorithm = Some(KeyAlgorithm::from("RSA-2048"));
        assert_eq!(key_algorithm(&weak).status, Status::Pass);
        weak.key_algorithm = Some(KeyAlgorithm::from("RSA-1024"));
        assert_eq!(key_algorithm(&weak).status, Status::Fail);
        assert_eq!(transparency(&weak).status, Status::Fail);
    }

    #[test]
    fn certificates_outside_us_east_1_fail() {
        assert_eq!(
            region("arn:aws:acm:us-east-1:123456789012:certificate/c").status,
            Status::Pass
        );
        assert_eq!(
            region("arn:aws:acm:eu-west-1:123456789012:certificate/c"),
            Outcome::fail("certificate in `eu-west-1`")
        );
    }
}
