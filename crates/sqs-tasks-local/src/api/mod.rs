//! The SQS actions: each validates its parameters, asks the engine, and shapes the answer.
//!
//! Actions take and return JSON objects shaped like the AWS JSON protocol's; the protocol
//! layer turns other encodings into and out of that shape.

mod messages;
mod queues;
pub(crate) mod validate;

use std::sync::Arc;

use serde_json::Value;

use crate::engine::Engine;
use crate::engine::queue::Queue;
use crate::error::{ErrorCode, SqsError};
use crate::protocol::params::Params;

/// Who asked, and where: what every action needs besides its parameters.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub(crate) engine: &'a Engine,
    /// From the request's signature, so each region is its own namespace.
    pub(crate) region: String,
    /// Scheme and authority the client used (`http://127.0.0.1:9324`), for queue URLs it can
    /// reach.
    pub(crate) base_url: String,
    /// The access key that signed the request, reported as the messages' `SenderId`.
    pub(crate) sender_id: String,
}

impl Context<'_> {
    pub(crate) fn queue_url(&self, queue: &Queue) -> String {
        format!(
            "{}/{}/{}",
            self.base_url, self.engine.config.account_id, queue.name
        )
    }

    /// The queue a `QueueUrl` member names.
    pub(crate) fn queue(&self, params: &Params) -> Result<Arc<Queue>, SqsError> {
        let url = params.str("QueueUrl")?;
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
            None => url,
        };
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let [account, name] = segments[..] else {
            return Err(SqsError::new(
                ErrorCode::InvalidAddress,
                format!("The address {url} is not valid for this endpoint."),
            ));
        };
        if account != self.engine.config.account_id {
            return Err(SqsError::queue_does_not_exist());
        }
        self.engine.queue(&self.region, name)
    }
}

/// Runs one action. `Ok` holds the response members.
///
/// Cancel safety: every action makes its change before its first await (which waits for the
/// change to be committed by a durable store); dropping the future then loses no change.
/// A dropped ReceiveMessage may have received messages: they come back after their
/// visibility timeout, as after any lost answer.
pub(crate) async fn dispatch(
    context: &Context<'_>,
    action: &str,
    params: Params,
) -> Result<Value, SqsError> {
    match action {
        "CreateQueue" => queues::create_queue(context, &params).await,
        "GetQueueUrl" => queues::get_queue_url(context, &params).await,
        "ListQueues" => queues::list_queues(context, &params).await,
        "DeleteQueue" => queues::delete_queue(context, &params).await,
        "GetQueueAttributes" => queues::get_queue_attributes(context, &params).await,
        "SetQueueAttributes" => queues::set_queue_attributes(context, &params).await,
        "PurgeQueue" => queues::purge_queue(context, &params).await,
        "TagQueue" => queues::tag_queue(context, &params).await,
        "UntagQueue" => queues::untag_queue(context, &params).await,
        "ListQueueTags" => queues::list_queue_tags(context, &params).await,
        "ListDeadLetterSourceQueues" => {
            queues::list_dead_letter_source_queues(context, &params).await
        }
        "SendMessage" => messages::send_message(context, &params).await,
        "SendMessageBatch" => messages::send_message_batch(context, &params).await,
        "ReceiveMessage" => messages::receive_message(context, &params).await,
        "DeleteMessage" => messages::delete_message(context, &params).await,
        "DeleteMessageBatch" => messages::delete_message_batch(context, &params).await,
        "ChangeMessageVisibility" => messages::change_message_visibility(context, &params).await,
        "ChangeMessageVisibilityBatch" => {
            messages::change_message_visibility_batch(context, &params).await
        }
        "AddPermission"
        | "RemovePermission"
        | "StartMessageMoveTask"
        | "CancelMessageMoveTask"
        | "ListMessageMoveTasks" => Err(SqsError::new(
            ErrorCode::UnsupportedOperation,
            format!("{action} is not supported by this server yet."),
        )),
        _ => Err(SqsError::new(
            ErrorCode::UnknownOperation,
            format!("The action {action} is not valid for this endpoint."),
        )),
    }
}

/// One failed entry of a batch, in the `Failed` list's form.
pub(crate) fn batch_failure(id: &str, error: &SqsError) -> Value {
    serde_json::json!({
        "Id": id,
        "SenderFault": error.code.fault() == "Sender",
        "Code": error.code.legacy_code(),
        "Message": error.message,
    })
}
