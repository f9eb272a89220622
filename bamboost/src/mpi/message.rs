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
//! | 4 | a `#[root_process]` result of the same method as the previous one | encoded value |
//!
//! Kind 4 keeps the label off the wire when a method is called repeatedly: every rank
//! remembers the label of the last `#[root_process]` message on each communicator
//! ([`LastLabel`]); as every rank receives every broadcast, they all remember the same one.

use crate::codec;
use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

const VALUE: u8 = 0;
const FAILED: u8 = 1;
const ROOT_VALUE: u8 = 2;
const ROOT_PANIC: u8 = 3;
const ROOT_VALUE_AGAIN: u8 = 4;

/// Names a `#[root_process]` method: the implementing type and the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label {
    pub(crate) type_name: &'static str,
    pub(crate) method: &'static str,
}

impl Label {
    /// Addresses and lengths: equal keys mean equal labels (the strings are `'static`).
    fn key(self) -> [usize; 4] {
        [
            self.type_name.as_ptr() as usize,
            self.type_name.len(),
            self.method.as_ptr() as usize,
            self.method.len(),
        ]
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.type_name, self.method)
    }
}

/// A label as received: compared byte for byte (the common case, which must be cheap) and
/// decoded only to be shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentLabel<'a> {
    type_name: &'a [u8],
    method: &'a [u8],
}

impl SentLabel<'_> {
    /// Whether this names the same method as `label`.
    pub(crate) fn is(&self, label: Label) -> bool {
        self.method == label.method.as_bytes() && self.type_name == label.type_name.as_bytes()
    }
}

impl fmt::Display for SentLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}::{}",
            String::from_utf8_lossy(self.type_name),
            String::from_utf8_lossy(self.method)
        )
    }
}

/// A received message, borrowed from its bytes.
#[derive(Debug)]
pub(crate) enum Frame<'a> {
    Value(&'a [u8]),
    Failed(&'a [u8]),
    /// `label` is `None` when it is the communicator's [`LastLabel`].
    Root {
        label: Option<SentLabel<'a>>,
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
/// appends the value's part. With `again`, the label is left out: the receivers know it from
/// the previous message (see [`LastLabel::note_sent`]).
pub(crate) fn root_value_into(
    out: &mut Vec<u8>,
    label: Label,
    again: bool,
    payload: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    out.clear();
    if again {
        out.push(ROOT_VALUE_AGAIN);
    } else {
        root_header(out, ROOT_VALUE, label);
    }
    payload(out)
}

/// Frames the panic of a `#[root_process]` method.
pub(crate) fn root_panic(label: Label, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    root_header(&mut out, ROOT_PANIC, label);
    out.extend_from_slice(message.as_bytes());
    out
}

fn root_header(out: &mut Vec<u8>, kind: u8, label: Label) {
    out.push(kind);
    for part in [label.type_name, label.method] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part.as_bytes());
    }
}

/// The label of the last `#[root_process]` message broadcast on one communicator.
#[derive(Debug, Default)]
pub(crate) struct LastLabel {
    text: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
    /// [`Label::key`] of a label known to be the last label (the one this rank last sent, or
    /// last checked a frame against), while it still is; zero otherwise. A repeated call is
    /// then recognised without locking or comparing text.
    known: [AtomicUsize; 4],
}

impl LastLabel {
    fn lock(&self) -> MutexGuard<'_, Option<(Vec<u8>, Vec<u8>)>> {
        self.text
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `label` is known to be the last label.
    fn is_known(&self, label: Label) -> bool {
        self.known
            .iter()
            .zip(label.key())
            .all(|(known, k)| known.load(Ordering::Relaxed) == k)
    }

    fn set_known(&self, label: Label) {
        for (known, k) in self.known.iter().zip(label.key()) {
            known.store(k, Ordering::Relaxed);
        }
    }

    /// On the sender: whether `label` is the last label (so it need not be sent); if not, it
    /// becomes the last label.
    pub(crate) fn note_sent(&self, label: Label) -> bool {
        if self.is_known(label) {
            return true;
        }
        let mut last = self.lock();
        let again = last.as_ref().is_some_and(|(t, m)| {
            m.as_slice() == label.method.as_bytes() && t.as_slice() == label.type_name.as_bytes()
        });
        if !again {
            *last = Some((label.type_name.into(), label.method.into()));
        }
        self.set_known(label);
        again
    }

    /// On a receiver: notes the label of a received frame (`None`: the last one again) and
    /// checks that it names `expected`. If not, returns the method rank 0 ran, as text for the
    /// error.
    pub(crate) fn check_received(
        &self,
        sent: Option<SentLabel<'_>>,
        expected: Label,
    ) -> std::result::Result<(), String> {
        if sent.is_none() && self.is_known(expected) {
            return Ok(());
        }
        self.receive(sent, |theirs| match theirs {
            Some(theirs) if theirs.is(expected) => Ok(()),
            Some(theirs) => Err(format!("`{theirs}`")),
            None => Err("a method this rank has no record of".into()),
        })?;
        self.set_known(expected);
        Ok(())
    }

    /// On a receiver: notes the label of a received frame (`None`: the last one again) and
    /// gives `check` the label the sender used (`None` if this rank has no record of it).
    pub(crate) fn receive<R>(
        &self,
        sent: Option<SentLabel<'_>>,
        check: impl FnOnce(Option<SentLabel<'_>>) -> R,
    ) -> R {
        let mut last = self.lock();
        if let Some(sent) = sent {
            for key in &self.known {
                key.store(0, Ordering::Relaxed);
            }
            let (type_name, method) = last.get_or_insert_with(Default::default);
            type_name.clear();
            type_name.extend_from_slice(sent.type_name);
            method.clear();
            method.extend_from_slice(sent.method);
        }
        check(
            last.as_ref()
                .map(|(type_name, method)| SentLabel { type_name, method }),
        )
    }
}

/// Appends `len` as a variable-length integer (7 bits a byte, low bits first): one byte up to
/// 127, so short messages stay short.
pub(crate) fn put_len(out: &mut Vec<u8>, len: usize) {
    let (bytes, used) = encode_len(len);
    out.extend_from_slice(&bytes[..used]);
}

/// `len` as written by [`put_len`]: the bytes and how many of them are used.
pub(crate) fn encode_len(mut len: usize) -> ([u8; 10], usize) {
    let mut bytes = [0u8; 10];
    let mut used = 0;
    while len >= 0x80 {
        bytes[used] = (len as u8) | 0x80;
        len >>= 7;
        used += 1;
    }
    bytes[used] = len as u8;
    (bytes, used + 1)
}

/// Reads a length written by [`put_len`]: the length and the number of bytes it took.
pub(crate) fn take_len(bytes: &[u8]) -> Result<(usize, usize)> {
    let mut len = 0usize;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((len, i + 1));
        }
    }
    Err(malformed("truncated length"))
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
            let (type_name, rest) = take_part(rest)?;
            let (method, payload) = take_part(rest)?;
            Ok(Frame::Root {
                label: Some(SentLabel { type_name, method }),
                panicked: kind == ROOT_PANIC,
                payload,
            })
        }
        ROOT_VALUE_AGAIN => Ok(Frame::Root {
            label: None,
            panicked: false,
            payload: rest,
        }),
        other => Err(malformed(&format!("unknown message kind {other}"))),
    }
}

fn take_part(bytes: &[u8]) -> Result<(&[u8], &[u8])> {
    let short = || malformed("truncated label");
    let len_bytes: [u8; 4] = bytes
        .get(..4)
        .ok_or_else(short)?
        .try_into()
        .map_err(|_| short())?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    let part = bytes.get(4..4 + len).ok_or_else(short)?;
    Ok((part, &bytes[4 + len..]))
}

/// Opens a message sent by a plain collective (`call` names it for desync errors).
pub(crate) fn open<T: DeserializeOwned>(bytes: &[u8], call: &str, sender: usize) -> Result<T> {
    open_broadcast(bytes, call, sender, &LastLabel::default())
}

/// As [`open`], for a broadcast on a communicator whose last `#[root_process]` label is `last`
/// (kept up to date if the message turns out to be a `#[root_process]` frame).
pub(crate) fn open_broadcast<T: DeserializeOwned>(
    bytes: &[u8],
    call: &str,
    sender: usize,
    last: &LastLabel,
) -> Result<T> {
    match parse(bytes)? {
        Frame::Value(payload) => codec::decode(payload),
        Frame::Failed(payload) => Err(codec::decode(payload)?),
        Frame::Root { label, .. } => Err(Error::Desync {
            this_rank: call.into(),
            root: sender,
            root_call: last.receive(label, |label| match label {
                Some(label) => format!("{label} (a `#[root_process]` method)"),
                None => "a `#[root_process]` method".into(),
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: Label = Label {
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
        root_value_into(&mut bytes, LABEL, false, |out| {
            codec::encode_into(&7u8, out)
        })?;
        match parse(&bytes)? {
            Frame::Root {
                label,
                panicked,
                payload,
            } => {
                assert!(label.is_some_and(|l| l.is(LABEL)) && !panicked);
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
    fn lengths_round_trip() -> Result<()> {
        for len in [0usize, 1, 127, 128, 300, 1 << 20, usize::MAX] {
            let mut out = vec![];
            put_len(&mut out, len);
            assert_eq!(take_len(&out)?, (len, out.len()));
        }
        assert!(take_len(&[0x80]).is_err());
        Ok(())
    }

    #[test]
    fn a_repeated_label_is_sent_once_and_checked_every_time() {
        let (sender, receiver) = (LastLabel::default(), LastLabel::default());
        let other = Label {
            type_name: "my::Index",
            method: "len",
        };
        assert!(!sender.note_sent(LABEL));
        assert!(sender.note_sent(LABEL));
        let full = SentLabel {
            type_name: LABEL.type_name.as_bytes(),
            method: LABEL.method.as_bytes(),
        };
        let is = |label: Label| move |sent: Option<SentLabel<'_>>| sent.map(|s| s.is(label));
        assert_eq!(receiver.receive(Some(full), is(LABEL)), Some(true));
        assert_eq!(receiver.receive(None, is(LABEL)), Some(true));
        assert_eq!(receiver.receive(None, is(other)), Some(false));
        assert_eq!(
            receiver.receive(None, |s| s.map(|s| s.to_string())),
            Some("my::Index::count".into())
        );
        assert_eq!(LastLabel::default().receive(None, is(LABEL)), None);
    }

    #[test]
    fn a_repeated_label_is_checked_without_its_text_and_a_new_one_resets_that() {
        let receiver = LastLabel::default();
        let other = Label {
            type_name: "my::Index",
            method: "len",
        };
        let sent = |label: Label| SentLabel {
            type_name: label.type_name.as_bytes(),
            method: label.method.as_bytes(),
        };
        assert_eq!(
            receiver.check_received(None, LABEL),
            Err("a method this rank has no record of".into())
        );
        assert_eq!(receiver.check_received(Some(sent(LABEL)), LABEL), Ok(()));
        // Known now: checked on the fast path, and still against the right label.
        assert_eq!(receiver.check_received(None, LABEL), Ok(()));
        assert_eq!(
            receiver.check_received(None, other),
            Err("`my::Index::count`".into())
        );
        assert_eq!(receiver.check_received(None, LABEL), Ok(()));
        // Rank 0 moved on to another method: the known label no longer counts.
        assert_eq!(
            receiver.check_received(Some(sent(other)), LABEL),
            Err("`my::Index::len`".into())
        );
        assert_eq!(
            receiver.check_received(None, LABEL),
            Err("`my::Index::len`".into())
        );
        assert_eq!(receiver.check_received(None, other), Ok(()));
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[9]).is_err());
        assert!(parse(&[ROOT_VALUE, 200, 0, 0, 0]).is_err());
    }
}
