//! One `SdkConfig` for every client, plus the request counter behind each `"requests"` summary.
//!
//! The content and log buckets (S3) and the KMS key live in the site's region; CloudFront, ACM for
//! CloudFront, CloudWatch Logs delivery for CloudFront and Route53 are us-east-1 APIs whatever the
//! site's region.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::error::{Error, Result};

/// The region of every global-service API sitewarden uses.
pub const US_EAST_1: &str = "us-east-1";

/// Counts every HTTP request sent to AWS (retries included), by operation name.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl RequestCounter {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("counter lock").clone()
    }

    pub fn total(&self) -> u64 {
        self.0.lock().expect("counter lock").values().sum()
    }

    fn record(&self, operation: &str) {
        *self
            .0
            .lock()
            .expect("counter lock")
            .entry(operation.to_owned())
            .or_default() += 1;
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "sitewarden.RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name);
        self.record(operation);
        Ok(())
    }
}

/// Signs an upload's payload with the SHA-256 the diff already computed (lowercase hex) instead of
/// letting `SigV4` hash an in-memory body again. S3 checks it against the bytes it receives
/// (`XAmzContentSHA256Mismatch`), so a body that changed since it was hashed is refused. Set per
/// request with `.customize().interceptor(SignedPayload(..))`.
#[derive(Debug, Clone)]
pub struct SignedPayload(pub String);

impl Intercept for SignedPayload {
    fn name(&self) -> &'static str {
        "sitewarden.SignedPayload"
    }

    fn modify_before_signing(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(aws_runtime::auth::PayloadSigningOverride::Precomputed(
                self.0.clone(),
            ));
        Ok(())
    }
}

/// Sends the account of the credentials in use as `x-amz-expected-bucket-owner` (and, for copies,
/// `x-amz-source-expected-bucket-owner`) on every S3 request that names a bucket, once the account
/// is known: a bucket of the same name in another account (squatted, or taken over after a
/// delete) is refused by S3 with 403 instead of receiving the site's files or configuration.
/// One interceptor on the client, so no call can forget it.
#[derive(Debug, Clone, Default)]
pub struct ExpectedBucketOwner(Arc<OnceLock<String>>);

/// S3 operations that name no existing bucket of the caller (or do not take the header).
const NO_EXPECTED_OWNER: &[&str] = &["ListBuckets", "ListDirectoryBuckets", "CreateBucket"];

impl Intercept for ExpectedBucketOwner {
    fn name(&self) -> &'static str {
        "sitewarden.ExpectedBucketOwner"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(account) = self.0.get() else {
            return Ok(());
        };
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name);
        if NO_EXPECTED_OWNER.contains(&operation) {
            return Ok(());
        }
        let headers = context.request_mut().headers_mut();
        if !headers.contains_key("x-amz-expected-bucket-owner") {
            headers.insert("x-amz-expected-bucket-owner", account.clone());
        }
        if headers.contains_key("x-amz-copy-source")
            && !headers.contains_key("x-amz-source-expected-bucket-owner")
        {
            headers.insert("x-amz-source-expected-bucket-owner", account.clone());
        }
        Ok(())
    }
}

/// A service client from a shared config, counting its requests.
macro_rules! client {
    ($krate:ident, $config:expr, $requests:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($config)
                .interceptor($requests.clone())
                .build(),
        )
    };
}

/// Where the clients get their credentials and endpoint (`--profile`, `--endpoint-url`).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    /// One endpoint for every service (the local emulator); S3 then uses path-style addressing.
    pub endpoint_url: Option<String>,
}

/// The AWS clients of one command run.
#[derive(Debug, Clone)]
pub struct Aws {
    /// The site's region (content and log buckets, KMS key).
    pub region: String,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub sts: aws_sdk_sts::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub acm: aws_sdk_acm::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub route53: aws_sdk_route53::Client,
    /// IAM is global (its endpoint is in us-east-1): the CI deploy roles and their OIDC provider.
    pub iam: aws_sdk_iam::Client,
    /// Monitoring: alert topics, alarms and rules live in us-east-1 (alarms on CloudFront's
    /// metrics, rules on the global services' events) and, for the S3 and KMS rules, in the
    /// site's region.
    pub monitoring: Monitoring,
    pub requests: RequestCounter,
    /// Set by [`Aws::account_id`]; from then on every S3 call expects the bucket to be this
    /// account's.
    pub bucket_owner: ExpectedBucketOwner,
}

/// The clients of the monitoring resources, in the site's region and in us-east-1.
#[derive(Debug, Clone)]
pub struct Monitoring {
    pub site: Regional,
    pub global: Regional,
    /// CloudFront's metrics and their alarms are in us-east-1.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

/// The clients of one region's alert topic, its key and its rules.
#[derive(Debug, Clone)]
pub struct Regional {
    pub region: String,
    pub sns: aws_sdk_sns::Client,
    pub kms: aws_sdk_kms::Client,
    pub events: aws_sdk_eventbridge::Client,
    /// The trails that record the management events the rules are made from.
    pub cloudtrail: aws_sdk_cloudtrail::Client,
}

impl Monitoring {
    /// The regions with monitoring resources: us-east-1, then the site's if it is another.
    pub fn regions(&self) -> Vec<&Regional> {
        if self.site.region == self.global.region {
            vec![&self.global]
        } else {
            vec![&self.global, &self.site]
        }
    }
}

/// Attempts per call, the first included: the SDK's standard retry mode (exponential backoff with
/// jitter, a retry-token bucket) retries throttling, 5xx answers and transient connection errors.
pub const MAX_ATTEMPTS: u32 = 5;

impl Aws {
    /// Loads credentials and builds the clients. `region` is the site's region if the config names
    /// one; otherwise the profile's or environment's region is used.
    pub async fn connect(
        options: impl Into<ConnectOptions>,
        region: Option<String>,
    ) -> Result<Aws> {
        let settings = options.into();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build(),
            );
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = loader.load().await;
        Aws::from_config(&base, settings.endpoint_url.is_some())
    }

    /// Builds every client from one loaded config. `path_style` is for custom S3 endpoints.
    pub fn from_config(base: &SdkConfig, path_style: bool) -> Result<Aws> {
        let Some(region) = base.region().map(ToString::to_string) else {
            return Err(Error::usage_with_hint(
                "no AWS region for the site's buckets",
                "set `site.region` in sitewarden.toml, pass `--region`, or set `AWS_REGION`",
            ));
        };
        let global = base.to_builder().region(Region::new(US_EAST_1)).build();
        let requests = RequestCounter::default();
        let bucket_owner = ExpectedBucketOwner::default();
        Ok(Aws {
            s3: s3_client(base, &requests, &bucket_owner, path_style),
            kms: client!(aws_sdk_kms, base, requests),
            sts: client!(aws_sdk_sts, base, requests),
            cloudfront: client!(aws_sdk_cloudfront, &global, requests),
            acm: client!(aws_sdk_acm, &global, requests),
            logs: client!(aws_sdk_cloudwatchlogs, &global, requests),
            route53: client!(aws_sdk_route53, &global, requests),
            iam: client!(aws_sdk_iam, &global, requests),
            monitoring: Monitoring {
                site: Regional {
                    region: region.clone(),
                    sns: client!(aws_sdk_sns, base, requests),
                    kms: client!(aws_sdk_kms, base, requests),
                    events: client!(aws_sdk_eventbridge, base, requests),
                    cloudtrail: client!(aws_sdk_cloudtrail, base, requests),
                },
                global: Regional {
                    region: US_EAST_1.to_owned(),
                    sns: client!(aws_sdk_sns, &global, requests),
                    kms: client!(aws_sdk_kms, &global, requests),
                    events: client!(aws_sdk_eventbridge, &global, requests),
                    cloudtrail: client!(aws_sdk_cloudtrail, &global, requests),
                },
                cloudwatch: client!(aws_sdk_cloudwatch, &global, requests),
            },
            region,
            requests,
            bucket_owner,
        })
    }

    /// The account id of the credentials in use (STS GetCallerIdentity). From then on, S3 calls
    /// expect every bucket to belong to this account ([`ExpectedBucketOwner`]).
    pub async fn account_id(&self) -> Result<String> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| Error::aws("GetCallerIdentity", "the AWS credentials", e))?;
        let account = identity.account.ok_or_else(|| {
            Error::Other(anyhow::anyhow!(
                "GetCallerIdentity answered without an account id"
            ))
        })?;
        let _ = self.bucket_owner.0.set(account.clone());
        Ok(account)
    }
}

fn s3_client(
    base: &SdkConfig,
    requests: &RequestCounter,
    bucket_owner: &ExpectedBucketOwner,
    path_style: bool,
) -> aws_sdk_s3::Client {
    // Custom endpoints (the emulator, S3-compatible gateways) do not resolve bucket subdomains.
    let config = aws_sdk_s3::config::Builder::from(base)
        .force_path_style(path_style)
        .interceptor(requests.clone())
        .interceptor(bucket_owner.clone())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// What is percent-encoded when an S3 key goes into a URL path: everything but unreserved
/// characters and `/` (so `*`, CloudFront's invalidation wildcard, is encoded too).
pub const KEY_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `key` percent-encoded with [`KEY_PATH`].
pub fn encode_key(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, KEY_PATH).to_string()
}

/// `x-amz-copy-source` for the current version of a key.
pub fn copy_source_current(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", encode_key(key))
}
