//! The table of controls: every check `audit` reports, with its severity, its Security Hub,
//! Prowler and checkov ids and what to do when it fails. This is the one place those facts live
//! (shared/BASELINE.md is the specification); the evaluation code refers to the constants.
//!
//! Ids are Security Hub's where Security Hub has the control, `SW.<service>.<name>` otherwise.
//! A control with an `exception` reason is not evaluated: it is reported with status `exception`
//! and that reason on every resource of its kind, so the decision stays visible.

use super::{Kind, Severity};

/// One control of the baseline.
#[derive(Debug)]
pub struct Control {
    pub id: &'static str,
    pub title: &'static str,
    pub kind: Kind,
    pub severity: Severity,
    pub security_hub: &'static [&'static str],
    pub prowler: &'static [&'static str],
    pub checkov: &'static [&'static str],
    pub remediation: &'static str,
    /// Why the control is a documented exception for a static site (never evaluated).
    pub exception: Option<&'static str>,
}

/// Declares each control as a constant and lists them all in `ALL`, in report order.
macro_rules! controls {
    ($($name:ident {
        $id:literal, $kind:ident, $severity:ident, $title:literal,
        sh: [$($sh:literal),*], prowler: [$($p:literal),*], checkov: [$($c:literal),*],
        fix: $fix:literal $(, exception: $exception:literal)? $(,)?
    })*) => {
        $(
            pub const $name: &Control = &Control {
                id: $id,
                title: $title,
                kind: Kind::$kind,
                severity: Severity::$severity,
                security_hub: &[$($sh),*],
                prowler: &[$($p),*],
                checkov: &[$($c),*],
                remediation: $fix,
                exception: controls!(@exception $($exception)?),
            };
        )*
        /// Every control, in report order.
        pub const ALL: &[&Control] = &[$($name),*];
    };
    (@exception) => { None };
    (@exception $reason:literal) => { Some($reason) };
}

controls! {
    // ---- S3 buckets ----------------------------------------------------------------------------
    S3_BLOCK_PUBLIC_ACCESS {
        "S3.8", Bucket, High, "Block Public Access: all four flags on",
        sh: ["S3.8"], prowler: ["s3_bucket_level_public_access_block"],
        checkov: ["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
        fix: "Turn on BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets \
              (`aws s3api put-public-access-block`; `sitewarden up` does it for a sitewarden site).",
    }
    S3_PUBLIC_READ {
        "S3.2", Bucket, High, "No public read access through the bucket policy or ACL",
        sh: ["S3.2"], prowler: ["s3_bucket_public_access", "s3_bucket_public_list_acl"],
        checkov: ["CKV_AWS_20"],
        fix: "Remove policy statements that allow `*` without a restricting condition and ACL grants \
              to AllUsers/AuthenticatedUsers; serve the files through CloudFront with Origin Access \
              Control instead.",
    }
    S3_PUBLIC_WRITE {
        "S3.3", Bucket, High, "No public write access through the bucket policy or ACL",
        sh: ["S3.3"],
        prowler: ["s3_bucket_public_write_acl", "s3_bucket_policy_public_write_access"],
        checkov: ["CKV_AWS_57"],
        fix: "Remove every policy statement or ACL grant that lets anyone write, delete or change \
              permissions; publish with credentials (`sitewarden deploy`).",
    }
    S3_ACLS_DISABLED {
        "S3.12", Bucket, Medium, "ACLs disabled (object ownership BucketOwnerEnforced)",
        sh: ["S3.12"], prowler: ["s3_bucket_acl_prohibited"], checkov: ["CKV2_AWS_65"],
        fix: "Set object ownership to BucketOwnerEnforced (`aws s3api put-bucket-ownership-controls`).",
    }
    S3_SECURE_TRANSPORT {
        "S3.5", Bucket, High, "Requests without TLS are denied",
        sh: ["S3.5"], prowler: ["s3_bucket_secure_transport_policy"], checkov: [],
        fix: "Add a policy statement: Deny `s3:*` to principal `*` on the bucket and `bucket/*` when \
              `\"Bool\": {\"aws:SecureTransport\": \"false\"}`.",
    }
    S3_CROSS_ACCOUNT {
        "S3.6", Bucket, High, "No access granted to other accounts",
        sh: ["S3.6"], prowler: ["s3_bucket_cross_account_access"], checkov: [],
        fix: "Remove bucket policy statements that grant other accounts (or anyone) access, and \
              permission-changing actions to `*`.",
    }
    S3_KMS_ENCRYPTION {
        "S3.17", Bucket, High, "Default encryption SSE-KMS with a customer-managed key and bucket key",
        sh: ["S3.17"], prowler: ["s3_bucket_kms_encryption"], checkov: ["CKV_AWS_145"],
        fix: "Set default encryption to SSE-KMS with a customer-managed key (the AWS-managed aws/s3 \
              key cannot be granted to CloudFront) and turn the bucket key on.",
    }
    S3_ACCESS_LOGGING {
        "S3.9", Bucket, Medium, "Server access logging",
        sh: ["S3.9"], prowler: ["s3_bucket_server_access_logging_enabled"], checkov: ["CKV_AWS_18"],
        fix: "Enable server access logging to a separate, private log bucket (SSE-S3).",
    }
    S3_VERSIONING {
        "S3.14", Bucket, Medium, "Versioning enabled",
        sh: ["S3.14"], prowler: ["s3_bucket_object_versioning"], checkov: ["CKV_AWS_21"],
        fix: "Enable versioning (`aws s3api put-bucket-versioning --versioning-configuration \
              Status=Enabled`), then a lifecycle rule that expires earlier versions.",
    }
    S3_LIFECYCLE {
        "S3.13", Bucket, Low, "Lifecycle: earlier versions expire, incomplete uploads are aborted",
        sh: ["S3.10", "S3.13"], prowler: ["s3_bucket_lifecycle_enabled"], checkov: ["CKV2_AWS_61"],
        fix: "Add an enabled lifecycle rule with NoncurrentVersionExpiration and \
              AbortIncompleteMultipartUpload.",
    }
    S3_NO_WEBSITE {
        "SW.S3.Website", Bucket, High, "No static website hosting",
        sh: [], prowler: [], checkov: [],
        fix: "Serve through CloudFront with Origin Access Control on the REST endpoint, switch DNS to \
              the distribution, then delete the website configuration (`aws s3api \
              delete-bucket-website`); the website endpoint is HTTP-only and cannot use OAC.",
    }
    S3_REPLICATION {
        "S3.7", Bucket, Low, "Cross-region replication",
        sh: ["S3.7"], prowler: ["s3_bucket_cross_region_replication"], checkov: ["CKV_AWS_144"],
        fix: "Add a replication configuration if a second copy in another region is required.",
        exception: "the site is rebuilt from its source and versioning keeps earlier content; \
                    CloudFront caches at the edge, so a replica adds cost, not availability",
    }
    S3_EVENT_NOTIFICATIONS {
        "S3.11", Bucket, Low, "Event notifications",
        sh: ["S3.11"], prowler: [], checkov: [],
        fix: "Add event notifications if something must react to object changes.",
        exception: "nothing consumes bucket events; deploys are recorded in `.sitewarden/deploys/` \
                    and requests in the access logs",
    }
    S3_OBJECT_LOCK {
        "S3.15", Bucket, Low, "Object Lock",
        sh: ["S3.15"], prowler: ["s3_bucket_object_lock"], checkov: ["CKV_AWS_143"],
        fix: "Object Lock must be chosen when the bucket is created.",
        exception: "Object Lock would stop deploys and rollbacks from replacing or deleting pages; \
                    versioning keeps every earlier version recoverable",
    }
    S3_MFA_DELETE {
        "S3.20", Bucket, Low, "MFA delete",
        sh: ["S3.20"], prowler: ["s3_bucket_no_mfa_delete"], checkov: [],
        fix: "MFA delete can only be enabled by the root user with its MFA device.",
        exception: "MFA delete needs the root user and blocks the lifecycle expiry of earlier versions",
    }
    S3_DATA_EVENTS_WRITE {
        "S3.22", Bucket, Low, "CloudTrail object-level write events",
        sh: ["S3.22"], prowler: ["cloudtrail_s3_dataevents_write_enabled"], checkov: [],
        fix: "Add S3 data events to an account trail if object-level API auditing is required.",
        exception: "CloudTrail data events are an account-level (and paid) trail decision; server \
                    access logs record the requests",
    }
    S3_DATA_EVENTS_READ {
        "S3.23", Bucket, Low, "CloudTrail object-level read events",
        sh: ["S3.23"], prowler: ["cloudtrail_s3_dataevents_read_enabled"], checkov: [],
        fix: "Add S3 data events to an account trail if object-level API auditing is required.",
        exception: "CloudTrail data events are an account-level (and paid) trail decision; server \
                    access logs record the requests",
    }

    // ---- KMS -----------------------------------------------------------------------------------
    KMS_ROTATION {
        "KMS.4", Key, Medium, "Automatic key rotation",
        sh: ["KMS.4"], prowler: ["kms_cmk_rotation_enabled"], checkov: ["CKV_AWS_7"],
        fix: "Enable rotation (`aws kms enable-key-rotation`).",
    }
    KMS_NOT_PUBLIC {
        "KMS.5", Key, High, "Key policy grants no one outside the account, CloudFront only per distribution",
        sh: ["KMS.5"], prowler: ["kms_key_not_publicly_accessible"], checkov: ["CKV_AWS_33"],
        fix: "Remove `*` principals without a restricting condition; condition the \
              cloudfront.amazonaws.com statement on `AWS:SourceArn` = the distribution ARN.",
    }
    KMS_NOT_DELETED {
        "KMS.3", Key, High, "Key enabled, not pending deletion",
        sh: ["KMS.3"], prowler: ["kms_cmk_not_deleted_unintentionally"], checkov: [],
        fix: "Cancel the deletion (`aws kms cancel-key-deletion`) and enable the key; without it the \
              site's objects cannot be read.",
    }

    // ---- CloudFront ----------------------------------------------------------------------------
    CF_ORIGIN_ACCESS_CONTROL {
        "CloudFront.13", Distribution, High,
        "S3 origins use Origin Access Control on the REST endpoint (no OAI, no website endpoint)",
        sh: ["CloudFront.13"], prowler: ["cloudfront_distributions_s3_origin_access_control"],
        checkov: ["CKV2_AWS_46"],
        fix: "Point the origin at `<bucket>.s3.<region>.amazonaws.com`, attach an Origin Access \
              Control (sigv4, always), clear the origin access identity, and allow the CloudFront \
              service principal with `AWS:SourceArn` in the bucket policy.",
    }
    CF_VIEWER_HTTPS {
        "CloudFront.3", Distribution, High, "Viewers redirected to HTTPS on every cache behavior",
        sh: ["CloudFront.3"], prowler: ["cloudfront_distributions_https_enabled"],
        checkov: ["CKV_AWS_34"],
        fix: "Set the viewer protocol policy to redirect-to-https (or https-only) on the default and \
              every cache behavior.",
    }
    CF_CUSTOM_CERTIFICATE {
        "CloudFront.7", Distribution, Medium, "ACM certificate for the site's names, SNI only",
        sh: ["CloudFront.7", "CloudFront.8"],
        prowler: [
            "cloudfront_distributions_custom_ssl_certificate",
            "cloudfront_distributions_https_sni_enabled"
        ],
        checkov: [],
        fix: "Attach an ACM certificate from us-east-1 with SSL support method sni-only.",
    }
    CF_TLS_MINIMUM {
        "CloudFront.15", Distribution, High, "Viewer TLS minimum TLSv1.2_2021 or newer",
        sh: ["CloudFront.15"], prowler: ["cloudfront_distributions_using_deprecated_ssl_protocols"],
        checkov: ["CKV_AWS_174"],
        fix: "Set the minimum protocol version to TLSv1.2_2025 (or TLSv1.2_2021, TLSv1.3_2025).",
    }
    CF_DEFAULT_ROOT_OBJECT {
        "CloudFront.1", Distribution, Medium, "Default root object",
        sh: ["CloudFront.1"], prowler: ["cloudfront_distributions_default_root_object"],
        checkov: ["CKV_AWS_305"],
        fix: "Set the default root object to `index.html`.",
    }
    CF_ACCESS_LOGGING {
        "SW.CloudFront.Logging", Distribution, Medium,
        "Access logging (standard logging v2 to S3, or legacy logging)",
        sh: [], prowler: ["cloudfront_distributions_logging_enabled"], checkov: ["CKV_AWS_86"],
        fix: "Deliver access logs with standard logging v2 (CloudWatch Logs delivery source \
              ACCESS_LOGS in us-east-1 → S3 destination in the log bucket).",
    }
    CF_LEGACY_LOGGING {
        "CloudFront.5", Distribution, Medium, "Legacy standard logging (what Security Hub checks)",
        sh: ["CloudFront.5"], prowler: [], checkov: [],
        fix: "Enable standard logging v2; legacy logging needs an ACL-enabled log bucket.",
    }
    CF_SECURITY_HEADERS {
        "SW.CloudFront.Headers", Distribution, Medium,
        "Response headers policy with HSTS ≥ 1 year, includeSubDomains, overriding the origin",
        sh: [], prowler: [], checkov: ["CKV2_AWS_32", "CKV_AWS_259"],
        fix: "Attach a response headers policy to every behavior with Strict-Transport-Security \
              max-age ≥ 31536000, includeSubDomains and override on (`sitewarden up` sets 2 years).",
    }
    CF_CONTENT_SECURITY_POLICY {
        "SW.CloudFront.CSP", Distribution, Medium,
        "Strict Content-Security-Policy: no 'unsafe-inline' scripts, no `*` or scheme-only sources, \
         object-src 'none', base-uri, frame-ancestors and form-action set",
        sh: [], prowler: [], checkov: [],
        fix: "Use `headers.content_security_policy = \"auto\"` (a strict policy per page, computed \
              at deploy) or a fixed policy without 'unsafe-inline', wildcards or scheme-only sources, \
              then run `sitewarden up`.",
    }
    CF_PAGE_CSP {
        "SW.CloudFront.PageCSP", Distribution, Medium,
        "Every HTML page of the origin bucket gets a strict Content-Security-Policy as served (its \
         own policy through the viewer-response function, or the headers policy's)",
        sh: [], prowler: [], checkov: [],
        fix: "Find out who changed the page or the function out of band, then publish the page \
              again with `sitewarden deploy` (it re-uploads a page that changed locally or is \
              missing from the bucket, with the policy of its markup in `x-amz-meta-csp`).",
    }
    CF_WAF {
        "CloudFront.6", Distribution, Medium, "WAF web ACL",
        sh: ["CloudFront.6"], prowler: ["cloudfront_distributions_using_waf"], checkov: ["CKV_AWS_68"],
        fix: "Associate an AWS WAF web ACL (CLOUDFRONT scope, us-east-1) if the site needs rate \
              limiting or managed rule groups.",
    }
    CF_ORIGIN_TLS {
        "CloudFront.9", Distribution, Medium, "Custom origins reached over HTTPS with TLSv1.2",
        sh: ["CloudFront.9", "CloudFront.10"],
        prowler: ["cloudfront_distributions_origin_traffic_encrypted"], checkov: [],
        fix: "Set custom origins to https-only with TLSv1.2; for an S3 website endpoint, switch to \
              the REST endpoint with Origin Access Control.",
    }
    CF_ORIGIN_BUCKET_EXISTS {
        "CloudFront.12", Distribution, High, "Every S3 origin bucket exists",
        sh: ["CloudFront.12"], prowler: ["cloudfront_distributions_s3_origin_non_existent_bucket"],
        checkov: [],
        fix: "Recreate the bucket in your account or remove the origin: anyone can create a missing \
              bucket and serve content through the distribution.",
    }
    CF_METHODS_AND_CACHE_KEY {
        "SW.CloudFront.Methods", Distribution, Medium,
        "GET and HEAD only; no query strings or cookies in the cache key",
        sh: [], prowler: [], checkov: [],
        fix: "Allow GET and HEAD (OPTIONS only for CORS) and use a cache policy without query strings \
              or cookies, such as the managed CachingOptimized.",
    }
    CF_ORIGIN_FAILOVER {
        "CloudFront.4", Distribution, Low, "Origin failover",
        sh: ["CloudFront.4"], prowler: [], checkov: [],
        fix: "Add an origin group with a second origin if an S3 regional outage must be survived.",
        exception: "one private origin: S3 is regional with high durability and the edge caches \
                    serve during short outages; a failover origin doubles the content to secure",
    }
    CF_SIGNED_URLS {
        "CloudFront.17", Distribution, Low, "Signed URLs and cookies (trusted key groups)",
        sh: ["CloudFront.17"], prowler: [], checkov: [],
        fix: "Use trusted key groups only for private content.",
        exception: "a public static site is meant to be read by anyone",
    }
    CF_GEO_RESTRICTION {
        "SW.CloudFront.Geo", Distribution, Low, "Geographic restrictions",
        sh: [], prowler: ["cloudfront_distributions_geo_restrictions_enabled"], checkov: [],
        fix: "Add a geo restriction if the content may only be served in some countries.",
        exception: "a public static site is served worldwide",
    }
    CF_FIELD_LEVEL_ENCRYPTION {
        "SW.CloudFront.FLE", Distribution, Low, "Field-level encryption",
        sh: [], prowler: ["cloudfront_distributions_field_level_encryption_enabled"], checkov: [],
        fix: "Field-level encryption applies to POST forms sent to an origin.",
        exception: "the site accepts only GET and HEAD: there are no form fields to encrypt",
    }

    // ---- ACM -----------------------------------------------------------------------------------
    ACM_RENEWAL {
        "ACM.1", Certificate, Medium, "ACM-issued, DNS-validated with the validation records in place, renews automatically",
        sh: ["ACM.1"], prowler: ["acm_certificates_expiration_check"], checkov: [],
        fix: "Request an ACM certificate with DNS validation and keep the validation CNAMEs so ACM \
              renews it; imported certificates do not renew.",
    }
    ACM_KEY_ALGORITHM {
        "ACM.2", Certificate, High, "Key algorithm RSA 2048 or EC P-256 or stronger",
        sh: ["ACM.2"], prowler: ["acm_certificates_with_secure_key_algorithms"], checkov: [],
        fix: "Request a new certificate with RSA_2048 (or EC_prime256v1) and switch the distribution \
              to it.",
    }
    ACM_TRANSPARENCY {
        "SW.ACM.Transparency", Certificate, Medium, "Certificate transparency logging",
        sh: [], prowler: ["acm_certificates_transparency_logs_enabled"], checkov: [],
        fix: "Turn certificate transparency logging on (`aws acm \
              update-certificate-options --options CertificateTransparencyLoggingPreference=ENABLED`).",
    }
    ACM_REGION {
        "SW.ACM.Region", Certificate, Low, "Certificate in us-east-1 (CloudFront's region)",
        sh: [], prowler: [], checkov: [],
        fix: "Request the certificate in us-east-1: CloudFront only uses certificates from there.",
    }

    // ---- DNS -----------------------------------------------------------------------------------
    DNS_CAA {
        "SW.DNS.CAA", Name, Low, "CAA lets Amazon issue the certificate",
        sh: [], prowler: [], checkov: [],
        fix: "Add `0 issue \"amazon.com\"` to the name's CAA set (or the zone apex's); keep the other \
              entries.",
    }
    DNS_NO_DANGLING {
        "SW.DNS.Dangling", Name, High,
        "A/AAAA aliases point at this distribution; nothing points at an S3 website endpoint",
        sh: [], prowler: ["route53_dangling_ip_subdomain_takeover"], checkov: [],
        fix: "Make the name an A and AAAA alias to the distribution; remove CNAMEs and aliases to S3 \
              website endpoints or to addresses you no longer own.",
    }
    DNS_QUERY_LOGGING {
        "Route53.2", Zone, Low, "Query logging (optional)",
        sh: ["Route53.2"], prowler: [], checkov: ["CKV2_AWS_39"],
        fix: "Create a query logging configuration to a CloudWatch Logs group in us-east-1.",
    }
    DNS_DNSSEC {
        "SW.DNS.DNSSEC", Zone, Low, "DNSSEC signing (optional)",
        sh: [], prowler: [], checkov: ["CKV2_AWS_38"],
        fix: "Enable DNSSEC signing with a KMS key in us-east-1 and publish the DS record at the \
              registrar.",
    }

    // ---- CI deploy role ------------------------------------------------------------------------
    CI_TRUST {
        "SW.IAM.CiTrust", Role, High,
        "Only the configured repository's branch or environment can assume the CI role",
        sh: [], prowler: [], checkov: ["CKV_AWS_358"],
        fix: "Condition the trust on `token.actions.githubusercontent.com:aud` = sts.amazonaws.com \
              and an exact `…:sub` (`repo:OWNER/NAME:ref:refs/heads/main` or \
              `…:environment:NAME`), with no wildcard and no pull_request for the deploy role \
              (`sitewarden ci github` writes this trust; `up` repairs it).",
    }
    CI_PLAN_READ_ONLY {
        "SW.IAM.CiPlanReadOnly", Role, High,
        "The pull request role can only read",
        sh: [], prowler: [], checkov: [],
        fix: "Give the plan role only Get/List/Describe actions (and kms:Decrypt for the manifest); \
              `sitewarden up` restores its inline policy and detaches others.",
    }
    CI_NO_ACCESS_KEYS {
        "SW.IAM.CiNoAccessKeys", Role, High,
        "No IAM user with the site's deploy permissions has an access key",
        sh: [], prowler: [], checkov: [],
        fix: "Delete the access keys (`aws iam delete-access-key`) and the user's copy of the deploy \
              policy: CI assumes the deploy role through OIDC and needs no long-lived key.",
    }

    // ---- Monitoring ----------------------------------------------------------------------------
    MON_SUBSCRIBED {
        "SW.SNS.Subscribed", Topic, Medium,
        "Monitoring exists: an alert topic with at least one confirmed subscription",
        sh: [], prowler: [], checkov: [],
        fix: "Add `[monitoring] email = [\"ops@example.com\"]` and run `sitewarden up`, then click \
              the link in the email from AWS Notifications (or subscribe a queue or chat hook).",
    }
    MON_TOPIC_ENCRYPTED {
        "SNS.1", Topic, Medium, "The alert topic is encrypted with a customer managed KMS key",
        sh: ["SNS.1"], prowler: ["sns_topics_kms_encryption_at_rest_enabled"],
        checkov: ["CKV_AWS_26"],
        fix: "Set the topic's `KmsMasterKeyId` to a customer managed key whose policy lets \
              cloudwatch.amazonaws.com and events.amazonaws.com use it (`sitewarden up` does; the \
              AWS managed `alias/aws/sns` key cannot receive alarms or rules).",
    }
    MON_TOPIC_POLICY {
        "SNS.4", Topic, Medium,
        "Only this site's alarms and rules may publish to the alert topic, over TLS",
        sh: ["SNS.4"], prowler: ["sns_topics_not_publicly_accessible"], checkov: ["CKV_AWS_169"],
        fix: "Allow `sns:Publish` only to cloudwatch.amazonaws.com and events.amazonaws.com with \
              `aws:SourceArn` naming the site's alarms and rules and `aws:SourceAccount`; deny \
              `aws:SecureTransport = false` (`sitewarden up` writes this policy).",
    }
    MON_ERROR_ALARMS {
        "CloudWatch.15", Alarm, Medium,
        "A 5xx/4xx error-rate alarm on the distribution notifies the alert topic",
        sh: ["CloudWatch.15"], prowler: [], checkov: [],
        fix: "Run `sitewarden up` with `[monitoring]`: it keeps an alarm on the distribution's \
              5xxErrorRate and 4xxErrorRate (us-east-1, Region=Global) with ALARM and OK actions to \
              the alert topic.",
    }
    MON_TRAIL {
        "CloudTrail.1", Trail, Medium,
        "A logging trail records the management events the change alerts are made from",
        sh: ["CloudTrail.1"], prowler: ["cloudtrail_multi_region_enabled"], checkov: ["CKV_AWS_67"],
        fix: "Create a multi-Region CloudTrail trail that logs write management events (`aws \
              cloudtrail create-trail --is-multi-region-trail` and `start-logging`): EventBridge \
              receives \"AWS API Call via CloudTrail\" events only while one does.",
    }
    MON_CHANGE_ALERTS {
        "SW.Events.ChangeAlerts", Rule, Low,
        "An enabled EventBridge rule alerts on each change that weakens the site's resources",
        sh: [],
        prowler: [
            "cloudwatch_log_metric_filter_for_s3_bucket_policy_changes",
            "cloudwatch_log_metric_filter_disable_or_scheduled_deletion_of_kms_cmk"
        ],
        checkov: [],
        fix: "Run `sitewarden up` with `[monitoring]`: it keeps one rule per service on the \
              CloudTrail management events of the site's resources (the account-wide version is \
              the CloudWatch.1-14 metric-filter family, which needs a trail to CloudWatch Logs).",
    }
}

/// The controls of one kind of resource, in report order.
pub fn of_kind(kind: Kind) -> impl Iterator<Item = &'static Control> {
    ALL.iter().copied().filter(move |c| c.kind == kind)
}

/// The table of controls as Markdown, as it appears in the README (a test keeps the two equal).
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let ids = |ids: &[&str]| {
        if ids.is_empty() {
            "—".to_owned()
        } else {
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let mut table = String::from(
        "| id | resource | severity | control | Security Hub | Prowler | checkov |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for c in ALL {
        let title = match c.exception {
            Some(reason) => format!("{} — *exception: {reason}*", c.title),
            None => c.title.to_owned(),
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.id,
            c.kind,
            c.severity.as_str(),
            title.replace('|', "\\|"),
            ids(c.security_hub),
            ids(c.prowler),
            ids(c.checkov),
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_documents_every_control() {
        let readme = include_str!("../../README.md");
        let table = markdown();
        assert!(
            readme.contains(&table),
            "README.md's control table is out of date; replace it with:\n{table}"
        );
    }

    #[test]
    fn ids_are_unique_and_every_control_says_what_to_do() {
        let mut ids: Vec<&str> = ALL.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        for control in ALL {
            assert!(!control.remediation.is_empty(), "{}", control.id);
            assert!(
                control.security_hub.is_empty() || control.security_hub.contains(&control.id),
                "{}: the id is the Security Hub id when there is one",
                control.id
            );
        }
    }

    #[test]
    fn documented_exceptions_are_the_baseline_ones() {
        let exceptions: Vec<&str> = ALL
            .iter()
            .filter(|c| c.exception.is_some())
            .map(|c| c.id)
            .collect();
        assert_eq!(
            exceptions,
            [
                "S3.7",
                "S3.11",
                "S3.15",
                "S3.20",
                "S3.22",
                "S3.23",
                "CloudFront.4",
                "CloudFront.17",
                "SW.CloudFront.Geo",
                "SW.CloudFront.FLE"
            ]
        );
    }

    #[test]
    fn severities_follow_the_baseline() {
        for high in [
            S3_BLOCK_PUBLIC_ACCESS,
            S3_PUBLIC_READ,
            S3_SECURE_TRANSPORT,
            S3_KMS_ENCRYPTION,
            S3_NO_WEBSITE,
            CF_ORIGIN_ACCESS_CONTROL,
            CF_TLS_MINIMUM,
        ] {
            assert_eq!(high.severity, Severity::High, "{}", high.id);
        }
        for medium in [
            S3_ACCESS_LOGGING,
            S3_VERSIONING,
            KMS_ROTATION,
            CF_SECURITY_HEADERS,
            CF_CONTENT_SECURITY_POLICY,
            CF_PAGE_CSP,
        ] {
            assert_eq!(medium.severity, Severity::Medium, "{}", medium.id);
        }
        assert_eq!(S3_LIFECYCLE.severity, Severity::Low);
        assert_eq!(DNS_CAA.severity, Severity::Low);
    }
}
