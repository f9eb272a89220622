//! Root-only execution with a broadcast result: the engine behind `#[root_process]`.

use super::comm::{Comm, with_scratch};
use super::message::{self, Frame, Label, LastLabel};
use super::scalar::{self, NumberTuple};
use super::scope;
use crate::codec;
use crate::error::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Return types a `#[root_process]` method can have: rank 0 computes the value and every other
/// rank receives a copy. Implemented for every type that is `Serialize + DeserializeOwned`,
/// including `Result<T, E>` when both `T` and `E` are. A return type spelled `Vec<T>` or
/// `Result<Vec<T>, E>` with `T: bytemuck::Pod` needs no serde for `T` (it travels as raw
/// memory; `E` must still be `Broadcast`).
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

/// How a return value travels from rank 0 to the other ranks.
pub(crate) trait Transport<R> {
    /// Appends the value's part of the framed message.
    fn frame(value: &R, out: &mut Vec<u8>) -> Result<()>;
    /// Sends what the frame did not carry (rank 0, right after the frame).
    fn send_rest(comm: &Comm, value: &mut R);
    /// Rebuilds the value from the frame's part, receiving the rest (the other ranks).
    fn receive(comm: &Comm, payload: &[u8]) -> Result<R>;
}

/// Any serde type, encoded by the codec into the frame.
pub(crate) struct Encoded;

impl<R: Broadcast> Transport<R> for Encoded {
    fn frame(value: &R, out: &mut Vec<u8>) -> Result<()> {
        codec::encode_into(value, out)
    }

    fn send_rest(_: &Comm, _: &mut R) {}

    fn receive(_: &Comm, payload: &[u8]) -> Result<R> {
        codec::decode(payload)
    }
}

/// A vector of plain data ([`bytemuck::Pod`]: numbers, arrays of them such as `[f64; 3]`
/// points, `Complex<f64>`, a user's `#[repr(C)]` struct of numbers without padding): its length
/// in the frame, then its own memory broadcast as is (or, when small, inside the frame). Skips
/// element-by-element encoding, the main cost of large values.
pub(crate) struct Plain;

/// Vectors up to this many bytes travel inside the frame, in the broadcast's short header.
const INLINE_NUMBERS: usize = 160;

/// The largest broadcast of raw bytes: an MPI count is an `i32`.
const BROADCAST_CHUNK: usize = 1 << 30;

/// Frames `len` (elements of a vector) and, when small, the vector's `bytes`.
fn frame_numbers(len: usize, bytes: &[u8], out: &mut Vec<u8>) -> Result<()> {
    message::put_len(out, len);
    if bytes.len() <= INLINE_NUMBERS {
        out.extend_from_slice(bytes);
    }
    Ok(())
}

/// Broadcasts `bytes` from rank 0 unless the frame carried them.
fn send_bytes(comm: &Comm, bytes: &mut [u8]) {
    if bytes.len() > INLINE_NUMBERS {
        for chunk in bytes.chunks_mut(BROADCAST_CHUNK) {
            // The root is valid, so this cannot fail.
            comm.bcast_into(chunk, 0).ok();
        }
    }
}

/// Fills `bytes` with rank 0's: from the frame's `inline` bytes when they travelled there,
/// otherwise from the broadcasts [`send_bytes`] makes.
fn receive_bytes(comm: &Comm, bytes: &mut [u8], inline: &[u8]) -> Result<()> {
    if bytes.len() <= INLINE_NUMBERS {
        return scalar::copy_from_bytes(bytes, inline);
    }
    for chunk in bytes.chunks_mut(BROADCAST_CHUNK) {
        comm.bcast_into(chunk, 0)?;
    }
    Ok(())
}

impl<T: bytemuck::Pod> Transport<Vec<T>> for Plain {
    fn frame(value: &Vec<T>, out: &mut Vec<u8>) -> Result<()> {
        frame_numbers(value.len(), scalar::bytes_of(value), out)
    }

    fn send_rest(comm: &Comm, value: &mut Vec<T>) {
        send_bytes(comm, scalar::bytes_of_mut(value));
    }

    fn receive(comm: &Comm, payload: &[u8]) -> Result<Vec<T>> {
        let (len, used) = message::take_len(payload)?;
        if len.saturating_mul(std::mem::size_of::<T>()) <= INLINE_NUMBERS {
            // Small: built from the frame's bytes, without zeroing first.
            return scalar::vec_from_bytes(&payload[used..], len);
        }
        let mut value = vec![T::zeroed(); len];
        receive_bytes(comm, scalar::bytes_of_mut(&mut value), &payload[used..])?;
        Ok(value)
    }
}

/// Tuples of one number type (`(f64, f64)`): as a vector of their numbers when the tuple is
/// laid out as an array of them ([`NumberTuple::FLAT`], known at compile time and so the same on
/// every rank); otherwise [`Encoded`].
pub(crate) struct Tuples;

impl<U: NumberTuple> Transport<Vec<U>> for Tuples {
    fn frame(value: &Vec<U>, out: &mut Vec<u8>) -> Result<()> {
        match scalar::tuple_numbers(value) {
            Some(numbers) => frame_numbers(value.len(), scalar::bytes_of(numbers), out),
            None => Encoded::frame(value, out),
        }
    }

    fn send_rest(comm: &Comm, value: &mut Vec<U>) {
        if let Some(numbers) = scalar::tuple_numbers_mut(value) {
            send_bytes(comm, scalar::bytes_of_mut(numbers));
        }
    }

    fn receive(comm: &Comm, payload: &[u8]) -> Result<Vec<U>> {
        if !U::FLAT {
            return Encoded::receive(comm, payload);
        }
        let (len, used) = message::take_len(payload)?;
        let mut value = vec![U::ZERO; len];
        let numbers = scalar::tuple_numbers_mut(&mut value).unwrap_or_default();
        receive_bytes(comm, scalar::bytes_of_mut(numbers), &payload[used..])?;
        Ok(value)
    }
}

/// A `Result` whose `Ok` value travels by transport `X` and whose `Err` is encoded: a tag byte
/// in the frame, then the one or the other.
pub(crate) struct Fallible<X>(std::marker::PhantomData<X>);

impl<V, E: Broadcast, X: Transport<V>> Transport<std::result::Result<V, E>> for Fallible<X> {
    fn frame(value: &std::result::Result<V, E>, out: &mut Vec<u8>) -> Result<()> {
        match value {
            Ok(value) => {
                out.push(0);
                X::frame(value, out)
            }
            Err(error) => {
                out.push(1);
                Encoded::frame(error, out)
            }
        }
    }

    fn send_rest(comm: &Comm, value: &mut std::result::Result<V, E>) {
        if let Ok(value) = value {
            X::send_rest(comm, value);
        }
    }

    fn receive(comm: &Comm, payload: &[u8]) -> Result<std::result::Result<V, E>> {
        match payload.split_first() {
            Some((0, rest)) => X::receive(comm, rest).map(Ok),
            Some((1, rest)) => Encoded::receive(comm, rest).map(Err),
            _ => Err(crate::Error::Codec {
                action: "decode".into(),
                type_name: std::any::type_name::<std::result::Result<V, E>>().into(),
                message: "neither `Ok` nor `Err`".into(),
            }),
        }
    }
}

/// A string: as [`Plain`] for its UTF-8 bytes (no encoding; checked as UTF-8 on receipt).
pub(crate) struct Text;

impl Transport<String> for Text {
    fn frame(value: &String, out: &mut Vec<u8>) -> Result<()> {
        frame_numbers(value.len(), value.as_bytes(), out)
    }

    fn send_rest(comm: &Comm, value: &mut String) {
        if value.len() > INLINE_NUMBERS {
            let mut bytes = std::mem::take(value).into_bytes();
            Plain::send_rest(comm, &mut bytes);
            // The root's buffer is only read by the broadcast: still the same UTF-8.
            *value = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
    }

    fn receive(comm: &Comm, payload: &[u8]) -> Result<String> {
        let bytes: Vec<u8> = Plain::receive(comm, payload)?;
        String::from_utf8(bytes).map_err(|e| crate::Error::Codec {
            action: "decode".into(),
            type_name: "String".into(),
            message: e.to_string(),
        })
    }
}

/// A return type spelled `String`: [`Text`] when it is the standard `String`, [`Encoded`] when
/// it is a type of the user's that happens to have that name (the check is on the type, free at
/// run time).
pub(crate) struct NamedString;

impl<R: Broadcast + 'static> Transport<R> for NamedString {
    fn frame(value: &R, out: &mut Vec<u8>) -> Result<()> {
        match (value as &dyn Any).downcast_ref::<String>() {
            Some(text) => Text::frame(text, out),
            None => Encoded::frame(value, out),
        }
    }

    fn send_rest(comm: &Comm, value: &mut R) {
        if let Some(text) = (value as &mut dyn Any).downcast_mut::<String>() {
            Text::send_rest(comm, text);
        }
    }

    fn receive(comm: &Comm, payload: &[u8]) -> Result<R> {
        let mut received: Option<R> = None;
        if let Some(text) = (&mut received as &mut dyn Any).downcast_mut::<Option<String>>() {
            *text = Some(Text::receive(comm, payload)?);
        }
        match received {
            Some(value) => Ok(value),
            None => Encoded::receive(comm, payload),
        }
    }
}

/// Runs `body` on rank 0 of `comm` only and returns its value on every rank.
///
/// - On rank 0, `body` runs inside a root-only scope, so collectives and nested calls in it
///   complete at once; a panic in it is caught, sent to every rank, and raised again on every
///   rank with the original message.
/// - The other ranks receive the value; if rank 0 ran a different method, they panic with a
///   message naming both methods (the program is desynchronised and cannot go on).
/// - Inside a root-only scope, or on a single rank, `body` simply runs.
pub(crate) fn run<R, X: Transport<R>>(comm: &Comm, label: Label, body: impl FnOnce() -> R) -> R {
    if comm.is_single() {
        return scope::self_scope(body);
    }
    if comm.rank() == 0 {
        let outcome =
            scope::self_scope(|| scope::catching_panics(|| catch_unwind(AssertUnwindSafe(body))));
        let text = match outcome {
            Ok(mut value) => {
                let sent = with_scratch(|buffer| {
                    let again = comm.last_label().is_some_and(|last| last.note_sent(label));
                    let framed =
                        message::root_value_into(buffer, label, again, |out| X::frame(&value, out));
                    if framed.is_ok() {
                        comm.bcast_message(0, buffer);
                    }
                    framed
                });
                match sent {
                    Ok(()) => {
                        X::send_rest(comm, &mut value);
                        return value;
                    }
                    Err(e) => format!("its return value cannot be sent to the other ranks: {e}"),
                }
            }
            Err(payload) => panic_text(payload.as_ref()),
        };
        if let Some(last) = comm.last_label() {
            // The receivers remember the label of this frame too.
            last.note_sent(label);
        }
        comm.bcast_message(0, &mut message::root_panic(label, &text));
        raise(comm, label, &text)
    } else {
        with_scratch(|buffer| {
            comm.bcast_message(0, buffer);
            let frame = message::parse(buffer).unwrap_or_else(|e| {
                panic!(
                    "bamboost: rank {}: bad message while calling `{label}`: {e}",
                    comm.rank()
                )
            });
            let Frame::Root {
                label: sent,
                panicked,
                payload,
            } = frame
            else {
                desync(comm, label, "a plain collective such as `Comm::bcast`")
            };
            let fresh = LastLabel::default();
            let checked = comm
                .last_label()
                .unwrap_or(&fresh)
                .check_received(sent, label);
            if let Err(theirs) = checked {
                desync(comm, label, &theirs);
            }
            if panicked {
                raise(comm, label, &String::from_utf8_lossy(payload))
            }
            X::receive(comm, payload).unwrap_or_else(|e| {
                panic!(
                    "bamboost: rank {}: cannot read the result of `{label}` sent by rank 0: {e}",
                    comm.rank()
                )
            })
        })
    }
}

/// Reports rank 0's panic on this rank, waits until every rank has reported it, and panics.
fn raise(comm: &Comm, label: Label, text: &str) -> ! {
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

fn desync(comm: &Comm, label: Label, theirs: &str) -> ! {
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
