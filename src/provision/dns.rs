//! Route53 for a domain site: the hosted zone, the A and AAAA alias records that point the domain
//! and every alias at the distribution, and the CAA policy that lets Amazon issue the certificate.
//! Also the record helpers the certificate step uses for its validation CNAMEs.
//!
//! Records sitewarden did not create are never overwritten: a plain A/AAAA record, an alias to
//! anything but CloudFront, or a CNAME pointing elsewhere stops the run with a hint. An existing
//! CAA set is merged into, never replaced. With `dns.mode = "external"` nothing is written to
//! Route53: the records to create are printed instead.

use std::time::Duration;

use aws_sdk_route53::client::Waiters as _;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord,
    ResourceRecordSet, RrType,
};

use super::{Action, Ctx, Known, Plan};
use crate::config::{DnsMode, DomainName};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::observe::dns as observe;

/// The hosted zone of every CloudFront distribution, the target zone of alias records.
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";
/// The CAA entry that lets ACM issue.
pub const AMAZON_CAA: &str = "0 issue \"amazon.com\"";
/// Issuer domains ACM accepts in a CAA `issue` entry.
const AMAZON_ISSUERS: [&str; 4] = [
    "amazon.com",
    "amazontrust.com",
    "awstrust.com",
    "amazonaws.com",
];
const CAA_TTL: i64 = 3600;
/// Route53 usually propagates a change to all its name servers within a minute.
const INSYNC_TIMEOUT: Duration = Duration::from_mins(10);

pub use crate::names::{is_website_host, site_names};

// ---- hosted zone -------------------------------------------------------------------------------

/// A public hosted zone as `ListHostedZones` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Zone {
    /// Without the `/hostedzone/` prefix.
    id: String,
    name: DomainName,
}

/// The public hosted zone of the site: `dns.zone` if set, otherwise the longest public zone that
/// contains `site.domain`. `None` when there is none (or the site has no domain).
pub async fn find_zone(ctx: &Ctx<'_>) -> Result<Option<String>> {
    let Some(domain) = &ctx.config.site.domain else {
        return Ok(None);
    };
    let resource = format!("the hosted zone of `{domain}`");
    let zones: Vec<Zone> = observe::public_zones_for(ctx.aws, &resource)
        .await?
        .into_iter()
        // Zones whose names are not plain host names (escaped characters) cannot hold the site.
        .filter_map(|z| {
            let name = DomainName::try_from(z.name).ok()?;
            Some(Zone { id: z.id, name })
        })
        .collect();
    let zone = pick_zone(
        &zones,
        domain,
        ctx.config.dns.zone.as_ref(),
        &ctx.config.site.aliases,
    )?;
    Ok(zone.map(|z| z.id.clone()))
}

/// [`find_zone`], where no zone is a usage error (`dns.mode = "route53"` needs one).
pub async fn require_zone(ctx: &Ctx<'_>) -> Result<String> {
    if let Some(zone) = find_zone(ctx).await? {
        return Ok(zone);
    }
    let domain = ctx.config.site.domain.as_ref().map(DomainName::as_str);
    let domain = domain.unwrap_or_default();
    let message = match &ctx.config.dns.zone {
        Some(zone) => format!(
            "no public Route53 hosted zone named `{zone}` (`dns.zone`) for `{domain}` in this account"
        ),
        None => format!("no public Route53 hosted zone contains `{domain}` in this account"),
    };
    Err(Error::usage_with_hint(
        message,
        "create the hosted zone (and delegate the domain to its name servers), or set \
         `dns.mode = \"external\"` in sitewarden.toml to create the DNS records yourself",
    ))
}

fn pick_zone<'a>(
    zones: &'a [Zone],
    domain: &DomainName,
    configured: Option<&DomainName>,
    aliases: &[DomainName],
) -> Result<Option<&'a Zone>> {
    let wanted = match configured {
        Some(name) => Some(name),
        None => zones
            .iter()
            .map(|z| &z.name)
            .filter(|name| domain.is_within(name))
            .max_by_key(|name| name.as_str().len()),
    };
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    let matching: Vec<&Zone> = zones.iter().filter(|z| &z.name == wanted).collect();
    let [zone] = matching[..] else {
        if matching.is_empty() {
            return Ok(None);
        }
        let ids: Vec<&str> = matching.iter().map(|z| z.id.as_str()).collect();
        return Err(Error::usage_with_hint(
            format!(
                "{} public hosted zones are named `{wanted}` ({}): sitewarden cannot tell which \
                 one the domain is delegated to",
                ids.len(),
                ids.join(", ")
            ),
            "delete the zone whose name servers the registrar does not list, then run again",
        ));
    };
    if let Some(alias) = aliases.iter().find(|a| !a.is_within(&zone.name)) {
        return Err(Error::usage_with_hint(
            format!(
                "`{alias}` (`site.aliases`) is not inside the hosted zone `{}` of `{domain}`",
                zone.name
            ),
            "sitewarden manages one hosted zone per site: use aliases inside it, or set \
             `dns.mode = \"external\"` and create the records yourself",
        ));
    }
    Ok(Some(zone))
}

// ---- records: observe and write ----------------------------------------------------------------

use crate::names::Resource;
pub use crate::observe::dns::fqdn;

/// Every record set at exactly `name`.
pub async fn records_at(
    ctx: &Ctx<'_>,
    zone_id: &str,
    name: &str,
) -> Result<Vec<ResourceRecordSet>> {
    observe::records_at(ctx.aws, zone_id, name).await
}

/// One record change as the plan shows it, with the call that makes it (`None` while the record's
/// target does not exist: `plan` of a new distribution).
#[derive(Debug)]
pub struct RecordChange {
    pub action: Action,
    pub resource: Resource,
    pub detail: String,
    pub change: Option<Change>,
}

impl RecordChange {
    /// `action` of the record set `set` as written, e.g. an `UPSERT` shown as create or update.
    pub fn new(
        action: Action,
        set: ResourceRecordSet,
        detail: impl Into<String>,
    ) -> Result<RecordChange> {
        let call = match action {
            Action::Create | Action::Update | Action::NoOp => ChangeAction::Upsert,
            Action::Delete => ChangeAction::Delete,
        };
        Ok(RecordChange {
            action,
            resource: record_resource(&set.name, &set.r#type),
            detail: detail.into(),
            change: Some(
                Change::builder()
                    .action(call)
                    .resource_record_set(set)
                    .build()?,
            ),
        })
    }
}

pub fn record_resource(name: &str, rr_type: &RrType) -> Resource {
    Resource::record(name, rr_type.as_str())
}

/// Records the changes in the plan and, when applying, writes them in one atomic batch; with
/// `ctx.wait`, returns once every Route53 name server answers with them.
pub async fn apply(
    ctx: &Ctx<'_>,
    plan: &mut Plan,
    zone_id: &str,
    changes: Vec<RecordChange>,
) -> Result<()> {
    for c in &changes {
        ctx.change(plan, &c.resource, c.action, &c.detail);
    }
    let batch: Vec<Change> = changes.into_iter().filter_map(|c| c.change).collect();
    if !ctx.apply || batch.is_empty() {
        return Ok(());
    }
    let route53 = &ctx.aws.route53;
    let resource = format!("hosted zone {zone_id}");
    let info = route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .comment(format!("sitewarden: site {}", ctx.names.site))
                .set_changes(Some(batch))
                .build()?,
        )
        .send()
        .await
        .op("ChangeResourceRecordSets", &resource)?
        .change_info;
    if ctx.wait
        && let Some(info) = info
        && info.status != ChangeStatus::Insync
    {
        route53
            .wait_until_resource_record_sets_changed()
            .id(info.id)
            .wait(INSYNC_TIMEOUT)
            .await
            .op("GetChange", &resource)?;
    }
    Ok(())
}

// ---- CAA ---------------------------------------------------------------------------------------

/// Makes sure Amazon may issue the certificate: each name that has its own CAA set gets
/// [`AMAZON_CAA`] merged into it, and a name that has none and is not below another site name
/// (whose set it inherits) gets a set of its own. Runs before the certificate is requested: ACM
/// refuses to issue where CAA does not permit it.
pub async fn reconcile_caa(ctx: &Ctx<'_>, zone_id: &str, plan: &mut Plan) -> Result<()> {
    let names = site_names(ctx.config);
    let mut changes = Vec::new();
    let mut settle = Vec::new();
    for name in &names {
        let inherits = names.iter().any(|n| n != name && name.is_within(n));
        let observed = records_at(ctx, zone_id, name.as_str()).await?;
        let caa = observed
            .into_iter()
            .find(|s| s.r#type == RrType::Caa && s.set_identifier.is_none());
        if caa.is_none() && inherits {
            continue;
        }
        changes.extend(diff_caa(name, caa)?);
        settle.push(record_resource(name.as_str(), &RrType::Caa));
    }
    apply(ctx, plan, zone_id, changes).await?;
    for resource in &settle {
        ctx.settled(plan, resource);
    }
    Ok(())
}

fn diff_caa(
    name: &DomainName,
    observed: Option<ResourceRecordSet>,
) -> Result<Option<RecordChange>> {
    let Some(mut set) = observed else {
        let set = ResourceRecordSet::builder()
            .name(fqdn(name.as_str()))
            .r#type(RrType::Caa)
            .ttl(CAA_TTL)
            .resource_records(ResourceRecord::builder().value(AMAZON_CAA).build()?)
            .build()?;
        return RecordChange::new(Action::Create, set, format!("create with {AMAZON_CAA}"))
            .map(Some);
    };
    let values: Vec<&str> = caa_values(&set).collect();
    if values.iter().any(|v| permits_amazon(v)) {
        return Ok(None);
    }
    let detail = format!("add {AMAZON_CAA} (keeps {})", values.join(", "));
    set.resource_records
        .get_or_insert_default()
        .push(ResourceRecord::builder().value(AMAZON_CAA).build()?);
    RecordChange::new(Action::Update, set, detail).map(Some)
}

fn caa_values(set: &ResourceRecordSet) -> impl Iterator<Item = &str> {
    set.resource_records().iter().map(|r| r.value.as_str())
}

/// Whether a CAA value (`flags tag "value"`) is an `issue` entry naming an Amazon CA.
fn permits_amazon(value: &str) -> bool {
    let mut parts = value.splitn(3, char::is_whitespace);
    let (Some(_flags), Some(tag), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    // The issuer is the part before any `;` parameters, e.g. `"amazon.com; account=..."`.
    let issuer = rest
        .trim()
        .trim_matches('"')
        .split(';')
        .next()
        .unwrap_or("");
    tag.eq_ignore_ascii_case("issue") && AMAZON_ISSUERS.contains(&issuer.trim())
}

// ---- A and AAAA aliases ------------------------------------------------------------------------

/// Points the domain and every alias at the distribution (after CloudFront, so its domain name is
/// known). In `plan` for a new distribution the records are listed with it as their target.
pub async fn reconcile(ctx: &Ctx<'_>, known: &Known, plan: &mut Plan) -> Result<()> {
    let Some(domain) = &ctx.config.site.domain else {
        return Ok(());
    };
    let target = known.distribution.as_ref().map(|d| d.domain_name.as_str());
    if ctx.config.dns.mode == DnsMode::External {
        print_external(ctx, target, plan);
        return Ok(());
    }
    if target.is_none() && ctx.apply {
        ctx.printer.info(format_args!(
            "DNS records for `{domain}` follow once the distribution exists: run `sitewarden up` \
             again after the certificate is issued"
        ));
        return Ok(());
    }
    let zone_id = match &known.zone_id {
        Some(zone) => zone.clone(),
        None => require_zone(ctx).await?,
    };
    let mut changes = Vec::new();
    for name in site_names(ctx.config) {
        let observed = records_at(ctx, &zone_id, name.as_str()).await?;
        changes.extend(diff_aliases(name, &observed, target, ctx.adopt.is_some())?);
    }
    apply(ctx, plan, &zone_id, changes).await?;
    for name in site_names(ctx.config) {
        for rr_type in [RrType::A, RrType::Aaaa] {
            ctx.settled(plan, &record_resource(name.as_str(), &rr_type));
        }
    }
    Ok(())
}

/// The record set of `rr_type` at a name with simple routing (the only kind sitewarden writes).
pub fn simple<'a>(
    observed: &'a [ResourceRecordSet],
    rr_type: &RrType,
) -> Option<&'a ResourceRecordSet> {
    observed
        .iter()
        .find(|s| s.r#type == *rr_type && s.set_identifier.is_none())
}

fn same_host(a: &str, b: &str) -> bool {
    fqdn(a) == fqdn(b)
}

/// The CloudFront domain name an alias record points at, if it points at CloudFront.
fn cloudfront_target(set: &ResourceRecordSet) -> Option<&str> {
    set.alias_target
        .as_ref()
        .filter(|a| a.hosted_zone_id == CLOUDFRONT_ZONE_ID)
        .map(|a| a.dns_name.trim_end_matches('.'))
}

/// The S3 website endpoint an alias record points at, if it does.
pub fn website_target(set: &ResourceRecordSet) -> Option<&str> {
    set.alias_target
        .as_ref()
        .map(|a| a.dns_name.trim_end_matches('.'))
        .filter(|host| is_website_host(host))
}

/// The S3 website endpoint a record at the site's name serves from: an alias to it, or a CNAME
/// to `<bucket>.s3-website…`.
pub fn serves_website(set: &ResourceRecordSet) -> Option<&str> {
    if set.r#type == RrType::Cname {
        return set
            .resource_records()
            .first()
            .map(|r| r.value.trim_end_matches('.'))
            .filter(|value| is_website_host(value));
    }
    website_target(set)
}

/// What a record set holds, for a person: its alias target or its values.
fn describe(set: &ResourceRecordSet) -> String {
    if let Some(alias) = &set.alias_target {
        format!("alias to `{}`", alias.dns_name.trim_end_matches('.'))
    } else {
        let values: Vec<&str> = set
            .resource_records()
            .iter()
            .map(|r| r.value.as_str())
            .collect();
        format!("`{}`", values.join(" "))
    }
}

fn alias_set(name: &DomainName, rr_type: RrType, target: &str) -> Result<ResourceRecordSet> {
    Ok(ResourceRecordSet::builder()
        .name(fqdn(name.as_str()))
        .r#type(rr_type)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(CLOUDFRONT_ZONE_ID)
                .dns_name(target)
                .evaluate_target_health(false)
                .build()?,
        )
        .build()?)
}

/// The A and AAAA changes at one name. `target` is `None` for a distribution still to be created.
///
/// With `adopting`, an alias to an S3 website endpoint (the site `adopt` moves) is replaced too.
fn diff_aliases(
    name: &DomainName,
    observed: &[ResourceRecordSet],
    target: Option<&str>,
    adopting: bool,
) -> Result<Vec<RecordChange>> {
    let shown_target = target.unwrap_or("the new distribution");
    let mut changes = Vec::new();
    // A CNAME excludes every other record at its name; one to this distribution is replaced, and
    // so is one to the S3 website endpoint `adopt` moves (in the same atomic batch as the aliases).
    if let Some(cname) = simple(observed, &RrType::Cname) {
        let value = cname
            .resource_records()
            .first()
            .map_or("", |r| r.value.as_str());
        if adopting && let Some(website) = serves_website(cname) {
            changes.push(RecordChange::new(
                Action::Delete,
                cname.clone(),
                format!(
                    "replaced by A and AAAA alias records to {shown_target} (was a CNAME to the \
                     S3 website endpoint {website})"
                ),
            )?);
        } else if !target.is_some_and(|t| same_host(value, t)) {
            return Err(Error::failure_with_hint(
                format!(
                    "`{name}` has a CNAME record to `{}`: A and AAAA records cannot exist next to it",
                    value.trim_end_matches('.')
                ),
                format!(
                    "sitewarden does not overwrite records it did not create: delete the CNAME \
                     if `{name}` should serve this site, or set `dns.mode = \"external\"`"
                ),
            ));
        } else {
            changes.push(RecordChange::new(
                Action::Delete,
                cname.clone(),
                "replaced by A and AAAA alias records to the same distribution",
            )?);
        }
    }
    for rr_type in [RrType::A, RrType::Aaaa] {
        let existing = simple(observed, &rr_type);
        let (action, detail) = match existing.map(|e| (e, cloudfront_target(e))) {
            None => (Action::Create, format!("alias to {shown_target}")),
            Some((_, Some(current))) if target.is_some_and(|t| same_host(current, t)) => continue,
            // Another CloudFront distribution: CloudFront gave this site's distribution the name,
            // so it can be no one else's live site any more.
            Some((_, Some(current))) => (
                Action::Update,
                format!("alias to {shown_target} (was {current})"),
            ),
            Some((e, None)) if adopting && website_target(e).is_some() => (
                Action::Update,
                format!(
                    "alias to {shown_target} (was the S3 website endpoint {})",
                    website_target(e).unwrap_or_default()
                ),
            ),
            Some((e, None)) => {
                return Err(Error::failure_with_hint(
                    format!(
                        "`{name}` has an {} record ({}) that sitewarden did not create",
                        rr_type.as_str(),
                        describe(e)
                    ),
                    "sitewarden does not overwrite records it did not create: delete the record, \
                     move an S3 website with `sitewarden adopt`, or set `dns.mode = \"external\"` \
                     and switch the DNS yourself",
                ));
            }
        };
        changes.push(match target {
            Some(t) => RecordChange::new(action, alias_set(name, rr_type, t)?, detail)?,
            None => RecordChange {
                action,
                resource: record_resource(name.as_str(), &rr_type),
                detail,
                change: None,
            },
        });
    }
    Ok(changes)
}

/// `dns.mode = "external"`: the records the user keeps at their DNS provider.
fn print_external(ctx: &Ctx<'_>, target: Option<&str>, plan: &mut Plan) {
    let Some(target) = target else {
        return; // the certificate step has printed what is needed first
    };
    ctx.printer.info(format_args!(
        "dns.mode = \"external\": point these names at the distribution at your DNS provider \
         (at a zone apex use its ALIAS/ANAME record type instead of CNAME):"
    ));
    for name in site_names(ctx.config) {
        ctx.printer
            .info(format_args!("  {} CNAME {target}.", fqdn(name.as_str())));
        plan.dns_records.push(crate::provision::ExternalRecord {
            name: fqdn(name.as_str()),
            rr_type: "CNAME".to_owned(),
            value: format!("{target}."),
            purpose: "site",
        });
    }
}

// ---- destroy -----------------------------------------------------------------------------------

/// Deletes the A and AAAA aliases at the site's names that point at this site's distribution,
/// exactly as observed. CAA sets stay: other certificates of the names may rely on them.
pub async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    if ctx.config.dns.mode == DnsMode::External || ctx.config.site.domain.is_none() {
        return Ok(());
    }
    let Some(zone_id) = find_zone(ctx).await? else {
        return Ok(());
    };
    let Some(distribution) = distribution_domain(ctx).await? else {
        return Ok(());
    };
    let mut changes = Vec::new();
    for name in site_names(ctx.config) {
        let observed = records_at(ctx, &zone_id, name.as_str()).await?;
        for rr_type in [RrType::A, RrType::Aaaa] {
            if let Some(set) = simple(&observed, &rr_type)
                && cloudfront_target(set).is_some_and(|t| same_host(t, &distribution))
            {
                changes.push(RecordChange::new(
                    Action::Delete,
                    set.clone(),
                    format!("alias to {distribution} (CAA records are kept)"),
                )?);
            }
        }
    }
    apply(ctx, plan, &zone_id, changes).await
}

/// The domain name of the site's distribution, found by its comment `sitewarden:<site>`.
async fn distribution_domain(ctx: &Ctx<'_>) -> Result<Option<String>> {
    let found = crate::observe::distribution::find_site(ctx.aws, ctx.names).await?;
    Ok(found.map(|d| d.domain_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str) -> DomainName {
        DomainName::try_from(name.to_owned()).unwrap()
    }

    fn zone(id: &str, name: &str) -> Zone {
        Zone {
            id: id.to_owned(),
            name: domain(name),
        }
    }

    fn set(name: &str, rr_type: RrType, values: &[&str]) -> ResourceRecordSet {
        let mut b = ResourceRecordSet::builder()
            .name(fqdn(name))
            .r#type(rr_type)
            .ttl(300);
        for v in values {
            b = b.resource_records(ResourceRecord::builder().value(*v).build().unwrap());
        }
        b.build().unwrap()
    }

    fn alias(name: &str, rr_type: RrType, zone: &str, target: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(fqdn(name))
            .r#type(rr_type)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id(zone)
                    .dns_name(format!("{target}."))
                    .evaluate_target_health(false)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn shown(changes: &[RecordChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{:?} {}: {}", c.action, c.resource, c.detail))
            .collect()
    }

    fn message(err: &Error) -> String {
        err.render()
    }

    #[test]
    fn the_longest_public_zone_containing_the_domain_wins() {
        let zones = [
            zone("Z1", "example.com"),
            zone("Z2", "docs.example.com"),
            zone("Z3", "ample.com"),
        ];
        let docs = domain("www.docs.example.com");
        assert_eq!(
            pick_zone(&zones, &docs, None, &[]).unwrap().unwrap().id,
            "Z2"
        );
        let other = domain("blog.example.com");
        assert_eq!(
            pick_zone(&zones, &other, None, &[]).unwrap().unwrap().id,
            "Z1"
        );
        let configured = domain("example.com");
        assert_eq!(
            pick_zone(&zones, &docs, Some(&configured), &[])
                .unwrap()
                .unwrap()
                .id,
            "Z1"
        );
        assert!(
            pick_zone(&zones, &domain("example.org"), None, &[])
                .unwrap()
                .is_none()
        );
        let missing = domain("org.example.com");
        assert!(
            pick_zone(&zones, &docs, Some(&missing), &[])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn two_zones_with_the_same_name_or_an_alias_outside_the_zone_are_refused() {
        let zones = [zone("Z1", "example.com"), zone("Z2", "example.com")];
        let err = pick_zone(&zones, &domain("example.com"), None, &[]).unwrap_err();
        assert_eq!(err.exit(), crate::error::Exit::Usage);
        assert!(message(&err).contains("2 public hosted zones are named `example.com` (Z1, Z2)"));

        let zones = [zone("Z1", "docs.example.com")];
        let err = pick_zone(
            &zones,
            &domain("docs.example.com"),
            None,
            &[domain("example.com")],
        )
        .unwrap_err();
        assert!(
            message(&err).contains(
                "`example.com` (`site.aliases`) is not inside the hosted zone `docs.example.com`"
            ),
            "{}",
            message(&err)
        );
    }

    #[test]
    fn names_are_absolute_and_lowercase() {
        assert_eq!(fqdn("Docs.Example.com"), "docs.example.com.");
        assert_eq!(fqdn("docs.example.com."), "docs.example.com.");
    }

    #[test]
    fn any_amazon_issue_entry_permits_acm() {
        assert!(permits_amazon("0 issue \"amazon.com\""));
        assert!(permits_amazon("0 ISSUE \"amazontrust.com; account=1\""));
        assert!(permits_amazon("128 issue \"awstrust.com\""));
        assert!(!permits_amazon("0 issuewild \"amazon.com\""));
        assert!(!permits_amazon("0 issue \"letsencrypt.org\""));
        assert!(!permits_amazon("0 iodef \"mailto:amazon.com\""));
        assert!(!permits_amazon("garbage"));
    }

    #[test]
    fn caa_is_created_or_merged_never_replaced() {
        let name = domain("docs.example.com");
        let created = diff_caa(&name, None).unwrap().unwrap();
        assert_eq!(
            shown(std::slice::from_ref(&created)),
            ["Create route53 record docs.example.com CAA: create with 0 issue \"amazon.com\""]
        );

        let existing = set(
            "docs.example.com",
            RrType::Caa,
            &[
                "0 issue \"letsencrypt.org\"",
                "0 iodef \"mailto:sec@example.com\"",
            ],
        );
        let merged = diff_caa(&name, Some(existing)).unwrap().unwrap();
        assert_eq!(merged.action, Action::Update);
        let change = merged.change.unwrap();
        assert_eq!(change.action, ChangeAction::Upsert);
        let values: Vec<&str> = caa_values(change.resource_record_set.as_ref().unwrap()).collect();
        assert_eq!(
            values,
            [
                "0 issue \"letsencrypt.org\"",
                "0 iodef \"mailto:sec@example.com\"",
                "0 issue \"amazon.com\""
            ]
        );

        let permitted = set(
            "docs.example.com",
            RrType::Caa,
            &["0 issue \"amazontrust.com\""],
        );
        assert!(diff_caa(&name, Some(permitted)).unwrap().is_none());
    }

    #[test]
    fn aliases_are_created_repointed_or_left_alone() {
        let name = domain("docs.example.com");
        let target = "d111.cloudfront.net";
        let created = diff_aliases(&name, &[], Some(target), false).unwrap();
        assert_eq!(
            shown(&created),
            [
                "Create route53 record docs.example.com A: alias to d111.cloudfront.net",
                "Create route53 record docs.example.com AAAA: alias to d111.cloudfront.net",
            ]
        );
        let set = created[0]
            .change
            .as_ref()
            .unwrap()
            .resource_record_set
            .as_ref()
            .unwrap();
        let alias_target = set.alias_target.as_ref().unwrap();
        assert_eq!(alias_target.hosted_zone_id, CLOUDFRONT_ZONE_ID);
        assert_eq!(alias_target.dns_name, target);
        assert!(!alias_target.evaluate_target_health);

        let current = [
            alias("docs.example.com", RrType::A, CLOUDFRONT_ZONE_ID, target),
            alias(
                "docs.example.com",
                RrType::Aaaa,
                CLOUDFRONT_ZONE_ID,
                "d000.cloudfront.net",
            ),
        ];
        assert_eq!(
            shown(&diff_aliases(&name, &current, Some(target), false).unwrap()),
            [
                "Update route53 record docs.example.com AAAA: alias to d111.cloudfront.net (was \
              d000.cloudfront.net)"
            ]
        );

        let planned = diff_aliases(&name, &[], None, false).unwrap();
        assert_eq!(
            shown(&planned)[0],
            "Create route53 record docs.example.com A: alias to the new distribution"
        );
        assert!(planned.iter().all(|c| c.change.is_none()));
    }

    #[test]
    fn records_sitewarden_did_not_create_stop_the_run() {
        let name = domain("docs.example.com");
        let target = Some("d111.cloudfront.net");
        let plain = [set("docs.example.com", RrType::A, &["192.0.2.1"])];
        let err = diff_aliases(&name, &plain, target, false).unwrap_err();
        assert_eq!(err.exit(), crate::error::Exit::Failure);
        assert!(
            message(&err).starts_with(
                "error: `docs.example.com` has an A record (`192.0.2.1`) that sitewarden did not \
                 create\nhint: "
            ),
            "{}",
            message(&err)
        );
        let website = [alias(
            "docs.example.com",
            RrType::A,
            "Z1BKCTXD74EZPE",
            "s3-website-eu-west-1.amazonaws.com",
        )];
        assert!(diff_aliases(&name, &website, target, false).is_err());
        // `adopt` moves exactly that website alias to the distribution, A and AAAA.
        let adopted = diff_aliases(&name, &website, target, true).unwrap();
        assert_eq!(
            adopted.iter().map(|c| c.action).collect::<Vec<_>>(),
            [Action::Update, Action::Create]
        );
        assert!(
            adopted[0]
                .detail
                .contains("was the S3 website endpoint s3-website-eu-west-1.amazonaws.com"),
            "{}",
            adopted[0].detail
        );
        // Only website endpoints: any other record stays refused while adopting.
        assert!(diff_aliases(&name, &plain, target, true).is_err());

        let elsewhere = [set(
            "docs.example.com",
            RrType::Cname,
            &["old.example.net."],
        )];
        let err = diff_aliases(&name, &elsewhere, target, false).unwrap_err();
        assert!(
            message(&err).contains("has a CNAME record to `old.example.net`"),
            "{}",
            message(&err)
        );

        // A CNAME to this very distribution is replaced in the same atomic batch.
        let ours = [set(
            "docs.example.com",
            RrType::Cname,
            &["d111.cloudfront.net."],
        )];
        let changes = diff_aliases(&name, &ours, target, false).unwrap();
        assert_eq!(
            changes.iter().map(|c| c.action).collect::<Vec<_>>(),
            [Action::Delete, Action::Create, Action::Create]
        );
        assert_eq!(
            changes[0].change.as_ref().unwrap().resource_record_set,
            Some(ours[0].clone())
        );

        // While adopting, a CNAME to the bucket's website endpoint gives way the same way; to
        // anything else it is still refused.
        let website_cname = [set(
            "docs.example.com",
            RrType::Cname,
            &["docs.example.com.s3-website-eu-west-1.amazonaws.com."],
        )];
        assert!(diff_aliases(&name, &website_cname, target, false).is_err());
        let changes = diff_aliases(&name, &website_cname, target, true).unwrap();
        assert_eq!(
            shown(&changes),
            [
                "Delete route53 record docs.example.com CNAME: replaced by A and AAAA alias \
                 records to d111.cloudfront.net (was a CNAME to the S3 website endpoint \
                 docs.example.com.s3-website-eu-west-1.amazonaws.com)",
                "Create route53 record docs.example.com A: alias to d111.cloudfront.net",
                "Create route53 record docs.example.com AAAA: alias to d111.cloudfront.net",
            ]
        );
        assert!(diff_aliases(&name, &elsewhere, target, true).is_err());
    }
}
