//! Integration tests of the framework, against the embedded server or, when
//! `SQS_TASKS_TEST_ENDPOINT` names one, another SQS implementation.

mod harness;

mod client;
mod dead_letter;
mod lifecycle;
mod worker;
