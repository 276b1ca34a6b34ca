//! CloudFront end to end: `plan`, `up --infra-only`, drift and `destroy` of a domainless site,
//! read back through the SDK.

use aws_sdk_cloudfront::types::{
    DistributionConfig, EventType, FunctionStage, HttpVersion, Method, ResponseHeadersPolicyType,
    ViewerProtocolPolicy,
};
use sitewarden::aws::Aws;
use sitewarden::observe;

use crate::support::{ACCOUNT, Run, aws_clients, project, site_name, write_calls};

const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

const CONFIG: &str = r#"
[headers]
extra = { "X-Robots-Tag" = "noindex" }

[[redirects]]
from = "/old-blog/*"
to = "/blog/:splat"
status = 301

[[redirects]]
from = "/about-us"
to = "/about/"
status = 308
"#;

/// Names of one test site's resources.
struct Site {
    site: String,
    /// `sitewarden-<site>`: the OAC, headers policy and function.
    name: String,
}

fn changes(json: &serde_json::Value) -> Vec<String> {
    json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let field = |key: &str| c[key].as_str().unwrap().to_owned();
            format!(
                "{} {}: {}",
                field("action"),
                field("resource"),
                field("detail")
            )
        })
        .collect()
}

fn has_change(changes: &[String], prefix: &str) -> bool {
    changes.iter().any(|c| c.starts_with(prefix))
}

/// The site's distribution id, config and `ETag`, found by its comment.
async fn distribution(aws: &Aws, site: &str) -> Option<(String, DistributionConfig, String)> {
    let comment = format!("sitewarden:{site}");
    let summary = observe::distribution::find_first(aws, |d| d.comment == comment)
        .await
        .unwrap()?;
    let (config, etag) = observe::distribution::config(aws, &summary.id, &summary.id)
        .await
        .unwrap();
    Some((summary.id, config, etag.unwrap()))
}

async fn oac_id(aws: &Aws, name: &str) -> Option<String> {
    let oac = observe::cloudfront::origin_access_control(aws, name)
        .await
        .unwrap()?;
    assert_eq!(
        (oac.signing_protocol.as_str(), oac.signing_behavior.as_str()),
        ("sigv4", "always")
    );
    assert_eq!(oac.origin_access_control_origin_type.as_str(), "s3");
    Some(oac.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn domainless_site_gets_a_hardened_distribution_kept_in_shape() {
    let site = site_name("cf");
    let s = Site {
        name: format!("sitewarden-{site}"),
        site,
    };
    let dir = project(&s.site, CONFIG);

    plan_lists_every_part(&s, dir.path());
    let up = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run()
        .into_json();
    let aws = aws_clients("eu-west-1").await;
    let (id, config, _) = distribution(&aws, &s.site).await.expect("distribution");
    let arn = format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{id}");
    assert_eq!(
        (
            up["distribution"]["id"].as_str(),
            up["distribution"]["arn"].as_str()
        ),
        (Some(id.as_str()), Some(arn.as_str()))
    );

    assert_origin(&aws, &s, &config).await;
    let policy_id = assert_behavior(&aws, &s, &config).await;
    assert_distribution_settings(&aws, &s, &config, &arn).await;
    assert_logging(&aws, &s, &arn).await;
    assert_policies_name_the_distribution(&aws, &s, &arn).await;

    // Unchanged config: no change and not one write call.
    let again = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run()
        .into_json();
    assert_eq!(changes(&again), Vec::<String>::new());
    assert_eq!(
        write_calls(&again["requests"]),
        Vec::<String>::new(),
        "{}",
        again["requests"]
    );
    // The plan lists every part as a no-op.
    let plan = Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run()
        .into_json();
    let unchanged: Vec<(String, String)> = plan["unchanged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                c["resource"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(unchanged.iter().all(|(a, _)| a == "no-op"), "{unchanged:?}");
    let resources: Vec<&str> = unchanged.iter().map(|(_, r)| r.as_str()).collect();
    for part in [
        format!("kms key alias/sitewarden/{}", s.site),
        format!("s3 bucket {}-site-{ACCOUNT}", s.site),
        format!("s3 bucket {}-logs-{ACCOUNT}", s.site),
        format!("cloudfront origin access control sitewarden-{}", s.site),
        format!("cloudfront response headers policy sitewarden-{}", s.site),
        format!("cloudfront function sitewarden-{}", s.site),
        format!("cloudfront function sitewarden-{}-csp", s.site),
        format!("cloudfront distribution sitewarden:{}", s.site),
        format!(
            "cloudwatch logs delivery destination sitewarden-{}-cf-s3",
            s.site
        ),
        format!("cloudwatch logs delivery source sitewarden-{}-cf", s.site),
    ] {
        assert!(
            resources.contains(&part.as_str()),
            "{part} not in {resources:#?}"
        );
    }
    assert_eq!(resources.len(), 11, "{resources:#?}");

    drift_is_planned_and_repaired(&aws, &s, dir.path(), &id, &policy_id).await;
    destroy_removes_every_part(&aws, &s, dir.path(), &policy_id).await;
}

/// The bucket policy lets only this distribution read, never `.sitewarden/*`, and only over
/// TLS; the key policy lets only this distribution decrypt.
async fn assert_policies_name_the_distribution(aws: &Aws, s: &Site, arn: &str) {
    let bucket = format!("{}-site-{ACCOUNT}", s.site);
    let policy = observe::bucket::policy(&aws.s3, &bucket)
        .await
        .unwrap()
        .unwrap();
    let statement = |sid: &str| {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["Sid"] == sid)
            .unwrap_or_else(|| panic!("no {sid}: {policy:#}"))
            .clone()
    };
    let read = statement("AllowCloudFrontRead");
    assert_eq!(read["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(read["Action"], "s3:GetObject");
    assert_eq!(read["Condition"]["StringEquals"]["AWS:SourceArn"], arn);
    let state = statement("DenyCloudFrontPrivateState");
    assert_eq!(state["Effect"], "Deny");
    assert_eq!(
        state["Resource"],
        format!("arn:aws:s3:::{bucket}/.sitewarden/*")
    );
    let tls = statement("DenyInsecureTransport");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");

    // GetKeyPolicy takes a key id or ARN, not an alias.
    let key_id = crate::support::site_key(&s.site).await.key_id;
    let key_policy = observe::key::policy(&aws.kms, &key_id, "site key")
        .await
        .unwrap()
        .unwrap();
    let decrypt: Vec<&serde_json::Value> = key_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| st["Principal"]["Service"] == "cloudfront.amazonaws.com")
        .collect();
    assert_eq!(decrypt.len(), 1, "{key_policy:#}");
    assert_eq!(decrypt[0]["Action"], "kms:Decrypt");
    assert_eq!(
        decrypt[0]["Condition"]["StringEquals"]["AWS:SourceArn"],
        arn
    );
}

fn plan_lists_every_part(s: &Site, dir: &std::path::Path) {
    let planned = Run::new(dir)
        .json()
        .args(["plan", "--detailed-exitcode"])
        .status(4)
        .run()
        .into_json();
    assert_eq!(
        write_calls(&planned["requests"]),
        Vec::<String>::new(),
        "plan must only read"
    );
    assert!(planned["distribution"].is_null());
    let planned = changes(&planned);
    let (site, name) = (&s.site, &s.name);
    for prefix in [
        format!("create cloudfront origin access control {name}"),
        format!("create cloudfront response headers policy {name}"),
        format!("create cloudfront function {name}"),
        format!("create cloudfront distribution sitewarden:{site}"),
        format!("create cloudwatch logs delivery source {name}-cf"),
        format!("create cloudwatch logs delivery destination {name}-cf-s3"),
        format!("create cloudwatch logs delivery {name}-cf → {name}-cf-s3"),
    ] {
        assert!(has_change(&planned, &prefix), "{prefix}\n{planned:#?}");
    }
}

/// The bucket's REST endpoint, signed by the site's OAC, without an OAI.
async fn assert_origin(aws: &Aws, s: &Site, config: &DistributionConfig) {
    let origin = &config.origins.as_ref().unwrap().items[0];
    assert_eq!(
        origin.domain_name,
        format!("{}-site-{ACCOUNT}.s3.eu-west-1.amazonaws.com", s.site)
    );
    assert_eq!(
        origin
            .s3_origin_config
            .as_ref()
            .unwrap()
            .origin_access_identity,
        ""
    );
    let oac = oac_id(aws, &s.name).await.expect("origin access control");
    assert_eq!(
        origin.origin_access_control_id.as_deref(),
        Some(oac.as_str())
    );
}

/// HTTPS only, GET/HEAD, `CachingOptimized`, the headers policy and the function. Returns the
/// policy id.
async fn assert_behavior(aws: &Aws, s: &Site, config: &DistributionConfig) -> String {
    let behavior = config.default_cache_behavior.as_ref().unwrap();
    assert_eq!(
        behavior.viewer_protocol_policy,
        ViewerProtocolPolicy::RedirectToHttps
    );
    let methods = behavior.allowed_methods.as_ref().unwrap();
    assert_eq!(methods.items, [Method::Get, Method::Head]);
    assert_eq!(
        methods.cached_methods.as_ref().unwrap().items,
        [Method::Get, Method::Head]
    );
    assert_eq!(behavior.cache_policy_id.as_deref(), Some(CACHING_OPTIMIZED));
    assert_eq!(behavior.compress, Some(true));

    let associations = behavior.function_associations.as_ref().unwrap().items();
    let association = &associations[0];
    assert_eq!(association.event_type, EventType::ViewerRequest);
    assert_function(aws, s, &association.function_arn).await;
    // CSP "auto" (the default): the viewer-response function, published, puts each page's policy
    // from its metadata into the header.
    assert_eq!(associations.len(), 2, "{associations:?}");
    assert_eq!(associations[1].event_type, EventType::ViewerResponse);
    let csp_name = format!("{}-csp", s.name);
    assert!(
        associations[1]
            .function_arn
            .ends_with(&format!("function/{csp_name}")),
        "{associations:?}"
    );
    let live = observe::cloudfront::function_code(aws, &csp_name, FunctionStage::Live)
        .await
        .unwrap()
        .expect("the viewer-response function is published");
    assert!(String::from_utf8(live).unwrap().contains("x-amz-meta-csp"));
    let policy_id = behavior
        .response_headers_policy_id
        .clone()
        .expect("headers policy attached");
    assert_headers_policy(aws, s, &policy_id).await;
    policy_id
}

/// The viewer-request function is published (LIVE) with the configured redirects.
async fn assert_function(aws: &Aws, s: &Site, arn: &str) {
    assert!(arn.ends_with(&format!("function/{}", s.name)), "{arn}");
    let cloudfront = &aws.cloudfront;
    let live = observe::cloudfront::function_code(aws, &s.name, FunctionStage::Live)
        .await
        .unwrap()
        .expect("the function is published");
    let code = String::from_utf8(live).unwrap();
    for redirect in ["/old-blog/", "/blog/:splat", "/about-us"] {
        assert!(code.contains(redirect), "{redirect} missing from\n{code}");
    }
    let described = cloudfront
        .describe_function()
        .name(&s.name)
        .stage(FunctionStage::Live)
        .send()
        .await
        .unwrap();
    let runtime = described
        .function_summary
        .unwrap()
        .function_config
        .unwrap()
        .runtime;
    assert_eq!(runtime.as_str(), "cloudfront-js-2.0");
}

/// Every security header, with override, and the custom headers.
async fn assert_headers_policy(aws: &Aws, s: &Site, policy_id: &str) {
    let policy = observe::cloudfront::headers_policy(aws, policy_id, policy_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(policy.name, s.name);
    let security = policy.security_headers_config.unwrap();
    let hsts = security.strict_transport_security.unwrap();
    assert_eq!(
        (
            hsts.access_control_max_age_sec,
            hsts.include_subdomains,
            hsts.r#override
        ),
        (63_072_000, Some(true), true)
    );
    let csp = security.content_security_policy.unwrap();
    assert_eq!(csp.content_security_policy, sitewarden::config::DEFAULT_CSP);
    assert!(
        !csp.r#override,
        "auto: the viewer-response function's per-page policy wins"
    );
    assert!(security.content_type_options.unwrap().r#override);
    assert_eq!(
        security.frame_options.unwrap().frame_option.as_str(),
        "DENY"
    );
    assert_eq!(
        security.referrer_policy.unwrap().referrer_policy.as_str(),
        "strict-origin-when-cross-origin"
    );
    let custom: Vec<(String, String)> = policy
        .custom_headers_config
        .unwrap()
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h.header, h.value))
        .collect();
    assert!(
        custom
            .iter()
            .any(|(h, v)| h == "Permissions-Policy" && v.contains("camera=()")),
        "{custom:?}"
    );
    assert!(
        custom.contains(&("X-Robots-Tag".to_owned(), "noindex".to_owned())),
        "{custom:?}"
    );
}

async fn assert_distribution_settings(aws: &Aws, s: &Site, config: &DistributionConfig, arn: &str) {
    assert!(config.enabled);
    assert_eq!(config.default_root_object.as_deref(), Some("index.html"));
    let errors: Vec<(i32, Option<&str>, Option<&str>)> = config
        .custom_error_responses
        .as_ref()
        .unwrap()
        .items()
        .iter()
        .map(|e| {
            (
                e.error_code,
                e.response_page_path.as_deref(),
                e.response_code.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (403, Some("/404.html"), Some("404")),
            (404, Some("/404.html"), Some("404"))
        ]
    );
    assert_eq!(config.http_version, Some(HttpVersion::Http2and3));
    assert_eq!(config.is_ipv6_enabled, Some(true));
    assert_eq!(
        config
            .viewer_certificate
            .as_ref()
            .unwrap()
            .cloud_front_default_certificate,
        Some(true)
    );
    assert_eq!(
        config.logging.as_ref().map(|l| l.enabled),
        Some(false),
        "legacy logging stays off"
    );
    assert_eq!(
        observe::distribution::site_tag(aws, arn).await.unwrap(),
        Some(s.site.clone())
    );
}

/// Standard logging v2: source → destination (the log bucket's CloudFront prefix) → delivery.
async fn assert_logging(aws: &Aws, s: &Site, arn: &str) {
    let source = aws
        .logs
        .get_delivery_source()
        .name(format!("{}-cf", s.name))
        .send()
        .await
        .unwrap();
    let source = source.delivery_source.unwrap();
    assert_eq!(source.resource_arns.unwrap_or_default(), [arn]);
    assert_eq!(source.log_type.as_deref(), Some("ACCESS_LOGS"));
    let destination = observe::cloudfront::delivery_destination(aws, &format!("{}-cf-s3", s.name))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        destination.target,
        format!("arn:aws:s3:::{}-logs-{ACCOUNT}/cloudfront/", s.site)
    );
    let deliveries = observe::cloudfront::deliveries_of(aws, &format!("{}-cf", s.name))
        .await
        .unwrap();
    assert!(
        deliveries
            .iter()
            .any(|d| d.delivery_destination_arn.as_deref() == Some(destination.arn.as_str())),
        "{deliveries:?}"
    );
}

/// Someone detaches the security headers policy: `plan` names it, `up` puts it back.
async fn drift_is_planned_and_repaired(
    aws: &Aws,
    s: &Site,
    dir: &std::path::Path,
    id: &str,
    policy_id: &str,
) {
    let cloudfront = &aws.cloudfront;
    let (_, mut drifted, etag) = distribution(aws, &s.site).await.unwrap();
    let mut behavior = drifted.default_cache_behavior.take().unwrap();
    behavior.response_headers_policy_id = None;
    drifted.default_cache_behavior = Some(behavior);
    cloudfront
        .update_distribution()
        .id(id)
        .if_match(etag)
        .distribution_config(drifted)
        .send()
        .await
        .unwrap();

    let drift = changes(
        &Run::new(dir)
            .json()
            .args(["plan", "--detailed-exitcode"])
            .status(4)
            .run()
            .into_json(),
    );
    let expected = format!(
        "update cloudfront distribution sitewarden:{}: response headers policy none → {policy_id}",
        s.site
    );
    assert!(has_change(&drift, &expected), "{drift:#?}");
    Run::new(dir).json().args(["up", "--infra-only"]).run();
    let (_, restored, _) = distribution(aws, &s.site).await.unwrap();
    assert_eq!(
        restored
            .default_cache_behavior
            .unwrap()
            .response_headers_policy_id
            .as_deref(),
        Some(policy_id)
    );
    Run::new(dir)
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run();

    // A web ACL attached outside sitewarden stays; `[cdn]` settings are applied.
    let acl = format!("arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/team/0a1b2c3d");
    let (_, mut attached, etag) = distribution(aws, &s.site).await.unwrap();
    attached.web_acl_id = Some(acl.clone());
    cloudfront
        .update_distribution()
        .id(id)
        .if_match(etag)
        .distribution_config(attached)
        .send()
        .await
        .unwrap();
    Run::new(dir)
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run();
    let config_path = dir.join("sitewarden.toml");
    let mut config = std::fs::read_to_string(&config_path).unwrap();
    config.push_str(
        "[cdn]\nprice_class = \"PriceClass_100\"\ncache_policy_id = \"4135ea2d-6df8-44a3-9df3-4b5a84be39ad\"\n",
    );
    std::fs::write(&config_path, config).unwrap();
    let updated = changes(
        &Run::new(dir)
            .json()
            .args(["up", "--infra-only"])
            .run()
            .into_json(),
    );
    assert!(
        has_change(
            &updated,
            &format!(
                "update cloudfront distribution sitewarden:{}: cache policy {CACHING_OPTIMIZED} → \
                 4135ea2d-6df8-44a3-9df3-4b5a84be39ad; price class PriceClass_All → PriceClass_100",
                s.site
            )
        ),
        "{updated:#?}"
    );
    let (_, now, _) = distribution(aws, &s.site).await.unwrap();
    assert_eq!(now.price_class.unwrap().as_str(), "PriceClass_100");
    assert_eq!(now.web_acl_id.as_deref(), Some(acl.as_str()));
    Run::new(dir)
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run();
}

async fn destroy_removes_every_part(aws: &Aws, s: &Site, dir: &std::path::Path, policy_id: &str) {
    let destroyed = changes(
        &Run::new(dir)
            .json()
            .args(["destroy", "-y"])
            .run()
            .into_json(),
    );
    assert!(
        has_change(
            &destroyed,
            &format!("delete cloudfront distribution sitewarden:{}", s.site)
        ),
        "{destroyed:#?}"
    );
    let cloudfront = &aws.cloudfront;
    assert!(
        distribution(aws, &s.site).await.is_none(),
        "distribution still there"
    );
    assert!(
        oac_id(aws, &s.name).await.is_none(),
        "origin access control still there"
    );
    let policies = cloudfront
        .list_response_headers_policies()
        .r#type(ResponseHeadersPolicyType::Custom)
        .send()
        .await
        .unwrap();
    let policies = policies
        .response_headers_policy_list
        .and_then(|l| l.items)
        .unwrap_or_default();
    assert!(
        !policies.iter().any(|p| p
            .response_headers_policy
            .as_ref()
            .is_some_and(|p| p.id == policy_id)),
        "response headers policy still there"
    );
    assert!(
        observe::cloudfront::function(aws, &s.name)
            .await
            .unwrap()
            .is_none(),
        "function still there"
    );
    assert!(
        observe::cloudfront::function(aws, &format!("{}-csp", s.name))
            .await
            .unwrap()
            .is_none(),
        "viewer-response function still there"
    );
    assert!(
        observe::cloudfront::delivery_source_arns(aws, &format!("{}-cf", s.name))
            .await
            .unwrap()
            .is_none(),
        "source still there"
    );
    let destination =
        observe::cloudfront::delivery_destination(aws, &format!("{}-cf-s3", s.name)).await;
    assert!(
        destination.unwrap().is_none(),
        "delivery destination still there"
    );
    // Nothing of CloudFront is left for a second destroy.
    let again = changes(
        &Run::new(dir)
            .json()
            .args(["destroy", "-y"])
            .run()
            .into_json(),
    );
    assert!(
        !again.iter().any(|c| c.contains("cloudfront")),
        "{again:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fixed_csp_drops_the_viewer_response_function_and_overrides() {
    let site = site_name("cf-fixed");
    let dir = project(&site, "");
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();
    let aws = aws_clients("eu-west-1").await;
    let csp_name = format!("sitewarden-{site}-csp");
    assert!(
        observe::cloudfront::function(&aws, &csp_name)
            .await
            .unwrap()
            .is_some()
    );

    let config = dir.path().join("sitewarden.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{text}[headers]\ncontent_security_policy = \"default-src 'self'; object-src 'none'\"\n"
        ),
    )
    .unwrap();
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();
    let (_, config, _) = distribution(&aws, &site).await.expect("distribution");
    let behavior = config.default_cache_behavior.unwrap();
    let events: Vec<EventType> = behavior
        .function_associations
        .unwrap()
        .items()
        .iter()
        .map(|a| a.event_type.clone())
        .collect();
    assert_eq!(events, [EventType::ViewerRequest]);
    assert!(
        observe::cloudfront::function(&aws, &csp_name)
            .await
            .unwrap()
            .is_none(),
        "deleted once the distribution no longer runs it"
    );
    let policy_id = behavior.response_headers_policy_id.unwrap();
    let policy = observe::cloudfront::headers_policy(&aws, &policy_id, &policy_id)
        .await
        .unwrap()
        .unwrap();
    let csp = policy
        .security_headers_config
        .unwrap()
        .content_security_policy
        .unwrap();
    assert_eq!(
        (csp.content_security_policy.as_str(), csp.r#override),
        ("default-src 'self'; object-src 'none'", true)
    );
}
