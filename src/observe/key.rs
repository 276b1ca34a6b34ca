//! KMS keys as they are: the metadata of a key by id, ARN or alias, its automatic rotation and
//! its `default` key policy (parsed with [`crate::policy::parse`]). Provision reconciles the
//! site's key over them; the audit grades the site's key and the keys buckets encrypt with.

use aws_sdk_kms::Client;
use aws_sdk_kms::types::KeyMetadata;
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Result, code};

/// A client in the key's region: a bucket in eu-west-1 names its key by an ARN in eu-west-1,
/// whatever region the run started in (ids and aliases are looked up in the run's region).
pub fn client_for(aws: &Aws, key_id: &str) -> Client {
    match key_region(key_id).filter(|r| *r != aws.region) {
        // Same interceptors, so its requests are counted with the others.
        Some(region) => Client::from_conf(
            aws.kms
                .config()
                .to_builder()
                .region(aws_sdk_kms::config::Region::new(region.to_owned()))
                .build(),
        ),
        None => aws.kms.clone(),
    }
}

/// The region of a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID` or `...:alias/NAME`).
pub fn key_region(key_id: &str) -> Option<&str> {
    let mut parts = key_id.splitn(6, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("kms"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

/// The key `key_id` (id, ARN or alias); `None` when it does not exist. `resource` names it in
/// errors.
pub async fn key(kms: &Client, key_id: &str, resource: &str) -> Result<Option<KeyMetadata>> {
    Ok(kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .or_missing(&[code::NOT_FOUND_EXCEPTION], "DescribeKey", resource)?
        .and_then(|o| o.key_metadata))
}

/// Whether automatic rotation is on.
pub async fn rotation(kms: &Client, key_id: &str, resource: &str) -> Result<bool> {
    Ok(kms
        .get_key_rotation_status()
        .key_id(key_id)
        .send()
        .await
        .op("GetKeyRotationStatus", resource)?
        .key_rotation_enabled)
}

/// The key's `default` policy, parsed (`None`: unreadable JSON).
pub async fn policy(kms: &Client, key_id: &str, resource: &str) -> Result<Option<Value>> {
    Ok(kms
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .op("GetKeyPolicy", resource)?
        .policy
        .and_then(|p| crate::policy::parse(&p)))
}

/// Enabled keys tagged for `site` that no alias names: what a run leaves when it is stopped
/// between `CreateKey` and `CreateAlias`, or when its `CreateKey` answer was lost. Oldest first.
/// Lists every alias and key of the region, and reads the tags of the unaliased ones only, so
/// it is for the moment the site's alias is missing, not for every run.
pub async fn unaliased_site_keys(
    kms: &Client,
    site: &str,
    resource: &str,
) -> Result<Vec<KeyMetadata>> {
    let mut aliased = std::collections::HashSet::new();
    let mut pages = kms.list_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListAliases", resource)?;
        aliased.extend(
            page.aliases
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| a.target_key_id),
        );
    }
    let mut found = Vec::new();
    let mut pages = kms.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListKeys", resource)?;
        for id in page
            .keys
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| k.key_id)
        {
            if aliased.contains(&id) {
                continue;
            }
            let tags = kms
                .list_resource_tags()
                .key_id(&id)
                .send()
                .await
                // A scoped role may read only its own site's tags: a key it may not read is
                // another's.
                .or_missing(
                    &[code::NOT_FOUND_EXCEPTION, code::ACCESS_DENIED_EXCEPTION],
                    "ListResourceTags",
                    resource,
                )?;
            let tagged = tags.is_some_and(|t| {
                t.tags()
                    .iter()
                    .any(|t| t.tag_key() == crate::names::SITE_TAG && t.tag_value() == site)
            });
            if !tagged {
                continue;
            }
            if let Some(key) = key(kms, &id, resource).await?
                && key.key_state == Some(aws_sdk_kms::types::KeyState::Enabled)
                && key.key_manager == Some(aws_sdk_kms::types::KeyManagerType::Customer)
            {
                found.push(key);
            }
        }
    }
    found.sort_by_key(|k| k.creation_date.map(|d| d.secs()));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_arn_names_its_region() {
        assert_eq!(
            key_region("arn:aws:kms:eu-west-1:123456789012:key/1234abcd"),
            Some("eu-west-1")
        );
        assert_eq!(
            key_region("arn:aws-cn:kms:cn-north-1:123456789012:alias/site"),
            Some("cn-north-1")
        );
        assert_eq!(key_region("1234abcd-12ab-34cd-56ef-1234567890ab"), None);
        assert_eq!(key_region("alias/site"), None);
    }
}
