//! The provisioning policy of one site, evaluated against the real runs of another: it must
//! allow none of the other site's resources, only the documented calls that cannot name a site.

use aws_sdk_route53::types::RrType;

use crate::support::{
    ACCOUNT, Request, Run, SiteFacts, allowed_by, assert_policy_allows, aws_clients, project,
    site_name, site_requests,
};

/// A domain site with its own public hosted zone; returns the project folder, domain and zone id.
async fn domain_site(site: &str) -> (tempfile::TempDir, String, String) {
    let domain = format!("{site}.example.com");
    let zone = aws_clients("eu-west-1")
        .await
        .route53
        .create_hosted_zone()
        .name(&domain)
        .caller_reference(format!("test-{domain}"))
        .send()
        .await
        .unwrap()
        .hosted_zone
        .unwrap()
        .id
        .trim_start_matches("/hostedzone/")
        .to_owned();
    let dir = project(
        site,
        &format!(
            "domain = \"{domain}\"\naliases = [\"www.{domain}\"]\n\n\
             [monitoring]\nemail = [\"ops@{domain}\"]\n"
        ),
    );
    (dir, domain, zone)
}

async fn facts(site: &str, domain: &str, zone: &str) -> SiteFacts {
    let buckets = [
        format!("{site}-site-{ACCOUNT}"),
        format!("{site}-logs-{ACCOUNT}"),
    ];
    SiteFacts::read(site, &[&buckets[0], &buckets[1]], Some(domain), Some(zone)).await
}

/// The requests of `other`'s runs that `policy` allows, with the statement that allows each.
fn allowed<'a>(policy: &serde_json::Value, other: &'a [Request]) -> Vec<(&'a Request, String)> {
    other
        .iter()
        .filter_map(|r| allowed_by(policy, r).map(|sid| (r, sid)))
        .collect()
}

/// Each allowed request comes from a documented unscoped statement and reads, or creates
/// something new (the create statements gated by request tag cannot match another site's tag).
fn violations(allowed: &[(&Request, String)]) -> Vec<String> {
    allowed
        .iter()
        .filter(|(r, sid)| {
            let documented = sitewarden::iam::UNSCOPED.iter().any(|(u, _)| u == sid);
            let op = r.action.split(':').nth(1).unwrap_or_default();
            let reads = ["Get", "List", "Describe"]
                .iter()
                .any(|p| op.starts_with(p));
            let creates_untaggable = sid.ends_with("NoTagSupport");
            !(documented && (reads || creates_untaggable))
        })
        .map(|(r, sid)| format!("{sid}: {} on {}", r.action, r.resource))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioning_policy_of_one_site_allows_none_of_another_sites_resources() {
    let a = site_name("iama");
    let (a_dir, a_domain, a_zone) = domain_site(&a).await;
    Run::new(a_dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run();
    let a_policy = Run::new(a_dir.path())
        .json()
        .args(["iam-policy", "--for", "provision"])
        .run()
        .into_json();

    let b = site_name("iamb");
    let (b_dir, b_domain, b_zone) = domain_site(&b).await;
    let planned = Run::new(b_dir.path())
        .json()
        .args(["plan"])
        .run()
        .into_json();
    let up = Run::new(b_dir.path())
        .json()
        .args(["up", "-y"])
        .run()
        .into_json();
    // Its CI roles too: `ci github` records `[ci]`, which `up` and `destroy` then reconcile.
    let ci = Run::new(b_dir.path())
        .json()
        .args(["ci", "github", "--repo", &format!("octo-org/{b}")])
        .run()
        .into_json();
    let again = Run::new(b_dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    std::fs::write(b_dir.path().join("dist/index.html"), "<h1>v2</h1>\n").unwrap();
    let deployed = Run::new(b_dir.path())
        .json()
        .args(["deploy"])
        .run()
        .into_json();
    let b_policy = Run::new(b_dir.path())
        .json()
        .args(["iam-policy", "--for", "provision"])
        .run()
        .into_json();
    let b_facts = facts(&b, &b_domain, &b_zone).await;
    // The pull request role's read-only policy is enough for `plan`: every call of a plan run.
    let pr_plan = Run::new(b_dir.path())
        .json()
        .args(["plan"])
        .run()
        .into_json();
    let iam_client = aws_clients("us-east-1").await.iam;
    let plan_policies =
        sitewarden::observe::iam::inline_policies(&iam_client, &format!("sitewarden-{b}-plan"))
            .await
            .unwrap();
    let plan_policy = plan_policies[0].1.clone().unwrap();
    assert_policy_allows(&plan_policy, &b_facts, &[&pr_plan["requests"]]);
    let destroyed = Run::new(b_dir.path())
        .json()
        .args(["destroy", "--delete-content", "-y"])
        .run()
        .into_json();
    let runs = [
        &planned["requests"],
        &up["requests"],
        &again["requests"],
        &deployed["requests"],
        &destroyed["requests"],
    ];

    // Positive control: B's own policy allows all of B's calls on B's resources.
    assert_policy_allows(&b_policy, &b_facts, &runs);
    // `ci github` (an administrator) needs the `--for ci` policy: the provisioning policy plus the
    // boundary's writes, which the provisioning policy alone never allows.
    let b_ci_policy = Run::new(b_dir.path())
        .json()
        .args(["iam-policy", "--for", "ci"])
        .run()
        .into_json();
    assert_policy_allows(&b_ci_policy, &b_facts, &[&ci["requests"]]);
    for admin_only in [
        "iam:CreatePolicy",
        "iam:CreatePolicyVersion",
        "iam:PutRolePermissionsBoundary",
    ] {
        assert!(
            !b_policy.to_string().contains(&format!("\"{admin_only}\"")),
            "the provisioning policy allows {admin_only}"
        );
    }
    let requests = site_requests(&b_facts, &runs);
    assert!(requests.len() > 60, "{} requests", requests.len());

    // A's policy allows only the documented unscoped calls of B's runs.
    let allowed = allowed(&a_policy, &requests);
    assert_eq!(violations(&allowed), Vec::<String>::new());
    let denied: Vec<&str> = requests
        .iter()
        .filter(|r| allowed_by(&a_policy, r).is_none())
        .map(|r| r.action.as_str())
        .collect();
    for write in [
        "kms:CreateKey",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:CreateAlias",
        "kms:TagResource",
        "acm:RequestCertificate",
        "acm:DeleteCertificate",
        "cloudfront:CreateDistribution",
        "cloudfront:UpdateDistribution",
        "cloudfront:DeleteDistribution",
        "cloudfront:CreateFunction",
        "cloudfront:DeleteFunction",
        "cloudfront:DeleteOriginAccessControl",
        "cloudfront:DeleteResponseHeadersPolicy",
        "cloudfront:CreateInvalidation",
        "logs:CreateDelivery",
        "logs:DeleteDeliverySource",
        "route53:ChangeResourceRecordSets",
        "s3:PutBucketPolicy",
        "s3:PutObject",
        "s3:DeleteBucket",
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "events:PutRule",
        "events:PutTargets",
        "events:DeleteRule",
        "iam:DeleteRole",
    ] {
        assert!(
            requests.iter().any(|r| r.action == write),
            "B's runs made no {write} call"
        );
        assert!(denied.contains(&write), "A's policy allows B's {write}");
    }

    // A's policy still covers A's own resources (its zone, OAC and headers policy are named).
    let a_facts = facts(&a, &a_domain, &a_zone).await;
    let text = a_policy.to_string();
    for id in [
        a_facts.origin_access_control.as_deref().unwrap(),
        a_facts.headers_policy.as_deref().unwrap(),
        a_zone.as_str(),
    ] {
        assert!(text.contains(id), "A's policy names {id}: {a_policy:#}");
    }
    let records: Vec<String> = aws_clients("eu-west-1")
        .await
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&a_zone)
        .send()
        .await
        .unwrap()
        .resource_record_sets
        .iter()
        .filter(|s| s.r#type == RrType::Cname)
        .map(|s| s.name.clone())
        .collect();
    assert!(!records.is_empty(), "A's validation CNAMEs are in its zone");
}

/// The check above fails for a policy that is not scoped: the same statements with every
/// resource `*` and no condition (what `iam-policy --for provision` printed before) allow B's
/// writes.
#[tokio::test(flavor = "multi_thread")]
async fn an_unscoped_policy_fails_the_other_site_check() {
    let a = site_name("iamc");
    let a_dir = project(&a, "");
    // Before the first `up`, the ids CloudFront assigns are not known: `*` of their type, and
    // the command says so.
    Run::new(a_dir.path())
        .args(["iam-policy", "--for", "provision"])
        .stderr_contains("the origin access control, the response headers policy")
        .stderr_contains("again after the first `sitewarden up`")
        .run();
    let mut unscoped = Run::new(a_dir.path())
        .json()
        .args(["iam-policy", "--for", "provision"])
        .run()
        .into_json();
    assert!(
        unscoped
            .to_string()
            .contains(&format!(":{ACCOUNT}:origin-access-control/*\"")),
        "{unscoped:#}"
    );
    for statement in unscoped["Statement"].as_array_mut().unwrap() {
        statement["Resource"] = serde_json::Value::from("*");
        statement.as_object_mut().unwrap().remove("Condition");
    }
    let b = site_name("iamd");
    let b_dir = project(&b, "");
    let up = Run::new(b_dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    let buckets = [format!("{b}-site-{ACCOUNT}"), format!("{b}-logs-{ACCOUNT}")];
    let b_facts = SiteFacts::read(&b, &[&buckets[0], &buckets[1]], None, None).await;
    let requests = site_requests(&b_facts, &[&up["requests"]]);
    let allowed = allowed(&unscoped, &requests);
    let found = violations(&allowed);
    for write in [
        "kms:PutKeyPolicy",
        "cloudfront:CreateDistribution",
        "s3:PutBucketPolicy",
    ] {
        assert!(
            found.iter().any(|v| v.contains(&format!(" {write} on "))),
            "{write} not reported: {found:#?}"
        );
    }
}
