//! Standard logging (v2) of the distribution: CloudWatch Logs vended logs in us-east-1, a delivery
//! source `sitewarden-<site>-cf` (the distribution's `ACCESS_LOGS`), a delivery destination
//! `sitewarden-<site>-cf-s3` (the log bucket under the CloudFront prefix) and the delivery linking
//! them. Legacy logging is not used: it needs an ACL-enabled bucket.

use aws_sdk_cloudwatchlogs::types::DeliveryDestinationConfiguration;

use super::Distribution;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;

use crate::error::{AwsResultExt as _, Error, Result, code};
use crate::names::SITE_TAG;
use crate::names::{Kind, Resource};
use crate::observe::cloudfront::{
    ACCESS_LOGS, deliveries_of, delivery_destination, delivery_source_arns,
};
use crate::provision::buckets::CLOUDFRONT_LOG_PREFIX;
use crate::provision::{Action, Ctx, Plan};

struct Names {
    source: String,
    destination: String,
}

fn names(ctx: &Ctx<'_>) -> Names {
    let source = format!("sitewarden-{}-cf", ctx.names.site);
    Names {
        destination: format!("{source}-s3"),
        source,
    }
}

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    distribution: &Distribution,
    plan: &mut Plan,
) -> Result<()> {
    let distribution_arn = match distribution {
        Distribution::Exists(d) => Some(d.arn.as_str()),
        Distribution::Planned => None,
        Distribution::Waiting => return Ok(()),
    };
    let names = names(ctx);
    let destination_arn = reconcile_destination(ctx, &names.destination, plan).await?;
    let source_replaced = reconcile_source(ctx, &names.source, distribution_arn, plan).await?;
    let logs = &ctx.aws.logs;
    let resource = Resource::delivery(&names.source, &names.destination);
    let existing = match (&destination_arn, source_replaced) {
        (Some(arn), false) => deliveries_of(ctx.aws, &names.source)
            .await?
            .into_iter()
            .any(|d| d.delivery_destination_arn.as_deref() == Some(arn.as_str())),
        // A new destination or a new source has no delivery yet.
        _ => false,
    };
    if !existing {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!("deliver access logs to the log bucket under `{CLOUDFRONT_LOG_PREFIX}`"),
        );
        if ctx.apply
            && let Some(arn) = destination_arn
        {
            let created = logs
                .create_delivery()
                .delivery_source_name(&names.source)
                .delivery_destination_arn(&arn)
                .tags(SITE_TAG, &ctx.names.site)
                .send()
                .await
                .or_missing(&[code::CONFLICT_EXCEPTION], "CreateDelivery", &resource)?;
            // A retried create whose first attempt took effect conflicts with the delivery it
            // made; any other conflict is an error.
            if created.is_none()
                && !deliveries_of(ctx.aws, &names.source)
                    .await?
                    .iter()
                    .any(|d| d.delivery_destination_arn.as_deref() == Some(arn.as_str()))
            {
                return Err(Error::failure_with_hint(
                    format!(
                        "CreateDelivery failed for {resource}: it conflicts with a delivery of another destination"
                    ),
                    "run `sitewarden up` again",
                ));
            }
        }
    }
    ctx.settled(plan, &resource);
    Ok(())
}

pub(super) async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    let logs = &ctx.aws.logs;
    let names = names(ctx);
    // Deliveries first: a source or destination in use cannot be deleted.
    delete_deliveries(ctx, &names.source, plan).await?;
    let source = Resource::new(Kind::DeliverySource, &names.source);
    if delivery_source_arns(ctx.aws, &names.source)
        .await?
        .is_some()
    {
        ctx.change(plan, &source, Action::Delete, "delete delivery source");
        if ctx.apply {
            logs.delete_delivery_source()
                .name(&names.source)
                .send()
                .await
                .op("DeleteDeliverySource", &source)?;
        }
    }
    let destination = Resource::new(Kind::DeliveryDestination, &names.destination);
    if delivery_destination(ctx.aws, &names.destination)
        .await?
        .is_some()
    {
        ctx.change(
            plan,
            &destination,
            Action::Delete,
            "delete delivery destination (the logs stay in the log bucket)",
        );
        if ctx.apply {
            logs.delete_delivery_destination()
                .name(&names.destination)
                .send()
                .await
                .op("DeleteDeliveryDestination", &destination)?;
        }
    }
    Ok(())
}

/// The destination's ARN; `None` in `plan` when it would be created.
async fn reconcile_destination(
    ctx: &Ctx<'_>,
    name: &str,
    plan: &mut Plan,
) -> Result<Option<String>> {
    let logs = &ctx.aws.logs;
    let resource = Resource::new(Kind::DeliveryDestination, name);
    let desired = format!(
        "arn:aws:s3:::{}/{CLOUDFRONT_LOG_PREFIX}",
        ctx.names.log_bucket
    );
    let live = delivery_destination(ctx.aws, name).await?;
    let (action, detail) = match &live {
        Some(live) if live.target == desired => {
            ctx.settled(plan, &resource);
            return Ok(Some(live.arn.clone()));
        }
        Some(live) => (
            Action::Update,
            format!("destination {} → {desired}", live.target),
        ),
        None => (Action::Create, format!("S3 destination {desired}")),
    };
    ctx.change(plan, &resource, action, detail);
    if !ctx.apply {
        return Ok(live.map(|l| l.arn));
    }
    let mut put = logs
        .put_delivery_destination()
        .name(name)
        .delivery_destination_configuration(
            DeliveryDestinationConfiguration::builder()
                .destination_resource_arn(&desired)
                .build()?,
        );
    // Tags may be given only when the destination is created.
    if live.is_none() {
        put = put.tags(SITE_TAG, &ctx.names.site);
    }
    let put = put.send().await.or_missing(
        &[code::CONFLICT_EXCEPTION],
        "PutDeliveryDestination",
        &resource,
    )?;
    let arn = match put {
        Some(put) => put.delivery_destination.and_then(|d| d.arn),
        // A retried create whose first attempt took effect conflicts with itself (its tags):
        // the destination is then there, pointing where it should.
        None => delivery_destination(ctx.aws, name)
            .await?
            .filter(|live| live.target == desired)
            .map(|live| live.arn),
    };
    Ok(Some(arn.ok_or_else(|| {
        anyhow::anyhow!("PutDeliveryDestination did not leave {name} pointing at {desired}")
    })?))
}

/// Makes the source log this distribution. Returns whether it was (or would be) created anew.
async fn reconcile_source(
    ctx: &Ctx<'_>,
    name: &str,
    distribution_arn: Option<&str>,
    plan: &mut Plan,
) -> Result<bool> {
    let logs = &ctx.aws.logs;
    let resource = Resource::new(Kind::DeliverySource, name);
    let live = delivery_source_arns(ctx.aws, name).await?;
    let current = live
        .as_ref()
        .is_some_and(|arns| distribution_arn.is_some_and(|d| arns.iter().any(|a| a == d)));
    if current {
        ctx.settled(plan, &resource);
        return Ok(false);
    }
    let target = distribution_arn.unwrap_or("the new distribution");
    if live.is_some() {
        // A source cannot be pointed at another resource (the distribution was replaced): recreate it.
        ctx.change(
            plan,
            &resource,
            Action::Update,
            format!("recreate for {target}"),
        );
        if ctx.apply {
            delete_deliveries(ctx, name, plan).await?;
            logs.delete_delivery_source()
                .name(name)
                .send()
                .await
                .op("DeleteDeliverySource", &resource)?;
        }
    } else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!("{ACCESS_LOGS} of {target}"),
        );
    }
    if ctx.apply
        && let Some(arn) = distribution_arn
    {
        let put = logs
            .put_delivery_source()
            .name(name)
            .resource_arn(arn)
            .log_type(ACCESS_LOGS)
            .tags(SITE_TAG, &ctx.names.site)
            .send()
            .await;
        // Tags may be given only when the source is created, so a retried put whose first
        // attempt took effect conflicts with itself: the source then logs this distribution.
        if let Err(e) = put {
            let ours = e.code() == Some(code::CONFLICT_EXCEPTION)
                && delivery_source_arns(ctx.aws, name)
                    .await?
                    .is_some_and(|arns| arns.iter().any(|a| a == arn));
            if !ours {
                return Err(Error::aws("PutDeliverySource", &resource, e));
            }
        }
    }
    Ok(true)
}

async fn delete_deliveries(ctx: &Ctx<'_>, source: &str, plan: &mut Plan) -> Result<()> {
    for delivery in deliveries_of(ctx.aws, source).await? {
        let Some(id) = delivery.id else { continue };
        let resource = Resource::new(Kind::Delivery, format!("{id} of {source}"));
        ctx.change(plan, &resource, Action::Delete, "delete delivery");
        if ctx.apply {
            ctx.aws
                .logs
                .delete_delivery()
                .id(&id)
                .send()
                .await
                .op("DeleteDelivery", &resource)?;
        }
    }
    Ok(())
}
