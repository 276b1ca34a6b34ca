//! Reading IAM-style policy documents (bucket and key policies) for the audit: who a statement
//! grants, which actions it covers, and whether a condition narrows it to a known caller.
//!
//! A service principal such as `cloudfront.amazonaws.com` conditioned on `AWS:SourceArn` is
//! neither public nor another account: it is AWS acting for one named resource.

use serde_json::Value;

/// Condition keys that pin a statement to known callers: `*` with one of them is not public.
const RESTRICTING_KEYS: [&str; 13] = [
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
];

/// One statement of a policy document.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a>(&'a Value);

/// The statements of a document (`Statement` may be one object or a list).
pub fn statements(doc: &Value) -> Vec<Statement<'_>> {
    match &doc["Statement"] {
        Value::Array(items) => items.iter().map(Statement).collect(),
        Value::Object(_) => vec![Statement(&doc["Statement"])],
        _ => Vec::new(),
    }
}

/// A string or a list of strings, as policies write single values and lists alike.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `*` and `?` wildcards, case-insensitive (action names are).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (
        pattern.to_ascii_lowercase().chars().collect(),
        text.to_ascii_lowercase().chars().collect(),
    );
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl<'a> Statement<'a> {
    /// The statement as written.
    pub fn value(self) -> &'a Value {
        self.0
    }

    pub fn sid(self) -> &'a str {
        self.0["Sid"].as_str().unwrap_or("(no Sid)")
    }

    pub fn allows(self) -> bool {
        self.0["Effect"] == "Allow"
    }

    pub fn denies(self) -> bool {
        self.0["Effect"] == "Deny"
    }

    /// Whether the principal is everyone: `"*"` or `{"AWS": "*"}`.
    pub fn everyone(self) -> bool {
        let principal = &self.0["Principal"];
        principal == "*" || strings(&principal["AWS"]).contains(&"*")
    }

    /// The `AWS` principals (account ids, ARNs).
    pub fn aws_principals(self) -> Vec<&'a str> {
        strings(&self.0["Principal"]["AWS"])
    }

    /// The `Service` principals.
    pub fn services(self) -> Vec<&'a str> {
        strings(&self.0["Principal"]["Service"])
    }

    /// Whether the statement covers `action` (an `NotAction` statement covers nearly everything).
    pub fn covers(self, action: &str) -> bool {
        if self.0.get("NotAction").is_some() {
            return true;
        }
        strings(&self.0["Action"])
            .iter()
            .any(|pattern| glob_matches(pattern, action))
    }

    /// Whether the statement covers every action of the service (`s3:*` or `*`).
    pub fn covers_all(self, service: &str) -> bool {
        strings(&self.0["Action"])
            .iter()
            .any(|a| *a == "*" || a.eq_ignore_ascii_case(&format!("{service}:*")))
    }

    /// Whether the statement's `Resource` patterns cover `arn`.
    pub fn covers_resource(self, arn: &str) -> bool {
        strings(&self.0["Resource"])
            .iter()
            .any(|pattern| glob_matches(pattern, arn))
    }

    /// Whether a condition narrows the statement to known callers.
    pub fn restricted(self) -> bool {
        self.condition_keys()
            .iter()
            .any(|k| RESTRICTING_KEYS.contains(&k.to_ascii_lowercase().as_str()))
    }

    /// Every condition key, whatever its operator.
    fn condition_keys(self) -> Vec<&'a str> {
        self.0["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|ops| ops.values())
            .filter_map(Value::as_object)
            .flat_map(|keys| keys.keys().map(String::as_str))
            .collect()
    }

    /// The values of `key` under condition `operator` (keys compared case-insensitively).
    pub fn condition(self, operator: &str, key: &str) -> Vec<&'a str> {
        self.0["Condition"][operator]
            .as_object()
            .into_iter()
            .flat_map(|keys| keys.iter())
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .flat_map(|(_, v)| match v {
                Value::Bool(false) => vec!["false"],
                Value::Bool(true) => vec!["true"],
                other => strings(other),
            })
            .collect()
    }

    /// Allowed to everyone without a restricting condition.
    pub fn public_allow(self) -> bool {
        self.allows() && self.everyone() && !self.restricted()
    }
}

/// The account id an `AWS` principal names (`123456789012` or `arn:aws:iam::123456789012:...`).
/// The condition operators an `AWS:SourceArn` scope may use.
const SOURCE_ARN_OPERATORS: [&str; 4] = ["StringEquals", "StringLike", "ArnEquals", "ArnLike"];

/// The `AWS:SourceArn` patterns a statement is scoped to, whatever the operator.
pub fn source_arns(statement: Statement<'_>) -> Vec<&str> {
    SOURCE_ARN_OPERATORS
        .iter()
        .flat_map(|op| statement.condition(op, "AWS:SourceArn"))
        .collect()
}

/// Whether the policy lets CloudFront (Origin Access Control) perform `action` for the
/// distribution `distribution_arn`: an Allow statement for the CloudFront service whose
/// `AWS:SourceArn` matches it, or that no condition restricts.
pub fn allows_cloudfront(doc: &Value, action: &str, distribution_arn: &str) -> bool {
    statements(doc).into_iter().any(|s| {
        s.allows()
            && s.services().contains(&"cloudfront.amazonaws.com")
            && s.covers(action)
            && (!s.restricted()
                || source_arns(s)
                    .iter()
                    .any(|pattern| glob_matches(pattern, distribution_arn)))
    })
}

pub fn principal_account(principal: &str) -> Option<&str> {
    let account = principal
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(3))
        .unwrap_or(principal);
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_match_actions_case_insensitively() {
        assert!(glob_matches("s3:*", "s3:GetObject"));
        assert!(glob_matches("s3:Get*", "s3:getobject"));
        assert!(glob_matches("*", "s3:PutObject"));
        assert!(glob_matches("s3:?etObject", "s3:GetObject"));
        assert!(!glob_matches("s3:Get*", "s3:PutObject"));
        assert!(!glob_matches("s3:GetObject", "s3:GetObjectAcl"));
    }

    #[test]
    fn cloudfront_with_source_arn_is_restricted_and_public_read_is_not() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/E"}}},
            {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        ]});
        let s = statements(&doc);
        assert!(!s[0].everyone() && s[0].restricted());
        assert_eq!(s[0].services(), ["cloudfront.amazonaws.com"]);
        assert!(
            s[1].public_allow(),
            "SecureTransport does not narrow the caller"
        );
        assert_eq!(s[1].condition("Bool", "aws:securetransport"), ["true"]);
        let single =
            json!({"Statement": {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*"}});
        assert!(statements(&single)[0].everyone() && statements(&single)[0].covers_all("s3"));
    }

    #[test]
    fn principal_accounts_come_from_ids_and_arns() {
        assert_eq!(
            principal_account("arn:aws:iam::210987654321:root"),
            Some("210987654321")
        );
        assert_eq!(principal_account("210987654321"), Some("210987654321"));
        assert_eq!(principal_account("*"), None);
    }
}
