//! `sqs-tasks queue list`.

use crate::endpoint::{Sqs, queue_name};
use crate::error::CliError;

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only queues whose name starts with this.
    #[arg(long)]
    prefix: Option<String>,
    /// Print URLs instead of names.
    #[arg(long)]
    urls: bool,
}

pub(crate) async fn run(args: ListArgs, sqs: &Sqs) -> Result<(), CliError> {
    for url in list_urls(sqs, args.prefix.as_deref()).await? {
        if args.urls {
            println!("{url}");
        } else {
            println!("{}", queue_name(&url));
        }
    }
    Ok(())
}

/// Every queue URL, following SQS's pages.
pub(crate) async fn list_urls(sqs: &Sqs, prefix: Option<&str>) -> Result<Vec<String>, CliError> {
    let mut urls = Vec::new();
    let mut token = None;
    loop {
        let request = sqs
            .sdk()
            .list_queues()
            .set_queue_name_prefix(prefix.map(str::to_owned))
            .max_results(1000)
            .set_next_token(token);
        let output = request
            .send()
            .await
            .map_err(|err| sqs.sdk_error(err, None))?;
        urls.extend(output.queue_urls.unwrap_or_default());
        token = output.next_token;
        if token.is_none() {
            break;
        }
    }
    urls.sort();
    Ok(urls)
}
