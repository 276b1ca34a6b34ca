//! The site's CloudFront Functions (cloudfront-js-2.0): the viewer-request function
//! `sitewarden-<site>` (directory indexes, the configured redirects and www → apex, which the private
//! REST origin cannot do) and, with `headers.content_security_policy = "auto"`, the viewer-response
//! function `sitewarden-<site>-csp` (each page's own policy from its object metadata).
//!
//! The code is `templates/viewer-request.js` with the site's settings as one JSON object. Changes
//! go to the DEVELOPMENT stage and are then published to LIVE, the stage distributions run.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::primitives::Blob;
use aws_sdk_cloudfront::types::{FunctionConfig, FunctionRuntime, FunctionStage, Tag, Tags};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization as _;

use super::resource_name;
use crate::config::{Config, Csp, redirect_path};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::names::{Kind, Resource};
use crate::observe::cloudfront as observe;
use crate::provision::{Action, Ctx, Plan};

const TEMPLATE: &str = include_str!("../../../templates/viewer-request.js");
/// The viewer-response function of CSP `"auto"`: no settings, the same code for every site.
const CSP_TEMPLATE: &str = include_str!("../../../templates/viewer-response.js");
const PLACEHOLDER: &str = "SITEWARDEN_CONFIG";
/// CloudFront's limit on a function's code size.
const MAX_CODE_BYTES: usize = 10 * 1024;

/// One CloudFront Function sitewarden runs: its name, what it is for and its code.
struct Spec {
    name: String,
    /// `viewer-request`, `viewer-response`: for the plan and the function's comment.
    event: &'static str,
    code: String,
    /// What the function does for this site, for the plan.
    summary: String,
}

/// The viewer-request function's ARN; `None` in `plan` when it would be created.
pub(super) async fn reconcile(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<Option<String>> {
    let spec = Spec {
        name: resource_name(ctx),
        event: "viewer-request",
        code: render(ctx.config)?,
        summary: summary(ctx.config),
    };
    reconcile_function(ctx, plan, &spec).await
}

/// The name of the viewer-response function of `headers.content_security_policy = "auto"`.
fn csp_name(ctx: &Ctx<'_>) -> String {
    format!("{}-csp", resource_name(ctx))
}

/// The viewer-response function's ARN in auto mode (`None` in `plan` when it would be created, and
/// always with a fixed policy: then no function is needed, see [`remove_unused_csp`]).
pub(super) async fn reconcile_csp(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<Option<String>> {
    if ctx.config.headers.csp() != Csp::Auto {
        return Ok(None);
    }
    let spec = Spec {
        name: csp_name(ctx),
        event: "viewer-response",
        code: render_csp(),
        summary: "each page's Content-Security-Policy from its metadata".to_owned(),
    };
    reconcile_function(ctx, plan, &spec).await
}

/// With a fixed policy, deletes the viewer-response function a former auto mode left; called once
/// the distribution no longer refers to it.
pub(super) async fn remove_unused_csp(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    if ctx.config.headers.csp() == Csp::Auto {
        return Ok(());
    }
    destroy_function(ctx, plan, &csp_name(ctx), "viewer-response").await
}

/// Creates, updates and publishes one function; returns its ARN (`None` in `plan` on create).
async fn reconcile_function(ctx: &Ctx<'_>, plan: &mut Plan, spec: &Spec) -> Result<Option<String>> {
    let cloudfront = &ctx.aws.cloudfront;
    let name = &spec.name;
    let resource = Resource::new(Kind::Function, name);
    let config = function_config(&ctx.names.site, spec.event)?;
    let Some(development) = observe::function(ctx.aws, name).await? else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!(
                "create and publish {} function ({})",
                spec.event, spec.summary
            ),
        );
        if !ctx.apply {
            return Ok(None);
        }
        let created = cloudfront
            .create_function()
            .name(name)
            .function_config(config)
            .function_code(Blob::new(spec.code.as_bytes()))
            // The site tag on create: the provisioning policy allows CreateFunction only with it.
            .tags(
                Tags::builder()
                    .items(
                        Tag::builder()
                            .key(crate::names::SITE_TAG)
                            .value(&ctx.names.site)
                            .build()?,
                    )
                    .build(),
            )
            .send()
            .await
            .op("CreateFunction", &resource)?;
        publish(cloudfront, name, created.e_tag).await?;
        return Ok(Some(observe::function_arn(
            created.function_summary,
            &resource.to_string(),
        )?));
    };
    let arn = development.arn.clone();
    let live_code = observe::function_code(ctx.aws, name, FunctionStage::Development).await?;
    if live_code.as_deref() != Some(spec.code.as_bytes()) || development.runtime != config.runtime {
        ctx.change(
            plan,
            &resource,
            Action::Update,
            format!("update code and publish ({})", spec.summary),
        );
        if ctx.apply {
            let updated = cloudfront
                .update_function()
                .name(name)
                .set_if_match(development.etag)
                .function_config(config)
                .function_code(Blob::new(spec.code.as_bytes()))
                .send()
                .await
                .op("UpdateFunction", &resource)?;
            publish(cloudfront, name, updated.e_tag).await?;
        }
        return Ok(Some(arn));
    }
    // The distribution runs LIVE: DEVELOPMENT code that was never published does not count.
    if observe::function_code(ctx.aws, name, FunctionStage::Live).await? != live_code {
        ctx.change(
            plan,
            &resource,
            Action::Update,
            "publish the DEVELOPMENT code to LIVE",
        );
        if ctx.apply {
            publish(cloudfront, name, development.etag).await?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(Some(arn))
}

pub(super) async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    destroy_function(ctx, plan, &csp_name(ctx), "viewer-response").await?;
    destroy_function(ctx, plan, &resource_name(ctx), "viewer-request").await
}

async fn destroy_function(ctx: &Ctx<'_>, plan: &mut Plan, name: &str, event: &str) -> Result<()> {
    let cloudfront = &ctx.aws.cloudfront;
    let resource = Resource::new(Kind::Function, name);
    let Some(development) = observe::function(ctx.aws, name).await? else {
        return Ok(());
    };
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        format!("delete {event} function"),
    );
    if ctx.apply {
        cloudfront
            .delete_function()
            .name(name)
            .set_if_match(development.etag)
            .send()
            .await
            .op("DeleteFunction", &resource)?;
    }
    Ok(())
}

async fn publish(cloudfront: &Client, name: &str, etag: Option<String>) -> Result<()> {
    cloudfront
        .publish_function()
        .name(name)
        .set_if_match(etag)
        .send()
        .await
        .op("PublishFunction", &Resource::new(Kind::Function, name))?;
    Ok(())
}

fn function_config(site: &str, event: &str) -> Result<FunctionConfig> {
    let what = if event == "viewer-request" {
        "viewer requests"
    } else {
        "viewer responses"
    };
    Ok(FunctionConfig::builder()
        .comment(format!("sitewarden: {what} of {site}"))
        .runtime(FunctionRuntime::CloudfrontJs20)
        .build()?)
}

/// What the function does for this site, for the plan.
fn summary(config: &Config) -> String {
    let mut parts = vec!["directory indexes".to_owned()];
    if !config.redirects.is_empty() {
        parts.push(format!("{} redirect(s)", config.redirects.len()));
    }
    if www_alias(config).is_some() {
        parts.push("www → apex".to_owned());
    }
    parts.join(", ")
}

/// `www.<domain>` when it is one of the aliases.
fn www_alias(config: &Config) -> Option<String> {
    let domain = config.site.domain.as_ref()?;
    let www = format!("www.{domain}");
    config
        .site
        .aliases
        .iter()
        .any(|a| a.as_str() == www)
        .then_some(www)
}

/// A redirect target as the Location header carries it: printable ASCII, so spaces and non-ASCII
/// characters (after NFC) percent-encoded as UTF-8, as browsers would send them.
fn location(to: &str) -> String {
    const ENCODED: &AsciiSet = &CONTROLS.add(b' ');
    let nfc: String = to.nfc().collect();
    utf8_percent_encode(&nfc, ENCODED).to_string()
}

/// The settings the template reads, as one JSON object. Paths to match are in the function's
/// spelling of a request path ([`redirect_path`]: `/café` is `/caf%C3%A9`, as browsers send it).
fn settings(config: &Config) -> Value {
    let www = www_alias(config);
    let mut exact = serde_json::Map::new();
    let mut prefixes = Vec::new();
    for r in &config.redirects {
        let status = r.status.get();
        let to = location(&r.to);
        match r.from.strip_suffix('*') {
            Some(prefix) => prefixes.push(json!({
                "from": redirect_path(prefix),
                "to": to,
                "status": status
            })),
            None => {
                exact.insert(
                    redirect_path(&r.from),
                    json!({ "to": to, "status": status }),
                );
            }
        }
    }
    // The most specific prefix wins, whatever the order of the config.
    prefixes.sort_by_key(|p| std::cmp::Reverse(p["from"].as_str().map_or(0, str::len)));
    json!({
        "apex": www.as_ref().and(config.site.domain.as_ref()).map(ToString::to_string),
        "wwwHosts": www.into_iter().collect::<Vec<_>>(),
        "exact": exact,
        "prefixes": prefixes,
        // With an SPA fallback, extensionless paths are client-side routes, not directories.
        "directoryRedirect": config.deploy.spa_fallback.is_none(),
    })
}

/// A template without its whole-line comments but the first, which names it: they explain the
/// file, and CloudFront counts every byte of the code against its limit.
fn code_template(template: &str) -> String {
    let mut lines = template.lines();
    let mut code: String = lines.next().unwrap_or_default().to_owned();
    for line in lines.filter(|l| !l.trim_start().starts_with("//")) {
        code.push('\n');
        code.push_str(line);
    }
    code.push('\n');
    code
}

/// The viewer-response function's code (the same for every site).
pub(super) fn render_csp() -> String {
    code_template(CSP_TEMPLATE)
}

/// The function code for this site.
pub fn render(config: &Config) -> Result<String> {
    // JSON is a JavaScript expression except for U+2028/U+2029 inside strings in older engines.
    let settings = settings(config)
        .to_string()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    let code = code_template(TEMPLATE).replacen(PLACEHOLDER, &settings, 1);
    if code.len() > MAX_CODE_BYTES {
        return Err(Error::usage_with_hint(
            format!(
                "the viewer-request function for {} redirect(s) is {} bytes, over CloudFront's limit of {MAX_CODE_BYTES}",
                config.redirects.len(),
                code.len()
            ),
            "use fewer `[[redirects]]`, e.g. one `/prefix/*` rule with `:splat` instead of many exact paths",
        ));
    }
    Ok(code)
}

#[cfg(test)]
mod tests;
