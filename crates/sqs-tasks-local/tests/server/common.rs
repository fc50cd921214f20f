use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use sqs_tasks_local::{LocalSqs, ManualClock};

/// A server on a free port and a client pointed at it.
pub(crate) struct Harness {
    pub(crate) server: LocalSqs,
    pub(crate) sqs: Client,
    pub(crate) clock: Option<Arc<ManualClock>>,
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
        let server = LocalSqs::builder()
            .cooldowns(false)
            .start()
            .await
            .expect("server starts");
        let sqs = client(server.endpoint_url(), "us-east-1");
        Self {
            server,
            sqs,
            clock: None,
        }
    }

    /// A server whose time moves only when the test advances it.
    pub(crate) async fn with_manual_clock() -> Self {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let server = LocalSqs::builder()
            .clock(clock.clone())
            .start()
            .await
            .expect("server starts");
        let sqs = client(server.endpoint_url(), "us-east-1");
        Self {
            server,
            sqs,
            clock: Some(clock),
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
