//! The certificate (ACM, us-east-1) and the Route53 records of a domain site, end to end through
//! the binary and read back through the SDK.

use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, ValidationMethod};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use sitewarden::observe;

use crate::support::{ACCOUNT, Run, aws_clients, project, site_name, write_calls};

/// A domain unique to this test (the emulator is shared by every test of the binary).
fn unique_domain(site: &str) -> String {
    format!("{site}.example.com")
}

/// Creates a public hosted zone for `domain`; returns its id.
async fn hosted_zone(aws: &sitewarden::aws::Aws, domain: &str) -> String {
    let zone = aws
        .route53
        .create_hosted_zone()
        .name(domain)
        .caller_reference(format!("test-{domain}"))
        .send()
        .await
        .unwrap()
        .hosted_zone
        .unwrap();
    zone.id.trim_start_matches("/hostedzone/").to_owned()
}

async fn upsert(aws: &sitewarden::aws::Aws, zone: &str, set: ResourceRecordSet) {
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(set)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn records(aws: &sitewarden::aws::Aws, zone: &str) -> Vec<ResourceRecordSet> {
    aws.route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap()
        .resource_record_sets
}

fn find<'a>(
    sets: &'a [ResourceRecordSet],
    name: &str,
    rr_type: &RrType,
) -> Option<&'a ResourceRecordSet> {
    sets.iter()
        .find(|s| s.name.trim_end_matches('.') == name && s.r#type == *rr_type)
}

fn values(set: &ResourceRecordSet) -> Vec<&str> {
    set.resource_records()
        .iter()
        .map(|r| r.value.as_str())
        .collect()
}

/// The site's certificates in us-east-1 (`arn`s of certificates whose domain is `domain`).
async fn certificates(domain: &str) -> Vec<String> {
    let acm = aws_clients("us-east-1").await.acm;
    acm.list_certificates()
        .send()
        .await
        .unwrap()
        .certificate_summary_list
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.domain_name.as_deref() == Some(domain))
        .filter_map(|c| c.certificate_arn)
        .collect()
}

/// The certificate transparency preference: deprecated in the SDK (ACM no longer allows opting out)
/// but still what the baseline check reads.
#[allow(deprecated)]
fn transparency(cert: &CertificateDetail) -> Option<&str> {
    cert.options
        .as_ref()?
        .certificate_transparency_logging_preference
        .as_ref()
        .map(aws_sdk_acm::types::CertificateTransparencyLoggingPreference::as_str)
}

#[tokio::test(flavor = "multi_thread")]
async fn route53_site_gets_certificate_validation_caa_and_aliases_and_destroy_removes_them() {
    let site = site_name("dns");
    let domain = unique_domain(&site);
    let www = format!("www.{domain}");
    let aws = aws_clients("eu-west-1").await;
    let zone = hosted_zone(&aws, &domain).await;
    upsert(
        &aws,
        &zone,
        ResourceRecordSet::builder()
            .name(&domain)
            .r#type(RrType::Caa)
            .ttl(3600)
            .resource_records(
                ResourceRecord::builder()
                    .value("0 issue \"letsencrypt.org\"")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    )
    .await;
    let dir = project(
        &site,
        &format!(
            "domain = \"{domain}\"\naliases = [\"{www}\"]\n[tls]\nminimum = \"TLSv1.3_2025\"\n"
        ),
    );

    let planned = Run::new(dir.path()).json().args(["plan"]).run().into_json();
    assert_eq!(write_calls(&planned["requests"]), Vec::<String>::new());
    let planned_requests = planned["requests"].clone();
    let planned = planned["changes"].to_string();
    assert!(
        planned.contains(&format!(
            "request certificate for {domain} + {www}, DNS validation, CT logging"
        )),
        "{planned}"
    );

    let up = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();

    // The certificate: us-east-1, DNS validated, RSA 2048, CT on, the site's names, tagged.
    let arns = certificates(&domain).await;
    assert_eq!(arns.len(), 1, "{arns:?}");
    let arn = &arns[0];
    assert!(arn.starts_with("arn:aws:acm:us-east-1:"), "{arn}");
    let global = aws_clients("us-east-1").await;
    let cert = observe::certificate::detail(&global, arn, arn)
        .await
        .unwrap();
    assert_eq!(cert.status, Some(CertificateStatus::Issued));
    // DescribeCertificate spells the algorithm `RSA-2048`, RequestCertificate `RSA_2048`.
    assert_eq!(
        cert.key_algorithm
            .as_ref()
            .map(|k| k.as_str().replace('-', "_")),
        Some("RSA_2048".to_owned())
    );
    assert_eq!(transparency(&cert), Some("ENABLED"));
    let mut sans = cert.subject_alternative_names().to_vec();
    sans.sort();
    assert_eq!(sans, [domain.clone(), www.clone()]);
    let options = cert.domain_validation_options();
    assert_eq!(options.len(), 2);
    assert!(
        options
            .iter()
            .all(|o| o.validation_method == Some(ValidationMethod::Dns))
    );
    assert!(
        observe::certificate::tagged_for(&global, arn, &site, arn)
            .await
            .unwrap(),
        "the certificate carries sitewarden:site={site}"
    );

    // Validation CNAMEs in the zone; CAA merged, never replaced.
    let sets = records(&aws, &zone).await;
    for option in options {
        let record = option.resource_record.as_ref().unwrap();
        let set = find(&sets, record.name.trim_end_matches('.'), &RrType::Cname)
            .unwrap_or_else(|| panic!("no validation CNAME {}: {sets:#?}", record.name));
        assert_eq!(values(set), [record.value.as_str()]);
    }
    let caa = find(&sets, &domain, &RrType::Caa).unwrap();
    assert_eq!(
        values(caa),
        ["0 issue \"letsencrypt.org\"", "0 issue \"amazon.com\""]
    );
    assert!(
        find(&sets, &www, &RrType::Caa).is_none(),
        "the alias inherits the domain's CAA set"
    );

    // Alias records to the distribution `up` reports (once CloudFront's step has created it).
    let distribution = up["distribution"]["domain_name"]
        .as_str()
        .unwrap_or_else(|| panic!("up reported no distribution: {up:#}"))
        .to_owned();
    for name in [&domain, &www] {
        for rr_type in [RrType::A, RrType::Aaaa] {
            let set = find(&sets, name, &rr_type)
                .unwrap_or_else(|| panic!("no {rr_type:?} record at {name}: {sets:#?}"));
            let target = set.alias_target.as_ref().unwrap();
            assert_eq!(target.hosted_zone_id, "Z2FDTNDATAQYW2");
            assert_eq!(target.dns_name.trim_end_matches('.'), distribution);
            assert!(!target.evaluate_target_health);
        }
    }

    // The distribution serves the names with this certificate: SNI only, TLS from `tls.minimum`.
    let id = up["distribution"]["id"].as_str().unwrap();
    let (config, _) = observe::distribution::config(&global, id, id)
        .await
        .unwrap();
    let viewer = config.viewer_certificate.unwrap();
    assert_eq!(viewer.acm_certificate_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(viewer.cloud_front_default_certificate, Some(false));
    assert_eq!(
        viewer
            .ssl_support_method
            .map(|m| m.as_str().to_owned())
            .as_deref(),
        Some("sni-only")
    );
    assert_eq!(
        viewer
            .minimum_protocol_version
            .map(|m| m.as_str().to_owned())
            .as_deref(),
        Some("TLSv1.3_2025")
    );
    let mut aliases = config.aliases.unwrap().items.unwrap_or_default();
    aliases.sort();
    assert_eq!(aliases, [domain.clone(), www.clone()]);

    // Unchanged config: no change and no write call.
    let again = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    assert_eq!(again["changes"], serde_json::json!([]), "{again:#}");
    assert_eq!(
        write_calls(&again["requests"]),
        Vec::<String>::new(),
        "{}",
        again["requests"]
    );

    // Destroy: aliases, validation CNAMEs and the certificate go; the CAA set stays.
    let policy = Run::new(dir.path())
        .json()
        .args(["iam-policy", "--for", "provision"])
        .run()
        .into_json();
    let buckets = [
        format!("{site}-site-{ACCOUNT}"),
        format!("{site}-logs-{ACCOUNT}"),
    ];
    let facts = crate::support::SiteFacts::read(
        &site,
        &[&buckets[0], &buckets[1]],
        Some(&domain),
        Some(&zone),
    )
    .await;
    let destroyed = Run::new(dir.path())
        .json()
        .args(["destroy", "-y"])
        .run()
        .into_json();
    // The provisioning policy `iam-policy` prints allows every call these runs made, on this
    // site's resources.
    crate::support::assert_policy_allows(
        &policy,
        &facts,
        &[
            &planned_requests,
            &up["requests"],
            &again["requests"],
            &destroyed["requests"],
        ],
    );
    let sets = records(&aws, &zone).await;
    let left: Vec<String> = sets
        .iter()
        .filter(|s| ![RrType::Ns, RrType::Soa].contains(&s.r#type))
        .map(|s| format!("{} {}", s.name, s.r#type.as_str()))
        .collect();
    assert_eq!(left, [format!("{domain}. CAA")]);
    assert_eq!(certificates(&domain).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn external_dns_prints_the_records_and_writes_nothing_to_route53() {
    let site = site_name("dnsext");
    let domain = unique_domain(&site);
    let aws = aws_clients("eu-west-1").await;
    // A zone that would be used in route53 mode: external mode must leave it alone.
    let zone = hosted_zone(&aws, &domain).await;
    let dir = project(
        &site,
        &format!("domain = \"{domain}\"\n[dns]\nmode = \"external\"\n"),
    );

    let stderr = Run::new(dir.path())
        .args(["up", "--infra-only", "--no-wait", "-y"])
        .run()
        .stderr;
    let arn = &certificates(&domain).await[0];
    let cert = observe::certificate::detail(&aws_clients("us-east-1").await, arn, arn)
        .await
        .unwrap();
    for option in cert.domain_validation_options() {
        let record = option.resource_record.as_ref().unwrap();
        assert!(
            stderr.contains(&format!("{} CNAME {}", record.name, record.value)),
            "{stderr}"
        );
    }

    let json = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "--no-wait", "-y"])
        .run()
        .into_json();
    let route53_calls: Vec<&String> = json["requests"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|op| op.contains("HostedZone") || op.contains("ResourceRecordSets"))
        .collect();
    assert_eq!(route53_calls, Vec::<&String>::new(), "{}", json["requests"]);
    // The same records in the JSON summary, for a pipeline that writes them to its DNS provider.
    let listed: Vec<(String, String, String)> = json["dns_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["type"].as_str().unwrap().to_owned(),
                r["purpose"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for option in cert.domain_validation_options() {
        let record = option.resource_record.as_ref().unwrap();
        assert!(
            listed.contains(&(
                record.name.clone(),
                "CNAME".to_owned(),
                "certificate validation".to_owned()
            )),
            "{listed:?}"
        );
    }
    let distribution = json["distribution"]["domain_name"].as_str().unwrap();
    let site_record = json["dns_records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["purpose"] == "site")
        .expect("the site's CNAME");
    assert_eq!(site_record["name"], format!("{domain}."));
    assert_eq!(site_record["value"], format!("{distribution}."));
    assert!(
        records(&aws, &zone)
            .await
            .iter()
            .all(|s| [RrType::Ns, RrType::Soa].contains(&s.r#type)),
        "external mode wrote to the zone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_domain_without_a_hosted_zone_is_a_usage_error() {
    let site = site_name("dnsnozone");
    let domain = format!("{site}.example.net");
    let dir = project(&site, &format!("domain = \"{domain}\"\n"));
    Run::new(dir.path())
        .arg("plan")
        .status(2)
        .stderr_contains(format!(
            "error: no public Route53 hosted zone contains `{domain}`"
        ))
        .stderr_contains("dns.mode = \"external\"")
        .run();

    let out = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .status(2)
        .run();
    assert!(out.stdout.is_empty() || out.json().is_object());
    assert_nothing_created(&site).await;
}

/// Neither the key nor a bucket of `site` exists: a refused `up` changed nothing.
async fn assert_nothing_created(site: &str) {
    let aws = aws_clients("eu-west-1").await;
    let alias = format!("alias/sitewarden/{site}");
    assert!(
        observe::key::key(&aws.kms, &alias, &alias)
            .await
            .unwrap()
            .is_none(),
        "the key was created"
    );
    for bucket in [
        format!("{site}-site-{ACCOUNT}"),
        format!("{site}-logs-{ACCOUNT}"),
    ] {
        assert_eq!(
            observe::bucket::locate(&aws, &bucket).await.unwrap(),
            observe::bucket::Location::Missing,
            "{bucket} was created"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_sitewarden_may_not_replace_stops_up_before_any_change() {
    let site = site_name("dnstaken");
    let domain = unique_domain(&site);
    let aws = aws_clients("eu-west-1").await;
    let zone = hosted_zone(&aws, &domain).await;
    upsert(
        &aws,
        &zone,
        ResourceRecordSet::builder()
            .name(&domain)
            .r#type(RrType::A)
            .ttl(300)
            .resource_records(
                ResourceRecord::builder()
                    .value("192.0.2.10")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    )
    .await;
    let dir = project(&site, &format!("domain = \"{domain}\"\n"));
    Run::new(dir.path())
        .args(["up", "--infra-only", "-y"])
        .status(2)
        .stderr_contains(format!(
            "`{domain}` has an A record (`192.0.2.10`) that sitewarden did not create"
        ))
        .run();
    assert_nothing_created(&site).await;
}
