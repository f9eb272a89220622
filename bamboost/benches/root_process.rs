//! Per-call cost of a `#[root_process]` method against a bare MPI broadcast of the same bytes.
//!
//! Every rank builds an object whose `#[root_process]` methods return a clone of data it holds
//! (so the clone is part of the method's cost). The payloads cover both ways a return value
//! travels:
//!
//! - `Vec` of plain numbers, of arrays or of tuples of them (`Vec<u8>`, `Vec<f64>`,
//!   `Vec<[f64; 2]>`, `Vec<(f64, f64)>`), of a user's `bytemuck::Pod` struct (`Vec<Particle>`,
//!   two `f64`), the `Ok` of a `Result` of such a vector, and `String`: the value's own bytes
//!   are broadcast (inside the frame when small);
//! - any other serde type (`Vec<Point>`, the same two `f64` without `Pod`): encoded with
//!   bincode, broadcast, decoded.
//!
//! The baseline ("bare") sends the value's bytes by hand: rank 0 holds them in a buffer it
//! keeps, and every rank calls rsmpi's `broadcast_into` once on a buffer of that known length
//! (the other ranks allocate a fresh one per call). No clone, no framing, no length header.
//!
//! A sample is a barrier, then `n` calls back to back, timed on every rank; the sample's time is
//! the slowest rank's (`MPI_Allreduce` with `MPI_MAX`) divided by `n`, with `n` calibrated so a
//! sample takes at least 50 ms. 15 samples per series, interleaved (bare, call, then call, bare,
//! …) so drift hits both; rank 0 prints the medians, their ranges, and the ratio.
//!
//! ```text
//! CARGO_TARGET_DIR=target/mpi cargo bench -p bamboost --features mpi --bench root_process --no-run
//! mpirun -np 4 --oversubscribe target/mpi/release/deps/root_process-<hash> [FILTER]
//! ```
//!
//! With `FILTER`, only the payloads whose name contains it are measured (e.g. `100 B`). With the
//! encoded payload, rank 0 then also times bincode alone (encode and decode, no MPI): the floor
//! that no transport can remove.

use bamboost::mpi::rsmpi::collective::SystemOperation;
use bamboost::mpi::rsmpi::topology::SimpleCommunicator;
use bamboost::mpi::rsmpi::traits::*;
use bamboost::mpi::{CommSlot, HasComm};
use bamboost::{Comm, root_process};
use std::hint::black_box;
use std::time::Instant;

/// Samples per series.
const SAMPLES: usize = 15;
/// The shortest time a sample may take, in seconds.
const MIN_SAMPLE: f64 = 0.05;

/// An object holding data that only rank 0 should hand out, like an index or a file reader.
struct Source {
    comm: CommSlot,
    small: Vec<u8>,
    text: String,
    field: Vec<f64>,
    raw: Vec<u8>,
    points: Vec<[f64; 2]>,
    pairs: Vec<(f64, f64)>,
    particles: Vec<Particle>,
    structs: Vec<Point>,
}

/// A user's plain-data type (`bytemuck::Pod`): broadcast as raw memory.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Particle {
    x: f64,
    y: f64,
}

/// A user's type: serde encodes it field by field.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: f64,
    y: f64,
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

    fn text(&self) -> String {
        self.text.clone()
    }

    fn field(&self) -> Vec<f64> {
        self.field.clone()
    }

    /// A read on rank 0 that may fail: `Ok` travels as raw memory, as for [`Source::field`].
    fn try_field(&self) -> bamboost::Result<Vec<f64>> {
        Ok(self.field.clone())
    }

    fn raw(&self) -> Vec<u8> {
        self.raw.clone()
    }

    fn points(&self) -> Vec<[f64; 2]> {
        self.points.clone()
    }

    fn pairs(&self) -> Vec<(f64, f64)> {
        self.pairs.clone()
    }

    fn particles(&self) -> Vec<Particle> {
        self.particles.clone()
    }

    fn structs(&self) -> Vec<Point> {
        self.structs.clone()
    }
}

/// Seconds per call of `f`, the slowest rank's, for `iters` calls.
fn sample(world: &SimpleCommunicator, iters: u64, f: &mut dyn FnMut()) -> f64 {
    world.barrier();
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let mut slowest = 0.0f64;
    world.all_reduce_into(
        &start.elapsed().as_secs_f64(),
        &mut slowest,
        SystemOperation::max(),
    );
    slowest / iters as f64
}

/// Calls per sample so that a sample takes at least `MIN_SAMPLE` (the same on every rank).
fn calibrate(world: &SimpleCommunicator, f: &mut dyn FnMut()) -> u64 {
    let mut iters = 1u64;
    while sample(world, iters, f) * (iters as f64) < MIN_SAMPLE {
        iters *= 4;
    }
    iters
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The bare broadcast of `bytes` from rank 0.
fn bare(world: &SimpleCommunicator, bytes: &[u8]) -> impl FnMut() {
    let rank = world.rank();
    let root = world.process_at_rank(0);
    let mut kept = bytes.to_vec();
    move || {
        if rank == 0 {
            root.broadcast_into(&mut kept[..]);
        } else {
            let mut buf = vec![0u8; kept.len()];
            root.broadcast_into(&mut buf[..]);
            black_box(&buf);
        }
    }
}

/// The bytes of a slice of plain values.
fn bytes_of<T: Copy>(values: &[T]) -> Vec<u8> {
    // SAFETY: only called with primitive numbers and arrays of them: no padding, all bytes
    // initialised.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
    .to_vec()
}

/// One table row: times the bare broadcast and the call, interleaved.
fn row(
    world: &SimpleCommunicator,
    name: &str,
    bytes: &[u8],
    call: &mut dyn FnMut(),
) -> Option<String> {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    if !name.contains(&filter) {
        return None;
    }
    let mut bare = bare(world, bytes);
    let iters = [calibrate(world, &mut bare), calibrate(world, call)];
    let (mut bare_times, mut call_times) = (Vec::new(), Vec::new());
    for round in 0..SAMPLES {
        if round % 2 == 0 {
            bare_times.push(sample(world, iters[0], &mut bare));
            call_times.push(sample(world, iters[1], call));
        } else {
            call_times.push(sample(world, iters[1], call));
            bare_times.push(sample(world, iters[0], &mut bare));
        }
    }
    let range = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        format!("{:.3}–{:.3}", lo * 1e6, hi * 1e6)
    };
    let (b, c) = (median(bare_times.clone()), median(call_times.clone()));
    Some(format!(
        "| {} | {name} | {} | {:.3} [{}] | {:.3} [{}] | {:.2} |",
        world.size(),
        bytes.len(),
        b * 1e6,
        range(&bare_times),
        c * 1e6,
        range(&call_times),
        c / b
    ))
}

/// Median µs of one bincode encode and one decode of `points`, in this process alone (bincode 2's
/// standard configuration through serde, as bamboost's codec): the part of an encoded call that
/// no transport can remove.
fn codec_alone(points: &[Point]) -> (f64, f64) {
    let config = bincode::config::standard();
    let encoded = bincode::serde::encode_to_vec(points, config).expect("encode");
    let time = |f: &mut dyn FnMut()| {
        let times = (0..SAMPLES)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..20 {
                    f();
                }
                start.elapsed().as_secs_f64() / 20.0 * 1e6
            })
            .collect();
        median(times)
    };
    let encode = time(&mut || {
        black_box(bincode::serde::encode_to_vec(black_box(points), config).expect("encode"));
    });
    let decode = time(&mut || {
        let decoded: (Vec<Point>, usize) =
            bincode::serde::decode_from_slice(black_box(&encoded), config).expect("decode");
        black_box(decoded);
    });
    (encode, decode)
}

fn main() {
    let mut comm = Comm::world();
    if comm.as_mpi().is_none() {
        // Not started by a launcher: MPI as a single rank.
        comm = Comm::mpi_world().expect("MPI with MPI_THREAD_MULTIPLE");
    }
    let world = comm.as_mpi().expect("an MPI communicator");
    let source = Source {
        comm: CommSlot::with(comm.clone()),
        small: (0..100u8).collect(),
        text: "x".repeat(100),
        field: (0..131_072).map(|i| (f64::from(i) * 1e-3).sin()).collect(),
        raw: (0..1_048_576u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect(),
        points: (0..65_536).map(|i| [f64::from(i), -f64::from(i)]).collect(),
        pairs: (0..65_536).map(|i| (f64::from(i), -f64::from(i))).collect(),
        particles: (0..65_536)
            .map(|i| Particle {
                x: f64::from(i),
                y: -f64::from(i),
            })
            .collect(),
        structs: (0..65_536)
            .map(|i| Point {
                x: f64::from(i),
                y: -f64::from(i),
            })
            .collect(),
    };
    // Every rank must get rank 0's values.
    assert!(
        source.small() == source.small
            && source.field() == source.field
            && source.try_field().is_ok_and(|f| f == source.field)
            && source.points() == source.points
            && source.pairs() == source.pairs
            && source.particles() == source.particles
            && source.structs() == source.structs
    );

    let rows = [
        row(
            world,
            "100 B `Vec<u8>` (raw memory)",
            &source.small,
            &mut || drop(black_box(source.small())),
        ),
        row(
            world,
            "100 B `String` (its bytes, in the frame)",
            source.text.as_bytes(),
            &mut || drop(black_box(source.text())),
        ),
        row(
            world,
            "1 MiB `Vec<f64>` (raw memory)",
            &bytes_of(&source.field),
            &mut || drop(black_box(source.field())),
        ),
        row(
            world,
            "1 MiB `Result<Vec<f64>>` (`Ok`: raw memory)",
            &bytes_of(&source.field),
            &mut || drop(black_box(source.try_field())),
        ),
        row(
            world,
            "1 MiB `Vec<u8>` (raw memory)",
            &source.raw,
            &mut || drop(black_box(source.raw())),
        ),
        row(
            world,
            "1 MiB `Vec<[f64; 2]>` (raw memory)",
            &bytes_of(&source.points),
            &mut || drop(black_box(source.points())),
        ),
        row(
            world,
            "1 MiB `Vec<(f64, f64)>` (raw memory)",
            &bytes_of(&source.points),
            &mut || drop(black_box(source.pairs())),
        ),
        row(
            world,
            "1 MiB `Vec<Particle>` (a `Pod` struct: raw memory)",
            &bytes_of(&source.points),
            &mut || drop(black_box(source.particles())),
        ),
        row(
            world,
            "1 MiB `Vec<Point>` (encoded; bare: the same 1 MiB)",
            &bytes_of(&source.points),
            &mut || drop(black_box(source.structs())),
        ),
    ];
    let encoded = rows[rows.len() - 1].is_some();
    if world.rank() == 0 {
        println!(
            "| ranks | payload | bytes | bare µs/call [range] | `#[root_process]` µs/call [range] | ratio |"
        );
        println!("|---:|---|---:|---:|---:|---:|");
        for row in rows.into_iter().flatten() {
            println!("{row}");
        }
        if encoded {
            let (encode, decode) = codec_alone(&source.structs);
            println!(
                "\nbincode alone (rank 0, no MPI), 1 MiB `Vec<Point>`: encode {encode:.0} µs, decode {decode:.0} µs"
            );
        }
    }
    // The other ranks wait without spinning, so that rank 0 times the codec with a core free.
    let mut done = world.immediate_barrier();
    while let Err(pending) = done.test() {
        done = pending;
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}
