//! The saved record (`adopt/<bucket>.json` in the log bucket): what the website served the site
//! with before step 1 changed anything, so a resumed run still knows the redirects once the
//! website configuration is gone.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::WebsiteConfiguration;
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::{AwsResultExt as _, Error, Result, code};
use crate::provision::{Action, Ctx, Plan};

use super::survey::Survey;
use super::translate::Translated;
use crate::names::{Kind, Resource};

/// Where step 1 keeps what the website said, in the (private) log bucket.
fn record_key(bucket: &str) -> String {
    format!("adopt/{bucket}.json")
}

/// Saves what the bucket served the site with before anything changed: written once, never
/// overwritten, so it keeps the original even when a run resumes.
pub(super) async fn save_record(
    ctx: &Ctx<'_>,
    survey: &Survey,
    website: &WebsiteConfiguration,
    config: &Config,
    plan: &mut Plan,
) -> Result<()> {
    let bucket = &ctx.names.content_bucket;
    let log_bucket = &ctx.names.log_bucket;
    let key = record_key(bucket);
    if saved_value(&ctx.aws.s3, log_bucket, bucket)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let record = json!({
        "bucket": bucket,
        "website": {
            "index_document": website.index_document.as_ref().map(|d| &d.suffix),
            "error_document": website.error_document.as_ref().map(|d| &d.key),
            "redirect_all_requests_to": website.redirect_all_requests_to.as_ref().map(|r| &r.host_name),
            "routing_rules": website.routing_rules().iter().map(|r| format!("{r:?}")).collect::<Vec<_>>(),
        },
        "policy": survey.policy,
        "translated": Translated {
            redirects: config.redirects.clone(),
            spa_fallback: config.deploy.spa_fallback.clone(),
            skipped: Vec::new(),
        },
    });
    ctx.change(
        plan,
        &Resource::new(Kind::Object, format!("{log_bucket}/{key}")),
        Action::Create,
        "the website configuration, bucket policy and redirects as they were, kept for resuming and reference",
    );
    if ctx.apply {
        ctx.aws
            .s3
            .put_object()
            .bucket(log_bucket)
            .key(&key)
            .content_type("application/json")
            .body(
                serde_json::to_vec_pretty(&record)
                    .expect("a JSON value serializes")
                    .into(),
            )
            .send()
            .await
            .op("PutObject", &format!("object `{log_bucket}/{key}`"))?;
    }
    Ok(())
}

async fn saved_value(s3: &Client, log_bucket: &str, bucket: &str) -> Result<Option<Value>> {
    let key = record_key(bucket);
    let resource = format!("object `{log_bucket}/{key}`");
    // No log bucket yet is no record yet.
    let fetched = match crate::observe::objects::get(s3, log_bucket, &key, &resource).await {
        Err(Error::Aws { code, .. }) if code == code::NO_SUCH_BUCKET => None,
        other => other?,
    };
    let Some(fetched) = fetched else {
        return Ok(None);
    };
    let bytes = fetched.body;
    Ok(serde_json::from_slice(&bytes).ok())
}

/// The redirects step 1 saved, for a run that resumes after the website configuration is gone.
pub(super) async fn saved_record(
    s3: &Client,
    log_bucket: &str,
    bucket: &str,
) -> Result<Option<Translated>> {
    Ok(saved_value(s3, log_bucket, bucket)
        .await?
        .and_then(|v| serde_json::from_value(v["translated"].clone()).ok()))
}
