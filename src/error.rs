//! Errors as the user sees them (`error:` line, `Caused by:` chain, `hint:`) and the exit codes.

use std::fmt::Write as _;
use std::process::ExitCode;

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::config::ConfigError;

/// Every way sitewarden can end. One enum so the mapping to numbers lives in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done.
    Success = 0,
    /// AWS, network or another runtime failure.
    Failure = 1,
    /// Invalid usage, config or input; nothing was changed remotely.
    Usage = 2,
    /// `audit` found failures at or above `--fail-on`.
    AuditFailed = 3,
    /// `plan --detailed-exitcode` found pending changes.
    ChangesPending = 4,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// The AWS error codes sitewarden tells apart (and two of its own for answers without a code).
pub mod code {
    pub const ACCESS_DENIED: &str = "AccessDenied";
    pub const ACCESS_DENIED_EXCEPTION: &str = "AccessDeniedException";
    /// S3: the body does not match its `x-amz-checksum-*` or Content-MD5.
    pub const BAD_DIGEST: &str = "BadDigest";
    pub const BUCKET_ALREADY_EXISTS: &str = "BucketAlreadyExists";
    pub const BUCKET_ALREADY_OWNED_BY_YOU: &str = "BucketAlreadyOwnedByYou";
    pub const CONDITIONAL_REQUEST_CONFLICT: &str = "ConditionalRequestConflict";
    /// CloudWatch Logs: the resource exists (or tags were given for one that exists).
    pub const CONFLICT_EXCEPTION: &str = "ConflictException";
    pub const EXPIRED_TOKEN: &str = "ExpiredToken";
    pub const EXPIRED_TOKEN_EXCEPTION: &str = "ExpiredTokenException";
    pub const INVALID_ACCESS_KEY_ID: &str = "InvalidAccessKeyId";
    pub const INVALID_CLIENT_TOKEN_ID: &str = "InvalidClientTokenId";
    pub const LIMIT_EXCEEDED_EXCEPTION: &str = "LimitExceededException";
    pub const NO_SUCH_BUCKET: &str = "NoSuchBucket";
    pub const NO_SUCH_BUCKET_POLICY: &str = "NoSuchBucketPolicy";
    pub const NO_SUCH_DISTRIBUTION: &str = "NoSuchDistribution";
    pub const NO_SUCH_FUNCTION_EXISTS: &str = "NoSuchFunctionExists";
    pub const NO_SUCH_KEY: &str = "NoSuchKey";
    pub const NO_SUCH_LIFECYCLE_CONFIGURATION: &str = "NoSuchLifecycleConfiguration";
    pub const NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION: &str =
        "NoSuchPublicAccessBlockConfiguration";
    pub const NO_SUCH_TAG_SET: &str = "NoSuchTagSet";
    pub const NO_SUCH_TAG_SET_ERROR: &str = "NoSuchTagSetError";
    pub const NO_SUCH_VERSION: &str = "NoSuchVersion";
    pub const NO_SUCH_WEBSITE_CONFIGURATION: &str = "NoSuchWebsiteConfiguration";
    pub const NOT_FOUND: &str = "NotFound";
    pub const NOT_FOUND_EXCEPTION: &str = "NotFoundException";
    pub const ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS: &str = "OriginAccessControlAlreadyExists";
    pub const OWNERSHIP_CONTROLS_NOT_FOUND_ERROR: &str = "OwnershipControlsNotFoundError";
    pub const PRECONDITION_FAILED: &str = "PreconditionFailed";
    pub const REQUEST_FAILED: &str = "RequestFailed";
    pub const RESOURCE_IN_USE_EXCEPTION: &str = "ResourceInUseException";
    pub const RESOURCE_NOT_FOUND_EXCEPTION: &str = "ResourceNotFoundException";
    pub const SERVER_SIDE_ENCRYPTION_CONFIGURATION_NOT_FOUND_ERROR: &str =
        "ServerSideEncryptionConfigurationNotFoundError";
    pub const SIGNATURE_DOES_NOT_MATCH: &str = "SignatureDoesNotMatch";
    /// S3's throttling answer (503).
    pub const SLOW_DOWN: &str = "SlowDown";
    /// Throttling: REST-XML and query services (CloudFront, Route 53, STS).
    pub const THROTTLING: &str = "Throttling";
    /// Throttling: JSON services (KMS, ACM, CloudWatch Logs).
    pub const THROTTLING_EXCEPTION: &str = "ThrottlingException";
    /// S3: the body does not match `SigV4`'s signed payload hash.
    pub const X_AMZ_CONTENT_SHA256_MISMATCH: &str = "XAmzContentSHA256Mismatch";
    pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
    pub const TOO_MANY_REQUESTS_EXCEPTION: &str = "TooManyRequestsException";
    /// Route 53: a change to the same zone is still in progress.
    pub const PRIOR_REQUEST_NOT_COMPLETE: &str = "PriorRequestNotComplete";
    pub const TOO_MANY_BUCKETS: &str = "TooManyBuckets";
    pub const TOO_MANY_DISTRIBUTIONS: &str = "TooManyDistributions";
    pub const UNAUTHORIZED_OPERATION: &str = "UnauthorizedOperation";
    pub const UNEXPECTED_RESPONSE: &str = "UnexpectedResponse";
    pub const UNRECOGNIZED_CLIENT_EXCEPTION: &str = "UnrecognizedClientException";
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The user's input (flags, paths, files) cannot be used.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// An AWS call failed.
    #[error("{operation} failed for {resource}: {code}: {message}")]
    Aws {
        operation: &'static str,
        resource: String,
        code: String,
        message: String,
        hint: Option<String>,
    },
    /// A run-time failure sitewarden can explain, such as a live resource it must not overwrite.
    #[error("{message}")]
    Failure {
        message: String,
        hint: Option<String>,
    },
    /// Anything else at run time (I/O, unexpected responses).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Other(anyhow::Error::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A run-time failure (exit 1) with what to do about it.
    pub fn failure_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Failure {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A failure found before anything was written is the user's to resolve (exit 2: nothing
    /// changed remotely); other errors stay as they are.
    #[must_use]
    pub fn before_any_change(self) -> Error {
        match self {
            Error::Failure { message, hint } => Error::Usage { message, hint },
            other => other,
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Error::Config(_) | Error::Usage { .. } => Exit::Usage,
            Error::Aws { .. } | Error::Failure { .. } | Error::Other(_) => Exit::Failure,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Usage { hint, .. } | Error::Aws { hint, .. } | Error::Failure { hint, .. } => {
                hint.clone()
            }
            Error::Other(_) => None,
        }
    }

    /// Wraps a failed SDK call: operation, the resource in question, and AWS's code and message.
    #[allow(clippy::needless_pass_by_value)] // takes the error as `map_err` hands it over
    pub fn aws<E>(operation: &'static str, resource: impl std::fmt::Display, err: E) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let resource = resource.to_string();
        let (code, message) = if let Some(code) = err.code() {
            (code.to_owned(), err.message().unwrap_or("").to_owned())
        } else {
            // No AWS error code: either the request never got an answer (connection refused,
            // timeout, DNS) or the answer could not be understood.
            let text = err.to_string();
            let code = if text.starts_with("dispatch failure") || text.starts_with("timeout") {
                code::REQUEST_FAILED
            } else {
                code::UNEXPECTED_RESPONSE
            };
            (code.to_owned(), error_chain(&err))
        };
        let hint = aws_hint(&code, &resource);
        Error::Aws {
            operation,
            resource,
            code,
            message,
            hint,
        }
    }

    /// The text printed on stderr: `error:` line, `Caused by:` chain and `hint:`.
    pub fn render(&self) -> String {
        let mut out = format!("error: {self}\n");
        let mut source = std::error::Error::source(self);
        if matches!(self, Error::Other(_)) {
            // anyhow's Display shows only the outermost context; its chain follows as causes.
            source = None;
            if let Error::Other(e) = self {
                let causes: Vec<String> = e.chain().skip(1).map(ToString::to_string).collect();
                write_causes(&mut out, &causes);
            }
        }
        let mut causes = Vec::new();
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        write_causes(&mut out, &causes);
        if let Some(hint) = self.hint() {
            let _ = writeln!(out, "hint: {hint}");
        }
        out
    }
}

fn write_causes(out: &mut String, causes: &[String]) {
    if causes.is_empty() {
        return;
    }
    out.push_str("\nCaused by:\n");
    for (i, cause) in causes.iter().enumerate() {
        let _ = writeln!(out, "  {i}: {cause}");
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// What to do about the AWS errors users meet most.
fn aws_hint(code: &str, resource: &str) -> Option<String> {
    let hint = match code {
        code::ACCESS_DENIED | code::ACCESS_DENIED_EXCEPTION | code::UNAUTHORIZED_OPERATION => {
            "the credentials in use lack this permission; `sitewarden iam-policy` prints the policy \
             sitewarden needs"
                .to_owned()
        }
        code::BUCKET_ALREADY_EXISTS => format!(
            "bucket names are global and {resource} belongs to another account; set `site.bucket` \
             to a name of your own or choose another `site.name`"
        ),
        code::EXPIRED_TOKEN | code::EXPIRED_TOKEN_EXCEPTION | code::INVALID_CLIENT_TOKEN_ID
        | code::UNRECOGNIZED_CLIENT_EXCEPTION | code::INVALID_ACCESS_KEY_ID | code::SIGNATURE_DOES_NOT_MATCH => {
            "the AWS credentials are invalid or expired; check `--profile`, `AWS_PROFILE` or \
             `aws sso login`"
                .to_owned()
        }
        code::REQUEST_FAILED => {
            "AWS could not be reached; check the network, `--region` and `--endpoint-url`".to_owned()
        }
        code::SLOW_DOWN
        | code::THROTTLING
        | code::THROTTLING_EXCEPTION
        | code::REQUEST_LIMIT_EXCEEDED
        | code::TOO_MANY_REQUESTS_EXCEPTION
        | code::PRIOR_REQUEST_NOT_COMPLETE => {
            "AWS throttled this call and it was retried with backoff; wait a minute and run the \
             command again (it resumes where it stopped), or lower `deploy.concurrency` if \
             deploys meet this often"
                .to_owned()
        }
        code::BAD_DIGEST | code::X_AMZ_CONTENT_SHA256_MISMATCH => format!(
            "S3 refused {resource}: the bytes it received do not match the SHA-256 taken when the \
             file was hashed (the file changed since, or the body was corrupted on the way); \
             nothing was published for it: run the deploy again"
        ),
        code::TOO_MANY_DISTRIBUTIONS | code::LIMIT_EXCEEDED_EXCEPTION | code::TOO_MANY_BUCKETS => {
            "an account quota is reached; request an increase in Service Quotas or remove unused \
             resources"
                .to_owned()
        }
        _ => return None,
    };
    Some(hint)
}

/// Attaches the operation and resource to a failed SDK call.
pub trait AwsResultExt<T> {
    /// Any error becomes [`Error::Aws`] naming `operation` and `resource` (a string or a
    /// [`crate::names::Resource`]).
    fn op(self, operation: &'static str, resource: &(impl std::fmt::Display + ?Sized))
    -> Result<T>;
    /// The error codes in `missing` mean "not there" (`Ok(None)`); others become [`Error::Aws`].
    fn or_missing(
        self,
        missing: &[&str],
        operation: &'static str,
        resource: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Option<T>>;
}

impl<T, E> AwsResultExt<T> for std::result::Result<T, E>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn op(
        self,
        operation: &'static str,
        resource: &(impl std::fmt::Display + ?Sized),
    ) -> Result<T> {
        self.map_err(|e| Error::aws(operation, resource, e))
    }

    fn or_missing(
        self,
        missing: &[&str],
        operation: &'static str,
        resource: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code().is_some_and(|c| missing.contains(&c)) => Ok(None),
            Err(e) => Err(Error::aws(operation, resource, e)),
        }
    }
}

impl From<aws_smithy_types::error::operation::BuildError> for Error {
    fn from(e: aws_smithy_types::error::operation::BuildError) -> Error {
        Error::Other(anyhow::Error::new(e).context("building an AWS request"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_numbers() {
        assert_eq!(Exit::Success as u8, 0);
        assert_eq!(Exit::Failure as u8, 1);
        assert_eq!(Exit::Usage as u8, 2);
        assert_eq!(Exit::AuditFailed as u8, 3);
        assert_eq!(Exit::ChangesPending as u8, 4);
    }

    #[test]
    fn render_shows_causes_and_hint() {
        let err =
            Error::Other(anyhow::anyhow!("disk full").context("cannot write `sitewarden.toml`"));
        assert_eq!(
            err.render(),
            "error: cannot write `sitewarden.toml`\n\nCaused by:\n  0: disk full\n"
        );
        let err = Error::usage_with_hint("`dist` does not exist", "build the site first");
        assert_eq!(err.exit(), Exit::Usage);
        assert_eq!(
            err.render(),
            "error: `dist` does not exist\nhint: build the site first\n"
        );
    }

    #[test]
    fn bucket_taken_hint_names_the_bucket() {
        let hint = aws_hint("BucketAlreadyExists", "bucket `docs-site-1`").unwrap();
        assert!(hint.contains("bucket `docs-site-1` belongs to another account"));
        assert_eq!(aws_hint("NoSuchKey", "x"), None);
    }

    #[test]
    fn throttling_in_every_protocol_gets_the_retry_hint() {
        for code in [
            "SlowDown",
            "Throttling",
            "ThrottlingException",
            "PriorRequestNotComplete",
        ] {
            let hint = aws_hint(code, "x").unwrap();
            assert!(
                hint.contains("throttled") && hint.contains("run the"),
                "{hint}"
            );
        }
    }
}
