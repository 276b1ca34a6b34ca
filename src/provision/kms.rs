//! The site's KMS key: customer managed, symmetric, single-region, rotation on, alias
//! `alias/sitewarden/<site>`, and a key policy that lets only this site's distribution decrypt.

use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeyMetadata, KeySpec, KeyState, KeyUsageType, Tag};

use super::{Action, Ctx, Known, Plan, policy};
use crate::error::{AwsResultExt as _, Result};
use crate::names::SITE_TAG;
use crate::names::{Kind, Resource};
use crate::observe::key as observe;

/// Finds (or creates) the key and keeps rotation on and the key usable.
pub async fn reconcile_key(ctx: &Ctx<'_>, known: &mut Known, plan: &mut Plan) -> Result<()> {
    if let Some(arn) = &ctx.config.kms.key_arn {
        // A key the user manages: used as given; its policy must let the distribution decrypt.
        known.key_arn = Some(arn.to_string());
        return Ok(());
    }
    let kms = &ctx.aws.kms;
    let alias = &ctx.names.kms_alias;
    let resource = Resource::new(Kind::Key, alias);
    let Some(key) = observe(kms, alias).await? else {
        let orphans =
            observe::unaliased_site_keys(kms, &ctx.names.site, &resource.to_string()).await?;
        if let Some(orphan) = orphans.first() {
            // An interrupted run's key: named, not made again.
            ctx.change(
                plan,
                &resource,
                Action::Update,
                format!(
                    "name key {} (created by an interrupted run) and turn rotation on",
                    orphan.key_id
                ),
            );
            if ctx.apply {
                name_key(ctx, alias, &orphan.key_id).await?;
            }
            known.key_arn.clone_from(&orphan.arn);
            return Ok(());
        }
        ctx.change(
            plan,
            &resource,
            Action::Create,
            "create symmetric key with rotation on",
        );
        if ctx.apply {
            known.key_arn = Some(create(ctx, alias).await?);
        }
        return Ok(());
    };
    keep_usable(ctx, kms, &key, &resource, plan).await?;
    known.key_arn = key.arn;
    ctx.settled(plan, &resource);
    Ok(())
}

/// Keeps a key enabled (cancelling a scheduled deletion) with automatic rotation on: the site's
/// key and the alert topics' keys alike.
pub(crate) async fn keep_usable(
    ctx: &Ctx<'_>,
    kms: &Client,
    key: &KeyMetadata,
    resource: &Resource,
    plan: &mut Plan,
) -> Result<()> {
    let key_id = &key.key_id;
    if let Some(detail) = diff_state(key) {
        ctx.change(plan, resource, Action::Update, detail);
        if ctx.apply {
            if key.key_state == Some(KeyState::PendingDeletion) {
                kms.cancel_key_deletion()
                    .key_id(key_id)
                    .send()
                    .await
                    .op("CancelKeyDeletion", resource)?;
            }
            kms.enable_key()
                .key_id(key_id)
                .send()
                .await
                .op("EnableKey", resource)?;
        }
    }
    if !observe::rotation(kms, key_id, &resource.to_string()).await? {
        ctx.change(
            plan,
            resource,
            Action::Update,
            "turn on automatic key rotation",
        );
        if ctx.apply {
            kms.enable_key_rotation()
                .key_id(key_id)
                .send()
                .await
                .op("EnableKeyRotation", resource)?;
        }
    }
    Ok(())
}

/// The key policy names the distribution, so it is reconciled once CloudFront is.
pub async fn reconcile_key_policy(ctx: &Ctx<'_>, known: &Known, plan: &mut Plan) -> Result<()> {
    if let Some(key_arn) = &ctx.config.kms.key_arn {
        // Not sitewarden's key, so not its policy to write: say what the site still needs.
        if let Some(distribution) = &known.distribution {
            check_existing_key(ctx, key_arn.as_str(), &distribution.arn).await;
        }
        return Ok(());
    }
    let Some(key_arn) = &known.key_arn else {
        return Ok(()); // planned: the key is created with this policy's first half
    };
    let resource = Resource::new(Kind::Key, &ctx.names.kms_alias);
    let desired = key_policy(ctx, known.distribution.as_ref().map(|d| d.arn.as_str()));
    let observed = observe::policy(&ctx.aws.kms, key_arn, &resource.to_string()).await?;
    if observed.is_some_and(|o| policy::same(&o, &desired)) {
        ctx.settled(plan, &resource);
        return Ok(());
    }
    ctx.change(
        plan,
        &resource,
        Action::Update,
        "key policy: account administration; CloudFront decrypt for this distribution only",
    );
    if ctx.apply {
        ctx.aws
            .kms
            .put_key_policy()
            .key_id(key_arn)
            .policy_name("default")
            .policy(desired.to_string())
            .send()
            .await
            .op("PutKeyPolicy", &resource)?;
    }
    Ok(())
}

/// Warns when the key of `kms.key_arn` does not let CloudFront decrypt for the distribution: the
/// site's SSE-KMS objects cannot be served until its policy has the statement printed.
async fn check_existing_key(ctx: &Ctx<'_>, key_arn: &str, distribution_arn: &str) {
    let observed = observe::policy(
        &ctx.aws.kms,
        key_arn,
        &Resource::new(Kind::Key, key_arn).to_string(),
    )
    .await;
    let grants = match &observed {
        Ok(doc) => doc
            .as_ref()
            .is_some_and(|doc| grants_cloudfront_decrypt(doc, distribution_arn)),
        Err(_) => false,
    };
    if grants {
        return;
    }
    let statement = &key_policy(ctx, Some(distribution_arn))["Statement"][1];
    let why = match &observed {
        Ok(_) => "does not let CloudFront decrypt".to_owned(),
        Err(e) => format!("could not be read ({e}), so it may not let CloudFront decrypt"),
    };
    ctx.printer.warn(format_args!(
        "the policy of key `{key_arn}` (`kms.key_arn`) {why} for distribution \
         {distribution_arn}: the site cannot serve its encrypted objects until the key policy \
         has this statement:\n{}",
        serde_json::to_string_pretty(statement).unwrap_or_default()
    ));
}

/// Whether a key policy lets CloudFront (OAC) decrypt for `distribution_arn`.
fn grants_cloudfront_decrypt(doc: &serde_json::Value, distribution_arn: &str) -> bool {
    crate::policy::analysis::allows_cloudfront(doc, "kms:Decrypt", distribution_arn)
}

fn key_policy(ctx: &Ctx<'_>, distribution_arn: Option<&str>) -> serde_json::Value {
    policy::render(
        policy::KEY_POLICY,
        &[
            ("site", Some(&ctx.names.site)),
            ("account", Some(ctx.account)),
            ("distribution_arn", distribution_arn),
        ],
    )
}

/// The site's key by its alias; `None` when it does not exist.
pub async fn observe(kms: &Client, alias: &str) -> Result<Option<KeyMetadata>> {
    observe::key(kms, alias, &Resource::new(Kind::Key, alias).to_string()).await
}

fn diff_state(key: &KeyMetadata) -> Option<String> {
    match key.key_state.as_ref() {
        Some(KeyState::Enabled) => None,
        Some(KeyState::PendingDeletion) => {
            Some("cancel the scheduled deletion and enable the key".to_owned())
        }
        Some(state) => Some(format!("key state {} → Enabled", state.as_str())),
        None => Some("enable the key".to_owned()),
    }
}

async fn create(ctx: &Ctx<'_>, alias: &str) -> Result<String> {
    let kms = &ctx.aws.kms;
    let resource = Resource::new(Kind::Key, alias);
    let key = kms
        .create_key()
        .description(format!("sitewarden: content of site {}", ctx.names.site))
        .key_usage(KeyUsageType::EncryptDecrypt)
        .key_spec(KeySpec::SymmetricDefault)
        .multi_region(false)
        .policy(key_policy(ctx, None).to_string())
        .tags(
            Tag::builder()
                .tag_key(SITE_TAG)
                .tag_value(&ctx.names.site)
                .build()?,
        )
        // CreateKey has no idempotency token: a retry after a lost answer would make a second
        // key. So it is sent once; a failed run leaves at most one tagged key, which the next
        // run finds (`unaliased_site_keys`) and names.
        .customize()
        .config_override(
            aws_sdk_kms::config::Builder::default()
                .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
        .op("CreateKey", &resource)?
        .key_metadata
        .ok_or_else(|| anyhow::anyhow!("CreateKey answered without key metadata"))?;
    name_key(ctx, alias, &key.key_id).await?;
    Ok(key.arn.unwrap_or(key.key_id))
}

/// Gives a new key the site's alias and turns its rotation on.
async fn name_key(ctx: &Ctx<'_>, alias: &str, key_id: &str) -> Result<()> {
    let kms = &ctx.aws.kms;
    let resource = Resource::new(Kind::Key, alias);
    kms.create_alias()
        .alias_name(alias)
        .target_key_id(key_id)
        .send()
        .await
        .op("CreateAlias", &resource)?;
    kms.enable_key_rotation()
        .key_id(key_id)
        .send()
        .await
        .op("EnableKeyRotation", &resource)?;
    Ok(())
}

/// Schedules the key for deletion (30-day window: recoverable with `CancelKeyDeletion`).
/// `content_kept`: the content bucket stays, encrypted with this key, so the plan says what that
/// means for it.
pub async fn schedule_deletion(ctx: &Ctx<'_>, plan: &mut Plan, content_kept: bool) -> Result<()> {
    if ctx.config.kms.key_arn.is_some() {
        return Ok(()); // never delete what sitewarden did not create
    }
    let alias = &ctx.names.kms_alias;
    let resource = Resource::new(Kind::Key, alias);
    let Some(key) = observe(&ctx.aws.kms, alias).await? else {
        return Ok(());
    };
    if key.key_state == Some(KeyState::PendingDeletion) {
        return Ok(());
    }
    let detail = if content_kept {
        "schedule deletion in 30 days (cancel with `aws kms cancel-key-deletion`); the kept \
         content bucket is encrypted with this key: its objects cannot be read while the \
         deletion is pending and are lost when it completes (`destroy --keep-key` keeps the key)"
    } else {
        "schedule deletion in 30 days (cancel with `aws kms cancel-key-deletion`)"
    };
    ctx.change(plan, &resource, Action::Delete, detail);
    if ctx.apply {
        ctx.aws
            .kms
            .schedule_key_deletion()
            .key_id(&key.key_id)
            .pending_window_in_days(30)
            .send()
            .await
            .op("ScheduleKeyDeletion", &resource)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::grants_cloudfront_decrypt;
    use serde_json::json;

    const ARN: &str = "arn:aws:cloudfront::123456789012:distribution/E1ABC";

    fn policy(statement: &serde_json::Value) -> serde_json::Value {
        json!({ "Version": "2012-10-17", "Statement": [statement] })
    }

    #[test]
    fn an_existing_key_must_let_cloudfront_decrypt_for_the_distribution() {
        let scoped = |arn: &str| {
            policy(&json!({
                "Effect": "Allow",
                "Principal": { "Service": "cloudfront.amazonaws.com" },
                "Action": ["kms:Decrypt", "kms:Encrypt"],
                "Resource": "*",
                "Condition": { "StringEquals": { "AWS:SourceArn": arn } }
            }))
        };
        assert!(grants_cloudfront_decrypt(&scoped(ARN), ARN));
        assert!(grants_cloudfront_decrypt(
            &scoped("arn:aws:cloudfront::123456789012:distribution/*"),
            ARN
        ));
        assert!(!grants_cloudfront_decrypt(
            &scoped("arn:aws:cloudfront::123456789012:distribution/E2OTHER"),
            ARN
        ));
        let account_only = policy(&json!({
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::123456789012:root" },
            "Action": "kms:*",
            "Resource": "*"
        }));
        assert!(!grants_cloudfront_decrypt(&account_only, ARN));
        let unscoped = policy(&json!({
            "Effect": "Allow",
            "Principal": { "Service": "cloudfront.amazonaws.com" },
            "Action": "kms:*",
            "Resource": "*"
        }));
        assert!(grants_cloudfront_decrypt(&unscoped, ARN));
    }
}
