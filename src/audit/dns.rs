//! DNS controls for the site's names in Route53: a CAA policy that lets Amazon issue, A/AAAA
//! aliases to this distribution and nothing pointing at an S3 website endpoint (subdomain
//! takeover); per hosted zone, query logging and DNSSEC (optional: `exception` when off).
//!
//! Names whose DNS is not in this account's Route53 (`dns.mode = "external"`, or no hosted zone)
//! cannot be read here: their controls are reported as exceptions saying so.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::controls::{DNS_CAA, DNS_DNSSEC, DNS_NO_DANGLING, DNS_QUERY_LOGGING};
use super::{Audited, Finding, Kind, Outcome, Sink};
use crate::aws::Aws;
use crate::error::Result;
use crate::observe::dns::{Zone, bare, public_zones, records_at, within, zone_of};

/// Issuer domains ACM accepts in a CAA `issue` entry.
const AMAZON_ISSUERS: [&str; 4] = [
    "amazon.com",
    "amazontrust.com",
    "awstrust.com",
    "amazonaws.com",
];

/// The names to check and what they should point at.
pub struct Target<'a> {
    pub names: &'a [String],
    /// The distribution's `*.cloudfront.net` name, when there is one.
    pub distribution_domain: Option<&'a str>,
    /// `dns.mode = "external"`.
    pub external: bool,
    /// Why the distribution could not be listed: what the names should point at is unknown.
    pub distribution_error: Option<&'a crate::error::Error>,
}

pub async fn audit(aws: &Aws, target: &Target<'_>, findings: &mut Vec<Finding>) -> Result<()> {
    if target.names.is_empty() {
        return Ok(());
    }
    let zones = if target.external {
        Vec::new()
    } else {
        match public_zones(aws).await {
            Ok(zones) => zones,
            Err(e) => {
                for name in target.names {
                    Sink::new(findings, name_resource(&bare(name))).unreadable(&e);
                }
                return Ok(());
            }
        }
    };
    let mut audited_zones = Vec::new();
    for name in target.names {
        let name = bare(name);
        let mut sink = Sink::new(findings, name_resource(&name));
        let Some(zone) = zone_of(&zones, &name) else {
            let why = if target.external {
                format!(
                    "`dns.mode = \"external\"`: check the records of `{name}` at the DNS provider"
                )
            } else {
                format!(
                    "no public Route53 hosted zone for `{name}` in this account: DNS is hosted \
                     elsewhere, check its records there"
                )
            };
            sink.every(|_| Outcome::exception(why.as_str()));
            continue;
        };
        let caa = caa_chain(aws, zone, &name).await;
        sink.check(DNS_CAA, caa.as_ref().map(|chain| caa_allows_amazon(chain)));
        let sets = records_at(aws, &zone.id, &name).await;
        match (target.distribution_error, &sets) {
            (Some(e), Ok(_)) => sink.check(DNS_NO_DANGLING, Err(e)),
            _ => sink.check(
                DNS_NO_DANGLING,
                sets.as_ref()
                    .map(|s| not_dangling(s, target.distribution_domain)),
            ),
        }
        if !audited_zones.contains(&zone) {
            audited_zones.push(zone);
        }
    }
    for zone in audited_zones {
        audit_zone(aws, zone, findings).await;
    }
    Ok(())
}

fn name_resource(name: &str) -> Audited {
    Audited::new(Kind::Name, name.to_owned(), None)
}

/// The CAA values at `name` and each parent up to the zone apex, nearest first, stopping at the
/// first name that has a CAA set (the one CAs use).
async fn caa_chain(aws: &Aws, zone: &Zone, name: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut chain = Vec::new();
    let mut current = name.to_owned();
    loop {
        let values: Vec<String> = records_at(aws, &zone.id, &current)
            .await?
            .into_iter()
            .filter(|s| s.r#type == RrType::Caa)
            .flat_map(|s| s.resource_records.unwrap_or_default())
            .map(|r| r.value)
            .collect();
        let found = !values.is_empty();
        chain.push((current.clone(), values));
        if found || current == zone.name {
            return Ok(chain);
        }
        match current.split_once('.') {
            Some((_, parent)) if within(parent, &zone.name) => current = parent.to_owned(),
            _ => return Ok(chain),
        }
    }
}

/// The issuer domain of a CAA `issue` entry (`0 issue "amazon.com; ..."`).
fn issue_domain(value: &str) -> Option<String> {
    let mut parts = value.split_whitespace();
    let (_flags, tag) = (parts.next()?, parts.next()?);
    if !tag.eq_ignore_ascii_case("issue") {
        return None;
    }
    let rest: String = parts.collect::<Vec<_>>().join(" ");
    let domain = rest.trim_matches('"').split(';').next()?.trim();
    Some(domain.to_ascii_lowercase())
}

fn caa_allows_amazon(chain: &[(String, Vec<String>)]) -> Outcome {
    let Some((name, values)) = chain.iter().find(|(_, v)| !v.is_empty()) else {
        let searched: Vec<&str> = chain.iter().map(|(n, _)| n.as_str()).collect();
        return Outcome::fail(format!("no CAA record at {}", searched.join(", ")));
    };
    let amazon = values
        .iter()
        .find(|v| issue_domain(v).is_some_and(|d| AMAZON_ISSUERS.contains(&d.as_str())));
    match amazon {
        Some(value) => Outcome::pass(format!("CAA at `{name}`: {value}")),
        None => Outcome::fail(format!(
            "CAA at `{name}` ({}) does not allow Amazon: ACM cannot issue or renew",
            values.join(", ")
        )),
    }
}

fn not_dangling(sets: &[ResourceRecordSet], distribution: Option<&str>) -> Outcome {
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for set in sets {
        let kind = set.r#type.as_str();
        let targets: Vec<String> = match (&set.alias_target, &set.resource_records) {
            (Some(alias), _) => vec![bare(&alias.dns_name)],
            (None, Some(records)) => records.iter().map(|r| bare(&r.value)).collect(),
            (None, None) => Vec::new(),
        };
        for target in targets {
            let website = crate::names::is_website_host(&target);
            let ours = distribution.is_some_and(|d| bare(d) == target);
            match (&set.r#type, set.alias_target.is_some()) {
                _ if website => problems.push(format!("{kind} → {target} (S3 website endpoint)")),
                (RrType::A | RrType::Aaaa, true) if ours => {
                    ok.push(format!("{kind} alias → {target}"));
                }
                (RrType::A | RrType::Aaaa, true) => problems.push(format!(
                    "{kind} alias → {target}, not this site's distribution"
                )),
                (RrType::A | RrType::Aaaa, false) => problems.push(format!(
                    "{kind} → {target}: a fixed address (dangling if released)"
                )),
                (RrType::Cname, _) => problems.push(format!("CNAME → {target}")),
                _ => {}
            }
        }
    }
    if problems.is_empty() && ok.is_empty() {
        problems.push(
            "no A/AAAA alias to the distribution (the name does not serve the site)".to_owned(),
        );
    }
    Outcome::unless(&problems, ok.join(", "))
}

/// Query logging and DNSSEC of one zone (optional: exceptions when off).
async fn audit_zone(aws: &Aws, zone: &Zone, findings: &mut Vec<Finding>) {
    let resource = format!("hosted zone `{}`", zone.name);
    let mut sink = Sink::new(
        findings,
        Audited::new(
            Kind::Zone,
            zone.name.clone(),
            Some(format!("arn:aws:route53:::hostedzone/{}", zone.id)),
        ),
    );
    let logging = crate::observe::dns::query_logging(aws, &zone.id, &resource).await;
    sink.check(
        DNS_QUERY_LOGGING,
        logging.as_ref().map(|configs| {
            configs.first().map_or_else(
                || Outcome::exception("query logging is optional and off"),
                |c| Outcome::pass(format!("logs to {}", c.cloud_watch_logs_log_group_arn)),
            )
        }),
    );
    let dnssec = crate::observe::dns::dnssec_signature(aws, &zone.id, &resource).await;
    sink.check(
        DNS_DNSSEC,
        dnssec.as_ref().map(|signature| match signature.as_deref() {
            Some("SIGNING") => Outcome::pass("SIGNING"),
            other => Outcome::exception(format!(
                "DNSSEC is optional and not signing ({})",
                other.unwrap_or("no status")
            )),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use aws_sdk_route53::types::{AliasTarget, ResourceRecord};

    fn alias(kind: RrType, target: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name("docs.example.com.")
            .r#type(kind)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id("Z2FDTNDATAQYW2")
                    .dns_name(target)
                    .evaluate_target_health(false)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn plain(kind: RrType, value: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name("docs.example.com.")
            .r#type(kind)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(value).build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn aliases_to_this_distribution_pass_website_and_others_fail() {
        let ours = "d111.cloudfront.net";
        let good = [
            alias(RrType::A, "d111.cloudfront.net."),
            alias(RrType::Aaaa, "d111.cloudfront.net."),
        ];
        assert_eq!(not_dangling(&good, Some(ours)).status, Status::Pass);
        assert_eq!(
            not_dangling(
                &[plain(RrType::Cname, "b.s3-website-eu-west-1.amazonaws.com")],
                Some(ours)
            )
            .evidence,
            "CNAME → b.s3-website-eu-west-1.amazonaws.com (S3 website endpoint)"
        );
        assert_eq!(
            not_dangling(&[alias(RrType::A, "d999.cloudfront.net.")], Some(ours)).status,
            Status::Fail
        );
        assert_eq!(
            not_dangling(&[plain(RrType::A, "192.0.2.1")], Some(ours)).status,
            Status::Fail
        );
        assert_eq!(not_dangling(&[], Some(ours)).status, Status::Fail);
        // The PoC's alias names the regional website endpoint itself.
        assert_eq!(
            not_dangling(
                &[alias(RrType::A, "s3-website-eu-west-1.amazonaws.com.")],
                Some(ours)
            )
            .evidence,
            "A → s3-website-eu-west-1.amazonaws.com (S3 website endpoint)"
        );
    }

    #[test]
    fn the_nearest_caa_set_must_allow_amazon() {
        let chain = |values: &[&str]| {
            vec![
                ("docs.example.com".to_owned(), Vec::new()),
                (
                    "example.com".to_owned(),
                    values.iter().map(ToString::to_string).collect(),
                ),
            ]
        };
        assert_eq!(
            caa_allows_amazon(&chain(&[
                "0 issue \"letsencrypt.org\"",
                "0 issue \"amazon.com\""
            ])),
            Outcome::pass("CAA at `example.com`: 0 issue \"amazon.com\"")
        );
        assert_eq!(
            caa_allows_amazon(&chain(&["0 issue \"letsencrypt.org\""])).status,
            Status::Fail
        );
        assert_eq!(
            caa_allows_amazon(&chain(&[])),
            Outcome::fail("no CAA record at docs.example.com, example.com")
        );
        assert_eq!(
            issue_domain("0 issue \"amazontrust.com; cansignhttpexchanges=yes\"").as_deref(),
            Some("amazontrust.com")
        );
    }

    #[test]
    fn the_longest_zone_holds_the_name() {
        let zones = [
            Zone {
                id: "A".into(),
                name: "example.com".into(),
            },
            Zone {
                id: "B".into(),
                name: "docs.example.com".into(),
            },
            Zone {
                id: "C".into(),
                name: "ample.com".into(),
            },
        ];
        assert_eq!(zone_of(&zones, "www.docs.example.com").unwrap().id, "B");
        assert_eq!(zone_of(&zones, "example.com").unwrap().id, "A");
        assert_eq!(zone_of(&zones, "other.org"), None);
    }
}
