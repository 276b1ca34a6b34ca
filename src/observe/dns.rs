//! Route53 as it is: the account's public hosted zones and the record sets at a name, read the
//! same way by provision (the site's zone, its aliases, CAA and validation records), the audit
//! (CAA, dangling records) and adopt (what serves the website today).

use aws_sdk_route53::types::ResourceRecordSet;

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Result};

/// Record sets one name can hold (one per type and routing identifier): far below this.
const SETS_PER_NAME: i32 = 100;

/// A public hosted zone: id (without `/hostedzone/`) and name (without the trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// Lowercase, without the trailing dot.
pub fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A name as Route53 spells it: lowercase with the trailing dot.
pub fn fqdn(name: &str) -> String {
    format!("{}.", bare(name))
}

pub async fn public_zones(aws: &Aws) -> Result<Vec<Zone>> {
    public_zones_for(aws, "Route53 hosted zones").await
}

/// Every public hosted zone of the account (one `ListHostedZones` pass); `resource` names what
/// they are listed for in errors.
pub async fn public_zones_for(aws: &Aws, resource: &str) -> Result<Vec<Zone>> {
    let mut zones = Vec::new();
    let mut pages = aws
        .route53
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send();
    while let Some(zone) = pages.next().await {
        let zone = zone.op("ListHostedZones", resource)?;
        if zone.config.as_ref().is_some_and(|c| c.private_zone) {
            continue; // a private zone does not answer the internet (nor ACM's validation)
        }
        zones.push(Zone {
            id: zone.id.trim_start_matches("/hostedzone/").to_owned(),
            name: bare(&zone.name),
        });
    }
    Ok(zones)
}

pub fn within(name: &str, zone: &str) -> bool {
    name == zone || name.ends_with(&format!(".{zone}"))
}

/// The longest zone containing `name`.
pub fn zone_of<'a>(zones: &'a [Zone], name: &str) -> Option<&'a Zone> {
    zones
        .iter()
        .filter(|z| within(name, &z.name))
        .max_by_key(|z| z.name.len())
}

/// Every record set at `name` in the longest public zone of this account that holds it; `None`
/// when no such zone exists (the name's DNS is hosted elsewhere).
pub async fn records_of(aws: &Aws, name: &str) -> Result<Option<Vec<ResourceRecordSet>>> {
    let name = bare(name);
    let zones = public_zones(aws).await?;
    match zone_of(&zones, &name) {
        Some(zone) => records_at(aws, &zone.id, &name).await.map(Some),
        None => Ok(None),
    }
}

/// Every record set at exactly `name` (any case, with or without the trailing dot).
pub async fn records_at(aws: &Aws, zone_id: &str, name: &str) -> Result<Vec<ResourceRecordSet>> {
    let name = fqdn(name);
    // Sets are listed in name order, so the ones at `name` come first from `StartRecordName`.
    let page = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(&name)
        .max_items(SETS_PER_NAME)
        .send()
        .await
        .op("ListResourceRecordSets", &format!("records of `{name}`"))?;
    Ok(page
        .resource_record_sets
        .into_iter()
        .filter(|set| fqdn(&set.name) == name)
        .collect())
}

/// The zone's query logging configurations (empty: query logging is off).
pub async fn query_logging(
    aws: &Aws,
    zone_id: &str,
    resource: &str,
) -> Result<Vec<aws_sdk_route53::types::QueryLoggingConfig>> {
    aws.route53
        .list_query_logging_configs()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .op("ListQueryLoggingConfigs", resource)
        .map(|o| o.query_logging_configs)
}

/// The zone's DNSSEC `ServeSignature` status (`SIGNING` when signing), if Route53 reports one.
pub async fn dnssec_signature(aws: &Aws, zone_id: &str, resource: &str) -> Result<Option<String>> {
    aws.route53
        .get_dnssec()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .op("GetDNSSEC", resource)
        .map(|o| o.status.and_then(|s| s.serve_signature))
}
