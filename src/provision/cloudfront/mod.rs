//! CloudFront in front of the content bucket: the Origin Access Control, the security response
//! headers policy, the viewer-request CloudFront Function (and the viewer-response one of CSP
//! `"auto"`), the distribution itself and its standard
//! logging (v2, CloudWatch Logs vended logs into the log bucket).
//!
//! Every part is found again by its deterministic name `sitewarden-<site>` (the distribution by its
//! comment `sitewarden:<site>` and tag), and each follows the same steps as the other resources:
//! observe, desired, diff, apply. The distribution needs the ids of the other three, so they are
//! reconciled first; logging needs the distribution's ARN, so it comes last.

mod distribution;
pub mod function;
pub mod headers;
mod logging;
mod oac;

pub use distribution::ensure_deployed;

/// Checks, before anything is written, what the CloudFront step would otherwise refuse halfway:
/// the function code must fit CloudFront's size limit.
pub fn check(config: &crate::config::Config) -> Result<()> {
    function::render(config).map(|_| ())
}

use aws_sdk_cloudfront::types::{DistributionConfig, ResponseHeadersPolicyConfig};

use super::{Ctx, DistributionRef, Known, Plan};
use crate::config::Config;
use crate::error::Result;
use crate::names::SiteNames;

/// Name of the OAC, the response headers policy and the function of a site.
fn resource_name(ctx: &Ctx<'_>) -> String {
    format!("sitewarden-{}", ctx.names.site)
}

/// What `up` would configure in CloudFront for a site, built without AWS: where a live id is not
/// known, the same placeholders as `plan` shows (`(new function)`, ...).
#[derive(Debug, Clone)]
pub struct Desired {
    pub distribution: DistributionConfig,
    pub headers_policy: ResponseHeadersPolicyConfig,
    /// The ARN the distribution's viewer-request association names (a placeholder).
    pub function_arn: String,
    pub function_code: String,
    /// CSP `"auto"`: the viewer-response function's ARN (a placeholder) and code.
    pub csp_function: Option<(String, String)>,
}

/// The desired distribution config, headers policy and function code of the site. A domain site
/// gets a placeholder certificate ARN (its aliases and TLS settings follow from it).
/// `source` is the source folder, where CSP `"auto"` reads the error page.
pub fn desired(
    config: &Config,
    names: &SiteNames,
    region: &str,
    source: Option<&std::path::Path>,
) -> Result<Desired> {
    let csp = config.headers.csp() == crate::config::Csp::Auto;
    let parts = Parts {
        oac_id: None,
        headers_policy_id: None,
        function_arn: None,
        csp_function_arn: None,
        csp,
    };
    let certificate = config.site.domain.as_ref().map(|_| "(certificate)");
    let distribution =
        distribution::desired(config, names, region, certificate, &parts, "preview")?;
    let function_arn = distribution
        .default_cache_behavior
        .as_ref()
        .and_then(|b| b.function_associations.as_ref())
        .and_then(|f| f.items().first())
        .map(|a| a.function_arn.clone())
        .unwrap_or_default();
    let csp_function = distribution
        .default_cache_behavior
        .as_ref()
        .and_then(|b| b.function_associations.as_ref())
        .and_then(|f| f.items().get(1))
        .map(|a| (a.function_arn.clone(), function::render_csp()));
    let (site_csp, _) = headers::site_csp(config, source);
    Ok(Desired {
        distribution,
        headers_policy: headers::desired(
            &format!("sitewarden-{}", names.site),
            &config.headers,
            &site_csp,
        )?,
        function_arn,
        function_code: function::render(config)?,
        csp_function,
    })
}

/// Ids the distribution refers to. `None` only in `plan`, for a part this run would create.
struct Parts {
    oac_id: Option<String>,
    headers_policy_id: Option<String>,
    function_arn: Option<String>,
    /// The viewer-response function of CSP `"auto"` (`None` with a fixed policy, or in `plan`
    /// when it would be created: [`Parts::csp`] tells which).
    csp_function_arn: Option<String>,
    /// Whether the distribution associates the viewer-response function (CSP `"auto"`).
    csp: bool,
}

/// What became of the distribution in this run.
enum Distribution {
    Exists(DistributionRef),
    /// `plan` for a site without one: it would be created.
    Planned,
    /// A domain site whose certificate is not issued yet.
    Waiting,
}

pub async fn reconcile(ctx: &Ctx<'_>, known: &mut Known, plan: &mut Plan) -> Result<()> {
    let parts = Parts {
        oac_id: oac::reconcile(ctx, plan).await?,
        headers_policy_id: headers::reconcile(ctx, plan).await?,
        function_arn: function::reconcile(ctx, plan).await?,
        csp_function_arn: function::reconcile_csp(ctx, plan).await?,
        csp: ctx.config.headers.csp() == crate::config::Csp::Auto,
    };
    known.headers_policy_id.clone_from(&parts.headers_policy_id);
    // Boxed: the distribution's SDK futures would make every caller's future large.
    let distribution = Box::pin(distribution::reconcile(ctx, known, &parts, plan)).await?;
    logging::reconcile(ctx, &distribution, plan).await?;
    // Only once the distribution no longer runs it (a switch from "auto" to a fixed policy).
    if matches!(distribution, Distribution::Exists(_)) {
        function::remove_unused_csp(ctx, plan).await?;
    }
    if let Distribution::Exists(reference) = distribution {
        known.distribution = Some(reference);
    }
    Ok(())
}

/// Deletes what `reconcile` creates, distribution first (the other parts cannot be deleted while it
/// uses them). Only parts carrying this site's name or tag are touched.
pub async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    Box::pin(distribution::destroy(ctx, plan)).await?;
    logging::destroy(ctx, plan).await?;
    function::destroy(ctx, plan).await?;
    headers::destroy(ctx, plan).await?;
    oac::destroy(ctx, plan).await
}

/// A resource reduced to the properties sitewarden sets, each rendered for a person: the same
/// projection of the live and the desired state makes the diff name exactly what drifted.
type Properties = Vec<(String, String)>;

/// `"<property> <live> → <desired>"` for each property that differs; `none` stands for absent.
fn diff_properties(live: &Properties, desired: &Properties) -> Vec<String> {
    let value = |props: &Properties, name: &str| {
        props
            .iter()
            .find(|(n, _)| n == name)
            .map_or("none", |(_, v)| v.as_str())
            .to_owned()
    };
    let mut changes = Vec::new();
    for (name, want) in desired {
        let have = value(live, name);
        if &have != want {
            changes.push(format!("{name} {have} → {want}"));
        }
    }
    for (name, have) in live {
        if !desired.iter().any(|(n, _)| n == name) {
            changes.push(format!("{name} {have} → none"));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(items: &[(&str, &str)]) -> Properties {
        items
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn property_diff_names_changed_missing_and_extra_properties() {
        let live = props(&[
            ("minimum TLS", "TLSv1.2_2021"),
            ("IPv6", "on"),
            ("header X-Old", "1"),
        ]);
        let desired = props(&[
            ("minimum TLS", "TLSv1.2_2025"),
            ("IPv6", "on"),
            ("compress", "on"),
        ]);
        assert_eq!(
            diff_properties(&live, &desired),
            [
                "minimum TLS TLSv1.2_2021 → TLSv1.2_2025",
                "compress none → on",
                "header X-Old 1 → none"
            ]
        );
        assert!(diff_properties(&desired, &desired).is_empty());
    }
}
