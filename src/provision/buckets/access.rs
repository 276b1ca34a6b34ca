//! Who can reach a bucket's objects: Block Public Access (all four flags) and object ownership
//! `BucketOwnerEnforced` (ACLs disabled).

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
};

use super::Ctx;
use crate::error::{AwsResultExt as _, Result};
use crate::observe::bucket::{self as observe, PublicAccessBlock};

pub(super) async fn reconcile_public_access_block(
    ctx: &Ctx<'_>,
    bucket: &str,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) =
        diff_public_access_block(observe::public_access_block(s3, bucket).await?.as_ref())
    {
        update(detail);
        if ctx.apply {
            put_public_access_block(s3, bucket).await?;
        }
    }
    Ok(())
}

pub(super) async fn reconcile_ownership(
    ctx: &Ctx<'_>,
    bucket: &str,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_ownership(observe::ownership(s3, bucket).await?.as_ref()) {
        update(detail);
        if ctx.apply {
            put_ownership(s3, bucket).await?;
        }
    }
    Ok(())
}

/// The Block Public Access reader, under the name adopt used before it moved to `observe`.
pub use observe::public_access_block as observe_public_access_block;

pub fn diff_public_access_block(observed: Option<&PublicAccessBlock>) -> Option<String> {
    let off = match observed {
        None => vec!["all four flags"],
        Some(config) => config.flags_off(),
    };
    (!off.is_empty()).then(|| format!("turn on Block Public Access ({})", off.join(", ")))
}

async fn put_public_access_block(s3: &Client, bucket: &str) -> Result<()> {
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .op("PutPublicAccessBlock", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Object ownership --------------------------------------------------------------------------

fn diff_ownership(observed: Option<&ObjectOwnership>) -> Option<String> {
    match observed {
        Some(ObjectOwnership::BucketOwnerEnforced) => None,
        Some(other) => Some(format!(
            "disable ACLs (object ownership {} → BucketOwnerEnforced)",
            other.as_str()
        )),
        None => Some("disable ACLs (object ownership BucketOwnerEnforced)".to_owned()),
    }
}

/// Disables ACLs. S3 refuses that (`InvalidBucketAclWithObjectOwnership`) while the bucket ACL
/// grants anyone but the owner, as a public-read website bucket's does: such an ACL is reset to
/// private first (Block Public Access already ignores it; object ACLs stop counting once disabled).
async fn put_ownership(s3: &Client, bucket: &str) -> Result<()> {
    let resource = format!("bucket `{bucket}`");
    if observe::acl(s3, bucket).await?.beyond_owner() {
        s3.put_bucket_acl()
            .bucket(bucket)
            .acl(aws_sdk_s3::types::BucketCannedAcl::Private)
            .send()
            .await
            .op("PutBucketAcl", &resource)?;
    }
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await
        .op("PutBucketOwnershipControls", &format!("bucket `{bucket}`"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_public_access_names_the_flags_that_are_off() {
        let partly = PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: false,
            restrict_public_buckets: true,
        };
        assert_eq!(
            diff_public_access_block(Some(&partly)).unwrap(),
            "turn on Block Public Access (BlockPublicPolicy)"
        );
        assert_eq!(
            diff_public_access_block(None).unwrap(),
            "turn on Block Public Access (all four flags)"
        );
        let all = PublicAccessBlock {
            block_public_policy: true,
            ..partly
        };
        assert_eq!(diff_public_access_block(Some(&all)), None);
    }
}
