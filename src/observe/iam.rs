//! IAM as it is: the account's OIDC identity providers, a role with its trust policy, inline and
//! attached policies, and the users an audit looks at. IAM returns policy documents
//! percent-encoded; these readers decode and parse them.

use aws_sdk_iam::Client;
use serde_json::Value;

use crate::error::{AwsResultExt as _, Result};

/// IAM's "not found" error code.
const NO_SUCH_ENTITY: &str = "NoSuchEntity";

/// A policy document as IAM returns it (percent-encoded JSON), parsed; `None` when unreadable.
pub fn document(encoded: &str) -> Option<Value> {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    crate::policy::parse(&text)
}

/// An OIDC identity provider of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub arn: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
}

/// The account's OIDC provider for `host` (e.g. `token.actions.githubusercontent.com`), if any.
pub async fn oidc_provider(iam: &Client, host: &str) -> Result<Option<Provider>> {
    let listed = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .op("ListOpenIDConnectProviders", "the account's OIDC providers")?;
    let suffix = format!(":oidc-provider/{host}");
    let Some(arn) = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn.clone())
        .find(|arn| arn.ends_with(&suffix))
    else {
        return Ok(None);
    };
    let provider = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .op("GetOpenIDConnectProvider", &arn)?;
    Ok(Some(Provider {
        client_ids: provider.client_id_list().to_vec(),
        thumbprints: provider.thumbprint_list().to_vec(),
        arn,
    }))
}

/// A role as sitewarden compares it.
#[derive(Debug, Clone)]
pub struct Role {
    pub arn: String,
    pub trust: Option<Value>,
    pub max_session_duration: Option<i32>,
    /// The ARN of its permissions boundary, if any.
    pub permissions_boundary: Option<String>,
    /// The value of the `sitewarden:site` tag, if any.
    pub site_tag: Option<String>,
}

/// The role `name`; `None` when it does not exist.
pub async fn role(iam: &Client, name: &str) -> Result<Option<Role>> {
    let Some(found) = iam.get_role().role_name(name).send().await.or_missing(
        &[NO_SUCH_ENTITY],
        "GetRole",
        name,
    )?
    else {
        return Ok(None);
    };
    let Some(role) = found.role else {
        return Ok(None);
    };
    Ok(Some(Role {
        trust: role
            .assume_role_policy_document
            .as_deref()
            .and_then(document),
        max_session_duration: role.max_session_duration,
        permissions_boundary: role
            .permissions_boundary
            .as_ref()
            .and_then(|b| b.permissions_boundary_arn.clone()),
        site_tag: role
            .tags()
            .iter()
            .find(|t| t.key == crate::names::SITE_TAG)
            .map(|t| t.value.clone()),
        arn: role.arn,
    }))
}

/// A managed policy's default version, parsed (inner `None`: unreadable); `None` when the policy
/// does not exist.
pub async fn managed_policy(iam: &Client, arn: &str) -> Result<Option<Option<Value>>> {
    let Some(found) = iam.get_policy().policy_arn(arn).send().await.or_missing(
        &[NO_SUCH_ENTITY],
        "GetPolicy",
        arn,
    )?
    else {
        return Ok(None);
    };
    let Some(version) = found.policy.and_then(|p| p.default_version_id) else {
        return Ok(Some(None));
    };
    let document = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .op("GetPolicyVersion", arn)?
        .policy_version
        .and_then(|v| v.document)
        .as_deref()
        .and_then(document);
    Ok(Some(document))
}

/// The ids of a managed policy's versions that are not its default, oldest first.
pub async fn old_policy_versions(iam: &Client, arn: &str) -> Result<Vec<String>> {
    let mut versions: Vec<_> = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .op("ListPolicyVersions", arn)?
        .versions
        .unwrap_or_default()
        .into_iter()
        .filter(|v| !v.is_default_version)
        .collect();
    versions.sort_by_key(|v| v.create_date.map(|d| d.secs()));
    Ok(versions.into_iter().filter_map(|v| v.version_id).collect())
}

/// The role's inline policies, by name, parsed.
pub async fn inline_policies(iam: &Client, role: &str) -> Result<Vec<(String, Option<Value>)>> {
    let mut names = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        names.extend(page.op("ListRolePolicies", role)?.policy_names);
    }
    let mut policies = Vec::new();
    for name in names {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(&name)
            .send()
            .await
            .op("GetRolePolicy", role)?
            .policy_document;
        policies.push((name, document(&doc)));
    }
    Ok(policies)
}

/// The ARNs of the managed policies attached to the role.
pub async fn attached_policies(iam: &Client, role: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListAttachedRolePolicies", role)?;
        arns.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn.clone()),
        );
    }
    Ok(arns)
}

/// Every IAM user's name.
pub async fn users(iam: &Client) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = iam.list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListUsers", "the account's IAM users")?;
        names.extend(page.users.into_iter().map(|u| u.user_name));
    }
    Ok(names)
}

/// The user's inline policies, parsed.
pub async fn user_policies(iam: &Client, user: &str) -> Result<Vec<(String, Option<Value>)>> {
    let mut names = Vec::new();
    let mut pages = iam
        .list_user_policies()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        names.extend(page.op("ListUserPolicies", user)?.policy_names);
    }
    let mut policies = Vec::new();
    for name in names {
        let doc = iam
            .get_user_policy()
            .user_name(user)
            .policy_name(&name)
            .send()
            .await
            .op("GetUserPolicy", user)?
            .policy_document;
        policies.push((name, document(&doc)));
    }
    Ok(policies)
}

/// The ids of the user's active access keys.
pub async fn active_access_keys(iam: &Client, user: &str) -> Result<Vec<String>> {
    let keys = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .op("ListAccessKeys", user)?;
    Ok(keys
        .access_key_metadata()
        .iter()
        .filter(|k| k.status == Some(aws_sdk_iam::types::StatusType::Active))
        .filter_map(|k| k.access_key_id.clone())
        .collect())
}
