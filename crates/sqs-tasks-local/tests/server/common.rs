use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use sqs_tasks_local::{LocalSqs, LocalSqsBuilder, ManualClock};

/// A server on a free port and a client pointed at it.
///
/// With `SQS_TASKS_LOCAL_STORE=sqlite` in the environment, every server keeps its data in a
/// fresh data directory, so the whole suite runs over the durable store too.
pub(crate) struct Harness {
    pub(crate) server: LocalSqs,
    pub(crate) sqs: Client,
    pub(crate) clock: Option<Arc<ManualClock>>,
    /// Held so the directory outlives the server; removed when the harness is dropped.
    _data_dir: Option<TempDir>,
}

/// A directory removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        let name = format!("sqs-tasks-test-{}-{:016x}", std::process::id(), rand_u64());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("temporary directory");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    hasher.finish()
}

/// Applies the store chosen by the environment.
fn with_store(builder: LocalSqsBuilder) -> (LocalSqsBuilder, Option<TempDir>) {
    match std::env::var("SQS_TASKS_LOCAL_STORE").as_deref() {
        Ok("sqlite") => {
            let dir = TempDir::new();
            (builder.data_dir(&dir.0), Some(dir))
        }
        _ => (builder, None),
    }
}

pub(crate) fn client(endpoint: &str, region: &str) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .build();
    Client::from_conf(config)
}

impl Harness {
    /// A server on the real clock.
    pub(crate) async fn start() -> Self {
        let (builder, data_dir) = with_store(LocalSqs::builder().cooldowns(false));
        let server = builder.start().await.expect("server starts");
        let sqs = client(server.endpoint_url(), "us-east-1");
        Self {
            server,
            sqs,
            clock: None,
            _data_dir: data_dir,
        }
    }

    /// A server whose time moves only when the test advances it.
    pub(crate) async fn with_manual_clock() -> Self {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let (builder, data_dir) = with_store(LocalSqs::builder().clock(clock.clone()));
        let server = builder.start().await.expect("server starts");
        let sqs = client(server.endpoint_url(), "us-east-1");
        Self {
            server,
            sqs,
            clock: Some(clock),
            _data_dir: data_dir,
        }
    }

    /// A server over `dir`, on the manual clock `clock`.
    pub(crate) async fn over(dir: &TempDir, clock: Arc<ManualClock>) -> Self {
        let server = LocalSqs::builder()
            .clock(clock.clone())
            .data_dir(&dir.0)
            .start()
            .await
            .expect("server starts");
        let sqs = client(server.endpoint_url(), "us-east-1");
        Self {
            server,
            sqs,
            clock: Some(clock),
            _data_dir: None,
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock.as_ref().expect("a manual clock").advance(by);
    }

    pub(crate) async fn queue(&self, name: &str) -> String {
        self.sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap()
    }

    pub(crate) async fn queue_with(&self, name: &str, attributes: &[(&str, &str)]) -> String {
        let mut request = self.sqs.create_queue().queue_name(name);
        for (key, value) in attributes {
            request = request.attributes((*key).into(), (*value).to_owned());
        }
        request.send().await.unwrap().queue_url.unwrap()
    }

    pub(crate) async fn send(&self, url: &str, body: &str) -> String {
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .unwrap()
            .message_id
            .unwrap()
    }

    /// Receives without waiting.
    pub(crate) async fn receive(&self, url: &str, max: i32) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .wait_time_seconds(0)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    }

    pub(crate) async fn attribute(&self, url: &str, name: &str) -> Option<String> {
        let name = aws_sdk_sqs::types::QueueAttributeName::from(name);
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .unwrap();
        out.attributes.unwrap_or_default().get(&name).cloned()
    }

    pub(crate) async fn counts(&self, url: &str) -> (u64, u64, u64) {
        let get = |n: &'static str| async move {
            self.attribute(url, n)
                .await
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        (
            get("ApproximateNumberOfMessages").await,
            get("ApproximateNumberOfMessagesNotVisible").await,
            get("ApproximateNumberOfMessagesDelayed").await,
        )
    }
}

/// The legacy error code of a failed SDK call, as the SDK parsed it.
pub(crate) fn code<E, R>(error: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata,
{
    aws_sdk_sqs::error::ProvideErrorMetadata::code(error)
        .unwrap_or("<none>")
        .to_owned()
}

pub(crate) fn message<E, R>(error: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata,
{
    aws_sdk_sqs::error::ProvideErrorMetadata::message(error)
        .unwrap_or("<none>")
        .to_owned()
}
