//! Actions on queues: create, find, list, delete, attributes, purge, tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN;
use serde_json::{Map, Value, json};

use super::Context;
use super::validate;
use crate::engine::attributes::READABLE;
use crate::engine::queue::Queue;
use crate::error::{ErrorCode, SqsError};
use crate::protocol::params::Params;

const MAX_TAGS: usize = 50;

pub(super) async fn create_queue(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let name = params.str("QueueName")?;
    validate::queue_name(name)?;
    let attributes = params.str_map("Attributes")?;
    let tags = params.str_map("tags")?;
    check_tags(&tags, 0)?;
    let (queue, commit) = cx
        .engine
        .create_queue(&cx.region, name, &attributes, tags)?;
    commit.wait().await?;
    Ok(json!({ "QueueUrl": cx.queue_url(&queue) }))
}

pub(super) async fn get_queue_url(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let name = params.str("QueueName")?;
    if let Some(owner) = params.opt_str("QueueOwnerAWSAccountId")?
        && owner != cx.engine.config.account_id
    {
        return Err(SqsError::queue_does_not_exist());
    }
    let queue = cx.engine.queue(&cx.region, name)?;
    Ok(json!({ "QueueUrl": cx.queue_url(&queue) }))
}

/// One page of queue URLs under `key`, after the name a `NextToken` carries. A token is
/// returned only when `MaxResults` was given and more queues follow, as SQS does.
fn page(
    cx: &Context<'_>,
    params: &Params,
    queues: Vec<Arc<Queue>>,
    key: &str,
) -> Result<Value, SqsError> {
    let max_results = validate::in_range(
        params.opt_int("MaxResults")?,
        "MaxResults",
        1,
        1000,
        "MaxResults must be an integer between 1 and 1000.",
    )?;
    let after = match params.opt_str("NextToken")? {
        None => None,
        Some(token) => Some(
            TOKEN
                .decode(token)
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
                .ok_or_else(|| SqsError::invalid_value(token, "NextToken", "Invalid token."))?,
        ),
    };
    let limit = max_results.unwrap_or(1000) as usize;
    let mut queues: Vec<_> = queues
        .into_iter()
        .filter(|q| after.as_deref().is_none_or(|after| q.name.as_str() > after))
        .take(limit + 1)
        .collect();
    let more = queues.len() > limit;
    queues.truncate(limit);

    let mut result = Map::new();
    if !queues.is_empty() {
        let urls: Vec<String> = queues.iter().map(|q| cx.queue_url(q)).collect();
        result.insert(key.into(), json!(urls));
    }
    if let Some(last) = queues.last().filter(|_| more && max_results.is_some()) {
        result.insert("NextToken".into(), json!(TOKEN.encode(&last.name)));
    }
    Ok(Value::Object(result))
}

pub(super) async fn list_queues(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let prefix = params.opt_str("QueueNamePrefix")?.unwrap_or_default();
    let queues = cx.engine.list_queues(&cx.region, prefix);
    page(cx, params, queues, "QueueUrls")
}

pub(super) async fn delete_queue(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    cx.engine.delete_queue(&queue).wait().await?;
    Ok(json!({}))
}

pub(super) async fn get_queue_attributes(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let requested = params.opt_str_list("AttributeNames")?.unwrap_or_default();
    for name in &requested {
        if *name != "All" && !READABLE.contains(name) {
            return Err(SqsError::new(
                ErrorCode::InvalidAttributeName,
                format!("Unknown Attribute {name}."),
            ));
        }
    }
    let all = requested.contains(&"All");
    let wanted = |name: &str| all || requested.contains(&name);

    let now = cx.engine.now();
    let (counts, commit) = queue.counts(now);
    commit.wait().await?;
    let state = queue.lock();
    let mut attributes = BTreeMap::new();
    for name in READABLE {
        if !wanted(name) {
            continue;
        }
        let value = match *name {
            "ApproximateNumberOfMessages" => Some(counts.visible.to_string()),
            "ApproximateNumberOfMessagesNotVisible" => Some(counts.in_flight.to_string()),
            "ApproximateNumberOfMessagesDelayed" => Some(counts.delayed.to_string()),
            "CreatedTimestamp" => Some((queue.created_at / 1000).to_string()),
            "LastModifiedTimestamp" => Some((state.last_modified / 1000).to_string()),
            "QueueArn" => Some(queue.arn.clone()),
            other => state.attributes.get(other),
        };
        if let Some(value) = value {
            attributes.insert(*name, value);
        }
    }
    drop(state);
    if attributes.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Attributes": attributes }))
}

pub(super) async fn set_queue_attributes(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let attributes = params.str_map("Attributes")?;
    cx.engine
        .set_attributes(&queue, &attributes)?
        .wait()
        .await?;
    Ok(json!({}))
}

pub(super) async fn purge_queue(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    queue
        .purge(cx.engine.now(), cx.engine.config.cooldowns)?
        .wait()
        .await?;
    Ok(json!({}))
}

fn check_tags(tags: &BTreeMap<String, String>, existing: usize) -> Result<(), SqsError> {
    if tags.len() + existing > MAX_TAGS {
        return Err(SqsError::new(
            ErrorCode::InvalidParameterValue,
            format!("Too many tags: a queue can have at most {MAX_TAGS}."),
        ));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(SqsError::invalid_value(
                key,
                "TagKey",
                "Tag keys must be between 1 and 128 characters long.",
            ));
        }
        if value.chars().count() > 256 {
            return Err(SqsError::invalid_value(
                value,
                "TagValue",
                "Tag values must be at most 256 characters long.",
            ));
        }
    }
    Ok(())
}

pub(super) async fn tag_queue(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let tags = params.str_map("Tags")?;
    if tags.is_empty() {
        return Err(SqsError::missing("Tags"));
    }
    check_tags(&tags, 0)?;
    let commit = {
        let mut state = queue.lock();
        let added = tags.keys().filter(|k| !state.tags.contains_key(*k)).count();
        if state.tags.len() + added > MAX_TAGS {
            return Err(SqsError::new(
                ErrorCode::InvalidParameterValue,
                format!("Too many tags: a queue can have at most {MAX_TAGS}."),
            ));
        }
        state.tags.extend(tags);
        queue.record_changed(&mut state)
    };
    commit.wait().await?;
    Ok(json!({}))
}

pub(super) async fn untag_queue(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let keys = params
        .opt_str_list("TagKeys")?
        .ok_or_else(|| SqsError::missing("TagKeys"))?;
    let commit = {
        let mut state = queue.lock();
        for key in keys {
            state.tags.remove(key);
        }
        queue.record_changed(&mut state)
    };
    commit.wait().await?;
    Ok(json!({}))
}

pub(super) async fn list_queue_tags(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let state = queue.lock();
    if state.tags.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Tags": state.tags }))
}

pub(super) async fn list_dead_letter_source_queues(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let sources = cx.engine.dead_letter_sources(&queue);
    // The member is spelt in lower camel case in SQS's model, unlike ListQueues's.
    let mut result = page(cx, params, sources, "queueUrls")?;
    if let Some(members) = result.as_object_mut() {
        members.entry("queueUrls").or_insert_with(|| json!([]));
    }
    Ok(result)
}
