//! Writing one HDF5 file from every rank: the node coordinates of a small mesh (a contiguous
//! distributed write), a nodal field through a degree-of-freedom map (a scattered write),
//! root-only attributes and a root-only dataset. Every rank reads the file back and checks
//! every value; rank 0 then checks the file once more with `h5dump` (package `hdf5-tools`).
//! It also runs serially.
//!
//! ```text
//! cargo run -p bamboost-examples --example mpi_write
//! CARGO_TARGET_DIR=target/mpi cargo build -p bamboost-examples --features mpi --example mpi_write
//! mpirun -np 4 --oversubscribe target/mpi/debug/examples/mpi_write
//! ```
#![deny(warnings)]

use bamboost::Comm;
use bamboost::h5::{AttrValue, File};
use bamboost::mpi::CommSlot;
use ndarray::{Array1, Array2};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mesh is a strip of quadrilaterals, `COLUMNS` nodes wide; node `g` sits in column
/// `g % COLUMNS` of row `g / COLUMNS`.
const COLUMNS: usize = 3;

/// The number of nodes of the global mesh: grows with the number of ranks, so that every run
/// splits it differently.
fn node_count(size: usize) -> usize {
    COLUMNS * (2 * size + 1)
}

/// Splits `0..n` into one contiguous range per rank, as evenly as possible; rank `empty` (if
/// any) gets nothing.
fn partition(n: usize, size: usize, empty: Option<usize>) -> Vec<Range<usize>> {
    let holders = (0..size).filter(|&r| Some(r) != empty).count();
    let mut start = 0;
    let mut seen = 0;
    (0..size)
        .map(|r| {
            let count = if Some(r) == empty {
                0
            } else {
                let c = n / holders + usize::from(seen < n % holders);
                seen += 1;
                c
            };
            start += count;
            start - count..start
        })
        .collect()
}

/// The coordinates of node `g`.
fn coordinates(g: usize) -> [f64; 3] {
    [(g % COLUMNS) as f64 * 0.5, (g / COLUMNS) as f64 * 0.25, 0.0]
}

/// The temperature at node `g`.
fn temperature(g: usize) -> f64 {
    20.0 + 0.5 * g as f64
}

/// Whether node `g` lies on the left or right edge of the strip.
fn on_boundary(g: usize) -> bool {
    g.is_multiple_of(COLUMNS) || g % COLUMNS == COLUMNS - 1
}

/// The heat flux at boundary node `g` (interior nodes have none).
fn flux(g: usize) -> f64 {
    -0.25 * g as f64
}

/// The solver numbers its degrees of freedom differently from the mesh: the even nodes first,
/// then the odd ones. Returns the mesh node of degree of freedom `d`.
fn node_of_dof(d: usize, n: usize) -> usize {
    let evens = n.div_ceil(2);
    if d < evens {
        2 * d
    } else {
        2 * (d - evens) + 1
    }
}

/// The quadrilaterals of the strip, as node numbers.
fn topology(n: usize) -> Array2<i64> {
    let rows = n / COLUMNS;
    let cells: Vec<[i64; 4]> = (0..rows - 1)
        .flat_map(|j| (0..COLUMNS - 1).map(move |i| j * COLUMNS + i))
        .map(|g| [g, g + 1, g + 1 + COLUMNS, g + COLUMNS].map(|v| v as i64))
        .collect();
    Array2::from_shape_fn((cells.len(), 4), |(c, k)| cells[c][k])
}

/// A directory that rank 0 creates and, when dropped, removes.
struct Scratch {
    path: PathBuf,
    owner: bool,
}

impl Scratch {
    /// Rank 0 creates the directory; every rank gets its path, or rank 0's error.
    fn create(world: &Comm) -> Result<Scratch, Box<dyn std::error::Error>> {
        let made: Result<PathBuf, String> = world.bcast_from(0, || {
            let path =
                std::env::temp_dir().join(format!("bamboost-mpi-write-{}", std::process::id()));
            std::fs::create_dir_all(&path)
                .map(|()| path.clone())
                .map_err(|e| format!("cannot create {}: {e}", path.display()))
        })?;
        Ok(Scratch {
            path: made?,
            owner: world.rank() == 0,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.owner {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let world = Comm::try_world()?;
    let (rank, size) = (world.rank(), world.size());
    let n = node_count(size);

    let scratch = Scratch::create(&world)?;
    let file = File::new(scratch.path.join("mesh.h5"), CommSlot::new());

    // This rank's piece of the mesh: a contiguous block of nodes. With more than two ranks,
    // rank 1 holds no nodes (it still takes part in every collective call).
    let nodes = partition(n, size, (size > 2).then_some(1)).swap_remove(rank);
    let local_coordinates =
        Array2::from_shape_fn((nodes.len(), 3), |(i, k)| coordinates(nodes.start + i)[k]);

    // The solver's share: a contiguous block of degrees of freedom, here with the last rank
    // empty. The DOF map turns each local row into the global row (the mesh node) it belongs
    // to, so the field lines up with the coordinates in the file.
    let dofs = partition(n, size, (size > 2).then_some(size - 1)).swap_remove(rank);
    let dof_map: Vec<u64> = dofs.map(|d| node_of_dof(d, n) as u64).collect();
    let local_temperature = Array1::from_iter(dof_map.iter().map(|&g| temperature(g as usize)));
    // A boundary field: only the boundary nodes are given; the others keep the fill value.
    let boundary: Vec<u64> = dof_map
        .iter()
        .copied()
        .filter(|&g| on_boundary(g as usize))
        .collect();
    let local_flux = Array1::from_iter(boundary.iter().map(|&g| flux(g as usize)));

    // Writing: every rank opens the file (collective) and makes the same collective calls in
    // the same order.
    let f = file.open_mut()?;
    assert_eq!(f.is_parallel(), size > 1);
    let root = f.root();
    let mesh = root.require_group("mesh")?;
    mesh.write_distributed_array("coordinates", &local_coordinates, None)?;
    let t = root.write_distributed_array("temperature", &local_temperature, Some(&dof_map))?;
    root.write_distributed_array("boundary_flux", &local_flux, Some(&boundary))?;

    // Root-only changes: called on every rank here, but only rank 0's call counts.
    t.set_attr("unit", "K")?;
    mesh.set_attr("cell_type", "Quadrilateral")?;
    mesh.add_dataset("topology", &topology(n))?;
    // Calling them on rank 0 alone is just as correct: they are not collective.
    if rank == 0 {
        root.set_attr("ranks", size as i64)?;
    }
    // Open in parallel, the root-only changes are queued until the file closes; on one rank
    // they are applied at once.
    assert_eq!(mesh.contains("topology"), !f.is_parallel());
    assert_eq!(t.attr("unit").is_ok(), !f.is_parallel());
    f.close()?;

    // Reading: the close returned on every rank once rank 0 had applied the queue, so every
    // rank sees everything now.
    let f = file.open()?;
    let root = f.root();
    let mesh = root.group("mesh")?;
    let read = mesh.dataset("coordinates")?.read::<f64>()?;
    assert_eq!(read.shape(), &[n, 3]);
    for ((g, k), value) in read.indexed_iter().map(|(ix, v)| ((ix[0], ix[1]), *v)) {
        assert_eq!(value, coordinates(g)[k], "coordinate {k} of node {g}");
    }
    let read = root.dataset("temperature")?.read::<f64>()?;
    let expected: Vec<f64> = (0..n).map(temperature).collect();
    assert_eq!(read.as_slice(), Some(&expected[..]), "temperature");
    let read = root.dataset("boundary_flux")?.read::<f64>()?;
    assert_eq!(read.len(), n, "the last node is on the boundary");
    for (g, value) in read.iter().enumerate() {
        if on_boundary(g) {
            assert_eq!(*value, flux(g), "flux at node {g}");
        } else {
            assert!(
                value.is_nan(),
                "node {g} was never written: NaN, not {value}"
            );
        }
    }
    let read = mesh.dataset("topology")?.read::<i64>()?;
    assert_eq!(read, topology(n).into_dyn());
    assert_eq!(
        root.dataset("temperature")?.attr("unit")?,
        AttrValue::Str("K".into())
    );
    assert_eq!(mesh.attr("cell_type")?.as_str(), Some("Quadrilateral"));
    assert_eq!(root.attr("ranks")?, AttrValue::Int(size as i64));
    f.close()?;

    // Rank 0 checks the file with an independent reader; every rank gets its verdict.
    let checked: Result<(), String> = world.bcast_from(0, || check_with_h5dump(file.path(), n))?;
    checked?;

    if rank == 0 {
        println!(
            "mpi_write on {size} rank(s), mpi = {}: {n} nodes",
            world.is_mpi()
        );
        println!("mpi_write: all checks passed");
    }
    Ok(())
}

/// Runs `h5dump` with `args` on `path` and returns what it prints.
fn h5dump(args: &[&str], path: &Path) -> Result<String, String> {
    let output = Command::new("h5dump")
        .args(args)
        .arg(path)
        .output()
        .map_err(|e| {
            format!(
                "cannot run h5dump ({e}); it is needed for the last check: install the HDF5 \
                 command-line tools (Debian/Ubuntu: apt-get install hdf5-tools)"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "h5dump {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The numbers in the `DATA { … }` block of `h5dump -y` output.
fn data_numbers(dump: &str) -> Result<Vec<f64>, String> {
    let start = dump
        .find("DATA {")
        .ok_or_else(|| format!("no DATA block in:\n{dump}"))?
        + "DATA {".len();
    let end = start
        + dump[start..]
            .find('}')
            .ok_or_else(|| format!("unterminated DATA block in:\n{dump}"))?;
    dump[start..end]
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .map(|word| {
            word.parse::<f64>()
                .map_err(|e| format!("`{word}` in h5dump's DATA block: {e}"))
        })
        .collect()
}

/// Compares numbers, NaN equal to NaN.
fn same(read: &[f64], expected: &[f64]) -> bool {
    read.len() == expected.len()
        && read
            .iter()
            .zip(expected)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
}

/// What `h5dump` sees in the file: the values of the datasets and the encoding of an attribute.
fn check_with_h5dump(path: &Path, n: usize) -> Result<(), String> {
    // `-y`: no array indices, `-w 0`: no line wrapping, `-A 0`: no attributes, `-m %.17g`:
    // every digit (h5dump's default keeps six).
    let datasets: [(&str, Vec<f64>); 3] = [
        ("/temperature", (0..n).map(temperature).collect()),
        ("/mesh/coordinates", (0..n).flat_map(coordinates).collect()),
        (
            "/boundary_flux",
            (0..n)
                .map(|g| if on_boundary(g) { flux(g) } else { f64::NAN })
                .collect(),
        ),
    ];
    for (dataset, expected) in datasets {
        let dump = h5dump(
            &["-y", "-w", "0", "-A", "0", "-m", "%.17g", "-d", dataset],
            path,
        )?;
        if !dump.contains("H5T_IEEE_F64LE") {
            return Err(format!("{dataset} is not stored as 64-bit floats:\n{dump}"));
        }
        let read = data_numbers(&dump)?;
        if !same(&read, &expected) {
            return Err(format!(
                "h5dump reads {dataset} as {read:?}, expected {expected:?}"
            ));
        }
    }
    // A string attribute is a scalar variable-length UTF-8 string, as h5py writes it.
    let dump = h5dump(&["-a", "/temperature/unit"], path)?;
    for expected in [
        "STRSIZE H5T_VARIABLE",
        "CSET H5T_CSET_UTF8",
        "DATASPACE  SCALAR",
        "\"K\"",
    ] {
        if !dump.contains(expected) {
            return Err(format!(
                "h5dump shows /temperature/unit without `{expected}`:\n{dump}"
            ));
        }
    }
    Ok(())
}
