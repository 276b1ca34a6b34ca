//! The live distribution as the edge model: its config as CloudFront holds it, the headers policy
//! its default behavior attaches, the LIVE code of its functions, and the bucket behind its default
//! origin. `preview --remote` serves it; `audit` sends each page through it to read the
//! Content-Security-Policy a visitor gets.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{DistributionConfig, FunctionStage};

use super::model::{Distribution, function_associations};
use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::observe;

/// The model of the distribution whose config is `config` (`resource` names it in errors).
pub async fn model(aws: &Aws, config: &DistributionConfig, resource: &str) -> Result<Distribution> {
    let policy = match config
        .default_cache_behavior
        .as_ref()
        .and_then(|b| b.response_headers_policy_id.as_deref())
        .filter(|id| !id.is_empty())
    {
        Some(id) => observe::cloudfront::headers_policy(aws, id, resource).await?,
        None => None,
    };
    let mut code = BTreeMap::new();
    for (_, arn) in function_associations(config) {
        let name = arn.rsplit('/').next().unwrap_or(&arn);
        let live = observe::cloudfront::function_code(aws, name, FunctionStage::Live)
            .await?
            .ok_or_else(|| {
                Error::Other(anyhow::anyhow!(
                    "the CloudFront Function `{name}` of {resource} has no LIVE code"
                ))
            })?;
        code.insert(arn, live);
    }
    Distribution::new(config, policy.as_ref(), &code)
}

/// The S3 bucket behind the default cache behavior's origin, when that origin is a bucket's REST
/// endpoint (the only origin the model serves).
pub fn origin_bucket(config: &DistributionConfig) -> Option<String> {
    let target = config
        .default_cache_behavior
        .as_ref()
        .map(|b| b.target_origin_id.as_str())
        .unwrap_or_default();
    let origin = config
        .origins
        .as_ref()
        .map(aws_sdk_cloudfront::types::Origins::items)
        .unwrap_or_default()
        .iter()
        .find(|o| o.id == target)?;
    match observe::distribution::origin_bucket(&origin.domain_name) {
        Some((bucket, observe::distribution::S3Endpoint::Rest)) => Some(bucket.to_owned()),
        _ => None,
    }
}
