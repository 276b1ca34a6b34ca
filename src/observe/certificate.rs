//! ACM certificates as they are (us-east-1, CloudFront's region): the site's certificates, found
//! by their domain name and the `sitewarden:site` tag, and the detail of one certificate.
//! Provision requests, validates and deletes over them; the audit grades a distribution's
//! certificate.

use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, CertificateSummary};

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Result};
use crate::names::SITE_TAG;

/// What [`site_certificates`] found.
pub struct Certificates {
    /// The site's certificates, described.
    pub ours: Vec<CertificateDetail>,
    /// The summaries of every other certificate in the account (whose validation records may
    /// coincide with the site's).
    pub others: Vec<CertificateSummary>,
}

/// The certificates of `site` for `domain` in `statuses` (all when empty). One `ListCertificates`
/// pass, one `ListTagsForCertificate` per certificate named `domain` and one
/// `DescribeCertificate` per certificate of the site. `resource` names them in errors.
pub async fn site_certificates(
    aws: &Aws,
    domain: &str,
    site: &str,
    statuses: &[CertificateStatus],
    resource: &str,
) -> Result<Certificates> {
    let (mut ours, mut others) = (Vec::new(), Vec::new());
    let mut summaries = aws
        .acm
        .list_certificates()
        .set_certificate_statuses((!statuses.is_empty()).then(|| statuses.to_vec()))
        .into_paginator()
        .items()
        .send();
    while let Some(summary) = summaries.next().await {
        let summary = summary.op("ListCertificates", resource)?;
        let Some(arn) = summary.certificate_arn.as_deref() else {
            continue;
        };
        // sitewarden requests its certificates with the domain as DomainName: only those can be
        // the site's, so only they cost a tag lookup.
        if summary.domain_name.as_deref() != Some(domain)
            || !tagged_for(aws, arn, site, resource).await?
        {
            others.push(summary);
            continue;
        }
        ours.extend(describe(aws, arn, resource).await?);
    }
    Ok(Certificates { ours, others })
}

/// Whether the certificate carries `sitewarden:site=<site>`.
pub async fn tagged_for(aws: &Aws, arn: &str, site: &str, resource: &str) -> Result<bool> {
    let tags = aws
        .acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .op("ListTagsForCertificate", resource)?
        .tags
        .unwrap_or_default();
    Ok(tags
        .iter()
        .any(|t| t.key == SITE_TAG && t.value.as_deref() == Some(site)))
}

/// The certificate `arn`, described. `resource` names it in errors.
pub async fn detail(aws: &Aws, arn: &str, resource: &str) -> Result<CertificateDetail> {
    Ok(describe(aws, arn, resource)
        .await?
        .ok_or_else(|| anyhow::anyhow!("DescribeCertificate answered without the certificate"))?)
}

/// One `DescribeCertificate`; `None` when the answer holds no certificate.
async fn describe(aws: &Aws, arn: &str, resource: &str) -> Result<Option<CertificateDetail>> {
    Ok(aws
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .op("DescribeCertificate", resource)?
        .certificate)
}
