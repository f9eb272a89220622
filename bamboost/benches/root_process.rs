//! Per-call cost of a `#[root_process]` method against a bare MPI broadcast of the same bytes.
//!
//! Every rank builds [`Comm::world`] and a `Source` object whose `#[root_process]` methods return
//! a clone of data the object holds (so the clone is part of the method's cost):
//!
//! - `small`: a `Vec<u8>` of 100 bytes (101 bytes encoded);
//! - `field`: a `Vec<f64>` of 131 072 values = 1 MiB, a typical field of simulation data
//!   (1 048 581 bytes encoded);
//! - `raw`: a `Vec<u8>` of 1 048 576 bytes (1 048 581 bytes encoded).
//!
//! The baseline ("bare") sends the same bytes by hand: rank 0 holds the bincode encoding of the
//! value (exactly the payload bamboost broadcasts, without bamboost's frame) in a buffer it keeps
//! between calls, and every rank calls rsmpi's `broadcast_into` once on a buffer of that known
//! length; the other ranks allocate a fresh zeroed `Vec<u8>` for it on every call, as bamboost
//! does. There is no clone, encoding or decoding in the baseline.
//!
//! A sample is: a barrier, then `n` calls back to back on every rank, then the slowest rank's
//! elapsed time (`MPI_Allreduce` with `MPI_MAX`) divided by `n`. `n` is calibrated per series so
//! that a sample takes at least 50 ms. 15 samples of each series are taken, interleaved (bare,
//! root_process, then root_process, bare, … so drift hits both), and rank 0 prints the medians and
//! their ratio as a Markdown table.
//!
//! Two extra modes explain the figures (see `book/src/performance.md`):
//!
//! - `--breakdown`: a hand-written replica of what a `#[root_process]` call does (frame and
//!   encode on rank 0, a 512-byte header broadcast plus a broadcast of the rest, decode on the
//!   others), checked against the real call, timed step by step on every rank, with the minor
//!   page faults per call (`/proc/self/stat`); and the cost of a bare broadcast by message size
//!   around the 512-byte header.
//! - `--prototypes`: variants of the replica with the changes proposed on that page (a smaller
//!   header, a hashed label, reused buffers, a byte-slice codec for numeric vectors).
//!
//! Build, then run under a launcher (the first command prints the binary's path):
//!
//! ```text
//! CARGO_TARGET_DIR=target/mpi cargo bench -p bamboost --features mpi --no-run
//! mpirun -np 1 target/mpi/release/deps/root_process-<hash>
//! mpirun -np 2 target/mpi/release/deps/root_process-<hash>
//! mpirun --oversubscribe -np 4 target/mpi/release/deps/root_process-<hash> [--breakdown|--prototypes]
//! ```
//!
//! Started without a launcher (e.g. by `cargo bench --features mpi`), it initialises MPI itself
//! and runs as a single rank.

use bamboost::mpi::rsmpi;
use bamboost::mpi::rsmpi::collective::SystemOperation;
use bamboost::mpi::rsmpi::topology::SimpleCommunicator;
use bamboost::mpi::rsmpi::traits::*;
use bamboost::mpi::{CommSlot, HasComm};
use bamboost::{Comm, root_process};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Samples per series.
const SAMPLES: usize = 15;
/// The shortest time a sample may take; the number of calls per sample is calibrated to it.
const MIN_SAMPLE: Duration = Duration::from_millis(50);
/// bamboost's broadcast header (`MpiComm::bcast_bytes`): 8 length bytes, up to 504 inline bytes.
const HEADER: usize = 512;
/// The kind byte of a `#[root_process]` result (`mpi/message.rs`).
const ROOT_VALUE: u8 = 2;

/// An object holding data that only rank 0 should hand out, like an index or a file reader.
struct Source {
    comm: CommSlot,
    small: Vec<u8>,
    field: Vec<f64>,
    raw: Vec<u8>,
}

impl HasComm for Source {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Source {
    fn small(&self) -> Vec<u8> {
        self.small.clone()
    }

    fn field(&self) -> Vec<f64> {
        self.field.clone()
    }

    fn raw(&self) -> Vec<u8> {
        self.raw.clone()
    }
}

// ------------------------------------------------------------------------------------------
// Timing

/// Sample timing on every rank of `world`.
struct Timer<'a> {
    world: &'a SimpleCommunicator,
}

impl Timer<'_> {
    /// Seconds for `iters` calls of `f` and the minor page faults they caused: the maxima over
    /// the ranks, the same values on every rank.
    fn sample(&self, iters: u64, f: &mut dyn FnMut()) -> (f64, f64) {
        self.world.barrier();
        let faults = minor_faults();
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        let local = [start.elapsed().as_secs_f64(), minor_faults() - faults];
        let mut max = [0.0f64; 2];
        self.world
            .all_reduce_into(&local[..], &mut max[..], SystemOperation::max());
        (max[0], max[1])
    }

    /// Calls per sample so that one sample takes at least `MIN_SAMPLE`. Every rank gets the same
    /// number, because every decision is made on the all-reduced time.
    fn calibrate(&self, f: &mut dyn FnMut()) -> u64 {
        let target = MIN_SAMPLE.as_secs_f64();
        let mut iters = 1u64;
        loop {
            let (t, _) = self.sample(iters, f);
            if t >= target {
                return iters;
            }
            let factor = if t > 0.0 {
                (1.2 * target / t).clamp(2.0, 10.0)
            } else {
                10.0
            };
            iters = (iters as f64 * factor).ceil() as u64;
        }
    }

    /// Interleaved samples of several series: round `r` runs them starting at series `r % n`, so
    /// no series is always first. `sampling` runs between calibration and the first sample.
    fn compare_with(
        &self,
        series: &mut [&mut dyn FnMut()],
        sampling: &mut dyn FnMut(),
    ) -> Vec<Series> {
        let iters: Vec<u64> = series
            .iter_mut()
            .map(|f| self.calibrate(&mut **f))
            .collect();
        sampling();
        let n = series.len();
        let mut out: Vec<Series> = (0..n).map(|_| Series::default()).collect();
        for round in 0..SAMPLES {
            for k in 0..n {
                let i = (round + k) % n;
                let (t, faults) = self.sample(iters[i], &mut *series[i]);
                out[i].time.push(t / iters[i] as f64);
                out[i].faults.push(faults / iters[i] as f64);
            }
        }
        out
    }

    fn compare(&self, series: &mut [&mut dyn FnMut()]) -> Vec<Series> {
        self.compare_with(series, &mut || {})
    }
}

/// The samples of one series, per call: seconds (slowest rank) and minor page faults (the rank
/// with most).
#[derive(Default)]
struct Series {
    time: Vec<f64>,
    faults: Vec<f64>,
}

/// Minor page faults of this process so far (`/proc/self/stat`), or NaN where unavailable.
fn minor_faults() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Field 10, counted after the parenthesised command name (field 2) as field 3 = index 0.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// Seconds as microseconds, with two to four significant digits.
fn us(seconds: f64) -> String {
    let us = seconds * 1e6;
    if us.is_nan() {
        "–".to_string()
    } else if us < 1.0 {
        format!("{us:.3}")
    } else if us < 10.0 {
        format!("{us:.2}")
    } else if us < 100.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

// ------------------------------------------------------------------------------------------
// The payloads and the main comparison

fn bincode_config() -> bincode::config::Configuration {
    // The configuration of bamboost's codec (`bamboost/src/codec.rs`).
    bincode::config::standard()
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode_config()).expect("encodable")
}

/// A payload: its name in the tables, the method returning it, and the value the object holds.
struct Case<'a, T> {
    name: &'static str,
    method: &'static str,
    call: fn(&Source) -> T,
    value: &'a T,
}

/// A series that broadcasts `bytes` from rank 0 by hand: the baseline.
fn bare<'a>(world: &'a SimpleCommunicator, bytes: Vec<u8>) -> impl FnMut() + 'a {
    let rank = world.rank();
    let len = bytes.len();
    let mut kept = bytes;
    move || {
        let root = world.process_at_rank(0);
        if rank == 0 {
            root.broadcast_into(&mut kept[..]);
        } else {
            let mut buf = vec![0u8; len];
            root.broadcast_into(&mut buf[..]);
            black_box(&buf);
        }
    }
}

/// Checks that both series deliver the right value, then times them. Returns the per-call
/// seconds of the bare broadcast and of the `#[root_process]` call.
fn compare_case<T>(timer: &Timer<'_>, source: &Source, case: &Case<'_, T>) -> (Vec<f64>, Vec<f64>)
where
    T: PartialEq + Serialize + DeserializeOwned,
{
    let world = timer.world;
    let rank = world.rank();
    let encoded = encode(case.value);
    assert!(
        (case.call)(source) == *case.value,
        "rank {rank}: wrong `#[root_process]` result"
    );
    let mut check = if rank == 0 {
        encoded.clone()
    } else {
        vec![0u8; encoded.len()]
    };
    world.process_at_rank(0).broadcast_into(&mut check[..]);
    assert!(check == encoded, "rank {rank}: wrong bare broadcast");

    let mut bare = bare(world, encoded);
    let mut call = || drop(black_box((case.call)(black_box(source))));
    let mut out = timer.compare(&mut [&mut bare, &mut call]).into_iter();
    let (bare, root) = (out.next().expect("bare"), out.next().expect("root_process"));
    (bare.time, root.time)
}

// ------------------------------------------------------------------------------------------
// A replica of a `#[root_process]` call, for the breakdown and the prototypes

/// How the replica moves a value; `BAMBOOST` is what bamboost does today.
#[derive(Clone, Copy)]
struct Transport {
    /// Size of the first broadcast (length + inline bytes).
    header: usize,
    /// Label as an 8-byte hash instead of `u32 len + type name + u32 len + method`.
    hashed_label: bool,
    /// Rank 0 encodes into, and the others receive into, a buffer kept between calls.
    reuse: bool,
}

const BAMBOOST: Transport = Transport {
    header: HEADER,
    hashed_label: false,
    reuse: false,
};

/// How the replica encodes and decodes the value.
struct Codec<T> {
    encode: fn(&T, &mut Vec<u8>),
    decode: fn(&[u8]) -> T,
}

impl<T: Serialize + DeserializeOwned> Codec<T> {
    /// bamboost's codec: bincode through serde, appended to the frame (`codec::encode_into`).
    fn serde() -> Self {
        Codec {
            encode: serde_encode,
            decode: serde_decode,
        }
    }

    /// As `serde`, but the frame is first sized exactly (bincode's `SizeWriter`), so it does not
    /// grow by doubling.
    fn serde_exact() -> Self {
        Codec {
            encode: serde_encode_exact,
            decode: serde_decode,
        }
    }
}

fn serde_encode<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    bincode::serde::encode_into_std_write(value, out, bincode_config()).expect("encodable");
}

fn serde_encode_exact<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, bincode_config()).expect("encodable");
    out.reserve(size.bytes_written);
    serde_encode(value, out);
}

fn serde_decode<T: DeserializeOwned>(bytes: &[u8]) -> T {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, bincode_config()).expect("decodable");
    assert_eq!(used, bytes.len(), "trailing bytes");
    value
}

/// The label part of a frame (`mpi/message.rs`: `root_header`), or its proposed hashed form.
fn label(method: &str, hashed: bool) -> Vec<u8> {
    let type_name = std::any::type_name::<Source>();
    if hashed {
        // FNV-1a over both parts.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in type_name.bytes().chain([0xff]).chain(method.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        return h.to_le_bytes().to_vec();
    }
    let mut out = Vec::new();
    for part in [type_name, method] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// Per-step seconds of one replica call, accumulated.
#[derive(Default, Clone, Copy)]
struct Steps {
    clone: f64,
    encode: f64,
    alloc: f64,
    header: f64,
    rest: f64,
    decode: f64,
    drop: f64,
}

/// One hand-written `#[root_process]` call of `case.value` (rank 0 clones it, frames and encodes
/// it and broadcasts it; the others receive, check the label and decode), timing its steps into
/// `steps` when given. `kept` is the buffer reused between calls when `t.reuse`.
fn replica_call<T: Clone>(
    world: &SimpleCommunicator,
    t: Transport,
    codec: &Codec<T>,
    label: &[u8],
    value: &T,
    kept: &mut Vec<u8>,
    steps: Option<&mut Steps>,
) {
    let mut scratch = Steps::default();
    let steps = steps.unwrap_or(&mut scratch);
    let mut clock = Instant::now();
    let mut lap = |field: &mut f64| {
        let now = Instant::now();
        *field += (now - clock).as_secs_f64();
        clock = now;
    };
    let root = world.process_at_rank(0);
    let inline_max = t.header - 8;
    let prefix = 1 + label.len();
    let mut head = [0u8; HEADER];
    let head = &mut head[..t.header];
    if world.rank() == 0 {
        let copy = black_box(value).clone();
        lap(&mut steps.clone);
        let mut bytes = if t.reuse {
            std::mem::take(kept)
        } else {
            Vec::with_capacity(64)
        };
        bytes.clear();
        bytes.push(ROOT_VALUE);
        bytes.extend_from_slice(label);
        (codec.encode)(&copy, &mut bytes);
        lap(&mut steps.encode);
        let n = bytes.len();
        let inline = n.min(inline_max);
        head[..8].copy_from_slice(&(n as u64).to_le_bytes());
        head[8..8 + inline].copy_from_slice(&bytes[..inline]);
        root.broadcast_into(&mut head[..]);
        lap(&mut steps.header);
        if n > inline_max {
            root.broadcast_into(&mut bytes[inline_max..]);
        }
        lap(&mut steps.rest);
        if t.reuse {
            *kept = bytes;
        } else {
            drop(bytes);
        }
        drop(black_box(copy));
        lap(&mut steps.drop);
    } else {
        root.broadcast_into(&mut head[..]);
        lap(&mut steps.header);
        let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes")) as usize;
        let inline = n.min(inline_max);
        let mut bytes = if t.reuse {
            let mut b = std::mem::take(kept);
            b.clear();
            b.resize(n, 0);
            b
        } else {
            vec![0u8; n]
        };
        bytes[..inline].copy_from_slice(&head[8..8 + inline]);
        lap(&mut steps.alloc);
        if n > inline_max {
            root.broadcast_into(&mut bytes[inline_max..]);
        }
        lap(&mut steps.rest);
        assert!(
            bytes[0] == ROOT_VALUE && &bytes[1..prefix] == label,
            "wrong frame"
        );
        let value = (codec.decode)(&bytes[prefix..]);
        lap(&mut steps.decode);
        if t.reuse {
            *kept = bytes;
        } else {
            drop(bytes);
        }
        drop(black_box(value));
        lap(&mut steps.drop);
    }
}

/// The replica as a series for `Timer::compare`; it adds its steps and calls to `steps` if given.
fn replica<'a, T: Clone>(
    world: &'a SimpleCommunicator,
    t: Transport,
    codec: Codec<T>,
    method: &str,
    value: &'a T,
    steps: Option<&'a RefCell<(Steps, u64)>>,
) -> impl FnMut() + 'a {
    let label = label(method, t.hashed_label);
    let mut kept = Vec::new();
    move || match steps {
        Some(cell) => {
            let (steps, calls) = &mut *cell.borrow_mut();
            replica_call(world, t, &codec, &label, value, &mut kept, Some(steps));
            *calls += 1;
        }
        None => replica_call(world, t, &codec, &label, value, &mut kept, None),
    }
}

// ------------------------------------------------------------------------------------------
// --breakdown

/// Times the bare broadcast, the real call and the replica (interleaved), with the replica's
/// steps accumulated over the sampled calls. Returns rank 0's rows of the two tables.
fn breakdown<T>(timer: &Timer<'_>, source: &Source, case: &Case<'_, T>) -> (String, Vec<String>)
where
    T: Clone + PartialEq + Serialize + DeserializeOwned,
{
    let world = timer.world;
    let rank = world.rank();
    let size = world.size();
    let steps = RefCell::new((Steps::default(), 0u64));
    let mut bare = bare(world, encode(case.value));
    let mut call = || drop(black_box((case.call)(black_box(source))));
    let mut copy = replica(
        world,
        BAMBOOST,
        Codec::serde(),
        case.method,
        case.value,
        Some(&steps),
    );
    let out = timer.compare_with(&mut [&mut bare, &mut call, &mut copy], &mut || {
        *steps.borrow_mut() = (Steps::default(), 0);
    });
    let summary = format!(
        "| {size} | {} | {} | {} | {} | {:.1} / {:.1} / {:.1} |",
        case.name,
        us(median(&out[0].time)),
        us(median(&out[1].time)),
        us(median(&out[2].time)),
        median(&out[0].faults),
        median(&out[1].faults),
        median(&out[2].faults),
    );

    let (s, calls) = *steps.borrow();
    let total = s.clone + s.encode + s.alloc + s.header + s.rest + s.decode + s.drop;
    let mine = [
        s.clone, s.encode, s.alloc, s.header, s.rest, s.decode, s.drop, total,
    ]
    .map(|x| x / calls as f64);
    let root = world.process_at_rank(0);
    let mut rows = Vec::new();
    if rank == 0 {
        let mut all = vec![0.0f64; 8 * size as usize];
        root.gather_into_root(&mine[..], &mut all[..]);
        rows.push(format!("| {size} | {} |", case.name));
        for (r, x) in all.chunks_exact(8).enumerate() {
            let na = |v: f64, applies: bool| if applies { us(v) } else { "–".to_string() };
            let is_root = r == 0;
            rows.push(format!(
                "|  | rank {r} | {} | {} | {} | {} | {} | {} | {} | {} |",
                na(x[0], is_root),
                na(x[1], is_root),
                na(x[2], !is_root),
                us(x[3]),
                us(x[4]),
                na(x[5], !is_root),
                us(x[6]),
                us(x[7]),
            ));
        }
    } else {
        root.gather_into(&mine[..]);
    }
    (summary, rows)
}

/// A bare broadcast by message size, around bamboost's 512-byte header.
fn message_sizes(timer: &Timer<'_>) {
    let world = timer.world;
    let sizes = [8usize, 101, 128, 200, 248, 256, 264, 300, 512, 1024, 4096];
    let mut series: Vec<Box<dyn FnMut() + '_>> = sizes
        .iter()
        .map(|&n| Box::new(bare(world, vec![1u8; n])) as Box<dyn FnMut() + '_>)
        .collect();
    let mut refs: Vec<&mut dyn FnMut()> = series
        .iter_mut()
        .map(|b| &mut **b as &mut dyn FnMut())
        .collect();
    let out = timer.compare(&mut refs);
    if world.rank() == 0 {
        println!();
        println!(
            "Bare broadcast by message size ({} ranks), µs/call, medians:",
            world.size()
        );
        println!();
        println!("| bytes | {} |", sizes.map(|n| n.to_string()).join(" | "));
        println!("|---|{}", "---:|".repeat(sizes.len()));
        println!(
            "| µs/call | {} |",
            out.iter()
                .map(|v| us(median(&v.time)))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
}

// ------------------------------------------------------------------------------------------
// --prototypes

/// A value that bincode's serde path writes as one byte slice (length + memcpy).
struct AsBytes<'a>(&'a [u8]);

impl Serialize for AsBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// The owned counterpart of `AsBytes`.
struct ByteBuf(Vec<u8>);

impl<'de> serde::Deserialize<'de> for ByteBuf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte slice")
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
        }
        d.deserialize_byte_buf(Visitor)
    }
}

/// A byte-slice codec for `Vec<u8>` (what `serde_bytes` gives): one length, one memcpy.
fn byte_codec() -> Codec<Vec<u8>> {
    Codec {
        encode: |v, out| {
            out.reserve(v.len() + 9);
            serde_encode(&AsBytes(v), out);
        },
        decode: |b| serde_decode::<ByteBuf>(b).0,
    }
}

/// A byte-slice codec for `Vec<f64>`: a length, then the values' little-endian bytes.
fn f64_codec() -> Codec<Vec<f64>> {
    Codec {
        encode: |v, out| {
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            let start = out.len();
            out.resize(start + 8 * v.len(), 0);
            for (chunk, x) in out[start..].chunks_exact_mut(8).zip(v) {
                chunk.copy_from_slice(&x.to_le_bytes());
            }
        },
        decode: |b| {
            let n = u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize;
            b[8..8 + 8 * n]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect()
        },
    }
}

fn print_prototypes(world: &SimpleCommunicator, payload: &str, names: &[&str], out: &[Series]) {
    if world.rank() != 0 {
        return;
    }
    let base = median(&out[0].time);
    for (name, v) in names.iter().zip(out) {
        let m = median(&v.time);
        println!(
            "| {} | {payload} | {name} | {} | {:.2} |",
            world.size(),
            us(m),
            m / base
        );
    }
}

/// The floor of a zero-copy path for vectors of numbers: rank 0 clones the vector (the method)
/// and broadcasts its length, then the values in place; the others allocate and receive.
fn typed<'a, X: Equivalence + Default + Clone>(
    world: &'a SimpleCommunicator,
    value: &'a Vec<X>,
) -> impl FnMut() + 'a {
    move || {
        let root = world.process_at_rank(0);
        if world.rank() == 0 {
            let mut copy = black_box(value).clone();
            let mut n = copy.len() as u64;
            root.broadcast_into(&mut n);
            root.broadcast_into(&mut copy[..]);
            drop(black_box(copy));
        } else {
            let mut n = 0u64;
            root.broadcast_into(&mut n);
            let mut received = vec![X::default(); n as usize];
            root.broadcast_into(&mut received[..]);
            drop(black_box(received));
        }
    }
}

fn prototypes(timer: &Timer<'_>, source: &Source) {
    let world = timer.world;
    if world.rank() == 0 {
        println!("| ranks | payload | variant | µs/call | × bare |");
        println!("|---:|---|---|---:|---:|");
    }
    {
        let v = &source.small;
        let t256 = Transport {
            header: 256,
            ..BAMBOOST
        };
        let t128 = Transport {
            header: 128,
            hashed_label: true,
            ..BAMBOOST
        };
        let mut bare = bare(world, encode(v));
        let mut call = || drop(black_box(source.small()));
        let mut a = replica(world, BAMBOOST, Codec::serde(), "small", v, None);
        let mut b = replica(world, t256, Codec::serde(), "small", v, None);
        let mut c = replica(world, t128, Codec::serde(), "small", v, None);
        let mut d = replica(world, t128, byte_codec(), "small", v, None);
        let out = timer.compare(&mut [&mut bare, &mut call, &mut a, &mut b, &mut c, &mut d]);
        let names = [
            "bare",
            "root_process",
            "replica (512 B header)",
            "256 B header",
            "128 B header + hashed label",
            "128 B header + hashed label + byte codec",
        ];
        print_prototypes(world, "100 B Vec<u8>", &names, &out);
    }
    let reuse = Transport {
        reuse: true,
        ..BAMBOOST
    };
    let names = [
        "bare",
        "root_process",
        "replica",
        "reused exact-size buffers",
        "byte codec",
        "reused buffers + byte codec",
        "zero-copy floor: clone + typed broadcast",
    ];
    {
        let v = &source.field;
        let mut bare = bare(world, encode(v));
        let mut call = || drop(black_box(source.field()));
        let mut a = replica(world, BAMBOOST, Codec::serde(), "field", v, None);
        let mut b = replica(world, reuse, Codec::serde_exact(), "field", v, None);
        let mut c = replica(world, BAMBOOST, f64_codec(), "field", v, None);
        let mut d = replica(world, reuse, f64_codec(), "field", v, None);
        let mut e = typed(world, v);
        let out =
            timer.compare(&mut [&mut bare, &mut call, &mut a, &mut b, &mut c, &mut d, &mut e]);
        print_prototypes(world, "1 MiB Vec<f64>", &names, &out);
    }
    {
        let v = &source.raw;
        let mut bare = bare(world, encode(v));
        let mut call = || drop(black_box(source.raw()));
        let mut a = replica(world, BAMBOOST, Codec::serde(), "raw", v, None);
        let mut b = replica(world, reuse, Codec::serde_exact(), "raw", v, None);
        let mut c = replica(world, BAMBOOST, byte_codec(), "raw", v, None);
        let mut d = replica(world, reuse, byte_codec(), "raw", v, None);
        let mut e = typed(world, v);
        let out =
            timer.compare(&mut [&mut bare, &mut call, &mut a, &mut b, &mut c, &mut d, &mut e]);
        print_prototypes(world, "1 MiB Vec<u8>", &names, &out);
    }
}

// ------------------------------------------------------------------------------------------

fn main() {
    let mode = std::env::args()
        .skip(1)
        .find(|a| a == "--breakdown" || a == "--prototypes");
    let mut comm = Comm::world();
    if comm.as_mpi().is_none() {
        // Not started by a launcher: MPI as a single rank.
        comm = Comm::mpi_world().expect("MPI with MPI_THREAD_MULTIPLE");
    }
    let world = comm.as_mpi().expect("an MPI communicator");
    let rank = world.rank();
    let size = world.size();
    let timer = Timer { world };

    let source = Source {
        comm: CommSlot::with(comm.clone()),
        small: (0..100u8).collect(),
        field: (0..131_072).map(|i| (f64::from(i) * 1e-3).sin()).collect(),
        raw: (0..1_048_576u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect(),
    };
    let small = Case {
        name: "100 B Vec<u8>",
        method: "small",
        call: Source::small,
        value: &source.small,
    };
    let field = Case {
        name: "1 MiB Vec<f64>",
        method: "field",
        call: Source::field,
        value: &source.field,
    };
    let raw = Case {
        name: "1 MiB Vec<u8>",
        method: "raw",
        call: Source::raw,
        value: &source.raw,
    };

    if rank == 0 {
        let version = rsmpi::environment::library_version().unwrap_or_default();
        let version = version
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('\0')
            .to_string();
        println!("root_process benchmark: {size} rank(s), {version}");
        println!(
            "{SAMPLES} interleaved samples per series, each >= {} ms; time per call = slowest rank",
            MIN_SAMPLE.as_millis()
        );
        println!();
    }

    match mode.as_deref() {
        Some("--breakdown") => {
            let parts = [
                breakdown(&timer, &source, &small),
                breakdown(&timer, &source, &field),
                breakdown(&timer, &source, &raw),
            ];
            if rank == 0 {
                println!("Medians per call; the replica is a hand-written copy of the call:");
                println!();
                println!(
                    "| ranks | payload | bare µs | root_process µs | replica µs | page faults: bare / root_process / replica |"
                );
                println!("|---:|---|---:|---:|---:|---:|");
                parts.iter().for_each(|(summary, _)| println!("{summary}"));
                println!();
                println!("Steps of the replica, µs/call, mean over its sampled calls:");
                println!();
                println!(
                    "| ranks | payload / rank | clone | frame+encode | alloc | header bcast | rest bcast | decode | drop | total |"
                );
                println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                parts
                    .iter()
                    .flat_map(|(_, rows)| rows)
                    .for_each(|r| println!("{r}"));
            }
            message_sizes(&timer);
        }
        Some(_) => prototypes(&timer, &source),
        None => {
            let rows = [
                (
                    small.name,
                    encode(small.value).len(),
                    compare_case(&timer, &source, &small),
                ),
                (
                    field.name,
                    encode(field.value).len(),
                    compare_case(&timer, &source, &field),
                ),
                (
                    raw.name,
                    encode(raw.value).len(),
                    compare_case(&timer, &source, &raw),
                ),
            ];
            if rank == 0 {
                println!(
                    "Medians, µs/call, [min–max] of the samples; ratio = root_process / bare:"
                );
                println!();
                println!(
                    "| ranks | payload | encoded bytes | bare µs/call | root_process µs/call | ratio |"
                );
                println!("|---:|---|---:|---:|---:|---:|");
                for (name, len, (bare, root)) in &rows {
                    let (b, r) = (median(bare), median(root));
                    let ((b0, b1), (r0, r1)) = (min_max(bare), min_max(root));
                    println!(
                        "| {size} | {name} | {len} | {} [{}–{}] | {} [{}–{}] | {:.2} |",
                        us(b),
                        us(b0),
                        us(b1),
                        us(r),
                        us(r0),
                        us(r1),
                        r / b
                    );
                }
            }
        }
    }
}
