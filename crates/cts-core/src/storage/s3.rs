//! S3-compatible stores (OBS and others): the client, its retries, and its credentials.

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

use crate::error::{Error, Result};

/// Connection options for S3-compatible stores. Unset options fall back to the usual `AWS_*`
/// environment variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`).
#[derive(Debug, Clone, Default)]
pub struct StorageOptions {
    /// Endpoint URL, e.g. `https://obs.eu-de.otc.t-systems.com` or `http://127.0.0.1:8333`.
    pub endpoint: Option<String>,
    /// Signing region, e.g. `eu-de`.
    pub region: Option<String>,
    /// Access key ID.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Session token, for temporary credentials.
    pub session_token: Option<String>,
    /// Address buckets as `bucket.endpoint` rather than `endpoint/bucket`.
    pub virtual_hosted_style: bool,
    /// Retries of a failed request, with exponential backoff (default 10).
    pub max_retries: Option<usize>,
    /// Time after which a request is not retried any more (default 3 minutes).
    pub retry_timeout: Option<std::time::Duration>,
}

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
