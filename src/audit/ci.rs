//! CI deploy role controls (`[ci]`): the deploy role's trust names exactly one repository and
//! branch or environment (a `sub` condition, no wildcard owner or repository, no pull requests),
//! the pull request role can only read, and no IAM user holds the deploy permissions with an
//! access key (the long-lived secret OIDC replaces).

use serde_json::Value;

use super::controls::{CI_NO_ACCESS_KEYS, CI_PLAN_READ_ONLY, CI_TRUST};
use super::{Audited, Finding, Kind, Outcome, Sink};
use crate::aws::Aws;
use crate::error::Result;
use crate::observe::iam as observe;
use crate::policy::analysis::statements;

const HOST: &str = "token.actions.githubusercontent.com";

/// The services whose resources make up a site: a plan role reading others reads too much.
const SITE_SERVICES: [&str; 10] = [
    "s3",
    "kms",
    "cloudfront",
    "acm",
    "route53",
    "logs",
    "sns",
    "cloudwatch",
    "events",
    "iam",
];

/// The condition operators a claim can be matched with.
const OPERATORS: [&str; 7] = [
    "StringEquals",
    "StringLike",
    "StringEqualsIgnoreCase",
    "ForAnyValue:StringEquals",
    "ForAnyValue:StringLike",
    "ForAllValues:StringEquals",
    "ForAllValues:StringLike",
];

/// What the site's CI roles are checked against.
pub struct Target<'a> {
    pub site: &'a str,
    /// `[ci]`: the subjects the roles must trust, exactly.
    pub ci: &'a crate::config::Ci,
    /// The deploy policy `iam-policy --for deploy` prints for the site.
    pub deploy_policy: &'a Value,
}

pub async fn audit(aws: &Aws, target: &Target<'_>, findings: &mut Vec<Finding>) -> Result<()> {
    let iam = &aws.iam;
    for (name, pull_requests) in [
        (format!("sitewarden-{}-deploy", target.site), false),
        (format!("sitewarden-{}-plan", target.site), true),
    ] {
        let role = match observe::role(iam, &name).await {
            Ok(role) => role,
            Err(e) => {
                Sink::new(findings, Audited::new(Kind::Role, &name, None)).unreadable(&e);
                continue;
            }
        };
        let Some(role) = role else {
            if !pull_requests {
                Sink::new(findings, Audited::new(Kind::Role, &name, None))
                    .missing("the CI deploy role does not exist (run `sitewarden ci github`)");
            }
            continue;
        };
        let mut sink = Sink::new(
            findings,
            Audited::new(Kind::Role, &name, Some(role.arn.clone())),
        );
        let expected = if pull_requests {
            crate::ci::pull_request_subject(target.ci)
        } else {
            crate::ci::deploy_subject(target.ci)
        };
        sink.check(
            CI_TRUST,
            Ok(trust(role.trust.as_ref(), &expected, pull_requests)),
        );
        if pull_requests {
            let inline = observe::inline_policies(iam, &name).await;
            let attached = observe::attached_policies(iam, &name).await;
            let outcome = super::both(&inline, &attached).map(|(i, a)| read_only(i, a));
            sink.check(CI_PLAN_READ_ONLY, outcome);
        } else {
            let keys = users_with_keys(aws, target.deploy_policy).await;
            sink.check(CI_NO_ACCESS_KEYS, keys.as_ref().map(|users| no_keys(users)));
        }
    }
    Ok(())
}

/// The subjects a statement accepts, whatever the operator.
fn subjects(statement: crate::policy::analysis::Statement<'_>) -> Vec<&str> {
    OPERATORS
        .iter()
        .flat_map(|op| statement.condition(op, &format!("{HOST}:sub")))
        .collect()
}

fn audiences(statement: crate::policy::analysis::Statement<'_>) -> Vec<&str> {
    OPERATORS
        .iter()
        .flat_map(|op| statement.condition(op, &format!("{HOST}:aud")))
        .collect()
}

/// The trust of a CI role: each statement that lets a web identity in has an audience and exact
/// subjects of one repository; the deploy role's never match a pull request; together they accept
/// exactly `expected` (the subject `[ci]` names), and nothing else may assume the role.
pub fn trust(doc: Option<&Value>, expected: &str, pull_request_role: bool) -> Outcome {
    let Some(doc) = doc else {
        return Outcome::fail("the trust policy could not be read as JSON");
    };
    let mut problems = Vec::new();
    let mut accepted = Vec::new();
    for s in statements(doc) {
        if !s.allows() {
            continue;
        }
        let sid = s.sid();
        if !s.covers("sts:AssumeRoleWithWebIdentity") {
            problems.push(format!(
                "statement `{sid}` lets other principals assume the role ({})",
                s.value()["Principal"]
            ));
            continue;
        }
        if s.everyone() {
            problems.push(format!(
                "statement `{sid}` lets any principal assume the role"
            ));
        }
        if audiences(s).is_empty() {
            problems.push(format!("statement `{sid}` has no `{HOST}:aud` condition"));
        }
        let subs = subjects(s);
        if subs.is_empty() {
            problems.push(format!(
                "statement `{sid}` has no `{HOST}:sub` condition: any repository on GitHub can \
                 assume the role"
            ));
        }
        for sub in subs {
            accepted.push(sub.to_owned());
            let repository = sub
                .strip_prefix("repo:")
                .and_then(|rest| rest.split(':').next())
                .unwrap_or(sub);
            let (owner, name) = repository.split_once('/').unwrap_or((repository, ""));
            if !sub.starts_with("repo:")
                || [owner, name]
                    .iter()
                    .any(|p| p.is_empty() || p.contains('*') || p.contains('?'))
            {
                problems.push(format!("`sub` {sub:?} has a wildcard owner or repository"));
                continue;
            }
            let context = sub
                .strip_prefix("repo:")
                .and_then(|rest| rest.split_once(':'))
                .map_or("", |(_, c)| c);
            let wildcard = context.contains('*') || context.contains('?');
            if !pull_request_role && (context == "pull_request" || wildcard) {
                problems.push(format!("`sub` {sub:?} lets pull requests deploy"));
            }
        }
    }
    if accepted.is_empty() && problems.is_empty() {
        problems.push("no statement lets GitHub Actions assume the role".to_owned());
    }
    if problems.is_empty() && accepted != [expected] {
        problems.push(format!(
            "trusts {accepted:?}, not exactly {expected:?} (`[ci]`; `sitewarden up` restores it)"
        ));
    }
    Outcome::unless(
        &problems,
        format!("assumed only by {}", accepted.join(", ")),
    )
}

/// Only reads: no action of its policies changes anything, and no managed policy is attached.
fn read_only(inline: &[(String, Option<Value>)], attached: &[String]) -> Outcome {
    let mut problems: Vec<String> = attached
        .iter()
        .map(|arn| format!("managed policy {arn} attached"))
        .collect();
    for (name, doc) in inline {
        let Some(doc) = doc else {
            problems.push(format!("inline policy `{name}` could not be read"));
            continue;
        };
        for s in statements(doc) {
            if !s.allows() {
                continue;
            }
            let actions: Vec<&str> = match &s.value()["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec!["(NotAction)"],
            };
            let resources: Vec<&str> = match &s.value()["Resource"] {
                Value::String(r) => vec![r.as_str()],
                Value::Array(r) => r.iter().filter_map(Value::as_str).collect(),
                _ => vec!["*"],
            };
            for action in actions {
                let service = action.split(':').next().unwrap_or_default();
                if !crate::iam::reads_only(action) {
                    problems.push(format!("`{name}` allows {action}"));
                } else if !SITE_SERVICES.contains(&service) {
                    problems.push(format!(
                        "`{name}` allows {action}, outside the site's services"
                    ));
                } else if action.starts_with("s3:GetObject")
                    && resources
                        .iter()
                        .any(|r| !r.ends_with("/.sitewarden/manifest.json"))
                {
                    problems.push(format!(
                        "`{name}` allows {action} on {resources:?}, not only the deploy manifest"
                    ));
                }
            }
        }
    }
    Outcome::unless(&problems, "only Get/List/Describe actions and kms:Decrypt")
}

/// IAM users holding the deploy policy inline, with their active access keys.
async fn users_with_keys(aws: &Aws, deploy_policy: &Value) -> Result<Vec<(String, Vec<String>)>> {
    let iam = &aws.iam;
    let mut found = Vec::new();
    for user in observe::users(iam).await? {
        let holds = observe::user_policies(iam, &user)
            .await?
            .iter()
            .any(|(_, doc)| {
                doc.as_ref()
                    .is_some_and(|d| crate::policy::same(d, deploy_policy))
            });
        if holds {
            let keys = observe::active_access_keys(iam, &user).await?;
            if !keys.is_empty() {
                found.push((user, keys));
            }
        }
    }
    Ok(found)
}

fn no_keys(users: &[(String, Vec<String>)]) -> Outcome {
    let problems: Vec<String> = users
        .iter()
        .map(|(user, keys)| {
            format!(
                "user {user} has the deploy policy and access key(s) {}",
                keys.join(", ")
            )
        })
        .collect();
    Outcome::unless(
        &problems,
        "no user with the deploy policy has an access key",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use serde_json::json;

    fn role(condition: &Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Gh", "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]})
    }

    #[test]
    fn the_trust_names_one_repository_and_never_a_pull_request_for_deploys() {
        let aud = "token.actions.githubusercontent.com:aud";
        let sub = "token.actions.githubusercontent.com:sub";
        let main = "repo:o/n:ref:refs/heads/main";
        let exact = role(&json!({"StringEquals": {aud: "sts.amazonaws.com", sub: main}}));
        assert_eq!(trust(Some(&exact), main, false).status, Status::Pass);
        let other = trust(Some(&exact), "repo:o/m:ref:refs/heads/main", false);
        assert!(other.evidence.contains("not exactly"), "{}", other.evidence);
        let mut extra = exact.clone();
        extra["Statement"].as_array_mut().unwrap().push(json!({
            "Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}));
        assert!(
            trust(Some(&extra), main, false)
                .evidence
                .contains("lets other principals assume")
        );
        for (condition, problem) in [
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com"}}),
                "no `token.actions.githubusercontent.com:sub` condition",
            ),
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:o/*:ref:refs/heads/main"}}),
                "wildcard owner or repository",
            ),
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:*"}}),
                "wildcard owner or repository",
            ),
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "*"}}),
                "wildcard owner or repository",
            ),
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com", sub: "repo:o/n:pull_request"}}),
                "lets pull requests deploy",
            ),
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:o/n:*"}}),
                "lets pull requests deploy",
            ),
            (
                json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:o/n:pull_reques?"}}),
                "lets pull requests deploy",
            ),
            (
                json!({"StringEquals": {sub: "repo:o/n:ref:refs/heads/main"}}),
                "no `token.actions.githubusercontent.com:aud` condition",
            ),
        ] {
            let outcome = trust(Some(&role(&condition)), main, false);
            assert_eq!(outcome.status, Status::Fail, "{condition}");
            assert!(
                outcome.evidence.contains(problem),
                "{condition}: {}",
                outcome.evidence
            );
        }
        let pr = role(
            &json!({"StringEquals": {aud: "sts.amazonaws.com", sub: "repo:o/n:pull_request"}}),
        );
        assert_eq!(
            trust(Some(&pr), "repo:o/n:pull_request", true).status,
            Status::Pass
        );
    }

    #[test]
    fn the_plan_role_only_reads() {
        let doc = |actions: Value| json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
        let reads = vec![(
            "p".to_owned(),
            Some(doc(json!(["cloudfront:List*", "kms:Decrypt"]))),
        )];
        assert_eq!(read_only(&reads, &[]).status, Status::Pass);
        let secrets = vec![(
            "p".to_owned(),
            Some(doc(json!(["secretsmanager:GetSecretValue"]))),
        )];
        assert!(
            read_only(&secrets, &[])
                .evidence
                .contains("outside the site's services")
        );
        let objects = vec![("p".to_owned(), Some(doc(json!(["s3:GetObject"]))))];
        assert!(
            read_only(&objects, &[])
                .evidence
                .contains("not only the deploy manifest")
        );
        let writes = vec![(
            "p".to_owned(),
            Some(doc(json!(["s3:GetObject", "s3:PutObject"]))),
        )];
        assert!(
            read_only(&writes, &[])
                .evidence
                .contains("allows s3:PutObject")
        );
        let admin = ["arn:aws:iam::aws:policy/AdministratorAccess".to_owned()];
        assert_eq!(read_only(&reads, &admin).status, Status::Fail);
    }
}
