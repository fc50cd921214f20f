//! Run with: AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324 AWS_REGION=us-east-1 cargo run -p sqs-tasks --example minimal -- jobs

use sqs_tasks::{Message, QueueClient, TaskError, Worker};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = std::env::args().nth(1).unwrap_or_else(|| "jobs".to_owned());
    let client = QueueClient::from_env(queue).await?;
    let handler = |message: Message| async move {
        println!("{}", message.body());
        Ok::<_, TaskError>(())
    };
    let ctrl_c = async { tokio::signal::ctrl_c().await.unwrap_or(()) };
    Worker::builder(client, handler)
        .build()?
        .run(ctrl_c)
        .await?;
    Ok(())
}
