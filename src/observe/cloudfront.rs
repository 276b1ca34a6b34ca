//! The parts around a CloudFront distribution as they are: the Origin Access Control, response
//! headers and cache policies, the CloudFront Function (per stage) and the standard logging v2
//! deliveries (CloudWatch Logs, us-east-1). Provision diffs them against what it wants; the audit
//! grades what a distribution refers to.

use std::collections::BTreeSet;

use aws_sdk_cloudfront::primitives::Blob;
use aws_sdk_cloudfront::types::{
    CachePolicyConfig, FunctionRuntime, FunctionStage, FunctionSummary, OriginAccessControlSummary,
    ResponseHeadersPolicy, ResponseHeadersPolicyConfig, ResponseHeadersPolicyType,
};
use aws_sdk_cloudwatchlogs::types::Delivery;

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Error, Result, code};

const NO_FUNCTION: &[&str] = &[code::NO_SUCH_FUNCTION_EXISTS];
const NO_LOG_RESOURCE: &[&str] = &[code::RESOURCE_NOT_FOUND_EXCEPTION];
/// The log type of a distribution's access logs.
pub const ACCESS_LOGS: &str = "ACCESS_LOGS";

// ---- origin access control ---------------------------------------------------------------------

/// The account's OAC with this name (OAC names are unique per account).
pub async fn origin_access_control(
    aws: &Aws,
    name: &str,
) -> Result<Option<OriginAccessControlSummary>> {
    let mut pages = aws
        .cloudfront
        .list_origin_access_controls()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.op(
            "ListOriginAccessControls",
            &format!("cloudfront origin access control {name}"),
        )?;
        let items = page
            .origin_access_control_list
            .and_then(|l| l.items)
            .unwrap_or_default();
        if let Some(found) = items.into_iter().find(|o| o.name == name) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

// ---- policies ----------------------------------------------------------------------------------

/// The account's custom response headers policy with this name (names are unique per account).
pub async fn headers_policy_named(aws: &Aws, name: &str) -> Result<Option<ResponseHeadersPolicy>> {
    // ListResponseHeadersPolicies has no SDK paginator: follow the markers.
    let mut marker = None;
    loop {
        let list = aws
            .cloudfront
            .list_response_headers_policies()
            .r#type(ResponseHeadersPolicyType::Custom)
            .set_marker(marker)
            .send()
            .await
            .op(
                "ListResponseHeadersPolicies",
                &format!("cloudfront response headers policy {name}"),
            )?
            .response_headers_policy_list;
        let Some(list) = list else { return Ok(None) };
        let found = list
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.response_headers_policy)
            .find(|p| {
                p.response_headers_policy_config
                    .as_ref()
                    .is_some_and(|c| c.name == name)
            });
        if found.is_some() {
            return Ok(found);
        }
        marker = list.next_marker.filter(|m| !m.is_empty());
        if marker.is_none() {
            return Ok(None);
        }
    }
}

/// The config of the response headers policy `id` (custom or managed).
pub async fn headers_policy(
    aws: &Aws,
    id: &str,
    resource: &str,
) -> Result<Option<ResponseHeadersPolicyConfig>> {
    Ok(aws
        .cloudfront
        .get_response_headers_policy()
        .id(id)
        .send()
        .await
        .op("GetResponseHeadersPolicy", resource)?
        .response_headers_policy
        .and_then(|p| p.response_headers_policy_config))
}

/// The config of the cache policy `id` (custom or managed).
pub async fn cache_policy(
    aws: &Aws,
    id: &str,
    resource: &str,
) -> Result<Option<CachePolicyConfig>> {
    Ok(aws
        .cloudfront
        .get_cache_policy()
        .id(id)
        .send()
        .await
        .op("GetCachePolicy", resource)?
        .cache_policy
        .and_then(|p| p.cache_policy_config))
}

// ---- function ----------------------------------------------------------------------------------

/// A function's DEVELOPMENT stage.
pub struct Function {
    pub arn: String,
    pub etag: Option<String>,
    pub runtime: FunctionRuntime,
}

/// The DEVELOPMENT stage of the function `name`, if the function exists.
pub async fn function(aws: &Aws, name: &str) -> Result<Option<Function>> {
    let resource = format!("cloudfront function {name}");
    let Some(out) = aws
        .cloudfront
        .describe_function()
        .name(name)
        .stage(FunctionStage::Development)
        .send()
        .await
        .or_missing(NO_FUNCTION, "DescribeFunction", &resource)?
    else {
        return Ok(None);
    };
    let runtime = out
        .function_summary
        .as_ref()
        .and_then(|s| s.function_config.as_ref())
        .map_or_else(|| FunctionRuntime::from("unknown"), |c| c.runtime.clone());
    Ok(Some(Function {
        arn: function_arn(out.function_summary, &resource)?,
        etag: out.e_tag,
        runtime,
    }))
}

/// The ARN in a function summary CloudFront answered with.
pub fn function_arn(summary: Option<FunctionSummary>, resource: &str) -> Result<String> {
    summary
        .and_then(|s| s.function_metadata)
        .map(|m| m.function_arn)
        .ok_or_else(|| {
            Error::Other(anyhow::anyhow!(
                "CloudFront answered without the ARN of {resource}"
            ))
        })
}

/// The code of one stage; `None` when the stage has none (LIVE before the first publish).
pub async fn function_code(aws: &Aws, name: &str, stage: FunctionStage) -> Result<Option<Vec<u8>>> {
    Ok(aws
        .cloudfront
        .get_function()
        .name(name)
        .stage(stage)
        .send()
        .await
        .or_missing(
            NO_FUNCTION,
            "GetFunction",
            &format!("cloudfront function {name}"),
        )?
        .and_then(|o| o.function_code)
        .map(Blob::into_inner))
}

// ---- logging -----------------------------------------------------------------------------------

/// The resource ARNs the delivery source `name` logs, if it exists.
pub async fn delivery_source_arns(aws: &Aws, name: &str) -> Result<Option<Vec<String>>> {
    Ok(aws
        .logs
        .get_delivery_source()
        .name(name)
        .send()
        .await
        .or_missing(
            NO_LOG_RESOURCE,
            "GetDeliverySource",
            &format!("cloudwatch logs delivery source {name}"),
        )?
        .and_then(|o| o.delivery_source)
        .map(|s| s.resource_arns.unwrap_or_default()))
}

/// A delivery destination: its ARN and the resource it writes to.
pub struct Destination {
    pub arn: String,
    pub target: String,
}

/// The delivery destination `name`, if it exists.
pub async fn delivery_destination(aws: &Aws, name: &str) -> Result<Option<Destination>> {
    Ok(aws
        .logs
        .get_delivery_destination()
        .name(name)
        .send()
        .await
        .or_missing(
            NO_LOG_RESOURCE,
            "GetDeliveryDestination",
            &format!("cloudwatch logs delivery destination {name}"),
        )?
        .and_then(|o| o.delivery_destination)
        .map(|d| Destination {
            target: d
                .delivery_destination_configuration
                .map(|c| c.destination_resource_arn)
                .unwrap_or_default(),
            arn: d.arn.unwrap_or_default(),
        }))
}

/// The deliveries whose source is `source`.
pub async fn deliveries_of(aws: &Aws, source: &str) -> Result<Vec<Delivery>> {
    let mut found = Vec::new();
    let mut pages = aws.logs.describe_deliveries().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op(
            "DescribeDeliveries",
            &format!("cloudwatch logs deliveries of {source}"),
        )?;
        found.extend(
            page.deliveries
                .unwrap_or_default()
                .into_iter()
                .filter(|d| d.delivery_source_name.as_deref() == Some(source)),
        );
    }
    Ok(found)
}

/// The standard logging v2 deliveries of a distribution's access logs, whatever their names:
/// every delivery source of its `ACCESS_LOGS`, then the deliveries from those sources (none read
/// when there is no source).
pub async fn access_log_deliveries(aws: &Aws, distribution_arn: &str) -> Result<Vec<Delivery>> {
    let resource = "CloudWatch Logs delivery sources (us-east-1)";
    let mut sources = BTreeSet::new();
    let mut pages = aws.logs.describe_delivery_sources().into_paginator().send();
    while let Some(page) = pages.next().await {
        for source in page
            .op("DescribeDeliverySources", resource)?
            .delivery_sources
            .unwrap_or_default()
        {
            let ours = source.resource_arns().iter().any(|a| a == distribution_arn);
            if ours && source.log_type.as_deref() == Some(ACCESS_LOGS) {
                sources.extend(source.name);
            }
        }
    }
    let mut deliveries = Vec::new();
    if sources.is_empty() {
        return Ok(deliveries);
    }
    let mut pages = aws.logs.describe_deliveries().into_paginator().send();
    while let Some(page) = pages.next().await {
        deliveries.extend(
            page.op("DescribeDeliveries", resource)?
                .deliveries
                .unwrap_or_default()
                .into_iter()
                .filter(|d| {
                    d.delivery_source_name
                        .as_ref()
                        .is_some_and(|s| sources.contains(s))
                }),
        );
    }
    Ok(deliveries)
}

// ---- versions for writes -----------------------------------------------------------------------

/// The ETags an update (of the config) or a delete (of the whole resource) must send as
/// `IfMatch`; CloudFront hands them out per operation.
type Resource = dyn std::fmt::Display;

pub async fn oac_config_etag(aws: &Aws, id: &str, resource: &Resource) -> Result<Option<String>> {
    Ok(aws
        .cloudfront
        .get_origin_access_control_config()
        .id(id)
        .send()
        .await
        .op("GetOriginAccessControlConfig", resource)?
        .e_tag)
}

pub async fn oac_etag(aws: &Aws, id: &str, resource: &Resource) -> Result<Option<String>> {
    Ok(aws
        .cloudfront
        .get_origin_access_control()
        .id(id)
        .send()
        .await
        .op("GetOriginAccessControl", resource)?
        .e_tag)
}

pub async fn headers_policy_config_etag(
    aws: &Aws,
    id: &str,
    resource: &Resource,
) -> Result<Option<String>> {
    Ok(aws
        .cloudfront
        .get_response_headers_policy_config()
        .id(id)
        .send()
        .await
        .op("GetResponseHeadersPolicyConfig", resource)?
        .e_tag)
}

pub async fn headers_policy_etag(
    aws: &Aws,
    id: &str,
    resource: &Resource,
) -> Result<Option<String>> {
    Ok(aws
        .cloudfront
        .get_response_headers_policy()
        .id(id)
        .send()
        .await
        .op("GetResponseHeadersPolicy", resource)?
        .e_tag)
}
