//! The distribution as the edge serves it, built from the same SDK types whether they come from
//! what `up` would configure or from what CloudFront holds: the `DistributionConfig` (default root
//! object, custom error responses, the default cache behavior's allowed methods and function
//! associations), the attached `ResponseHeadersPolicyConfig`, and the code of each associated
//! function.
//!
//! Only the default cache behavior is modelled (sitewarden's distributions have no other), and
//! CloudFront Functions only (a Lambda@Edge association is refused, not ignored).

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{DistributionConfig, EventType, ResponseHeadersPolicyConfig};

use super::function::Function;
use super::headers::HeadersPolicy;
use crate::error::{Error, Result};

/// One custom error response: what CloudFront answers instead of an origin error `error_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    pub error_code: u16,
    /// `ResponsePagePath`, fetched from the origin.
    pub page: Option<String>,
    /// `ResponseCode`; `None` keeps the origin's status.
    pub response_code: Option<u16>,
}

/// How the distribution serves a request.
#[derive(Debug)]
pub struct Distribution {
    /// `DefaultRootObject`; `None` when empty.
    pub default_root_object: Option<String>,
    /// Upper case (`GET`, `HEAD`, ...).
    pub allowed_methods: Vec<String>,
    pub error_responses: Vec<ErrorResponse>,
    pub headers_policy: Option<HeadersPolicy>,
    pub viewer_request: Option<Function>,
    pub viewer_response: Option<Function>,
}

/// The functions associated with the default cache behavior: `(event type, function ARN)`.
pub fn function_associations(config: &DistributionConfig) -> Vec<(EventType, String)> {
    config
        .default_cache_behavior
        .as_ref()
        .and_then(|b| b.function_associations.as_ref())
        .map(|f| {
            f.items()
                .iter()
                .map(|a| (a.event_type.clone(), a.function_arn.clone()))
                .collect()
        })
        .unwrap_or_default()
}

impl Distribution {
    /// The model of `config` with its headers `policy` and the code of each associated function,
    /// by ARN (see [`function_associations`]).
    pub fn new(
        config: &DistributionConfig,
        policy: Option<&ResponseHeadersPolicyConfig>,
        code: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Distribution> {
        let behavior = config.default_cache_behavior.as_ref();
        if behavior
            .and_then(|b| b.lambda_function_associations.as_ref())
            .is_some_and(|l| l.quantity > 0)
        {
            return Err(unsupported("Lambda@Edge function associations"));
        }
        let allowed_methods = behavior
            .and_then(|b| b.allowed_methods.as_ref())
            .map_or_else(
                || vec!["GET".to_owned(), "HEAD".to_owned()],
                |m| m.items().iter().map(|m| m.as_str().to_owned()).collect(),
            );
        let mut viewer_request = None;
        let mut viewer_response = None;
        for (event, arn) in function_associations(config) {
            let slot = match event {
                EventType::ViewerRequest => &mut viewer_request,
                EventType::ViewerResponse => &mut viewer_response,
                other => return Err(unsupported(&format!("{other} functions"))),
            };
            let text = code.get(&arn).ok_or_else(|| {
                Error::Other(anyhow::anyhow!("no code for the CloudFront Function {arn}"))
            })?;
            let text = std::str::from_utf8(text).map_err(|e| {
                Error::Other(anyhow::anyhow!("the code of {arn} is not UTF-8: {e}"))
            })?;
            *slot = Some(Function::load(text)?);
        }
        Ok(Distribution {
            default_root_object: config.default_root_object.clone().filter(|o| !o.is_empty()),
            allowed_methods,
            error_responses: error_responses(config),
            headers_policy: policy.map(HeadersPolicy::from_config),
            viewer_request,
            viewer_response,
        })
    }

    /// The custom error response configured for an origin status.
    pub fn error_response(&self, status: u16) -> Option<&ErrorResponse> {
        self.error_responses.iter().find(|e| e.error_code == status)
    }
}

fn error_responses(config: &DistributionConfig) -> Vec<ErrorResponse> {
    config
        .custom_error_responses
        .as_ref()
        .map(aws_sdk_cloudfront::types::CustomErrorResponses::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            Some(ErrorResponse {
                error_code: u16::try_from(e.error_code).ok()?,
                page: e.response_page_path.clone().filter(|p| !p.is_empty()),
                response_code: e.response_code.as_deref().and_then(|c| c.parse().ok()),
            })
        })
        .collect()
}

fn unsupported(what: &str) -> Error {
    Error::Other(anyhow::anyhow!(
        "the preview does not model {what} of the distribution"
    ))
}
