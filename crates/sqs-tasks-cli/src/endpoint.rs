//! Which SQS the command talks to: `--endpoint`, the standard AWS environment, or the local
//! server's default address when there is no AWS configuration at all.

mod errors;

pub(crate) use errors::queue_name;

use std::path::PathBuf;

use aws_config::BehaviorVersion;
use aws_sdk_sqs::config::{Credentials, Region};

use crate::error::CliError;

/// Where `sqs-tasks serve` listens by default, and where commands go without configuration.
pub(crate) const LOCAL_DEFAULT: &str = "http://127.0.0.1:9324";

/// The region used with the local server when none is configured.
pub(crate) const LOCAL_REGION: &str = "us-east-1";

/// Environment variables whose presence means "this machine is configured for AWS".
const AWS_SETTINGS: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// The endpoint and region a command talks to, and why.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The URL requests go to.
    pub(crate) url: String,
    /// The region requests are signed for.
    pub(crate) region: String,
    /// Where the endpoint came from, in words.
    pub(crate) source: String,
    /// True for the local server's default address, so errors can suggest starting it.
    pub(crate) local_default: bool,
}

/// An SDK client with the endpoint it was built for.
#[derive(Debug, Clone)]
pub(crate) struct Sqs {
    sdk: aws_sdk_sqs::Client,
    endpoint: Endpoint,
}

impl Sqs {
    /// A client for an endpoint this process knows to be a local server (the demo's own).
    pub(crate) fn local(url: &str, source: &str) -> Self {
        let endpoint = Endpoint {
            url: url.to_owned(),
            region: LOCAL_REGION.to_owned(),
            source: source.to_owned(),
            local_default: false,
        };
        Sqs {
            sdk: local_client(url, LOCAL_REGION),
            endpoint,
        }
    }

    pub(crate) fn sdk(&self) -> &aws_sdk_sqs::Client {
        &self.sdk
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The URL of the queue `name`; a URL is returned as is.
    pub(crate) async fn queue_url(&self, name: &str) -> Result<String, CliError> {
        if name.starts_with("http://") || name.starts_with("https://") {
            return Ok(name.to_owned());
        }
        let output = self.sdk.get_queue_url().queue_name(name).send().await;
        let output = output.map_err(|err| self.sdk_error(err, Some(name)))?;
        output
            .queue_url
            .ok_or_else(|| CliError::failed(format!("SQS returned no URL for queue `{name}`")))
    }

    /// A framework client for the queue `name` (or URL), with actionable errors.
    pub(crate) async fn queue(&self, name: &str) -> Result<sqs_tasks::QueueClient, CliError> {
        sqs_tasks::QueueClient::new(self.sdk.clone(), name)
            .await
            .map_err(|err| self.framework_error(&err, name))
    }

    /// Like [`queue`](Self::queue), with long polls of `wait` at most. A worker that stops
    /// waits for its poll in flight (so no message it brings is left hidden), so a short
    /// wait makes stops quick where they are expected, at the price of more requests.
    pub(crate) async fn queue_polling(
        &self,
        name: &str,
        wait: std::time::Duration,
    ) -> Result<sqs_tasks::QueueClient, CliError> {
        sqs_tasks::QueueClient::builder(self.sdk.clone())
            .queue(name)
            .wait_time(wait)
            .build()
            .await
            .map_err(|err| self.framework_error(&err, name))
    }
}

/// Resolves the endpoint and region, and builds the client.
pub(crate) async fn connect(flag: Option<&str>, region: Option<&str>) -> Result<Sqs, CliError> {
    if !aws_configured() {
        let url = flag.unwrap_or(LOCAL_DEFAULT);
        let region = region.unwrap_or(LOCAL_REGION);
        let source = match flag {
            Some(_) => "--endpoint; no AWS configuration, so dummy credentials",
            None => "local default: no endpoint and no AWS configuration found",
        };
        let endpoint = Endpoint {
            url: url.to_owned(),
            region: region.to_owned(),
            source: source.to_owned(),
            local_default: flag.is_none(),
        };
        let sdk = local_client(url, region);
        return Ok(Sqs { sdk, endpoint });
    }

    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let config = loader.load().await;
    let region = config.region().map(ToString::to_string).ok_or_else(|| {
        CliError::failed(
            "no AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION), \
             or pass --region",
        )
    })?;

    // The endpoint is resolved here, in the SDK's own order, and then set explicitly, so that
    // the endpoint announced is the one used. Known gap: an `endpoint_url` in a profile's
    // `services` section is not read here; AWS_ENDPOINT_URL_SQS or --endpoint override it.
    let (url, source) = match configured_endpoint(flag, config.endpoint_url()) {
        Some((url, source)) => (Some(url), source),
        None => (None, "AWS"),
    };
    let mut builder = aws_sdk_sqs::config::Builder::from(&config);
    if let Some(url) = &url {
        builder = builder.endpoint_url(url);
        if is_loopback(url) && !credentials_configured() {
            builder = builder.credentials_provider(dummy_credentials());
        }
    }
    let endpoint = Endpoint {
        url: url.unwrap_or_else(|| format!("https://sqs.{region}.amazonaws.com")),
        region,
        source: source.to_owned(),
        local_default: false,
    };
    let sdk = aws_sdk_sqs::Client::from_conf(builder.build());
    Ok(Sqs { sdk, endpoint })
}

/// The explicit endpoint, if any, with where it came from.
fn configured_endpoint(
    flag: Option<&str>,
    from_config: Option<&str>,
) -> Option<(String, &'static str)> {
    if let Some(url) = flag {
        return Some((url.to_owned(), "--endpoint"));
    }
    if env_flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        return None;
    }
    if let Some(url) = env_value("AWS_ENDPOINT_URL_SQS") {
        return Some((url, "AWS_ENDPOINT_URL_SQS"));
    }
    if let Some(url) = env_value("AWS_ENDPOINT_URL") {
        return Some((url, "AWS_ENDPOINT_URL"));
    }
    from_config.map(|url| (url.to_owned(), "AWS profile endpoint_url"))
}

/// True when any AWS setting is present: a region, a profile, credentials, or a config file.
fn aws_configured() -> bool {
    AWS_SETTINGS.iter().any(|name| env_value(name).is_some()) || config_files_exist()
}

/// True when credentials could come from somewhere other than the dummy ones.
fn credentials_configured() -> bool {
    let names = AWS_SETTINGS.iter().filter(|name| !name.contains("REGION"));
    names.into_iter().any(|name| env_value(name).is_some()) || config_files_exist()
}

fn config_files_exist() -> bool {
    let home = env_value("HOME").map(PathBuf::from);
    let config = env_value("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/config")));
    let credentials = env_value("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials")));
    [config, credentials]
        .into_iter()
        .flatten()
        .any(|path| path.is_file())
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_flag(name: &str) -> bool {
    env_value(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn is_loopback(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    ["127.", "localhost", "[::1]"]
        .iter()
        .any(|prefix| host.starts_with(prefix))
}

fn dummy_credentials() -> Credentials {
    Credentials::new("local", "local", None, None, "sqs-tasks-local")
}

/// A client for a server that takes any credentials.
fn local_client(url: &str, region: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(dummy_credentials())
        .endpoint_url(url)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:9324"));
        assert!(is_loopback("http://localhost:4566"));
        assert!(!is_loopback("https://sqs.eu-west-1.amazonaws.com"));
    }

    #[test]
    fn the_flag_wins_over_configuration() {
        let (url, source) = configured_endpoint(Some("http://a"), Some("http://b")).unwrap();
        assert_eq!((url.as_str(), source), ("http://a", "--endpoint"));
    }
}
