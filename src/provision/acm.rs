//! The site's certificate: ACM in us-east-1 (CloudFront's region, whatever the site's), covering
//! the domain and every alias, DNS validated with its CNAMEs kept for renewal, RSA 2048,
//! certificate transparency logging on. Found again by its domain name and the `sitewarden:site`
//! tag. Domainless sites have none.
//!
//! `dns.mode = "route53"`: the hosted zone is looked up first (no zone is a usage error), its CAA
//! policy is made to permit Amazon, and the validation CNAMEs are written into it. `"external"`:
//! the records are printed for the user to create.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_acm::client::Waiters as _;
use aws_sdk_acm::error::ProvideErrorMetadata as _;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateOptions, CertificateStatus, CertificateSummary, KeyAlgorithm,
    Tag, ValidationMethod,
};
use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};
use aws_smithy_runtime_api::client::waiters::error::WaiterError;
use sha2::{Digest as _, Sha256};

use super::dns::{self, RecordChange};
use super::{Action, Ctx, Known, Plan};
use crate::config::DnsMode;
use crate::error::{AwsResultExt as _, Error, Result, code};
use crate::names::SITE_TAG;
use crate::names::{Kind, Resource};
use crate::observe::certificate;

const VALIDATION_TTL: i64 = 300;
/// DNS validation usually takes minutes once the records resolve.
const VALIDATION_TIMEOUT: Duration = Duration::from_mins(30);
/// ACM publishes a new certificate's validation records within seconds; no waiter covers that.
const RECORDS_POLL: Duration = Duration::from_secs(2);
const RECORDS_ATTEMPTS: u32 = 30;

/// Finds or requests the certificate, gets it validated, and sets `known.certificate_arn` once it
/// is issued (`known.zone_id` too, in route53 mode).
pub async fn reconcile(ctx: &Ctx<'_>, known: &mut Known, plan: &mut Plan) -> Result<()> {
    let Some(domain) = &ctx.config.site.domain else {
        return Ok(());
    };
    let zone = match (ctx.config.dns.mode, &known.zone_id) {
        (DnsMode::Route53, Some(zone)) => Some(zone.clone()), // found by `up`'s preflight
        (DnsMode::Route53, None) => Some(dns::require_zone(ctx).await?),
        (DnsMode::External, _) => None,
    };
    if let Some(zone) = &zone {
        dns::reconcile_caa(ctx, zone, plan).await?;
    }
    known.zone_id.clone_from(&zone);
    let names = site_names(ctx);
    let (mut certificates, _) = observe(
        ctx,
        &[
            CertificateStatus::PendingValidation,
            CertificateStatus::Issued,
        ],
    )
    .await?;
    // An issued certificate first, then the newest.
    certificates.sort_by_key(|c| (!is_issued(c), std::cmp::Reverse(c.created_at)));
    let current = certificates.iter().position(|c| covers(c, &names));
    let certificate = if let Some(i) = current {
        let found = certificates.swap_remove(i);
        if records_ready(&found) {
            found
        } else {
            describe(ctx, arn_of(&found)).await?
        }
    } else {
        let mut detail = format!(
            "request certificate for {}, DNS validation, CT logging",
            names.join(" + ")
        );
        if !certificates.is_empty() {
            detail.push_str(
                "; it replaces the certificate for the former names, which is deleted with the \
                 site",
            );
        }
        ctx.change(plan, &resource(domain.as_str()), Action::Create, detail);
        if !ctx.apply {
            return Ok(());
        }
        let arn = request(ctx, &names).await?;
        describe(ctx, &arn).await?
    };
    let records = validation_records(&certificate);
    match &zone {
        Some(zone) => reconcile_validation_records(ctx, zone, &records, plan).await?,
        None => print_external(ctx, domain.as_str(), &certificate, &records, plan),
    }
    let arn = arn_of(&certificate).to_owned();
    if !is_issued(&certificate) {
        if !ctx.apply || !ctx.wait {
            ctx.printer.info(format_args!(
                "the certificate for `{domain}` is pending DNS validation; the next \
                 `sitewarden up` resumes once ACM has issued it"
            ));
            return Ok(());
        }
        wait_issued(ctx, domain.as_str(), &arn).await?;
    }
    known.certificate_arn = Some(arn);
    ctx.settled(plan, &resource(domain.as_str()));
    Ok(())
}

fn resource(domain: &str) -> Resource {
    Resource::new(Kind::Certificate, domain)
}

/// The names the certificate covers: the domain, then the aliases.
fn site_names(ctx: &Ctx<'_>) -> Vec<String> {
    dns::site_names(ctx.config)
        .into_iter()
        .map(ToString::to_string)
        .collect()
}

fn arn_of(certificate: &CertificateDetail) -> &str {
    certificate.certificate_arn.as_deref().unwrap_or_default()
}

fn is_issued(certificate: &CertificateDetail) -> bool {
    certificate.status == Some(CertificateStatus::Issued)
}

/// Exactly the site's names: a certificate with a name the site gave up would fail to renew once
/// that name no longer validates.
fn covers(certificate: &CertificateDetail, names: &[String]) -> bool {
    let sans: BTreeSet<&str> = certificate
        .subject_alternative_names()
        .iter()
        .map(String::as_str)
        .collect();
    sans == names.iter().map(String::as_str).collect()
}

// ---- observe -----------------------------------------------------------------------------------

/// The site's certificates in `statuses` (all when empty), described, and the summaries of every
/// other certificate in the account (whose validation records may coincide with the site's).
async fn observe(
    ctx: &Ctx<'_>,
    statuses: &[CertificateStatus],
) -> Result<(Vec<CertificateDetail>, Vec<CertificateSummary>)> {
    let Some(domain) = &ctx.config.site.domain else {
        return Ok((Vec::new(), Vec::new()));
    };
    let resource = resource(domain.as_str());
    let found = certificate::site_certificates(
        ctx.aws,
        domain.as_str(),
        &ctx.names.site,
        statuses,
        &resource.to_string(),
    )
    .await?;
    Ok((found.ours, found.others))
}

/// Describes the certificate, waiting (bounded) until a pending one lists its validation records.
async fn describe(ctx: &Ctx<'_>, arn: &str) -> Result<CertificateDetail> {
    let mut attempt = 1;
    loop {
        let certificate = certificate::detail(
            ctx.aws,
            arn,
            &Resource::new(Kind::Certificate, arn).to_string(),
        )
        .await?;
        if records_ready(&certificate) || attempt == RECORDS_ATTEMPTS {
            return Ok(certificate);
        }
        attempt += 1;
        tokio::time::sleep(RECORDS_POLL).await;
    }
}

fn records_ready(certificate: &CertificateDetail) -> bool {
    is_issued(certificate)
        || certificate
            .domain_validation_options()
            .iter()
            .all(|o| o.resource_record.is_some())
}

/// `(name, value)` of each validation CNAME, absolute and distinct (a wildcard shares its base
/// name's record).
fn validation_records(certificate: &CertificateDetail) -> Vec<(String, String)> {
    let records: BTreeSet<(String, String)> = certificate
        .domain_validation_options()
        .iter()
        .filter_map(|o| o.resource_record.as_ref())
        .map(|r| (dns::fqdn(&r.name), dns::fqdn(&r.value)))
        .collect();
    records.into_iter().collect()
}

// ---- request -----------------------------------------------------------------------------------

async fn request(ctx: &Ctx<'_>, names: &[String]) -> Result<String> {
    let domain = &names[0];
    let arn = ctx
        .aws
        .acm
        .request_certificate()
        .domain_name(domain)
        .set_subject_alternative_names(Some(names.to_vec()))
        .validation_method(ValidationMethod::Dns)
        .key_algorithm(KeyAlgorithm::Rsa2048)
        .options(transparency_logging())
        .idempotency_token(idempotency_token(&ctx.names.site, names))
        .tags(
            Tag::builder()
                .key(SITE_TAG)
                .value(&ctx.names.site)
                .build()?,
        )
        .send()
        .await
        .op("RequestCertificate", &resource(domain))?
        .certificate_arn
        .ok_or_else(|| anyhow::anyhow!("RequestCertificate answered without an ARN"))?;
    Ok(arn)
}

/// Certificate transparency logging on. The SDK deprecates the option because ACM no longer
/// allows opting out; setting it anyway states the baseline and shows in `DescribeCertificate`.
#[allow(deprecated)]
fn transparency_logging() -> CertificateOptions {
    CertificateOptions::builder()
        .certificate_transparency_logging_preference(
            aws_sdk_acm::types::CertificateTransparencyLoggingPreference::Enabled,
        )
        .build()
}

/// Letters and digits, at most 32: a retried request (within the hour ACM remembers tokens) returns
/// the same certificate, while a changed set of names gets a new one.
fn idempotency_token(site: &str, names: &[String]) -> String {
    let mut hash = Sha256::new();
    hash.update(site.as_bytes());
    for name in names {
        hash.update(b"\0");
        hash.update(name.as_bytes());
    }
    let digest = hash.finalize();
    format!("{:x}", &digest)[..32].to_owned()
}

// ---- validation records ------------------------------------------------------------------------

fn validation_set(name: &str, value: &str) -> Result<ResourceRecordSet> {
    Ok(ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(VALIDATION_TTL)
        .resource_records(ResourceRecord::builder().value(value).build()?)
        .build()?)
}

fn holds(set: &ResourceRecordSet, value: &str) -> bool {
    set.resource_records()
        .iter()
        .any(|r| dns::fqdn(&r.value) == value)
}

/// Writes the validation CNAMEs that are missing or differ; they stay for renewal.
async fn reconcile_validation_records(
    ctx: &Ctx<'_>,
    zone_id: &str,
    records: &[(String, String)],
    plan: &mut Plan,
) -> Result<()> {
    let mut changes = Vec::new();
    for (name, value) in records {
        let observed = dns::records_at(ctx, zone_id, name).await?;
        let action = match dns::simple(&observed, &RrType::Cname) {
            Some(set) if holds(set, value) => continue,
            Some(_) => Action::Update,
            None => Action::Create,
        };
        changes.push(RecordChange::new(
            action,
            validation_set(name, value)?,
            format!("ACM validation record → {value} (kept for renewal)"),
        )?);
    }
    dns::apply(ctx, plan, zone_id, changes).await?;
    for (name, _) in records {
        ctx.settled(plan, &dns::record_resource(name, &RrType::Cname));
    }
    Ok(())
}

/// `dns.mode = "external"`: the validation records to create (a warning while ACM waits for them,
/// shown even with `--json`) or to keep for renewal.
fn print_external(
    ctx: &Ctx<'_>,
    domain: &str,
    certificate: &CertificateDetail,
    records: &[(String, String)],
    plan: &mut Plan,
) {
    plan.dns_records.extend(
        records
            .iter()
            .map(|(name, value)| crate::provision::ExternalRecord {
                name: name.clone(),
                rr_type: "CNAME".to_owned(),
                value: value.clone(),
                purpose: "certificate validation",
            }),
    );
    let lines: Vec<String> = records
        .iter()
        .map(|(name, value)| format!("  {name} CNAME {value}"))
        .collect();
    let lines = lines.join("\n");
    if is_issued(certificate) {
        ctx.printer.info(format_args!(
            "dns.mode = \"external\": keep these certificate validation records at your DNS \
             provider (ACM renews the certificate for `{domain}` with them):\n{lines}"
        ));
    } else {
        ctx.printer.warn(format_args!(
            "dns.mode = \"external\": create these DNS records at your DNS provider so ACM can \
             issue the certificate for `{domain}` (keep them for renewal):\n{lines}\n  and, if \
             `{domain}` or a parent domain has CAA records, add {}",
            dns::AMAZON_CAA
        ));
    }
}

/// Waits until ACM has validated the certificate (bounded), with a clear error otherwise.
async fn wait_issued(ctx: &Ctx<'_>, domain: &str, arn: &str) -> Result<()> {
    ctx.printer.info(format_args!(
        "waiting for ACM to validate the certificate for `{domain}` (up to {} minutes; \
         `sitewarden up --no-wait` resumes later instead)",
        VALIDATION_TIMEOUT.as_secs() / 60
    ));
    let check = format!(
        "check the validation CNAMEs (`dig CNAME <name>`) and CAA records of `{domain}`, and \
         `aws acm describe-certificate --region us-east-1 --certificate-arn {arn}`; then run \
         `sitewarden up` again: it resumes with the same certificate"
    );
    match ctx
        .aws
        .acm
        .wait_until_certificate_validated()
        .certificate_arn(arn)
        .wait(VALIDATION_TIMEOUT)
        .await
    {
        Ok(_) => Ok(()),
        Err(WaiterError::ExceededMaxWait(_)) => Err(Error::failure_with_hint(
            format!(
                "the certificate for `{domain}` was not validated within {} minutes",
                VALIDATION_TIMEOUT.as_secs() / 60
            ),
            check,
        )),
        Err(WaiterError::FailureState(_)) => Err(Error::failure_with_hint(
            format!("ACM could not validate the certificate for `{domain}` ({arn})"),
            check,
        )),
        Err(e) => Err(Error::aws("DescribeCertificate", resource(domain), e)),
    }
}

// ---- destroy -----------------------------------------------------------------------------------

/// Deletes every certificate tagged for the site, then (route53 mode) their validation CNAMEs,
/// except those another certificate in the account also validates with. Runs after CloudFront's
/// destroy: a certificate still in use cannot be deleted.
pub async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    let (certificates, others) = observe(ctx, &[]).await?;
    if certificates.is_empty() {
        return Ok(());
    }
    for certificate in &certificates {
        let arn = arn_of(certificate);
        ctx.change(
            plan,
            &Resource::new(Kind::Certificate, arn),
            Action::Delete,
            format!(
                "certificate for {} (tagged for this site)",
                certificate.subject_alternative_names().join(" + ")
            ),
        );
        if ctx.apply {
            delete(ctx, certificate).await?;
        }
    }
    if ctx.config.dns.mode == DnsMode::External {
        return Ok(());
    }
    let Some(zone_id) = dns::find_zone(ctx).await? else {
        return Ok(());
    };
    // ACM derives a name's validation record from the account and the name alone.
    let shared: BTreeSet<&str> = others
        .iter()
        .flat_map(CertificateSummary::subject_alternative_name_summaries)
        .map(String::as_str)
        .collect();
    // Each distinct record once, with the name it validates.
    let records: BTreeMap<(String, String), &str> = certificates
        .iter()
        .flat_map(CertificateDetail::domain_validation_options)
        .filter_map(|o| {
            let r = o.resource_record.as_ref()?;
            Some((
                (dns::fqdn(&r.name), dns::fqdn(&r.value)),
                o.domain_name.as_str(),
            ))
        })
        .collect();
    let mut changes = Vec::new();
    for ((name, value), validated) in records {
        if shared.contains(validated) {
            continue; // another certificate renews with it
        }
        let observed = dns::records_at(ctx, &zone_id, &name).await?;
        if let Some(set) = dns::simple(&observed, &RrType::Cname).filter(|s| holds(s, &value)) {
            changes.push(RecordChange::new(
                Action::Delete,
                set.clone(),
                "ACM validation record of the deleted certificate",
            )?);
        }
    }
    dns::apply(ctx, plan, &zone_id, changes).await
}

async fn delete(ctx: &Ctx<'_>, certificate: &CertificateDetail) -> Result<()> {
    let arn = arn_of(certificate);
    let resource = Resource::new(Kind::Certificate, arn);
    match ctx
        .aws
        .acm
        .delete_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(code::RESOURCE_IN_USE_EXCEPTION) => {
            Err(Error::failure_with_hint(
                format!(
                    "{resource} is still in use ({}), so it was not deleted",
                    certificate.in_use_by().join(", ")
                ),
                "CloudFront releases the certificate only when the distribution's deletion has \
             completed (it must be disabled and deployed first, which takes minutes); run \
             `sitewarden destroy` again then",
            ))
        }
        Err(e) => Err(Error::aws("DeleteCertificate", resource, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_acm::types::{DomainValidation, RecordType};

    fn certificate(names: &[&str], records: bool, status: CertificateStatus) -> CertificateDetail {
        let mut b = CertificateDetail::builder()
            .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/1")
            .status(status);
        for name in names {
            let mut option = DomainValidation::builder().domain_name(*name);
            if records {
                // Like ACM: a wildcard validates with its base name's record.
                let base = name.trim_start_matches("*.");
                option = option.resource_record(
                    aws_sdk_acm::types::ResourceRecord::builder()
                        .name(format!("_a1.{base}."))
                        .r#type(RecordType::Cname)
                        .value(format!("_b2.{base}.acm-validations.aws."))
                        .build()
                        .unwrap(),
                );
            }
            b = b
                .subject_alternative_names(*name)
                .domain_validation_options(option.build().unwrap());
        }
        b.build()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_certificate_serves_exactly_the_site_names() {
        let c = certificate(
            &["docs.example.com", "www.docs.example.com"],
            true,
            CertificateStatus::Issued,
        );
        assert!(covers(
            &c,
            &names(&["docs.example.com", "www.docs.example.com"])
        ));
        assert!(covers(
            &c,
            &names(&["www.docs.example.com", "docs.example.com"])
        ));
        assert!(
            !covers(&c, &names(&["docs.example.com"])),
            "an alias was removed"
        );
        assert!(
            !covers(
                &c,
                &names(&["docs.example.com", "www.docs.example.com", "a.example.com"])
            ),
            "an alias was added"
        );
    }

    #[test]
    fn idempotency_tokens_follow_the_site_and_its_names() {
        let token = idempotency_token("docs", &names(&["docs.example.com"]));
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(
            token,
            idempotency_token("docs", &names(&["docs.example.com"]))
        );
        assert_ne!(
            token,
            idempotency_token(
                "docs",
                &names(&["docs.example.com", "www.docs.example.com"])
            )
        );
        assert_ne!(
            token,
            idempotency_token("blog", &names(&["docs.example.com"]))
        );
    }

    #[test]
    fn validation_records_are_absolute_and_distinct() {
        let c = certificate(
            &["example.com", "*.example.com", "www.example.com"],
            true,
            CertificateStatus::PendingValidation,
        );
        assert_eq!(
            validation_records(&c),
            [
                (
                    "_a1.example.com.".to_owned(),
                    "_b2.example.com.acm-validations.aws.".to_owned()
                ),
                (
                    "_a1.www.example.com.".to_owned(),
                    "_b2.www.example.com.acm-validations.aws.".to_owned()
                ),
            ]
        );
        assert!(records_ready(&c));
    }

    #[test]
    fn a_new_certificate_is_described_again_until_its_records_appear() {
        let pending = certificate(
            &["example.com"],
            false,
            CertificateStatus::PendingValidation,
        );
        assert!(!records_ready(&pending));
        assert!(validation_records(&pending).is_empty());
        let issued = certificate(&["example.com"], false, CertificateStatus::Issued);
        assert!(records_ready(&issued));
    }
}
