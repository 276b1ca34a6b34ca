//! The key of a region's alert topic: customer managed (the AWS managed `alias/aws/sns` key
//! cannot be used by CloudWatch or EventBridge), rotation on, alias
//! `alias/sitewarden-alerts/<site>`, and a policy that lets this account's alarms and rules use it.

use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};

use super::super::{Action, Ctx, Plan, policy};
use super::regional_name;
use crate::aws::Regional;
use crate::error::{AwsResultExt as _, Result};
use crate::names::{Kind, Resource, SITE_TAG};
use crate::observe::key as observe;

const KEY_POLICY: &str = include_str!("../../../templates/alerts-key-policy.json");

fn resource(ctx: &Ctx<'_>, regional: &Regional) -> Resource {
    Resource::new(
        Kind::Key,
        regional_name(&ctx.names.alerts_key_alias(), regional),
    )
}

fn key_policy(ctx: &Ctx<'_>) -> serde_json::Value {
    policy::render(
        KEY_POLICY,
        &[
            ("site", Some(&ctx.names.site)),
            ("account", Some(ctx.account)),
        ],
    )
}

/// The key's ARN once it exists (`None` in `plan` when it would be created).
pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    regional: &Regional,
    plan: &mut Plan,
) -> Result<Option<String>> {
    let kms = &regional.kms;
    let alias = ctx.names.alerts_key_alias();
    let resource = resource(ctx, regional);
    let Some(key) = observe::key(kms, &alias, &resource.to_string()).await? else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            "create the alert topic's key (rotation on; this account's alarms and rules may use it)",
        );
        return if ctx.apply {
            create(ctx, regional, &alias, &resource).await.map(Some)
        } else {
            Ok(None)
        };
    };
    super::super::kms::keep_usable(ctx, kms, &key, &resource, plan).await?;
    reconcile_policy(ctx, kms, &key.key_id, &resource, plan).await?;
    ctx.settled(plan, &resource);
    Ok(key.arn)
}

async fn reconcile_policy(
    ctx: &Ctx<'_>,
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    resource: &Resource,
    plan: &mut Plan,
) -> Result<()> {
    let desired = key_policy(ctx);
    let observed = observe::policy(kms, key_id, &resource.to_string()).await?;
    if !observed.is_some_and(|o| policy::same(&o, &desired)) {
        ctx.change(
            plan,
            resource,
            Action::Update,
            "key policy: account administration; this account's alarms and rules encrypt alerts",
        );
        if ctx.apply {
            kms.put_key_policy()
                .key_id(key_id)
                .policy_name("default")
                .policy(desired.to_string())
                .send()
                .await
                .op("PutKeyPolicy", resource)?;
        }
    }
    Ok(())
}

async fn create(
    ctx: &Ctx<'_>,
    regional: &Regional,
    alias: &str,
    resource: &Resource,
) -> Result<String> {
    let kms = &regional.kms;
    let key = kms
        .create_key()
        .description(format!("sitewarden: alerts of site {}", ctx.names.site))
        .key_usage(KeyUsageType::EncryptDecrypt)
        .key_spec(KeySpec::SymmetricDefault)
        .multi_region(false)
        .policy(key_policy(ctx).to_string())
        .tags(
            Tag::builder()
                .tag_key(SITE_TAG)
                .tag_value(&ctx.names.site)
                .build()?,
        )
        .send()
        .await
        .op("CreateKey", resource)?
        .key_metadata
        .ok_or_else(|| anyhow::anyhow!("CreateKey answered without key metadata"))?;
    kms.create_alias()
        .alias_name(alias)
        .target_key_id(&key.key_id)
        .send()
        .await
        .op("CreateAlias", resource)?;
    kms.enable_key_rotation()
        .key_id(&key.key_id)
        .send()
        .await
        .op("EnableKeyRotation", resource)?;
    Ok(key.arn.unwrap_or(key.key_id))
}

/// Schedules the key for deletion (7 days, the shortest window: it protects alerts in transit
/// only, and `CancelKeyDeletion` brings it back meanwhile).
pub(super) async fn remove(ctx: &Ctx<'_>, regional: &Regional, plan: &mut Plan) -> Result<()> {
    let resource = resource(ctx, regional);
    let alias = ctx.names.alerts_key_alias();
    let Some(key) = observe::key(&regional.kms, &alias, &resource.to_string()).await? else {
        return Ok(());
    };
    if key.key_state == Some(KeyState::PendingDeletion) {
        return Ok(());
    }
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        "schedule deletion in 7 days (cancel with `aws kms cancel-key-deletion`)",
    );
    if ctx.apply {
        regional
            .kms
            .schedule_key_deletion()
            .key_id(&key.key_id)
            .pending_window_in_days(7)
            .send()
            .await
            .op("ScheduleKeyDeletion", &resource)?;
    }
    Ok(())
}
