//! Default encryption: SSE-KMS with the site's key and a bucket key (content bucket), or SSE-S3
//! (log bucket, because S3 server access logging cannot deliver to SSE-KMS buckets).

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};

use super::Ctx;
use crate::error::{AwsResultExt as _, Result};
use crate::observe::bucket::{self as observe, Encryption as ObservedEncryption};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Encryption {
    /// SSE-KMS with this key ARN (`None`: the key is created in this run) and a bucket key.
    Kms(Option<String>),
    /// SSE-S3: S3 server access logging cannot deliver to SSE-KMS buckets.
    S3,
}

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    bucket: &str,
    desired: &Encryption,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_encryption(observe::encryption(s3, bucket).await?.as_ref(), desired)
    {
        update(detail);
        if ctx.apply {
            put_encryption(s3, bucket, desired).await?;
        }
    }
    Ok(())
}

fn diff_encryption(observed: Option<&ObservedEncryption>, desired: &Encryption) -> Option<String> {
    match desired {
        Encryption::Kms(key) => {
            let key_text = key.as_deref().unwrap_or("the site's new key");
            let ok = observed.is_some_and(|o| {
                o.algorithm == ServerSideEncryption::AwsKms
                    && o.bucket_key
                    && key.is_some()
                    && o.key == *key
            });
            (!ok).then(|| format!("default encryption SSE-KMS with {key_text} and bucket key"))
        }
        Encryption::S3 => {
            let ok = observed.is_some_and(|o| o.algorithm == ServerSideEncryption::Aes256);
            (!ok).then(|| "default encryption SSE-S3".to_owned())
        }
    }
}

async fn put_encryption(s3: &Client, bucket: &str, desired: &Encryption) -> Result<()> {
    let by_default = match desired {
        Encryption::Kms(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .set_kms_master_key_id(key.clone())
            .build()?,
        Encryption::S3 => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()?,
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .bucket_key_enabled(matches!(desired, Encryption::Kms(_)))
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await
        .op("PutBucketEncryption", &format!("bucket `{bucket}`"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_encryption_must_use_the_site_key_and_bucket_key() {
        let key = Some("arn:aws:kms:eu-west-1:1:key/k".to_owned());
        let good = ObservedEncryption {
            algorithm: ServerSideEncryption::AwsKms,
            key: key.clone(),
            bucket_key: true,
        };
        assert_eq!(
            diff_encryption(Some(&good), &Encryption::Kms(key.clone())),
            None
        );
        let aws_managed = ObservedEncryption {
            algorithm: ServerSideEncryption::AwsKms,
            key: None,
            bucket_key: true,
        };
        assert!(diff_encryption(Some(&aws_managed), &Encryption::Kms(key.clone())).is_some());
        let no_bucket_key = ObservedEncryption {
            bucket_key: false,
            ..good
        };
        assert!(diff_encryption(Some(&no_bucket_key), &Encryption::Kms(key)).is_some());
        let sse_s3 = ObservedEncryption {
            algorithm: ServerSideEncryption::Aes256,
            key: None,
            bucket_key: false,
        };
        assert_eq!(diff_encryption(Some(&sse_s3), &Encryption::S3), None);
    }
}
