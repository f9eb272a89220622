//! Root-only execution with a broadcast result: the engine behind `#[root_process]`.

use super::comm::Comm;
use super::message::{self, Frame, Label};
use super::scope;
use crate::codec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Return types a `#[root_process]` method can have: rank 0 computes the value and every other
/// rank receives a copy. Implemented for every type that is `Serialize + DeserializeOwned`,
/// including `Result<T, E>` when both `T` and `E` are.
///
/// # MPI
///
/// Local: a marker trait.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be broadcast from rank 0",
    label = "the return value of a `#[root_process]` method is sent to every rank",
    note = "it must implement `serde::Serialize` and `serde::de::DeserializeOwned`; or mark the method `#[exclude]` to run it on every rank"
)]
pub trait Broadcast: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Broadcast for T {}

/// Runs `body` on rank 0 of `comm` only and returns its value on every rank.
///
/// - On rank 0, `body` runs inside a root-only scope, so collectives and nested calls in it
///   complete at once; a panic in it is caught, sent to every rank, and raised again on every
///   rank with the original message.
/// - The other ranks receive the value; if rank 0 ran a different method, they panic with a
///   message naming both methods (the program is desynchronised and cannot go on).
/// - Inside a root-only scope, or on a single rank, `body` simply runs.
pub(crate) fn run<R: Broadcast>(comm: &Comm, label: Label<'_>, body: impl FnOnce() -> R) -> R {
    if comm.is_single() {
        return scope::self_scope(body);
    }
    if comm.rank() == 0 {
        let outcome =
            scope::self_scope(|| scope::catching_panics(|| catch_unwind(AssertUnwindSafe(body))));
        match outcome {
            Ok(value) => match message::root_value(label, &value) {
                Ok(bytes) => {
                    comm.bcast_message(0, Some(bytes));
                    value
                }
                Err(e) => {
                    let text = format!("its return value cannot be sent to the other ranks: {e}");
                    comm.bcast_message(0, Some(message::root_panic(label, &text)));
                    raise(comm, label, &text)
                }
            },
            Err(payload) => {
                let text = panic_text(payload.as_ref());
                comm.bcast_message(0, Some(message::root_panic(label, &text)));
                raise(comm, label, &text)
            }
        }
    } else {
        let bytes = comm.bcast_message(0, None);
        let frame = message::parse(&bytes).unwrap_or_else(|e| {
            panic!(
                "bamboost: rank {}: bad message while calling `{label}`: {e}",
                comm.rank()
            )
        });
        match frame {
            Frame::Root { label: theirs, .. } if theirs != label => {
                desync(comm, label, &format!("`{theirs}`"))
            }
            Frame::Root {
                panicked: true,
                payload,
                ..
            } => raise(comm, label, &String::from_utf8_lossy(payload)),
            Frame::Root { payload, .. } => codec::decode(payload).unwrap_or_else(|e| {
                panic!(
                    "bamboost: rank {}: cannot read the result of `{label}` sent by rank 0: {e}",
                    comm.rank()
                )
            }),
            Frame::Value(_) | Frame::Failed(_) => {
                desync(comm, label, "a plain collective such as `Comm::bcast`")
            }
        }
    }
}

/// Reports rank 0's panic on this rank, waits until every rank has reported it, and panics.
fn raise(comm: &Comm, label: Label<'_>, text: &str) -> ! {
    // One write call per line, so that lines of different ranks never interleave mid-line.
    let line = format!(
        "bamboost: rank {}: rank 0 panicked in `{label}`: {text}\n",
        comm.rank()
    );
    std::io::stderr().write_all(line.as_bytes()).ok();
    // Every rank got the same panic message, so every rank reaches this barrier; it keeps an
    // abort on one rank from killing the others before they have reported.
    comm.barrier();
    panic!("rank 0 panicked in `{label}`: {text}");
}

fn desync(comm: &Comm, label: Label<'_>, theirs: &str) -> ! {
    panic!(
        "bamboost: ranks are out of step: rank {} called `{label}`, but rank 0 ran {theirs}; every rank must call the same `#[root_process]` methods in the same order",
        comm.rank()
    );
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
