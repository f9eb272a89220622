//! Framing of the messages the object collectives exchange.
//!
//! Every message starts with a kind byte, so a rank that receives a message made by a different
//! call (a desynchronised program) finds out and says which calls were mixed up, instead of
//! decoding garbage:
//!
//! | kind | meaning | rest |
//! |---|---|---|
//! | 0 | a value | encoded value |
//! | 1 | the sender failed | encoded [`Error`] |
//! | 2 | a `#[root_process]` result | label, encoded value |
//! | 3 | a `#[root_process]` panic | label, panic message |

use crate::codec;
use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

const VALUE: u8 = 0;
const FAILED: u8 = 1;
const ROOT_VALUE: u8 = 2;
const ROOT_PANIC: u8 = 3;

/// Names a `#[root_process]` method: the implementing type and the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label<'a> {
    pub(crate) type_name: &'a str,
    pub(crate) method: &'a str,
}

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.type_name, self.method)
    }
}

/// A received message, borrowed from its bytes.
#[derive(Debug)]
pub(crate) enum Frame<'a> {
    Value(&'a [u8]),
    Failed(&'a [u8]),
    Root {
        label: Label<'a>,
        panicked: bool,
        payload: &'a [u8],
    },
}

/// Frames `value`. If it cannot be encoded, frames the error instead and returns it as well:
/// the sender still sends (so no receiver waits forever) and then fails with it.
pub(crate) fn value<T: Serialize>(value: &T) -> (Vec<u8>, Option<Error>) {
    let mut out = Vec::new();
    let failure = value_into(&mut out, value);
    (out, failure)
}

/// As [`value`], into `out` (cleared first).
pub(crate) fn value_into<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Option<Error> {
    out.clear();
    out.push(VALUE);
    let failure = codec::encode_into(value, out).err()?;
    *out = failed(&failure);
    Some(failure)
}

/// Frames an error, so the receivers fail with it too.
pub(crate) fn failed(error: &Error) -> Vec<u8> {
    let mut out = vec![FAILED];
    // An `Error` holds only strings and integers, which always encode.
    codec::encode_into(error, &mut out).ok();
    out
}

/// Frames the result of a `#[root_process]` method into `out` (cleared first); `payload`
/// appends the value's part.
pub(crate) fn root_value_into(
    out: &mut Vec<u8>,
    label: Label<'_>,
    payload: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    out.clear();
    root_header(out, ROOT_VALUE, label);
    payload(out)
}

/// Frames the panic of a `#[root_process]` method.
pub(crate) fn root_panic(label: Label<'_>, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    root_header(&mut out, ROOT_PANIC, label);
    out.extend_from_slice(message.as_bytes());
    out
}

fn root_header(out: &mut Vec<u8>, kind: u8, label: Label<'_>) {
    out.push(kind);
    for part in [label.type_name, label.method] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part.as_bytes());
    }
}

fn malformed(what: &str) -> Error {
    Error::Codec {
        action: "decode".into(),
        type_name: "message frame".into(),
        message: what.into(),
    }
}

/// Splits a received message into its parts.
pub(crate) fn parse(bytes: &[u8]) -> Result<Frame<'_>> {
    let (&kind, rest) = bytes
        .split_first()
        .ok_or_else(|| malformed("empty message"))?;
    match kind {
        VALUE => Ok(Frame::Value(rest)),
        FAILED => Ok(Frame::Failed(rest)),
        ROOT_VALUE | ROOT_PANIC => {
            let (type_name, rest) = take_str(rest)?;
            let (method, payload) = take_str(rest)?;
            Ok(Frame::Root {
                label: Label { type_name, method },
                panicked: kind == ROOT_PANIC,
                payload,
            })
        }
        other => Err(malformed(&format!("unknown message kind {other}"))),
    }
}

fn take_str(bytes: &[u8]) -> Result<(&str, &[u8])> {
    let short = || malformed("truncated label");
    let len_bytes: [u8; 4] = bytes
        .get(..4)
        .ok_or_else(short)?
        .try_into()
        .map_err(|_| short())?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    let text = bytes.get(4..4 + len).ok_or_else(short)?;
    let text = std::str::from_utf8(text).map_err(|_| malformed("label is not UTF-8"))?;
    Ok((text, &bytes[4 + len..]))
}

/// Opens a message sent by a plain collective (`call` names it for desync errors).
pub(crate) fn open<T: DeserializeOwned>(bytes: &[u8], call: &str, sender: usize) -> Result<T> {
    match parse(bytes)? {
        Frame::Value(payload) => codec::decode(payload),
        Frame::Failed(payload) => Err(codec::decode(payload)?),
        Frame::Root { label, .. } => Err(Error::Desync {
            this_rank: call.into(),
            root: sender,
            root_call: format!("{label} (a `#[root_process]` method)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: Label<'static> = Label {
        type_name: "my::Index",
        method: "count",
    };

    #[test]
    fn values_and_failures_round_trip() -> Result<()> {
        assert_eq!(
            open::<Vec<u32>>(&value(&vec![1u32, 2]).0, "Comm::bcast", 0)?,
            vec![1, 2]
        );
        let err = Error::InvalidTag { tag: -1 };
        assert_eq!(open::<u8>(&failed(&err), "Comm::bcast", 0), Err(err));
        Ok(())
    }

    #[test]
    fn root_frames_carry_their_label() -> Result<()> {
        let mut bytes = Vec::new();
        root_value_into(&mut bytes, LABEL, |out| codec::encode_into(&7u8, out))?;
        match parse(&bytes)? {
            Frame::Root {
                label,
                panicked,
                payload,
            } => {
                assert_eq!((label, panicked), (LABEL, false));
                assert_eq!(codec::decode::<u8>(payload)?, 7);
            }
            other => panic!("unexpected frame {other:?}"),
        }
        let bytes = root_panic(LABEL, "boom");
        assert!(matches!(
            parse(&bytes)?,
            Frame::Root {
                panicked: true,
                payload: b"boom",
                ..
            }
        ));
        Ok(())
    }

    #[test]
    fn a_root_frame_received_by_a_plain_collective_is_a_desync() {
        let err = open::<u8>(&root_panic(LABEL, "x"), "Comm::bcast", 0).unwrap_err();
        assert!(
            err.to_string().contains("my::Index::count") && err.to_string().contains("Comm::bcast"),
            "{err}"
        );
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[9]).is_err());
        assert!(parse(&[ROOT_VALUE, 200, 0, 0, 0]).is_err());
    }
}
