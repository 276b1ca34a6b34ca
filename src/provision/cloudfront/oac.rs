//! The Origin Access Control `sitewarden-<site>`: CloudFront signs every request to the S3 origin
//! (`SigV4`, always), so the bucket can stay private and trust only this distribution.

use aws_sdk_cloudfront::types::{
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, OriginAccessControlSummary,
};

use super::{Properties, diff_properties, resource_name};
use crate::error::{AwsResultExt as _, Result, code};
use crate::names::{Kind, Resource};
use crate::provision::{Action, Ctx, Plan};

/// Returns the OAC id; `None` in `plan` when it would be created.
pub(super) async fn reconcile(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<Option<String>> {
    let cloudfront = &ctx.aws.cloudfront;
    let name = resource_name(ctx);
    let resource = Resource::new(Kind::OriginAccessControl, &name);
    let desired = desired(&name)?;
    let Some(live) = crate::observe::cloudfront::origin_access_control(ctx.aws, &name).await?
    else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            "create origin access control (S3, SigV4, sign always)",
        );
        if !ctx.apply {
            return Ok(None);
        }
        let created = cloudfront
            .create_origin_access_control()
            .origin_access_control_config(desired)
            .send()
            .await
            .or_missing(
                &[code::ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS],
                "CreateOriginAccessControl",
                &resource,
            )?;
        let Some(created) = created else {
            // A retried create whose first attempt took effect (its answer lost) meets the OAC it
            // made: the name is this site's, so it is that one.
            let live = crate::observe::cloudfront::origin_access_control(ctx.aws, &name).await?;
            return Ok(live.map(|o| o.id));
        };
        let id = created.origin_access_control.map(|o| o.id).ok_or_else(|| {
            anyhow::anyhow!("CreateOriginAccessControl answered without the origin access control")
        })?;
        return Ok(Some(id));
    };
    let changes = diff_properties(&summary_properties(&live), &properties(&desired));
    if !changes.is_empty() {
        ctx.change(plan, &resource, Action::Update, changes.join(", "));
        if ctx.apply {
            let etag =
                crate::observe::cloudfront::oac_config_etag(ctx.aws, &live.id, &resource).await?;
            cloudfront
                .update_origin_access_control()
                .id(&live.id)
                .set_if_match(etag)
                .origin_access_control_config(desired)
                .send()
                .await
                .op("UpdateOriginAccessControl", &resource)?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(Some(live.id))
}

pub(super) async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    let cloudfront = &ctx.aws.cloudfront;
    let name = resource_name(ctx);
    let resource = Resource::new(Kind::OriginAccessControl, &name);
    let Some(live) = crate::observe::cloudfront::origin_access_control(ctx.aws, &name).await?
    else {
        return Ok(());
    };
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        "delete origin access control",
    );
    if ctx.apply {
        let etag = crate::observe::cloudfront::oac_etag(ctx.aws, &live.id, &resource).await?;
        cloudfront
            .delete_origin_access_control()
            .id(&live.id)
            .set_if_match(etag)
            .send()
            .await
            .op("DeleteOriginAccessControl", &resource)?;
    }
    Ok(())
}

fn desired(name: &str) -> Result<OriginAccessControlConfig> {
    Ok(OriginAccessControlConfig::builder()
        .name(name)
        .description("sitewarden: CloudFront signs every request to the private S3 origin")
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .build()?)
}

fn project(
    origin_type: &OriginAccessControlOriginTypes,
    protocol: &OriginAccessControlSigningProtocols,
    behavior: &OriginAccessControlSigningBehaviors,
) -> Properties {
    vec![
        ("origin type".to_owned(), origin_type.as_str().to_owned()),
        ("signing protocol".to_owned(), protocol.as_str().to_owned()),
        ("signing behavior".to_owned(), behavior.as_str().to_owned()),
    ]
}

fn properties(config: &OriginAccessControlConfig) -> Properties {
    project(
        &config.origin_access_control_origin_type,
        &config.signing_protocol,
        &config.signing_behavior,
    )
}

fn summary_properties(summary: &OriginAccessControlSummary) -> Properties {
    project(
        &summary.origin_access_control_origin_type,
        &summary.signing_protocol,
        &summary.signing_behavior,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_behavior_drift_is_named() {
        let desired = desired("sitewarden-docs").unwrap();
        let live = OriginAccessControlSummary::builder()
            .id("E1")
            .description("")
            .name("sitewarden-docs")
            .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
            .signing_behavior(OriginAccessControlSigningBehaviors::NoOverride)
            .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
            .build()
            .unwrap();
        assert_eq!(
            diff_properties(&summary_properties(&live), &properties(&desired)),
            ["signing behavior no-override → always"]
        );
    }
}
