//! JSON policy documents from `templates/`, and comparison with what AWS returns; `analysis`
//! reads policies for what they grant (audit, and provision's checks of a key it did not write).
//!
//! Templates use `{{name}}` placeholders. A statement that names a value not known yet (the
//! distribution ARN before the distribution exists) is left out, so the first `up` can write a
//! policy that is correct for what exists and complete it once the distribution is created.

pub mod analysis;

use serde_json::Value;

pub const KEY_POLICY: &str = include_str!("../../templates/key-policy.json");
pub const CONTENT_BUCKET_POLICY: &str = include_str!("../../templates/content-bucket-policy.json");
pub const LOG_BUCKET_POLICY: &str = include_str!("../../templates/log-bucket-policy.json");

/// Renders a policy template. `vars` maps placeholder names to values; `None` means "not known
/// yet" and drops every statement that uses it.
pub fn render(template: &str, vars: &[(&str, Option<&str>)]) -> Value {
    let mut doc: Value = serde_json::from_str(template).expect("policy templates are valid JSON");
    let fill = |text: &str| -> Option<String> {
        let mut out = text.to_owned();
        for (name, value) in vars {
            let placeholder = format!("{{{{{name}}}}}");
            if out.contains(&placeholder) {
                out = out.replace(&placeholder, (*value)?);
            }
        }
        assert!(
            !out.contains("{{"),
            "unfilled placeholder in policy template: {out}"
        );
        Some(out)
    };
    let statements = doc["Statement"]
        .as_array()
        .expect("policy templates have a Statement list")
        .iter()
        .filter_map(|s| fill(&s.to_string()).map(|t| serde_json::from_str(&t).expect("valid JSON")))
        .collect();
    doc["Statement"] = Value::Array(statements);
    if let Some(id) = doc.get("Id").and_then(Value::as_str) {
        doc["Id"] = Value::String(fill(id).expect("policy Id uses known values only"));
    }
    doc
}

/// Whether two policy documents say the same thing, ignoring the forms AWS normalises: a
/// one-element list and its element, and the order of keys.
pub fn same(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalize).collect();
            // Resource and Action lists are sets.
            items.sort_by_key(ToString::to_string);
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

/// Parses a policy AWS returned; an unparsable one is treated as different from anything.
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sids(doc: &Value) -> Vec<&str> {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn content_policy_without_distribution_keeps_only_tls_statements() {
        let doc = render(
            CONTENT_BUCKET_POLICY,
            &[("bucket", Some("b")), ("distribution_arn", None)],
        );
        assert_eq!(
            sids(&doc),
            ["DenyInsecureTransport", "DenyCloudFrontPrivateState"]
        );
        let tls = &doc["Statement"][0];
        assert_eq!(tls["Effect"], "Deny");
        assert_eq!(tls["Principal"], "*");
        assert_eq!(tls["Action"], "s3:*");
        assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
        assert_eq!(
            tls["Resource"],
            serde_json::json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"])
        );
    }

    #[test]
    fn content_policy_scopes_cloudfront_to_the_distribution() {
        let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
        let doc = render(
            CONTENT_BUCKET_POLICY,
            &[("bucket", Some("b")), ("distribution_arn", Some(arn))],
        );
        assert_eq!(
            sids(&doc),
            [
                "DenyInsecureTransport",
                "AllowCloudFrontRead",
                "DenyCloudFrontPrivateState"
            ]
        );
        let read = &doc["Statement"][1];
        assert_eq!(read["Principal"]["Service"], "cloudfront.amazonaws.com");
        assert_eq!(read["Action"], "s3:GetObject");
        assert_eq!(read["Condition"]["StringEquals"]["AWS:SourceArn"], arn);
        assert_eq!(
            doc["Statement"][2]["Resource"],
            "arn:aws:s3:::b/.sitewarden/*"
        );
    }

    #[test]
    fn key_policy_grants_cloudfront_decrypt_only_with_source_arn() {
        let vars = [("site", Some("docs")), ("account", Some("123456789012"))];
        let before = render(KEY_POLICY, &[vars[0], vars[1], ("distribution_arn", None)]);
        assert_eq!(sids(&before), ["AccountAdministration"]);
        assert_eq!(before["Id"], "sitewarden-docs");
        assert_eq!(
            before["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
        let after = render(
            KEY_POLICY,
            &[vars[0], vars[1], ("distribution_arn", Some("arn:d"))],
        );
        let cf = &after["Statement"][1];
        assert_eq!(cf["Action"], "kms:Decrypt");
        assert_eq!(cf["Condition"]["StringEquals"]["AWS:SourceArn"], "arn:d");
    }

    #[test]
    fn log_policy_conditions_name_the_account_and_sources() {
        let doc = render(
            LOG_BUCKET_POLICY,
            &[
                ("log_bucket", Some("l")),
                ("content_bucket", Some("c")),
                ("account", Some("123456789012")),
            ],
        );
        assert_eq!(
            sids(&doc),
            [
                "DenyInsecureTransport",
                "AllowS3ServerAccessLogs",
                "AllowCloudFrontLogDelivery"
            ]
        );
        let s3 = &doc["Statement"][1];
        assert_eq!(
            s3["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:s3:::c"
        );
        assert_eq!(
            s3["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        let cf = &doc["Statement"][2];
        assert_eq!(cf["Resource"], "arn:aws:s3:::l/cloudfront/*");
        assert_eq!(
            cf["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:logs:us-east-1:123456789012:delivery-source:*"
        );
    }

    #[test]
    fn comparison_ignores_aws_normalisation_but_not_content() {
        let a: Value = serde_json::json!({"Statement": [{"Action": ["s3:GetObject"], "Resource": ["b", "a"]}]});
        let b: Value =
            serde_json::json!({"Statement": {"Resource": ["a", "b"], "Action": "s3:GetObject"}});
        assert!(same(&a, &b));
        let c: Value = serde_json::json!({"Statement": {"Resource": ["a", "b"], "Action": "s3:*"}});
        assert!(!same(&a, &c));
    }
}
