//! S3-compatible stores (OBS and others): the client, its retries, and its credentials.

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

use crate::error::{Error, Result};
use crate::storage::StorageOptions;

/// Environment variables that give credentials some other way than a key pair: a web identity,
/// a container's credentials endpoint, an instance metadata endpoint named outright, or
/// unsigned requests.
const OTHER_CREDENTIALS: [&str; 5] = [
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_METADATA_ENDPOINT",
    "AWS_SKIP_SIGNATURE",
];

/// The store of one bucket. Without an access key (in `options` or the environment) and without
/// another source of credentials, fails with [`Error::NoCredentials`] rather than ask an
/// instance metadata service that OBS hosts do not have.
pub(crate) fn store(bucket: &str, options: &StorageOptions) -> Result<impl ObjectStore + use<>> {
    let invalid = |reason: String| Error::InvalidLocation {
        location: format!("s3://{bucket}/"),
        reason,
    };

    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = &options.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    let endpoint = options
        .endpoint
        .clone()
        .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::Endpoint));
    if endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"))
    {
        builder = builder.with_allow_http(true);
    }
    if let Some(region) = &options.region {
        builder = builder.with_region(region);
    }
    if let Some(key) = &options.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &options.secret_access_key {
        builder = builder.with_secret_access_key(secret);
    }
    if let Some(token) = &options.session_token {
        builder = builder.with_token(token);
    }
    let has_key = builder
        .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
        .is_some_and(|k| !k.is_empty());
    let other = OTHER_CREDENTIALS
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !has_key && !other {
        return Err(Error::NoCredentials {
            location: format!("s3://{bucket}/"),
        });
    }
    builder = builder.with_virtual_hosted_style_request(options.virtual_hosted_style);
    let mut retry = object_store::RetryConfig::default();
    if let Some(n) = options.max_retries {
        retry.max_retries = n;
    }
    if let Some(t) = options.retry_timeout {
        retry.retry_timeout = t;
    }
    builder
        .with_retry(retry)
        .build()
        .map_err(|e| invalid(e.to_string()))
}
