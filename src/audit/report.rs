//! The audit report: text grouped by resource, the `--json` document, and SARIF 2.1.0 for GitHub
//! code scanning (one result per failed control; rules carry `security-severity` so GitHub ranks
//! them; each result names the AWS resource as a logical location).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use super::controls::{self, Control};
use super::{Finding, Kind, Severity, Status};
use crate::output::escape;

/// Where SARIF readers learn about the tool.
const INFORMATION_URI: &str = crate::REPOSITORY;
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    /// Tables for `$GITHUB_STEP_SUMMARY` and pull request comments.
    Markdown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub exception: usize,
    pub error: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub fail_on: Option<Severity>,
    /// A `fail` at or above `fail_on` exists: the command exits 3.
    pub failed: bool,
    pub summary: Counts,
    pub findings: Vec<Finding>,
    pub requests: BTreeMap<String, u64>,
}

impl Report {
    pub fn new(
        site: Option<String>,
        mut findings: Vec<Finding>,
        fail_on: Option<Severity>,
        requests: BTreeMap<String, u64>,
    ) -> Report {
        // Stable: each resource keeps the control order of the table.
        findings.sort_by_key(|f| f.resource.id.kind);
        let mut summary = Counts::default();
        for f in &findings {
            *match f.status {
                Status::Pass => &mut summary.pass,
                Status::Fail => &mut summary.fail,
                Status::Exception => &mut summary.exception,
                Status::Error => &mut summary.error,
            } += 1;
        }
        let failed = fail_on.is_some_and(|threshold| {
            findings
                .iter()
                .any(|f| f.status == Status::Fail && f.severity >= threshold)
        });
        Report {
            site,
            fail_on,
            failed,
            summary,
            findings,
            requests,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(site) = &self.site {
            writeln!(f, "Audit of site `{site}`")?;
        }
        let mut current = None;
        for finding in &self.findings {
            if current != Some(&finding.resource) {
                writeln!(f, "\n{}", finding.resource)?;
                current = Some(&finding.resource);
            }
            writeln!(
                f,
                "  {:<9}  {:<6}  {:<22} {}",
                finding.status.as_str().to_ascii_uppercase(),
                finding.severity.as_str(),
                finding.control,
                finding.title
            )?;
            let label = match finding.status {
                Status::Pass | Status::Fail => "observed",
                Status::Exception => "reason",
                Status::Error => "error",
            };
            writeln!(f, "{:13}{label}: {}", "", escape(&finding.evidence))?;
            if finding.status == Status::Fail {
                writeln!(f, "{:13}fix: {}", "", finding.remediation)?;
            }
        }
        let s = &self.summary;
        writeln!(
            f,
            "\n{} pass, {} fail, {} exception, {} error",
            s.pass, s.fail, s.exception, s.error
        )?;
        if self.failed {
            let threshold = self.fail_on.map_or("", Severity::as_str);
            writeln!(
                f,
                "Audit failed: failures at or above `{threshold}` severity."
            )?;
        }
        Ok(())
    }
}

impl crate::output::Markdown for Report {
    fn markdown(&self) -> String {
        use crate::output::{cell, code};
        use std::fmt::Write as _;
        let s = &self.summary;
        let mut out = format!(
            "## sitewarden audit{}\n\n{} pass, {} fail, {} exception, {} error{}\n\n",
            self.site
                .as_ref()
                .map_or(String::new(), |site| format!(": site {}", code(site))),
            s.pass,
            s.fail,
            s.exception,
            s.error,
            if self.failed {
                format!(
                    " — **failed** at `{}`",
                    self.fail_on.map_or("", Severity::as_str)
                )
            } else {
                String::new()
            }
        );
        let open: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Error))
            .collect();
        if !open.is_empty() {
            out.push_str("| status | severity | control | resource | evidence | fix |\n");
            out.push_str("| --- | --- | --- | --- | --- | --- |\n");
            for f in open {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    f.status.as_str(),
                    f.severity.as_str(),
                    code(f.control),
                    code(&f.resource.to_string()),
                    cell(&f.evidence),
                    cell(f.remediation)
                );
            }
            out.push('\n');
        }
        out
    }
}

/// A SARIF log: `Serialize` for the document, `Display` prints the same JSON.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Sarif(Value);

impl fmt::Display for Sarif {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.0).map_err(|_| fmt::Error)?;
        writeln!(f, "{text}")
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's scale: high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}

fn rule(control: &Control) -> Value {
    let mappings = control
        .security_hub
        .iter()
        .map(|id| format!("security-hub:{id}"))
        .chain(control.prowler.iter().map(|id| format!("prowler:{id}")))
        .chain(control.checkov.iter().map(|id| format!("checkov:{id}")));
    let tags: Vec<String> = ["security".to_owned(), "aws".to_owned()]
        .into_iter()
        .chain(mappings)
        .collect();
    json!({
        "id": control.id,
        "name": control.id.replace('.', ""),
        "shortDescription": {"text": control.title},
        "fullDescription": {"text": control.exception.map_or_else(
            || control.title.to_owned(),
            |reason| format!("{} (documented exception: {reason})", control.title),
        )},
        "help": {"text": control.remediation},
        "defaultConfiguration": {"level": level(control.severity)},
        "properties": {
            "security-severity": security_severity(control.severity),
            "tags": tags,
            "precision": "very-high",
        },
    })
}

/// Repository-relative path results point at: the config file, or a path naming the resource.
fn artifact_uri(finding: &Finding, artifact: Option<&str>) -> String {
    artifact.map_or_else(
        || {
            let kind = match finding.resource.id.kind {
                Kind::Bucket | Kind::Object => "s3",
                Kind::Key => "kms",
                Kind::Distribution
                | Kind::OriginAccessControl
                | Kind::ResponseHeadersPolicy
                | Kind::Function => "cloudfront",
                Kind::Certificate => "acm",
                Kind::Name | Kind::Zone | Kind::Record => "route53",
                Kind::DeliverySource | Kind::DeliveryDestination | Kind::Delivery => "logs",
                Kind::File => "file",
                Kind::Topic | Kind::Subscription => "sns",
                Kind::Alarm => "cloudwatch",
                Kind::Rule => "events",
                Kind::Trail => "cloudtrail",
                Kind::Role | Kind::OidcProvider | Kind::User | Kind::Policy => "iam",
            };
            format!("aws/{kind}/{}", finding.resource.id.name)
        },
        ToOwned::to_owned,
    )
}

fn result(finding: &Finding, artifact: Option<&str>) -> Value {
    let rule_index = controls::ALL
        .iter()
        .position(|c| c.id == finding.control)
        .expect("findings come from the control table");
    let resource = &finding.resource;
    let qualified = resource
        .arn
        .clone()
        .unwrap_or_else(|| resource.id.name.clone());
    json!({
        "ruleId": finding.control,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": format!(
            "{}: {} — {}. Fix: {}",
            resource, finding.title, finding.evidence, finding.remediation
        )},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(finding, artifact)},
                "region": {"startLine": 1},
            },
            "logicalLocations": [{
                "name": resource.id.name,
                "fullyQualifiedName": qualified,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {"sitewarden/v1": format!("{}|{qualified}", finding.control)},
        "properties": {
            "severity": finding.severity,
            "resourceType": resource.id.kind,
            "evidence": finding.evidence,
        },
    })
}

/// The SARIF 2.1.0 log of a report: every control as a rule, one result per `fail`, and `error`
/// findings as tool execution notifications (the control could not be evaluated).
pub fn sarif(report: &Report, artifact: Option<&str>) -> Sarif {
    let rules: Vec<Value> = controls::ALL.iter().map(|c| rule(c)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| result(f, artifact))
        .collect();
    let notifications: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .map(|f| {
            json!({
                "level": "error",
                "message": {"text": format!("{} on {}: {}", f.control, f.resource, f.evidence)},
                "descriptor": {"id": f.control},
            })
        })
        .collect();
    Sarif(json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sitewarden",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "results": results,
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
        }],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::controls::{S3_ACCESS_LOGGING, S3_BLOCK_PUBLIC_ACCESS, S3_REPLICATION};
    use crate::audit::{Audited, Outcome};

    fn bucket() -> Audited {
        Audited::new(
            Kind::Bucket,
            "poc".to_owned(),
            Some("arn:aws:s3:::poc".to_owned()),
        )
    }

    fn findings() -> Vec<Finding> {
        vec![
            Finding::new(
                S3_BLOCK_PUBLIC_ACCESS,
                bucket(),
                Outcome::fail("no configuration"),
            ),
            Finding::new(S3_ACCESS_LOGGING, bucket(), Outcome::fail("off")),
            Finding::new(S3_REPLICATION, bucket(), Outcome::exception("not needed")),
        ]
    }

    #[test]
    fn fail_on_compares_severities() {
        let report = |threshold| Report::new(None, findings(), threshold, BTreeMap::new());
        assert!(!report(None).failed, "no --fail-on: never exit 3");
        assert!(report(Some(Severity::High)).failed);
        let medium_only = vec![Finding::new(
            S3_ACCESS_LOGGING,
            bucket(),
            Outcome::fail("off"),
        )];
        assert!(!Report::new(None, medium_only, Some(Severity::High), BTreeMap::new()).failed);
        assert_eq!(report(None).summary.fail, 2);
    }

    #[test]
    fn text_groups_by_resource_and_shows_the_fix_for_failures() {
        let text = Report::new(None, findings(), Some(Severity::High), BTreeMap::new()).to_string();
        assert!(
            text.starts_with("\ns3 bucket poc\n  FAIL       high    S3.8 "),
            "{text}"
        );
        assert!(text.contains("observed: no configuration\n             fix: Turn on"));
        assert!(text.contains("reason: not needed\n"));
        assert!(text.ends_with(
            "0 pass, 2 fail, 1 exception, 0 error\nAudit failed: failures at or above `high` severity.\n"
        ));
    }

    #[test]
    fn sarif_has_the_fields_code_scanning_needs() {
        let report = Report::new(None, findings(), None, BTreeMap::new());
        let Sarif(log) = sarif(&report, Some("sitewarden.toml"));
        assert_eq!(log["version"], "2.1.0");
        assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), controls::ALL.len());
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "one result per failure");
        let first = &results[0];
        assert_eq!(first["ruleId"], "S3.8");
        assert_eq!(first["level"], "error");
        assert_eq!(results[1]["level"], "warning");
        let index = usize::try_from(first["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], "S3.8");
        assert_eq!(rules[index]["properties"]["security-severity"], "8.0");
        assert_eq!(
            first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "sitewarden.toml"
        );
        assert_eq!(
            first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "arn:aws:s3:::poc"
        );
        let Sarif(flags_only) = sarif(&report, None);
        assert_eq!(
            flags_only["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                ["uri"],
            "aws/s3/poc"
        );
    }
}
