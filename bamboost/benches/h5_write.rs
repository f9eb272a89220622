//! Throughput and peak memory of `Group::write_distributed_array`, against the same write made
//! directly with the HDF5 C API and against plain sequential file writes (results and analysis:
//! `book/src/performance.md`, "Writing distributed arrays").
//!
//! The data are rows of 3 `f64` (coordinates), `--mib` MiB in total (default 64 and 256), split
//! into consecutive row blocks over the ranks. Every series writes the whole array into a new
//! file in `--dir` (default `target/mpi/bench-tmp`, on the real disk). A sample is a barrier,
//! then the series on every rank, then the slowest rank's elapsed time (`MPI_Allreduce` with
//! `MPI_MAX`); after it, rank 0 deletes the file and runs `sync`, so no sample pays for the
//! writeback of another. Before each sample, rank 0 writes and deletes an untimed scratch file
//! of twice the size (see `warm_page_cache`). The series run interleaved, in a rotating order:
//!
//! - `bamboost`: `File::new` → `open_mut` → `write_distributed_array(.., None)` → `close`.
//! - `C API, MPI-IO` (more than one rank) or `C API, sec2` (one rank, where bamboost does not use
//!   MPI-IO either): the same write with `hdf5-sys` calls only: `H5Pset_fapl_mpio` on the world
//!   communicator, `H5Fcreate`, a dataset of the same shape and type with the fill value NaN (as
//!   bamboost), a hyperslab of the rank's rows, collective transfer, `H5Dwrite`, closes. On one
//!   rank `C API, MPI-IO` runs as well.
//! - `C API, MPI-IO, fill never`: as `C API, MPI-IO` with `H5Pset_fill_time(NEVER)`: the fill
//!   value is recorded but not written (parallel HDF5 allocates the dataset at creation and,
//!   with a fill value set, writes it over the whole dataset).
//! - `scattered`: bamboost with the rows given through a seeded random permutation of the global
//!   rows (the same on all ranks): `write_distributed_array(.., Some(&indices))`.
//! - `bamboost + fsync`: `bamboost`, then rank 0 reopens the file and calls `sync_all`.
//! - `std::fs` and `std::fs + sync_all`: rank 0 alone writes the same number of bytes into a new
//!   file (`write_all`, then `sync_all` for the second): the page cache's and the disk's
//!   sequential write bandwidth. The other ranks wait in a sleeping poll, not a spinning MPI call.
//!
//! Rank 0 prints a Markdown table of the medians and a `SUMMARY` line of ratios. Other modes:
//!
//! - `--ab`: only `bamboost` and the two `C API` series (the comparison with the C API).
//! - `--scatter`: only `bamboost` and `scattered` (the scattered / contiguous ratio).
//! - `--breakdown [--reuse]`: a replica of the first, single-exchange scattered write (before the
//!   rounds), timed step by step with the minor page faults of each step; `--reuse` keeps its
//!   buffers between writes.
//! - `--memory contiguous|scattered|capi`: the peak memory of one write. Each rank allocates and
//!   fills its rows (and indices), makes one small write to initialise HDF5 and MPI-IO, resets
//!   its peak RSS (`/proc/self/clear_refs`), reads `VmRSS`, makes the write (open to close), then
//!   reads `VmHWM`; rank 0 prints the largest increase over the ranks and its ratio to the local
//!   data. Run one size per process.
//! - `--row N`: rows of `N` `f64` instead of 3 (e.g. `--row 1` for a scalar field).
//!
//! ```text
//! CARGO_TARGET_DIR=target/mpi cargo bench -p bamboost --features mpi --bench h5_write --no-run
//! mpirun -np 2 target/mpi/release/deps/h5_write-<hash> [--mib 64,256] [--samples 7] [--ab]
//! mpirun --oversubscribe -np 4 target/mpi/release/deps/h5_write-<hash> --breakdown --mib 256
//! mpirun -np 2 target/mpi/release/deps/h5_write-<hash> --memory scattered --mib 256
//! ```
//!
//! Started without a launcher, it initialises MPI itself and runs as a single rank.

use bamboost::Comm;
use bamboost::h5::File;
use bamboost::mpi::CommSlot;
use bamboost::mpi::rsmpi::collective::SystemOperation;
use bamboost::mpi::rsmpi::topology::SimpleCommunicator;
use bamboost::mpi::rsmpi::traits::*;
use ndarray::Array2;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Values per row: 3 (coordinates), or `--row N`.
fn row_len() -> usize {
    static LEN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LEN.get_or_init(|| arg("--row").map_or(3, |r| r.parse().expect("--row takes a count")))
}
const MIB: f64 = 1024.0 * 1024.0;

/// One way of writing the array.
#[derive(Clone, Copy, PartialEq)]
enum Series {
    Bamboost,
    Capi { mpio: bool, fill: bool },
    Scattered,
    BamboostSync,
    Fs { sync: bool },
}

impl Series {
    fn name(self) -> &'static str {
        match self {
            Series::Bamboost => "bamboost",
            Series::Capi { mpio: false, .. } => "C API, sec2",
            Series::Capi { fill: true, .. } => "C API, MPI-IO",
            Series::Capi { .. } => "C API, MPI-IO, fill never",
            Series::Scattered => "scattered",
            Series::BamboostSync => "bamboost + fsync",
            Series::Fs { sync: false } => "std::fs",
            Series::Fs { sync: true } => "std::fs + sync_all",
        }
    }
}

/// Which series a throughput run measures.
#[derive(Clone, Copy, PartialEq)]
enum Only {
    All,
    /// `--ab`: bamboost and the C API.
    CApi,
    /// `--scatter`: bamboost contiguous and scattered.
    Scattered,
}

/// This rank's share of the array and what every series needs to write it.
struct Local {
    comm: Comm,
    total_rows: usize,
    first_row: usize,
    data: Array2<f64>,
    /// Global rows of the local rows for `scattered`: a slice of a random permutation.
    indices: Vec<u64>,
}

impl Local {
    fn new(comm: &Comm, total_rows: usize, scattered: bool) -> Local {
        let (rank, size) = (comm.rank(), comm.size());
        let rows_of = |r: usize| total_rows / size + usize::from(r < total_rows % size);
        let first_row: usize = (0..rank).map(rows_of).sum();
        let rows = rows_of(rank);
        let data = Array2::from_shape_fn((rows, row_len()), |(i, j)| {
            let g = (first_row + i) as f64;
            g * 1e-3 + j as f64
        });
        let indices = if scattered {
            permutation(total_rows, 0x5eed)[first_row..first_row + rows].to_vec()
        } else {
            Vec::new()
        };
        Local {
            comm: comm.clone(),
            total_rows,
            first_row,
            data,
            indices,
        }
    }

    fn world(&self) -> &SimpleCommunicator {
        self.comm.as_mpi().expect("an MPI communicator")
    }

    fn rank(&self) -> usize {
        self.comm.rank()
    }

    /// Bytes of the whole array.
    fn total_bytes(&self) -> usize {
        self.total_rows * row_len() * 8
    }

    /// Runs `series` once, writing `path`.
    fn write(&self, series: Series, path: &Path) {
        match series {
            Series::Bamboost | Series::Scattered | Series::BamboostSync => {
                let indices = (series == Series::Scattered).then_some(&self.indices[..]);
                let file = File::new(path, CommSlot::with(self.comm.clone()));
                let f = file.open_mut().expect("open");
                f.root()
                    .write_distributed_array("x", &self.data, indices)
                    .expect("write_distributed_array");
                f.close().expect("close");
                if series == Series::BamboostSync && self.rank() == 0 {
                    std::fs::File::open(path)
                        .and_then(|f| f.sync_all())
                        .expect("fsync");
                }
            }
            Series::Capi { mpio, fill } => capi_write(self, path, mpio, fill),
            Series::Fs { sync } => {
                if self.rank() == 0 {
                    fs_write(path, self.total_bytes(), sync);
                }
                // The other ranks wait without spinning, so that one process has the machine.
                let mut barrier = self.world().immediate_barrier();
                while let Err(pending) = barrier.test() {
                    barrier = pending;
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            }
        }
    }

    /// Seconds of one run of `series` on the slowest rank; the file is deleted afterwards.
    fn sample(&self, series: Series, path: &Path) -> f64 {
        self.warm_page_cache(path);
        self.world().barrier();
        let start = Instant::now();
        self.write(series, path);
        let local = start.elapsed().as_secs_f64();
        let mut max = 0.0;
        self.world()
            .all_reduce_into(&local, &mut max, SystemOperation::max());
        if self.rank() == 0 {
            std::fs::remove_file(path).expect("remove the file");
            // Flush all dirty pages, so no sample pays for the writeback of an earlier one.
            let synced = std::process::Command::new("sync").status();
            assert!(synced.is_ok_and(|s| s.success()), "sync failed");
        }
        self.world().barrier();
        max
    }

    /// Rank 0 writes and deletes a scratch file of twice the array's size. On the virtual
    /// machine of the measurements, page-cache pages left idle for a few seconds are otherwise
    /// slow to reuse: a 256 MiB write took 80 ms or 0.3–1.1 s depending on that.
    fn warm_page_cache(&self, path: &Path) {
        if self.rank() == 0 {
            let scratch = path.with_extension("scratch");
            fs_write(&scratch, 2 * self.total_bytes(), false);
            std::fs::remove_file(&scratch).expect("remove the scratch file");
        }
    }
}

/// A random permutation of `0..n`: Fisher–Yates with splitmix64, the same on every rank.
fn permutation(n: usize, seed: u64) -> Vec<u64> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut p: Vec<u64> = (0..n as u64).collect();
    for i in (1..n).rev() {
        p.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    p
}

/// Writes `bytes` bytes into a new file with one process, as a plain sequential write.
fn fs_write(path: &Path, bytes: usize, sync: bool) {
    let chunk: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31 % 251) as u8).collect();
    let mut file = std::fs::File::create(path).expect("create");
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n]).expect("write");
        left -= n;
    }
    if sync {
        file.sync_all().expect("sync_all");
    }
}

/// The bamboost write made with the HDF5 C API only (see the module documentation).
fn capi_write(local: &Local, path: &Path, mpio: bool, fill: bool) {
    use hdf5_sys::h5::{H5open, hsize_t};
    use hdf5_sys::h5d::{H5D_fill_time_t, H5Dclose, H5Dcreate2, H5Dwrite};
    use hdf5_sys::h5f::{H5F_ACC_TRUNC, H5Fclose, H5Fcreate};
    use hdf5_sys::h5p::*;
    use hdf5_sys::h5s::{
        H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab, H5Sselect_none,
    };
    use hdf5_sys::h5t::H5T_NATIVE_DOUBLE;
    let check = |status: i64, what: &str| assert!(status >= 0, "{what} failed");
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path");
    let rows = local.data.nrows();
    let data = local.data.as_slice().expect("standard layout");
    hdf5::sync::sync(|| {
        // SAFETY: every id is created here, checked, used while live and closed once; `dims`,
        // `start` and `count` have one entry per dimension; `data` holds the `rows × row_len()`
        // doubles the memory space selects; the communicator outlives the file.
        unsafe {
            check(H5open().into(), "H5open");
            let fapl = H5Pcreate(*H5P_CLS_FILE_ACCESS);
            check(fapl, "H5Pcreate(fapl)");
            if mpio {
                let comm = local.world().as_raw();
                let info = bamboost::mpi::rsmpi::ffi::RSMPI_INFO_NULL;
                check(
                    H5Pset_fapl_mpio(fapl, comm, info).into(),
                    "H5Pset_fapl_mpio",
                );
            }
            let file = H5Fcreate(name.as_ptr(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
            check(file, "H5Fcreate");
            let dims = [local.total_rows as hsize_t, row_len() as hsize_t];
            let file_space = H5Screate_simple(2, dims.as_ptr(), std::ptr::null());
            check(file_space, "H5Screate_simple");
            let dcpl = H5Pcreate(*H5P_CLS_DATASET_CREATE);
            check(dcpl, "H5Pcreate(dcpl)");
            let nan = f64::NAN;
            let value = (&raw const nan).cast();
            check(
                H5Pset_fill_value(dcpl, *H5T_NATIVE_DOUBLE, value).into(),
                "fill",
            );
            if !fill {
                let never = H5D_fill_time_t::H5D_FILL_TIME_NEVER;
                check(H5Pset_fill_time(dcpl, never).into(), "H5Pset_fill_time");
            }
            let dataset = H5Dcreate2(
                file,
                c"x".as_ptr(),
                *H5T_NATIVE_DOUBLE,
                file_space,
                H5P_DEFAULT,
                dcpl,
                H5P_DEFAULT,
            );
            check(dataset, "H5Dcreate2");
            let count = [rows as hsize_t, row_len() as hsize_t];
            let memory_space = H5Screate_simple(2, count.as_ptr(), std::ptr::null());
            check(memory_space, "H5Screate_simple");
            if rows == 0 {
                check(H5Sselect_none(file_space).into(), "H5Sselect_none");
                check(H5Sselect_none(memory_space).into(), "H5Sselect_none");
            } else {
                let start = [local.first_row as hsize_t, 0];
                let set = H5S_seloper_t::H5S_SELECT_SET;
                let null = std::ptr::null();
                let status = H5Sselect_hyperslab(
                    file_space,
                    set,
                    start.as_ptr(),
                    null,
                    count.as_ptr(),
                    null,
                );
                check(status.into(), "H5Sselect_hyperslab");
            }
            let dxpl = H5Pcreate(*H5P_CLS_DATASET_XFER);
            check(dxpl, "H5Pcreate(dxpl)");
            if mpio {
                let collective = H5FD_mpio_xfer_t::H5FD_MPIO_COLLECTIVE;
                check(
                    H5Pset_dxpl_mpio(dxpl, collective).into(),
                    "H5Pset_dxpl_mpio",
                );
            }
            let status = H5Dwrite(
                dataset,
                *H5T_NATIVE_DOUBLE,
                memory_space,
                file_space,
                dxpl,
                data.as_ptr().cast(),
            );
            check(status.into(), "H5Dwrite");
            for (status, what) in [
                (H5Pclose(dxpl), "H5Pclose"),
                (H5Sclose(memory_space), "H5Sclose"),
                (H5Dclose(dataset), "H5Dclose"),
                (H5Pclose(dcpl), "H5Pclose"),
                (H5Sclose(file_space), "H5Sclose"),
                (H5Pclose(fapl), "H5Pclose"),
                (H5Fclose(file), "H5Fclose"),
            ] {
                check(status.into(), what);
            }
        }
    });
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

/// `--name value` from the command line.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Times every series at one size and prints its rows; returns nothing, rank 0 prints.
fn throughput(comm: &Comm, dir: &Path, mib: usize, samples: usize, only: Only) {
    let local = Local::new(comm, mib * (1 << 20) / (row_len() * 8), true);
    let capi = Series::Capi {
        mpio: comm.size() > 1,
        fill: true,
    };
    let mut series = vec![
        Series::Bamboost,
        Series::Capi {
            mpio: comm.size() > 1,
            fill: true,
        },
        Series::Capi {
            mpio: true,
            fill: false,
        },
        Series::Scattered,
        Series::BamboostSync,
        Series::Fs { sync: false },
        Series::Fs { sync: true },
    ];
    if only == Only::CApi {
        let never = Series::Capi {
            mpio: true,
            fill: false,
        };
        series = vec![Series::Bamboost, capi, never];
    } else if only == Only::Scattered {
        series = vec![Series::Bamboost, Series::Scattered];
    } else if comm.size() == 1 {
        series.insert(
            2,
            Series::Capi {
                mpio: true,
                fill: true,
            },
        );
    }
    let path = |s: usize| dir.join(format!("{mib}-{s}.h5"));
    // One warm-up run of each, then `samples` rounds in a rotating order.
    for (s, &one) in series.iter().enumerate() {
        local.sample(one, &path(s));
    }
    let mut times = vec![Vec::new(); series.len()];
    for round in 0..samples {
        for k in 0..series.len() {
            let s = (round + k) % series.len();
            times[s].push(local.sample(series[s], &path(s)));
        }
    }
    if comm.rank() != 0 {
        return;
    }
    let median: Vec<f64> = times.iter().map(|t| median(t)).collect();
    // NaN for a series not run (`--ab`).
    let at = |one: Series| {
        series
            .iter()
            .position(|&s| s == one)
            .map_or(f64::NAN, |s| median[s])
    };
    let bytes = local.total_bytes() as f64;
    for (s, &one) in series.iter().enumerate() {
        let (min, max) = times[s]
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &t| (a.min(t), b.max(t)));
        println!(
            "| {} | {mib} | {} | {:.1} | {:.1}–{:.1} | {:.0} | {:.3} |",
            comm.size(),
            one.name(),
            median[s] * 1e3,
            min * 1e3,
            max * 1e3,
            bytes / MIB / median[s],
            at(Series::Bamboost) / median[s],
        );
    }
    println!(
        "SUMMARY ranks={} MiB={mib} bamboost/capi={:.3} bamboost/fs={:.3} \
         bamboost_fsync/fs_sync={:.3} scattered/contiguous={:.3} bamboost_MiB/s={:.0} \
         fs_sync_MiB/s={:.0}",
        comm.size(),
        at(capi) / at(Series::Bamboost),
        at(Series::Fs { sync: false }) / at(Series::Bamboost),
        at(Series::Fs { sync: true }) / at(Series::BamboostSync),
        at(Series::Bamboost) / at(Series::Scattered),
        bytes / MIB / at(Series::Bamboost),
        bytes / MIB / at(Series::Fs { sync: true }),
    );
}

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`).
fn minor_faults() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let field = after.split_whitespace().nth(7);
    field.and_then(|v| v.parse().ok()).expect("a fault count")
}

/// A field of `/proc/self/status` in KiB.
fn status_kib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a status field")
}

/// Peak memory of one write of `mode`; rank 0 prints one table row.
fn memory(comm: &Comm, dir: &Path, mode: &str, mib: usize) {
    let series = match mode {
        "contiguous" => Series::Bamboost,
        "scattered" => Series::Scattered,
        "capi" => Series::Capi {
            mpio: comm.size() > 1,
            fill: true,
        },
        other => panic!("--memory takes contiguous, scattered or capi, not {other}"),
    };
    // Initialise HDF5 and MPI-IO with one small write of the same kind.
    let small = Local::new(comm, comm.size(), true);
    small.sample(series, &dir.join("warm-up.h5"));
    let local = Local::new(
        comm,
        mib * (1 << 20) / (row_len() * 8),
        series == Series::Scattered,
    );
    let local_bytes = (local.data.len() * 8) as f64;
    // Reset VmHWM to the current RSS (Linux ≥ 4.0).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = status_kib("VmRSS:");
    let path = dir.join("memory.h5");
    local.world().barrier();
    local.write(series, &path);
    local.world().barrier();
    let extra = (status_kib("VmHWM:") - before) * 1024.0;
    if comm.rank() == 0 {
        std::fs::remove_file(&path).expect("remove the file");
    }
    let all = [extra, local_bytes, extra / local_bytes];
    let mut max = [0.0; 3];
    local
        .world()
        .all_reduce_into(&all[..], &mut max[..], SystemOperation::max());
    if comm.rank() == 0 {
        println!(
            "| {mode} | {} | {mib} | {:.1} | {:.1} | {:.3} |",
            comm.size(),
            max[1] / MIB,
            max[0] / MIB,
            max[2],
        );
    }
}

/// Buffers of the replica in `breakdown`, kept between writes with `--reuse`.
#[derive(Default)]
struct Buffers {
    send: Vec<u8>,
    received: Vec<u8>,
    block: Vec<f64>,
    seen: Vec<bool>,
}

/// The phases of a scattered write, timed one by one (with a barrier after each) in a replica
/// of `distributed::write` and `exchange_rows` (bamboost/src/h5/distributed.rs); rank 0 prints
/// the medians of the slowest rank's times and minor page faults. With `reuse`, the replica
/// keeps its buffers between writes (and receives with rsmpi directly), instead of allocating
/// them on every write as bamboost does.
fn breakdown(comm: &Comm, dir: &Path, mib: usize, samples: usize, reuse: bool) {
    const PHASES: [&str; 7] = [
        "agree on shapes and length (allgather, allreduce)",
        "bucket rows by owner (send buffer)",
        "alltoallv (receive buffer)",
        "assemble the block (fill, scatter rows)",
        "duplicate check (allreduce)",
        "open, create, write the block, close",
        "total of the phases",
    ];
    let local = Local::new(comm, mib * (1 << 20) / (row_len() * 8), true);
    let (size, indices, world) = (comm.size(), &local.indices[..], local.world());
    let data = local.data.as_slice().expect("standard layout");
    let mut times = vec![Vec::new(); 2 * PHASES.len()];
    let mut kept = Buffers::default();
    for sample in 0..=samples {
        local.warm_page_cache(&dir.join("breakdown.h5"));
        comm.barrier();
        let mut b = if reuse {
            std::mem::take(&mut kept)
        } else {
            Buffers::default()
        };
        // Seconds, then minor page faults, of each phase.
        let mut t = [0.0f64; 2 * PHASES.len()];
        let (mut clock, mut faults) = (Instant::now(), minor_faults());
        let mut lap = |phase: usize| {
            t[phase] = clock.elapsed().as_secs_f64();
            t[PHASES.len() + phase] = minor_faults() - faults;
            comm.barrier();
            (clock, faults) = (Instant::now(), minor_faults());
        };
        let all = comm
            .allgather((indices.len(), vec![row_len()]))
            .expect("allgather");
        let max = indices.iter().max().map_or(0, |&i| i + 1);
        let global_len = comm.allreduce(max, bamboost::mpi::op::Max).expect("max") as usize;
        assert_eq!(all.len(), size);
        lap(0);
        let per_rank = global_len.div_ceil(size).max(1);
        let owner = |index: u64| (index as usize / per_rank).min(size - 1);
        let record = 8 + row_len() * 8;
        let mut counts = vec![0usize; size];
        for &index in indices {
            counts[owner(index)] += record;
        }
        let mut offsets: Vec<usize> = counts
            .iter()
            .scan(0, |acc, &c| Some(std::mem::replace(acc, *acc + c)))
            .collect();
        if reuse {
            b.send.resize(indices.len() * record, 0);
        } else {
            b.send = vec![0u8; indices.len() * record];
        }
        for (row, &index) in indices.iter().enumerate() {
            let at = &mut offsets[owner(index)];
            b.send[*at..*at + 8].copy_from_slice(&index.to_le_bytes());
            for (j, v) in data[row * row_len()..(row + 1) * row_len()]
                .iter()
                .enumerate()
            {
                b.send[*at + 8 + 8 * j..*at + 16 + 8 * j].copy_from_slice(&v.to_le_bytes());
            }
            *at += record;
        }
        lap(1);
        if reuse {
            use bamboost::mpi::rsmpi::datatype::{Partition, PartitionMut};
            let counts: Vec<i32> = counts.iter().map(|&c| c as i32).collect();
            let mut received = vec![0i32; size];
            world.all_to_all_into(&counts[..], &mut received[..]);
            let starts = |c: &[i32]| -> Vec<i32> {
                c.iter()
                    .scan(0, |acc, &n| Some(std::mem::replace(acc, *acc + n)))
                    .collect()
            };
            let (send_starts, receive_starts) = (starts(&counts), starts(&received));
            b.received.resize(received.iter().sum::<i32>() as usize, 0);
            let from = Partition::new(&b.send[..], &counts[..], &send_starts[..]);
            let mut into =
                PartitionMut::new(&mut b.received[..], &received[..], &receive_starts[..]);
            world.all_to_all_varcount_into(&from, &mut into);
        } else {
            b.received = comm.alltoallv(&b.send, &counts).expect("alltoallv");
            b.send = Vec::new();
        }
        lap(2);
        let first_row = (comm.rank() * per_rank).min(global_len);
        let rows = per_rank.min(global_len - first_row);
        if reuse {
            b.block.clear();
            b.block.resize(rows * row_len(), f64::NAN);
            b.seen.clear();
            b.seen.resize(rows, false);
        } else {
            b.block = vec![f64::NAN; rows * row_len()];
            b.seen = vec![false; rows];
        }
        let mut duplicate = 0;
        for chunk in b.received.chunks_exact(record) {
            let index = u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes"));
            let row = index as usize - first_row;
            if std::mem::replace(&mut b.seen[row], true) {
                duplicate = index + 1;
            }
            for (j, v) in b.block[row * row_len()..(row + 1) * row_len()]
                .iter_mut()
                .enumerate()
            {
                *v = f64::from_le_bytes(chunk[8 + 8 * j..16 + 8 * j].try_into().expect("8"));
            }
        }
        if !reuse {
            b.received = Vec::new();
        }
        lap(3);
        let duplicate = comm
            .allreduce(duplicate, bamboost::mpi::op::Max)
            .expect("max");
        assert_eq!(duplicate, 0);
        lap(4);
        let block =
            ndarray::ArrayView2::from_shape((rows, row_len()), &b.block[..]).expect("a block");
        let path = dir.join("breakdown.h5");
        let file = File::new(&path, CommSlot::with(comm.clone()));
        let f = file.open_mut().expect("open");
        f.root()
            .write_distributed_array("x", block, None)
            .expect("write");
        f.close().expect("close");
        lap(5);
        if comm.rank() == 0 {
            std::fs::remove_file(&path).expect("remove the file");
        }
        kept = b;
        t[6] = t[..6].iter().sum();
        t[13] = t[7..13].iter().sum();
        let mut max = [0.0f64; 2 * PHASES.len()];
        world.all_reduce_into(&t[..], &mut max[..], SystemOperation::max());
        // The first round is a warm-up.
        for (phase, &m) in max.iter().enumerate().filter(|_| sample > 0) {
            times[phase].push(m);
        }
    }
    if comm.rank() == 0 {
        for (phase, name) in PHASES.iter().enumerate() {
            let (ms, faults) = (median(&times[phase]) * 1e3, median(&times[7 + phase]));
            println!(
                "| {size} | {mib} | {name} | {ms:.1} | {:.1} |",
                faults / 1e3
            );
        }
    }
}

fn main() {
    let mut comm = Comm::world();
    if comm.as_mpi().is_none() {
        // Not started by a launcher: MPI as a single rank.
        comm = Comm::mpi_world().expect("MPI with MPI_THREAD_MULTIPLE");
    }
    let base = arg("--dir").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/mpi/bench-tmp"),
        PathBuf::from,
    );
    // A fresh directory, named by rank 0 and removed at the end.
    let dir = if comm.rank() == 0 {
        std::fs::create_dir_all(&base).expect("create the bench directory");
        let base = std::fs::canonicalize(&base).expect("the bench directory");
        Some(tempfile::tempdir_in(&base).expect("a temporary directory"))
    } else {
        None
    };
    let name = dir.as_ref().map(|d| d.path().display().to_string());
    let path = PathBuf::from(comm.bcast(name.unwrap_or_default(), 0).expect("bcast"));
    let mib: Vec<usize> = arg("--mib")
        .unwrap_or_else(|| "64,256".into())
        .split(',')
        .map(|m| m.parse().expect("--mib takes sizes in MiB, e.g. 64,256"))
        .collect();
    let samples = arg("--samples").map_or(7, |s| s.parse().expect("--samples takes a count"));
    if std::env::args().any(|a| a == "--breakdown") {
        if comm.rank() == 0 {
            println!("| ranks | MiB | phase of a scattered write | median ms | minor faults (k) |");
            println!("|---:|---:|---|---:|---:|");
        }
        let reuse = std::env::args().any(|a| a == "--reuse");
        for &m in &mib {
            breakdown(&comm, &path, m, samples, reuse);
        }
    } else if let Some(mode) = arg("--memory") {
        if comm.rank() == 0 {
            println!("| mode | ranks | total MiB | local MiB | peak − before (MiB) | ratio |");
            println!("|---|---:|---:|---:|---:|---:|");
        }
        for &m in &mib {
            memory(&comm, &path, &mode, m);
        }
    } else {
        if comm.rank() == 0 {
            println!("dir {}, {samples} samples", path.display());
            println!(
                "| ranks | MiB | series | median ms | min–max ms | MiB/s | speed vs bamboost |"
            );
            println!("|---:|---:|---|---:|---:|---:|---:|");
        }
        let flag = |f: &str| std::env::args().any(|a| a == f);
        let only = if flag("--ab") {
            Only::CApi
        } else if flag("--scatter") {
            Only::Scattered
        } else {
            Only::All
        };
        for &m in &mib {
            throughput(&comm, &path, m, samples, only);
        }
    }
    comm.barrier();
}
