//! HDF5 files: opened lazily, shared by nested users, on the communicator of their owner.

use super::group::Group;
use super::queue::{Op, Queue};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::mpi::{Comm, CommSlot, HasComm};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Whether this build can open files with the MPI-IO driver. With the `mpi` feature,
/// hdf5-metno's `mpio` feature refuses to build against an HDF5 without parallel support.
const PARALLEL_HDF5: bool = cfg!(feature = "mpi");

/// Marker of read-only access ([`OpenFile<Read>`], [`Group<Read>`](super::Group)).
///
/// # MPI
///
/// Local: a marker type.
#[derive(Debug, Clone, Copy)]
pub struct Read;

/// Marker of read-write access ([`OpenFile<Write>`], [`Group<Write>`](super::Group)).
///
/// # MPI
///
/// Local: a marker type.
#[derive(Debug, Clone, Copy)]
pub struct Write;

/// Access modes: [`Read`] or [`Write`]. Sealed.
///
/// # MPI
///
/// Local: a marker trait.
pub trait Mode: sealed::Sealed + Send + Sync + 'static {}
impl Mode for Read {}
impl Mode for Write {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Read {}
    impl Sealed for super::Write {}
}

/// How ranks move data to and from a file opened with MPI-IO (h5py's `dataset.collective`).
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transfer {
    /// Every rank takes part in each read and write (`H5FD_MPIO_COLLECTIVE`); MPI-IO can merge
    /// the requests. The default.
    #[default]
    Collective,
    /// Each rank reads and writes on its own (`H5FD_MPIO_INDEPENDENT`).
    Independent,
}

/// How long to wait for a file that another process has locked.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LockTimeout {
    /// Fail at once.
    Fail,
    /// Retry with exponential back-off (10 ms doubling up to 1 s) for this long.
    After(Duration),
    /// Retry forever.
    Never,
}

impl LockTimeout {
    /// Python bamboost's `file_lock_timeout` convention: `0` fails at once, a negative value
    /// waits forever, a positive value is the number of seconds to wait.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn from_secs(seconds: f64) -> LockTimeout {
        if seconds == 0.0 {
            LockTimeout::Fail
        } else if seconds < 0.0 || seconds.is_nan() || seconds > 1e12 {
            LockTimeout::Never
        } else {
            LockTimeout::After(Duration::from_secs_f64(seconds))
        }
    }

    /// `[options] file_lock_timeout` from the configuration files, or 60 s.
    fn configured() -> Result<LockTimeout> {
        Ok(Config::cached()?.options.file_lock_timeout.map_or(
            LockTimeout::After(Duration::from_secs(60)),
            LockTimeout::from_secs,
        ))
    }
}

/// Options of one open call.
///
/// # MPI
///
/// Local: a plain value.
///
/// # Examples
///
/// ```
/// use bamboost::h5::{LockTimeout, OpenOptions, Transfer};
///
/// let options = OpenOptions::new().lock_timeout(LockTimeout::Fail).transfer(Transfer::Independent);
/// ```
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    lock_timeout: Option<LockTimeout>,
    transfer: Transfer,
    /// Kept to restore atomic mode when the handle is reopened for writing.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    atomic: bool,
}

impl OpenOptions {
    /// The defaults: the configured lock timeout, collective transfer, atomic mode off.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Overrides `[options] file_lock_timeout` for this call.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn lock_timeout(mut self, timeout: LockTimeout) -> OpenOptions {
        self.lock_timeout = Some(timeout);
        self
    }

    /// The transfer mode of reads and writes while the file is open in parallel.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn transfer(mut self, transfer: Transfer) -> OpenOptions {
        self.transfer = transfer;
        self
    }

    /// MPI atomic mode (`MPI_File_set_atomicity`): every rank sees the writes of the others at
    /// once, at a cost in speed. Only affects files opened with MPI-IO.
    ///
    /// # MPI
    ///
    /// Local (the mode is set collectively when the file is opened).
    pub fn atomic(mut self, atomic: bool) -> OpenOptions {
        self.atomic = atomic;
        self
    }
}

/// An HDF5 file on disk, with the communicator of its owner. Nothing is open until
/// [`File::open`] or [`File::open_mut`].
///
/// Opens nest: every open returns a guard ([`OpenFile`]) sharing one HDF5 handle; the file
/// closes when the last guard is dropped or closed. Asking for write access while the file is
/// open read-only reopens it for writing, without truncating it. With a communicator of more
/// than one rank, the file is opened collectively with the MPI-IO driver.
///
/// # MPI
///
/// `new` is local; opening and closing are collective when the communicator has more than one
/// rank.
#[derive(Clone)]
pub struct File {
    path: PathBuf,
    comm: CommSlot,
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct State {
    handle: Option<hdf5::File>,
    users: usize,
    writable: bool,
    parallel: bool,
    transfer: Transfer,
    /// Kept to restore atomic mode when the handle is reopened for writing.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    atomic: bool,
    lock_timeout: Option<LockTimeout>,
}

impl HasComm for File {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("open", &self.is_open())
            .finish()
    }
}

impl File {
    /// A file at `path` whose collective operations use the communicator of `comm` (pass
    /// `CommSlot::new()` for the world, or a parent's `slot.child()`).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new(path: impl Into<PathBuf>, comm: CommSlot) -> File {
        let queue = Mutex::new(Queue::new(comm.child()));
        File {
            path: path.into(),
            comm,
            shared: Arc::new(Shared {
                state: Mutex::default(),
                queue,
            }),
        }
    }

    /// The path of the file.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether some guard holds the file open in this process.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn is_open(&self) -> bool {
        self.state().users > 0
    }

    /// Opens the file for reading (or joins an open one).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the file does not exist, [`Error::Locked`] if another process
    /// holds it past the lock timeout, [`Error::Hdf5`] if it is not an HDF5 file.
    ///
    /// # MPI
    ///
    /// Collective when the communicator has more than one rank.
    pub fn open(&self) -> Result<OpenFile<Read>> {
        self.open_with(&OpenOptions::default())
    }

    /// [`File::open`] with options.
    ///
    /// # Errors
    ///
    /// As [`File::open`].
    ///
    /// # MPI
    ///
    /// As [`File::open`].
    pub fn open_with(&self, options: &OpenOptions) -> Result<OpenFile<Read>> {
        self.acquire(false, options)?;
        Ok(OpenFile {
            file: self.clone(),
            released: false,
            mode: PhantomData,
        })
    }

    /// Opens the file for reading and writing, creating it if it does not exist; an existing
    /// file is never truncated. If the file is already open read-only, it is reopened for
    /// writing.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`], [`Error::Hdf5`], [`Error::NoParallelHdf5`].
    ///
    /// # MPI
    ///
    /// Collective when the communicator has more than one rank.
    pub fn open_mut(&self) -> Result<OpenFile<Write>> {
        self.open_mut_with(&OpenOptions::default())
    }

    /// [`File::open_mut`] with options.
    ///
    /// # Errors
    ///
    /// As [`File::open_mut`].
    ///
    /// # MPI
    ///
    /// As [`File::open_mut`].
    pub fn open_mut_with(&self, options: &OpenOptions) -> Result<OpenFile<Write>> {
        self.acquire(true, options)?;
        Ok(OpenFile {
            file: self.clone(),
            released: false,
            mode: PhantomData,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hdf5_error(&self, object: &str) -> impl Fn(hdf5::Error) -> Error + '_ {
        let object = object.to_string();
        move |e| Error::Hdf5 {
            file: self.path.clone(),
            object: object.clone(),
            message: e.to_string(),
        }
    }

    /// Opens (or joins, or upgrades) the shared handle.
    fn acquire(&self, write: bool, options: &OpenOptions) -> Result<()> {
        let comm = self.comm.try_get()?;
        let mut state = self.state();
        if state.users > 0 {
            if write && !state.writable {
                let timeout = state.lock_timeout;
                if let Some(old) = state.handle.take() {
                    old.close().map_err(self.hdf5_error("/"))?;
                }
                match self.open_handle(true, state.parallel, &comm, timeout) {
                    Ok(handle) => {
                        #[cfg(feature = "mpi")]
                        if state.parallel && state.atomic {
                            super::raw::set_atomicity(&handle, true)
                                .map_err(self.hdf5_error("/"))?;
                        }
                        state.handle = Some(handle);
                        state.writable = true;
                    }
                    Err(e) => {
                        // Keep the read-only users working.
                        state.handle = self.open_handle(false, state.parallel, &comm, timeout).ok();
                        return Err(e);
                    }
                }
            }
            state.users += 1;
            return Ok(());
        }
        let parallel = comm.size() > 1;
        if parallel && !PARALLEL_HDF5 {
            return Err(Error::NoParallelHdf5);
        }
        let handle = self.open_handle(write, parallel, &comm, options.lock_timeout)?;
        #[cfg(feature = "mpi")]
        if parallel && options.atomic {
            super::raw::set_atomicity(&handle, true).map_err(self.hdf5_error("/"))?;
        }
        *state = State {
            handle: Some(handle),
            users: 1,
            writable: write,
            parallel,
            transfer: options.transfer,
            atomic: options.atomic,
            lock_timeout: options.lock_timeout,
        };
        Ok(())
    }

    /// Opens the HDF5 handle, retrying while another process holds the file's lock.
    pub(crate) fn open_handle(
        &self,
        write: bool,
        parallel: bool,
        comm: &Comm,
        timeout: Option<LockTimeout>,
    ) -> Result<hdf5::File> {
        // Under MPI-IO every rank must open the file the same way (the open is collective), so
        // rank 0's view of whether it exists decides: another node may not see a file that was
        // just created yet.
        let mut exists = [u8::from(self.path.exists())];
        if parallel {
            comm.bcast_into(&mut exists, 0)?;
        }
        let exists = exists[0] != 0;
        if !write && !exists {
            return Err(Error::NotFound {
                file: self.path.clone(),
                object: "/".into(),
            });
        }
        // A new file is created directly: `append` would first try (collectively, under MPI-IO)
        // to open it and fail. An existing file is opened, never truncated.
        let mode = match (write, exists) {
            (true, true) => hdf5::OpenMode::ReadWrite,
            (true, false) => hdf5::OpenMode::CreateExcl,
            (false, _) => hdf5::OpenMode::Read,
        };
        let creating = mode == hdf5::OpenMode::CreateExcl;
        let open = || {
            #[cfg(feature = "mpi")]
            if parallel && let Some(raw) = comm.as_mpi() {
                use crate::mpi::rsmpi::traits::AsRaw;
                return super::raw::open_mpio(&self.path, mode, raw.as_raw());
            }
            #[cfg(not(feature = "mpi"))]
            let _ = (parallel, comm);
            hdf5::File::with_options()
                .with_fapl(|p| p.fclose_degree(hdf5::file::FileCloseDegree::Strong))
                .open_as(&self.path, mode)
        };
        let timeout = match timeout {
            Some(t) => t,
            None => LockTimeout::configured()?,
        };
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        let mut next_warning = Duration::ZERO;
        loop {
            let e = match open() {
                Ok(handle) => return Ok(handle),
                Err(e) => e,
            };
            let locked = is_lock_error(&e);
            let waited = start.elapsed();
            if creating && std::fs::metadata(&self.path).is_ok_and(|m| m.len() == 0) {
                // Our exclusive create made the file, then lost the lock to a reader that opened
                // the empty file: start again with a new file.
                let _ = std::fs::remove_file(&self.path);
            }
            let give_up = match timeout {
                LockTimeout::Fail => true,
                LockTimeout::After(limit) => waited >= limit,
                LockTimeout::Never => false,
            };
            let mut wait = [u8::from(
                !give_up && (locked || being_created(&self.path, &e, waited)),
            )];
            if parallel {
                // Every rank failed together (the open is collective), but each judged the file
                // and the time on its own: rank 0's choice is everyone's, so that no rank retries
                // the collective open alone.
                comm.bcast_into(&mut wait, 0)?;
            }
            if wait[0] == 0 && locked {
                return Err(Error::Locked {
                    file: self.path.clone(),
                    waited_secs: waited.as_secs_f64(),
                });
            }
            if wait[0] == 0 {
                // Not a lock: the file is empty or not (yet) HDF5, or broken; say what HDF5 said.
                return Err(self.hdf5_error("/")(e));
            }
            if waited >= next_warning {
                let why = if locked {
                    "is locked by another process"
                } else {
                    "is not a complete HDF5 file yet (being created?)"
                };
                tracing::warn!("{} {why}; waiting", self.path.display());
                next_warning = waited + Duration::from_secs(10);
            }
            let pause_now = match timeout {
                LockTimeout::After(limit) => pause.min(limit.saturating_sub(waited)),
                _ => pause,
            };
            std::thread::sleep(pause_now);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// Drops one user; the last one closes the file and, for a file open in parallel, has rank
    /// 0 apply the queued root-only operations.
    fn release(&self) -> Result<()> {
        let mut state = self.state();
        state.users -= 1;
        if state.users > 0 {
            return Ok(());
        }
        let handle = state.handle.take();
        let (parallel, timeout) = (state.parallel, state.lock_timeout);
        drop(state);
        let closed = match handle {
            Some(h) => h.close().map_err(self.hdf5_error("/")),
            None => Ok(()),
        };
        // Every rank reaches this point together (the close is collective), so the queue's
        // root-only `apply` can broadcast its result; it returns once rank 0 is done.
        let applied = if parallel {
            self.queue().apply(self.clone(), timeout)
        } else {
            Ok(())
        };
        closed.and(applied)
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The transfer mode of the current open.
    pub(crate) fn transfer(&self) -> Transfer {
        self.state().transfer
    }

    /// The open handle (a cheap clone of the HDF5 id).
    pub(crate) fn handle(&self) -> Result<hdf5::File> {
        self.state().handle.clone().ok_or_else(|| Error::NotFound {
            file: self.path.clone(),
            object: "/ (the file is closed)".into(),
        })
    }

    /// The communicator for a collective operation on `object`, refusing one that only some
    /// ranks would reach: a root-only scope on a file that all ranks opened.
    pub(crate) fn collective_comm(&self, object: &str) -> Result<(Comm, bool, Transfer)> {
        let comm = self.comm.try_get()?;
        let state = self.state();
        if state.parallel && comm.size() == 1 {
            return Err(Error::NotCollective {
                file: self.path.clone(),
                object: object.into(),
            });
        }
        Ok((comm, state.parallel, state.transfer))
    }

    /// Runs a root-only operation now, or queues it on rank 0 while the file is open in
    /// parallel.
    pub(crate) fn post(&self, op: Op) -> Result<()> {
        let parallel = self.state().parallel;
        if parallel {
            // The rank outside any root-only scope: only rank 0's queue is ever applied.
            if self.comm.try_get_unscoped()?.rank_outside_scope() == 0 {
                self.queue().push(op);
            }
            Ok(())
        } else {
            op.apply(&self.handle()?, &self.path)
        }
    }
}

/// A file another process has just created and not yet written its superblock to: empty, or
/// without the HDF5 signature for a short grace period (after which it is reported as
/// damaged). Readers wait for it as for a lock.
fn being_created(path: &Path, error: &hdf5::Error, waited: Duration) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == 0)
        || (waited < Duration::from_secs(2) && error.to_string().contains("signature not found"))
}

/// A lock held by another process (`EAGAIN`), as opposed to a file system without locking
/// support (`ENOSYS`), which waiting cannot fix.
fn is_lock_error(e: &hdf5::Error) -> bool {
    let text = e.to_string();
    text.contains("unable to lock file")
        && (text.contains("errno = 11") || text.contains("temporarily unavailable"))
}

/// A use of an open [`File`]: read-only (`OpenFile<Read>`) or read-write (`OpenFile<Write>`).
/// Write methods exist only on `OpenFile<Write>` and its groups, so writing through a read-only
/// handle does not compile.
///
/// Dropping the guard ends this use; prefer [`OpenFile::close`], which reports errors (a drop
/// can only log them).
///
/// # MPI
///
/// Closing (or dropping) the last guard is collective when the file was opened in parallel.
pub struct OpenFile<M: Mode> {
    file: File,
    released: bool,
    mode: PhantomData<M>,
}

impl<M: Mode> OpenFile<M> {
    /// The root group `/`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn root(&self) -> Group<'_, M> {
        Group::new(self, "/".into())
    }

    /// The file this guard belongs to.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Whether the file is open with the MPI-IO driver (its communicator has several ranks).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn is_parallel(&self) -> bool {
        self.file.state().parallel
    }

    /// Whether MPI atomic mode is on (always `false` for files not opened with MPI-IO).
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`] if HDF5 cannot tell.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn atomic(&self) -> Result<bool> {
        #[cfg(feature = "mpi")]
        if self.is_parallel() {
            return super::raw::atomicity(&self.file.handle()?).map_err(self.file.hdf5_error("/"));
        }
        Ok(false)
    }

    /// Ends this use of the file; the last use closes it (and applies queued root-only
    /// operations, for a file open in parallel).
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`] if closing fails; any error of a queued operation (on every rank).
    ///
    /// # MPI
    ///
    /// Collective for the last guard of a file opened in parallel; local otherwise.
    pub fn close(mut self) -> Result<()> {
        self.released = true;
        self.file.release()
    }
}

impl OpenFile<Write> {
    /// Turns MPI atomic mode on or off (h5py's `File.atomic`). Does nothing for files not
    /// opened with MPI-IO.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`] if HDF5 refuses.
    ///
    /// # MPI
    ///
    /// Collective for a file opened in parallel.
    pub fn set_atomic(&self, on: bool) -> Result<()> {
        #[cfg(feature = "mpi")]
        if self.is_parallel() {
            return super::raw::set_atomicity(&self.file.handle()?, on)
                .map_err(self.file.hdf5_error("/"));
        }
        let _ = on;
        Ok(())
    }
}

impl<M: Mode> Drop for OpenFile<M> {
    fn drop(&mut self) {
        if !self.released
            && let Err(e) = self.file.release()
        {
            tracing::error!("closing {}: {e}", self.file.path.display());
        }
    }
}

impl<M: Mode> std::fmt::Debug for OpenFile<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenFile")
            .field("path", &self.file.path)
            .field("mode", &std::any::type_name::<M>())
            .finish()
    }
}
