//! The few raw `hdf5-sys` calls that hdf5-metno lacks or makes costly: opening with MPI-IO,
//! reads and writes with a chosen MPI transfer mode (collective or independent), row
//! selections, MPI atomicity, and unconverted attribute reads (for h5py's bool enum and
//! fixed-length strings). Every call runs under hdf5-metno's library lock.

use super::element::Element;
use super::file::Transfer;
#[cfg(feature = "mpi")]
use hdf5::File;
use hdf5::{Dataset, Dataspace, Datatype};
use hdf5_sys::h5::hsize_t;
use hdf5_sys::h5d::{H5Dread, H5Dwrite};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{H5P_DEFAULT, H5Pclose};
use hdf5_sys::h5s::{H5S_seloper_t, H5Sselect_hyperslab, H5Sselect_none};

/// A dataset transfer property list, closed on drop.
struct TransferList(hid_t);

impl TransferList {
    /// `H5P_DEFAULT` for files that are not open with the MPI-IO driver.
    fn new(transfer: Transfer, parallel: bool) -> hdf5::Result<TransferList> {
        if !parallel {
            return Ok(TransferList(H5P_DEFAULT));
        }
        #[cfg(feature = "mpi")]
        {
            use hdf5_sys::h5p::{
                H5FD_mpio_xfer_t, H5P_CLS_DATASET_XFER, H5Pcreate, H5Pset_dxpl_mpio,
            };
            let mode = match transfer {
                Transfer::Collective => H5FD_mpio_xfer_t::H5FD_MPIO_COLLECTIVE,
                Transfer::Independent => H5FD_mpio_xfer_t::H5FD_MPIO_INDEPENDENT,
            };
            // SAFETY: the class id is a library global, valid once hdf5-metno has initialised
            // the library (it has: a dataset exists); the new list is closed by `Drop`.
            let id = unsafe { H5Pcreate(*H5P_CLS_DATASET_XFER) };
            let list = check(id).map(|_| TransferList(id))?;
            // SAFETY: `id` is a live dataset transfer property list.
            check(unsafe { H5Pset_dxpl_mpio(id, mode) } as i64)?;
            Ok(list)
        }
        #[cfg(not(feature = "mpi"))]
        {
            let _ = transfer;
            Ok(TransferList(H5P_DEFAULT))
        }
    }
}

impl Drop for TransferList {
    fn drop(&mut self) {
        if self.0 != H5P_DEFAULT {
            // SAFETY: the list was created by `H5Pcreate` and is closed once.
            unsafe { H5Pclose(self.0) };
        }
    }
}

fn check(status: i64) -> hdf5::Result<i64> {
    if status < 0 {
        Err(hdf5::Error::query().unwrap_or_else(|e| e))
    } else {
        Ok(status)
    }
}

/// Selects rows `first_row..first_row + rows` (all of every other dimension) of `space`, or
/// nothing when `rows` is 0.
fn select_rows(
    space: &Dataspace,
    first_row: usize,
    rows: usize,
    shape: &[usize],
) -> hdf5::Result<()> {
    hdf5::sync::sync(|| {
        if rows == 0 || shape.contains(&0) {
            // SAFETY: `space` is a live dataspace id.
            return check(unsafe { H5Sselect_none(space.id()) } as i64).map(drop);
        }
        let mut start = vec![0 as hsize_t; shape.len()];
        start[0] = first_row as hsize_t;
        let mut count: Vec<hsize_t> = shape.iter().map(|&n| n as hsize_t).collect();
        count[0] = rows as hsize_t;
        // SAFETY: `start` and `count` have one entry per dimension of `space`; NULL stride and
        // block mean 1.
        let status = unsafe {
            H5Sselect_hyperslab(
                space.id(),
                H5S_seloper_t::H5S_SELECT_SET,
                start.as_ptr(),
                std::ptr::null(),
                count.as_ptr(),
                std::ptr::null(),
            )
        };
        check(status as i64).map(drop)
    })
}

/// Writes the row block `data` (shape `[rows, row_shape…]`, row-major) at row `first_row` of
/// `dataset`. A rank with no rows still calls `H5Dwrite`, with empty selections, as collective
/// transfer requires.
pub(crate) fn write_rows<T: Element>(
    dataset: &Dataset,
    first_row: usize,
    rows: usize,
    data: &[T],
    transfer: Transfer,
    parallel: bool,
) -> hdf5::Result<()> {
    let shape = dataset.shape();
    let row_len: usize = shape.iter().skip(1).product();
    assert_eq!(
        data.len(),
        rows * row_len,
        "the block matches the dataset's rows"
    );
    let mut block_shape = shape.clone();
    block_shape[0] = rows;
    let file_space = dataset.space()?;
    select_rows(&file_space, first_row, rows, &shape)?;
    let memory_space = Dataspace::try_new(block_shape.clone())?;
    select_rows(&memory_space, 0, rows, &block_shape)?;
    let memory_type = Datatype::from_type::<T>()?;
    let list = TransferList::new(transfer, parallel)?;
    hdf5::sync::sync(|| {
        // SAFETY: all ids are live for the duration of the call; `data` holds exactly the
        // elements the memory space selects (checked above) of the memory type `T`.
        let status = unsafe {
            H5Dwrite(
                dataset.id(),
                memory_type.id(),
                memory_space.id(),
                file_space.id(),
                list.0,
                data.as_ptr().cast(),
            )
        };
        check(status as i64).map(drop)
    })
}

/// Reads the whole dataset with the given transfer mode.
pub(crate) fn read_all<T: Element>(
    dataset: &Dataset,
    transfer: Transfer,
    parallel: bool,
) -> hdf5::Result<Vec<T>> {
    let len = dataset.size();
    let mut out = vec![T::FILL; len];
    let memory_type = Datatype::from_type::<T>()?;
    let list = TransferList::new(transfer, parallel)?;
    hdf5::sync::sync(|| {
        // SAFETY: `out` holds exactly `len` elements of the memory type, the whole dataset is
        // selected (`H5S_ALL`), and all ids are live for the call.
        let status = unsafe {
            H5Dread(
                dataset.id(),
                memory_type.id(),
                hdf5_sys::h5s::H5S_ALL,
                hdf5_sys::h5s::H5S_ALL,
                list.0,
                out.as_mut_ptr().cast(),
            )
        };
        check(status as i64).map(drop)
    })?;
    Ok(out)
}

/// Reads the attribute's `len` elements in its own (fixed-size) file type, unconverted.
pub(crate) fn attribute_bytes(
    attr: &hdf5::Attribute,
    dtype: &hdf5::Datatype,
    len: usize,
) -> Result<Vec<u8>, String> {
    let bytes = len
        .checked_mul(dtype.size())
        .ok_or("the attribute is too large")?;
    let mut buf = vec![0_u8; bytes];
    let status = hdf5::sync::sync(|| {
        // SAFETY: both ids are open for the duration of the call; with the attribute's own
        // fixed-size type as memory type, H5Aread writes exactly `len * size` bytes, which
        // `buf` holds.
        unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) }
    });
    if status < 0 {
        return Err("cannot read the attribute data".to_owned());
    }
    Ok(buf)
}

/// Opens `path` in `mode` with the MPI-IO driver on `comm`, with every object closed when the
/// file is (the strong close degree [`File`](super::File) opens all files with).
///
/// hdf5-metno's `FileAccessBuilder::mpio` duplicates the communicator twice before HDF5
/// duplicates it once more, and each `MPI_Comm_dup` is a collective: a fixed cost on every open
/// that made small parallel writes slower than the same write made with the C API. The driver
/// is set on the list directly, as a C program does.
#[cfg(feature = "mpi")]
pub(crate) fn open_mpio(
    path: &std::path::Path,
    mode: hdf5::OpenMode,
    comm: crate::mpi::rsmpi::ffi::MPI_Comm,
) -> hdf5::Result<File> {
    use hdf5::OpenMode;
    use hdf5_sys::h5f::{H5F_ACC_EXCL, H5F_ACC_RDONLY, H5F_ACC_RDWR};
    use hdf5_sys::h5f::{H5Fcreate, H5Fopen};
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("the path {} contains a NUL byte", path.display()))?;
    let fapl = hdf5::plist::FileAccess::build()
        .fclose_degree(hdf5::file::FileCloseDegree::Strong)
        .finish()?;
    hdf5::sync::sync(|| {
        // SAFETY: `RSMPI_INFO_NULL` is a constant set by rsmpi; `fapl` is a live file access
        // list; `comm` is a live communicator (HDF5 keeps its own duplicate); `name` is a
        // NUL-terminated path.
        let id = unsafe {
            let info = crate::mpi::rsmpi::ffi::RSMPI_INFO_NULL;
            check(hdf5_sys::h5p::H5Pset_fapl_mpio(fapl.id(), comm, info) as i64)?;
            match mode {
                OpenMode::Read => H5Fopen(name.as_ptr(), H5F_ACC_RDONLY, fapl.id()),
                OpenMode::ReadWrite => H5Fopen(name.as_ptr(), H5F_ACC_RDWR, fapl.id()),
                OpenMode::CreateExcl => {
                    H5Fcreate(name.as_ptr(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.id())
                }
                // Bamboost never truncates an existing file; open-or-create and SWMR reads are
                // decided by the caller, not here.
                other => {
                    return Err(format!("open mode {other:?} is not supported with MPI-IO").into());
                }
            }
        };
        check(id)?;
        // SAFETY: `id` is a file id just returned by HDF5, owned by nothing else.
        unsafe { hdf5::from_id::<File>(id) }
    })
}

/// Turns MPI atomic mode on or off (h5py's `File.atomic`).
#[cfg(feature = "mpi")]
pub(crate) fn set_atomicity(file: &File, on: bool) -> hdf5::Result<()> {
    hdf5::sync::sync(|| {
        // SAFETY: `file` is a live file id opened with the MPI-IO driver.
        check(unsafe { hdf5_sys::h5f::H5Fset_mpi_atomicity(file.id(), on.into()) } as i64).map(drop)
    })
}

/// Whether MPI atomic mode is on.
#[cfg(feature = "mpi")]
pub(crate) fn atomicity(file: &File) -> hdf5::Result<bool> {
    let mut flag = 0;
    hdf5::sync::sync(|| {
        // SAFETY: `file` is a live file id opened with the MPI-IO driver; `flag` is a valid
        // out pointer.
        check(unsafe { hdf5_sys::h5f::H5Fget_mpi_atomicity(file.id(), &mut flag) } as i64).map(drop)
    })?;
    Ok(flag != 0)
}
