//! Meshes at `/.mesh/<name>`: `coordinates` (one row per node) and `topology` (one row of node
//! numbers per cell, with the attribute `cell_type`).

use super::SimulationWriter;
use crate::error::{Error, Result};
use crate::h5::{AttrValue, File};
use crate::mpi::HasComm;
use crate::mpi::op::Sum;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// The cell shape of a mesh, named as XDMF names topologies.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellType {
    /// Points.
    Vertex,
    /// 2-node lines.
    Line,
    /// 3-node triangles.
    Triangle,
    /// 4-node quadrilaterals.
    Quadrilateral,
    /// 4-node tetrahedra.
    Tetrahedron,
    /// 8-node hexahedra.
    Hexahedron,
    /// 6-node wedges.
    Wedge,
}

impl CellType {
    const ALL: [CellType; 7] = [
        CellType::Vertex,
        CellType::Line,
        CellType::Triangle,
        CellType::Quadrilateral,
        CellType::Tetrahedron,
        CellType::Hexahedron,
        CellType::Wedge,
    ];

    /// The XDMF topology name (`Triangle`, …), as stored in `cell_type`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_str(self) -> &'static str {
        match self {
            CellType::Vertex => "Vertex",
            CellType::Line => "Line",
            CellType::Triangle => "Triangle",
            CellType::Quadrilateral => "Quadrilateral",
            CellType::Tetrahedron => "Tetrahedron",
            CellType::Hexahedron => "Hexahedron",
            CellType::Wedge => "Wedge",
        }
    }

    /// The cell type named `name` (case-insensitive), if known.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn parse(name: &str) -> Option<CellType> {
        CellType::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }
}

/// How the node numbers of [`SimulationWriter::add_mesh`]'s topology count.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeNumbering<'a> {
    /// Numbers index the whole mesh, whose nodes are the ranks' coordinate rows one rank after
    /// another (rank 0's first).
    Global,
    /// Numbers index the rank's own `coordinates`; they are shifted by the number of nodes of
    /// the lower ranks. A cell can then only use nodes of its own rank (duplicate shared nodes
    /// across ranks).
    Local,
    /// Local coordinate row `i` is global node `map[i]` (a node map, as for fields written
    /// through a dof map); numbers index the global nodes. Each global node is given by one
    /// rank only.
    Mapped(&'a [u64]),
}

/// A mesh read back with [`crate::simulation::Simulation::mesh`].
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    /// One row per node.
    pub coordinates: Array2<f64>,
    /// One row of node numbers per cell.
    pub topology: Array2<i64>,
    /// The cell shape (`None` if the attribute is missing or unknown).
    pub cell_type: Option<CellType>,
}

impl Mesh {
    pub(crate) fn read(file: &File, name: &str) -> Result<Mesh> {
        let f = file.open()?;
        let group = f.root().group(&format!(".mesh/{name}"))?;
        let two_d = |array: ndarray::ArrayD<f64>, what: &str| {
            array.into_dimensionality().map_err(|e| Error::Shape {
                file: file.path().into(),
                object: format!("/.mesh/{name}/{what}"),
                message: e.to_string(),
            })
        };
        let coordinates = two_d(group.dataset("coordinates")?.read::<f64>()?, "coordinates")?;
        let topology_set = group.dataset("topology")?;
        let cell_type = match topology_set.attr("cell_type") {
            Ok(AttrValue::Str(s)) => CellType::parse(&s),
            _ => None,
        };
        let topology = topology_set
            .read::<i64>()?
            .into_dimensionality()
            .map_err(|e| Error::Shape {
                file: file.path().into(),
                object: format!("/.mesh/{name}/topology"),
                message: e.to_string(),
            })?;
        Ok(Mesh {
            coordinates,
            topology,
            cell_type,
        })
    }
}

pub(super) fn write(
    sim: &SimulationWriter,
    name: &str,
    coordinates: ArrayView2<'_, f64>,
    topology: ArrayView2<'_, i64>,
    cell_type: CellType,
    numbering: NodeNumbering<'_>,
) -> Result<()> {
    let shifted;
    let topology = match numbering {
        NodeNumbering::Global | NodeNumbering::Mapped(_) => topology,
        NodeNumbering::Local => {
            let comm = sim.comm();
            let nodes = coordinates.nrows() as u64;
            let offset = comm.scan(nodes, Sum)? - nodes;
            shifted = topology.mapv(|n| n + offset as i64);
            shifted.view()
        }
    };
    let f = sim.file().open_mut()?;
    let meshes = f.root().require_group(".mesh")?;
    let mesh = meshes.require_group(name)?;
    let node_map = match numbering {
        NodeNumbering::Mapped(map) => Some(map),
        _ => None,
    };
    mesh.write_distributed_array("coordinates", coordinates, node_map)?;
    let topology = mesh.write_distributed_array("topology", topology, None)?;
    topology.set_attr("cell_type", cell_type.as_str())?;
    drop((mesh, meshes));
    f.close()
}

#[cfg(test)]
mod tests {
    use super::CellType;

    #[test]
    fn cell_types_round_trip_their_names() {
        for cell in CellType::ALL {
            assert_eq!(CellType::parse(cell.as_str()), Some(cell));
        }
        assert_eq!(CellType::parse("triangle"), Some(CellType::Triangle));
        assert_eq!(CellType::parse("Polygon"), None);
    }
}
