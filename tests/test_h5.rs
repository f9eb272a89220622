//! The HDF5 layer on one process: files, nesting, groups, datasets, attributes, distributed
//! arrays (serial case), errors, and file locks held by a second process.

use bamboost::Error;
use bamboost::h5::{AttrValue, File, LockTimeout, OpenOptions};
use bamboost::mpi::CommSlot;
use bamboost_tests::hold_file;
use ndarray::{Array1, Array3, ArrayD, IxDyn, arr2};
use std::time::{Duration, Instant};

/// Held by the test that starts a lock-holding process and by the test whose opens must not
/// wait: HDF5 opens files without close-on-exec, so a process started while another test's file
/// is open inherits that file's lock, and an open with `LockTimeout::Fail` then sees it locked.
static NO_CHILD_PROCESS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn new_file() -> (tempfile::TempDir, File) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = File::new(dir.path().join("data.h5"), CommSlot::new());
    (dir, file)
}

#[test]
fn nested_opens_share_one_handle_and_close_with_the_outermost() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let outer = file.open_mut()?;
    outer.root().create_group("a")?;
    {
        let inner = file.open()?;
        assert!(
            inner.root().contains("a"),
            "the nested user sees the outer user's group"
        );
        inner.close()?;
    }
    assert!(file.is_open(), "the outer user still holds it");
    outer.close()?;
    assert!(!file.is_open());
    Ok(())
}

#[test]
fn write_access_while_open_read_only_reopens_without_truncating() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    f.root()
        .add_dataset("kept", &Array1::from(vec![1.0, 2.0]))?;
    f.close()?;
    let reader = file.open()?;
    let writer = file.open_mut()?; // Upgrades the shared handle.
    writer.root().set_attr("note", "added later")?;
    assert_eq!(
        reader.root().dataset("kept")?.read::<f64>()?.as_slice(),
        Some(&[1.0, 2.0][..])
    );
    assert_eq!(
        reader.root().attr("note")?,
        AttrValue::Str("added later".into())
    );
    writer.close()?;
    reader.close()?;
    let f = file.open()?;
    assert_eq!(
        f.root().dataset("kept")?.read::<f64>()?.len(),
        2,
        "nothing was truncated"
    );
    Ok(())
}

#[test]
fn opening_a_missing_file_read_only_is_not_found() {
    let (_dir, file) = new_file();
    assert!(matches!(file.open(), Err(Error::NotFound { .. })));
    assert!(!file.path().exists(), "a read-only open creates nothing");
}

#[test]
fn groups_datasets_and_attributes() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    let root = f.root();
    let mesh = root.require_group("mesh/default")?;
    assert_eq!(root.require_group("mesh/default")?.path(), "/mesh/default");
    assert!(matches!(
        root.create_group("mesh"),
        Err(Error::AlreadyExists { .. })
    ));
    mesh.add_dataset("topology", &arr2(&[[0i64, 1, 2], [1, 2, 3]]))?;
    mesh.set_attr("cell_type", "Triangle")?;
    mesh.set_attr("dims", vec![2i64, 3])?;
    let empty = root.create_dataset::<f64>("empty", &[3, 2])?;
    assert!(
        empty.read::<f64>()?.iter().all(|v| v.is_nan()),
        "unwritten floats read as NaN"
    );
    empty.set_attr("unit", "m")?;
    assert_eq!(root.groups()?, vec!["mesh"]);
    assert_eq!(root.datasets()?, vec!["empty"]);
    assert_eq!(root.group("mesh")?.groups()?, vec!["default"]);
    assert_eq!(mesh.datasets()?, vec!["topology"]);
    assert_eq!(
        mesh.dataset("topology")?.read::<i64>()?,
        arr2(&[[0i64, 1, 2], [1, 2, 3]]).into_dyn()
    );
    assert_eq!(
        mesh.dataset("topology")?
            .read_rows::<i64>(1..2)?
            .into_raw_vec_and_offset()
            .0,
        vec![1, 2, 3]
    );
    assert_eq!(mesh.attr("cell_type")?, AttrValue::Str("Triangle".into()));
    assert_eq!(empty.attrs()?.len(), 1);
    empty.delete_attr("unit")?;
    assert!(matches!(empty.attr("unit"), Err(Error::NotFound { .. })));
    root.delete("empty")?;
    assert!(!root.contains("empty"));
    assert!(matches!(root.delete("empty"), Err(Error::NotFound { .. })));
    assert!(matches!(root.group("nothing"), Err(Error::NotFound { .. })));
    assert!(
        matches!(root.dataset("mesh"), Err(Error::NotFound { .. })),
        "a group is not a dataset"
    );
    assert!(matches!(root.group("a/../b"), Err(Error::NotFound { .. })));
    Ok(())
}

#[test]
fn resizable_datasets_grow() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    let globals = f
        .root()
        .create_resizable_dataset::<f64>("energy", &[0, 2])?;
    globals.resize(&[3, 2])?;
    let read = globals.read::<f64>()?;
    assert_eq!(read.shape(), &[3, 2]);
    assert!(
        read.iter().all(|v| v.is_nan()),
        "new rows hold the fill value"
    );
    let fixed = f.root().create_dataset::<f64>("fixed", &[2])?;
    assert!(
        matches!(fixed.resize(&[3]), Err(Error::Hdf5 { .. })),
        "a fixed dataset cannot grow"
    );
    Ok(())
}

#[test]
fn distributed_arrays_on_one_rank() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    let root = f.root();
    let cube = Array3::from_shape_fn((4, 2, 3), |(i, j, k)| (i * 100 + j * 10 + k) as f32);
    root.write_distributed_array("cube", &cube, None)?;
    assert_eq!(
        root.dataset("cube")?.read::<f32>()?,
        cube.clone().into_dyn()
    );
    // A transposed view is not in standard layout: it is copied, with the same result.
    let t = arr2(&[[1u32, 2], [3, 4], [5, 6]]);
    root.write_distributed_array("transposed", t.t(), None)?;
    assert_eq!(
        root.dataset("transposed")?.read::<u32>()?,
        t.t().to_owned().into_dyn()
    );
    // Scattered, with gaps: missing rows hold the fill value.
    let values = Array1::from(vec![30.0, 10.0]);
    root.write_distributed_array("scattered", &values, Some(&[3, 1]))?;
    let read = root.dataset("scattered")?.read::<f64>()?;
    assert_eq!(read.len(), 4);
    assert!(read[0].is_nan() && read[2].is_nan());
    assert_eq!((read[1], read[3]), (10.0, 30.0));
    let ints = Array1::from(vec![7i64]);
    root.write_distributed_array("ints", &ints, Some(&[2]))?;
    assert_eq!(
        root.dataset("ints")?.read::<i64>()?,
        ArrayD::from_shape_vec(IxDyn(&[3]), vec![0, 0, 7]).expect("shape")
    );
    let flags = Array1::from(vec![true, false, true]);
    root.write_distributed_array("flags", &flags, None)?;
    assert_eq!(
        root.dataset("flags")?
            .read::<bool>()?
            .into_raw_vec_and_offset()
            .0,
        vec![true, false, true]
    );
    // Writing again replaces the dataset.
    root.write_distributed_array("flags", &Array1::from(vec![false]), None)?;
    assert_eq!(root.dataset("flags")?.shape()?, vec![1]);
    Ok(())
}

#[test]
fn a_large_scattered_write_is_sorted_in_several_groups() -> bamboost::Result<()> {
    // 5 million one-byte rows in a shuffled order: more rows than are sorted at a time (2^22),
    // so the rounds are sorted in two groups; a permutation, then with a gap.
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    let root = f.root();
    let n = 5_000_000u64;
    // A fixed permutation: multiplying by a number coprime with n.
    let indices: Vec<u64> = (0..n).map(|i| (i * 1_000_003) % n).collect();
    // Value 1 + g % 251 for global row g: never the fill value 0.
    let value = |g: u64| (1 + g % 251) as u8;
    let values = Array1::from_iter(indices.iter().map(|&g| value(g)));
    let mut with_gap = indices.clone();
    with_gap[0] = n + 5;
    root.write_distributed_array("perm", &values, Some(&indices))?;
    root.write_distributed_array("gap", &values, Some(&with_gap))?;
    let perm = root.dataset("perm")?.read::<u8>()?;
    assert_eq!(perm.len(), n as usize);
    assert!(perm.iter().zip(0..).all(|(&v, g)| v == value(g)));
    let gap = root.dataset("gap")?.read::<u8>()?;
    assert_eq!(gap.len(), n as usize + 6);
    // The row for global row 0 went to n + 5; the rows never given hold the fill value 0.
    assert_eq!(gap[n as usize + 5], value(0));
    assert!((0..n as usize + 5).all(|g| match g {
        0 => gap[g] == 0,
        g if g >= n as usize => gap[g] == 0,
        g => gap[g] == value(g as u64),
    }));
    Ok(())
}

#[test]
fn bad_distributed_input_is_a_typed_error_and_keeps_existing_data() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    let root = f.root();
    root.write_distributed_array("x", &Array1::from(vec![1.0, 2.0]), None)?;
    let err = root
        .write_distributed_array("x", &Array1::from(vec![1.0, 2.0]), Some(&[0]))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Shape { message, .. } if message.contains("1 indices for 2 rows")),
        "{err}"
    );
    let err = root
        .write_distributed_array("x", &Array1::from(vec![1.0, 2.0]), Some(&[4, 4]))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Shape { message, .. } if message.contains("global row 4")),
        "{err}"
    );
    assert_eq!(
        root.dataset("x")?
            .read::<f64>()?
            .into_raw_vec_and_offset()
            .0,
        vec![1.0, 2.0],
        "the old data is intact"
    );
    Ok(())
}

#[test]
fn writing_a_dataset_over_a_group_is_refused_and_keeps_the_group() -> bamboost::Result<()> {
    let (_dir, file) = new_file();
    let f = file.open_mut()?;
    let root = f.root();
    root.create_group("x")?.create_group("inner")?;
    let err = root
        .write_distributed_array("x", &Array1::from(vec![1.0, 2.0]), None)
        .unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { object, .. } if object == "/x"),
        "{err}"
    );
    let err = root
        .write_distributed_array("x", &Array1::from(vec![1.0, 2.0]), Some(&[1, 0]))
        .unwrap_err();
    assert!(matches!(&err, Error::AlreadyExists { .. }), "{err}");
    let err = root.add_dataset("x", &Array1::from(vec![1.0])).unwrap_err();
    assert!(matches!(&err, Error::AlreadyExists { .. }), "{err}");
    assert!(
        root.group("x")?.contains("inner"),
        "the group and its contents are kept"
    );
    // A dataset of that name is replaced, as documented.
    root.add_dataset("y", &Array1::from(vec![1.0]))?;
    root.write_distributed_array("y", &Array1::from(vec![2.0, 3.0]), None)?;
    assert_eq!(
        root.dataset("y")?
            .read::<f64>()?
            .into_raw_vec_and_offset()
            .0,
        [2.0, 3.0]
    );
    f.close()
}

#[test]
fn a_file_that_is_not_hdf5_is_an_hdf5_error_not_a_lock_and_is_left_as_it_was() {
    let _alone = NO_CHILD_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, file) = new_file();
    let text = "notes, not HDF5\n".repeat(20);
    std::fs::write(file.path(), &text).expect("write the text file");
    for options in [
        OpenOptions::new().lock_timeout(LockTimeout::Fail),
        OpenOptions::new().lock_timeout(LockTimeout::from_secs(0.3)),
    ] {
        let read = file.open_with(&options).map(drop);
        let write = file.open_mut_with(&options).map(drop);
        for result in [read, write] {
            assert!(matches!(result, Err(Error::Hdf5 { .. })), "{result:?}");
        }
    }
    assert_eq!(std::fs::read_to_string(file.path()).ok(), Some(text));
}

#[test]
fn a_file_locked_by_another_process_times_out_with_a_typed_error() -> bamboost::Result<()> {
    let _alone = NO_CHILD_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let (_dir, file) = new_file();
    file.open_mut()?.close()?;
    let holder = hold_file(env!("CARGO_BIN_EXE_mpi-scenario"), file.path(), 3.0);
    let start = Instant::now();
    let err = file
        .open_with(&OpenOptions::new().lock_timeout(LockTimeout::Fail))
        .unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains("data.h5"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "`Fail` does not wait"
    );
    let start = Instant::now();
    let err = file
        .open_with(&OpenOptions::new().lock_timeout(LockTimeout::from_secs(0.5)))
        .unwrap_err();
    match err {
        Error::Locked { waited_secs, .. } => {
            assert!((0.5..2.5).contains(&waited_secs), "waited {waited_secs}")
        }
        other => panic!("expected Locked, got {other}"),
    }
    assert!(start.elapsed() >= Duration::from_millis(500));
    // Waiting long enough succeeds once the holder lets go.
    let f = file.open_with(&OpenOptions::new().lock_timeout(LockTimeout::from_secs(30.0)))?;
    f.close()?;
    assert!(holder.exits_cleanly());
    Ok(())
}
