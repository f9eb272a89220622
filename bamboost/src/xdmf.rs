//! XDMF files, so ParaView (and meshio) open a simulation's mesh and fields.
//!
//! The file references the datasets of `data.h5` (it must stay next to it): one uniform grid
//! for the mesh, then a temporal collection with one grid per step that includes the mesh and
//! holds one `Attribute` per field. Compared with Python bamboost 0.14 it fixes the observed
//! defects: any number of steps works, `Center` is `Cell` for cell fields, the geometry is `XY`
//! or `XYZ` from the coordinate width, and the XInclude namespace has its usual `xi` prefix.
//!
//! ```
//! # use bamboost::collection::{Collection, NewSimulation};
//! # use bamboost::simulation::{CellType, FieldOptions, NodeNumbering};
//! # use bamboost::xdmf::XdmfOptions;
//! # let dir = tempfile::tempdir()?;
//! # let sim = Collection::open(dir.path())?.add(NewSimulation::new())?;
//! let nodes = ndarray::arr2(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]);
//! let cells = ndarray::arr2(&[[0_i64, 1, 2]]);
//! sim.add_mesh("default", nodes.view(), cells.view(), CellType::Triangle, NodeNumbering::Global)?;
//! let mut series = sim.data()?;
//! let step = series.require_step(Some(0.0), None)?;
//! step.add_field("u", &ndarray::arr1(&[1.0, 2.0, 3.0]), FieldOptions::new())?;
//! let path = sim.create_xdmf(&XdmfOptions::default())?;
//! assert!(std::fs::read_to_string(path)?.contains(r#"Center="Node""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{Error, Result};
use crate::h5::{AttrValue, File, Read};
use crate::mpi::{CommSlot, HasComm};
use crate::{Comm, root_process};
use std::fmt::Write as _;
use std::path::Path;

/// What [`crate::simulation::SimulationWriter::create_xdmf`] writes.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
pub struct XdmfOptions {
    /// The series whose fields to include (default `data`).
    pub series: String,
    /// Glob patterns (`*`, `?`) of the fields to include; empty means every field.
    pub fields: Vec<String>,
    /// The steps to include; `None` means every step of the series.
    pub steps: Option<Vec<usize>>,
    /// The mesh (default `default`).
    pub mesh: String,
    /// The file name, next to `data.h5` (default `data.xdmf`).
    pub filename: String,
}

impl Default for XdmfOptions {
    fn default() -> Self {
        XdmfOptions {
            series: "data".into(),
            fields: Vec::new(),
            steps: None,
            mesh: "default".into(),
            filename: "data.xdmf".into(),
        }
    }
}

/// Builds an XDMF document for one HDF5 file, then writes it.
///
/// # MPI
///
/// Every method except [`XdmfWriter::new`] is root-only: rank 0 reads the HDF5 file and builds
/// the document, and every rank gets the result (call them on every rank).
#[derive(Debug)]
pub struct XdmfWriter {
    file: File,
    comm: CommSlot,
    mesh: String,
    steps: String,
}

impl HasComm for XdmfWriter {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl XdmfWriter {
    /// A writer for `file` (pass the owner's `comm_slot().child()`).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new(file: File, comm: CommSlot) -> XdmfWriter {
        XdmfWriter {
            file,
            comm,
            mesh: String::new(),
            steps: String::new(),
        }
    }

    /// Adds mesh `name` (`/.mesh/<name>`) as the grid every step refers to.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the mesh is missing; [`Error::Shape`] if the coordinates do not
    /// have 2 or 3 columns.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn add_mesh(&mut self, name: &str) -> Result<()> {
        let f = self.file.open()?;
        let root = f.root();
        let coordinates = root.dataset(&format!(".mesh/{name}/coordinates"))?;
        let topology = root.dataset(&format!(".mesh/{name}/topology"))?;
        let shape = coordinates.shape()?;
        let geometry = match shape.get(1) {
            Some(2) => "XY",
            Some(3) => "XYZ",
            _ => {
                return Err(Error::Shape {
                    file: self.file.path().into(),
                    object: coordinates.path().to_owned(),
                    message: format!("coordinates of shape {shape:?}: XDMF needs 2 or 3 columns"),
                });
            }
        };
        let cell_type = match topology.attr("cell_type") {
            Ok(AttrValue::Str(s)) => s,
            _ => "Triangle".to_owned(),
        };
        let cells = topology.shape()?.first().copied().unwrap_or(0);
        let mut xml = String::new();
        let _ = writeln!(
            xml,
            r#"    <Grid Name="{}" GridType="Uniform">"#,
            escape(name)
        );
        let _ = writeln!(xml, r#"      <Geometry GeometryType="{geometry}">"#);
        xml.push_str(&self.data_item(&coordinates, "        ")?);
        xml.push_str("      </Geometry>\n");
        let _ = writeln!(
            xml,
            r#"      <Topology TopologyType="{}" NumberOfElements="{cells}">"#,
            escape(&cell_type)
        );
        xml.push_str(&self.data_item(&topology, "        ")?);
        xml.push_str("      </Topology>\n    </Grid>\n");
        self.mesh = xml;
        Ok(())
    }

    /// Adds the steps `steps` (`None`: all) of series `series` with the fields matching
    /// `fields` (glob patterns; empty: all). A field missing at a step is left out of that
    /// step. `Center` comes from each dataset's `type` attribute, the attribute type from its
    /// shape: `Scalar` for `(n)` or `(n, 1)`, `Vector` for `(n, k)`, `Tensor` for `(n, k, k)`,
    /// `Matrix` otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the series is missing.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn add_series(
        &mut self,
        series: &str,
        fields: &[String],
        steps: Option<Vec<usize>>,
        mesh: &str,
    ) -> Result<()> {
        let series = series.trim_matches('/');
        let f = self.file.open()?;
        let root = f.root();
        let group = root.group(series)?;
        let values: Vec<f64> = if group.contains(".map") {
            group.dataset(".map")?.read::<f64>()?.into_iter().collect()
        } else {
            Vec::new()
        };
        let names: Vec<String> = group
            .group("fields")?
            .groups()?
            .into_iter()
            .filter(|n| fields.is_empty() || fields.iter().any(|p| glob_match(p, n)))
            .collect();
        let steps = steps.unwrap_or_else(|| (0..values.len()).collect());
        let mut xml = String::new();
        for step in steps {
            let time = values
                .get(step)
                .copied()
                .filter(|t| !t.is_nan())
                .unwrap_or(step as f64);
            let _ = writeln!(xml, r#"      <Grid Name="step {step}" GridType="Uniform">"#);
            let _ = writeln!(
                xml,
                r#"        <xi:include xpointer="xpointer(//Grid[@Name=&quot;{}&quot;]/*[self::Topology or self::Geometry])" />"#,
                escape(mesh)
            );
            let _ = writeln!(
                xml,
                r#"        <Time Value="{}" />"#,
                crate::h5::py_float_repr(time)
            );
            for name in &names {
                let path = format!("{series}/fields/{name}/{step}");
                if !root.contains(&path) {
                    continue;
                }
                let dataset = root.dataset(&path)?;
                let center = match dataset.attr("type") {
                    Ok(AttrValue::Str(s)) if s == "Cell" => "Cell",
                    _ => "Node",
                };
                let kind = attribute_type(&dataset.shape()?);
                let _ = writeln!(
                    xml,
                    r#"        <Attribute Name="{}" AttributeType="{kind}" Center="{center}">"#,
                    escape(name)
                );
                xml.push_str(&self.data_item(&dataset, "          ")?);
                xml.push_str("        </Attribute>\n");
            }
            xml.push_str("      </Grid>\n");
        }
        self.steps.push_str(&xml);
        Ok(())
    }

    /// Writes the document to `path` (replaced atomically).
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut xml = String::from(
            "<Xdmf xmlns:xi=\"http://www.w3.org/2001/XInclude\" Version=\"3.0\">\n  <Domain>\n",
        );
        xml.push_str(&self.mesh);
        if !self.steps.is_empty() {
            xml.push_str(
                "    <Grid Name=\"TimeSeries\" GridType=\"Collection\" CollectionType=\"Temporal\">\n",
            );
            xml.push_str(&self.steps);
            xml.push_str("    </Grid>\n");
        }
        xml.push_str("  </Domain>\n</Xdmf>\n");
        let temporary = path.with_extension("xdmf.tmp");
        std::fs::write(&temporary, xml).map_err(|e| crate::collection::io(&temporary, e))?;
        std::fs::rename(&temporary, path).map_err(|e| crate::collection::io(path, e))
    }
}

impl XdmfWriter {
    /// A `DataItem` referring to `dataset` in the HDF5 file (by its file name: the XDMF file
    /// sits next to it).
    fn data_item(&self, dataset: &crate::h5::Dataset<'_, Read>, indent: &str) -> Result<String> {
        let number = dataset.number_type()?.ok_or_else(|| Error::Shape {
            file: self.file.path().into(),
            object: dataset.path().to_owned(),
            message: "XDMF can only refer to datasets of numbers".into(),
        })?;
        let dimensions: Vec<String> = dataset.shape()?.iter().map(usize::to_string).collect();
        let file_name = self
            .file
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(format!(
            "{indent}<DataItem DataType=\"{}\" Dimensions=\"{}\" Format=\"HDF\" Precision=\"{}\">{}:{}</DataItem>\n",
            number.kind,
            dimensions.join(" "),
            number.size,
            escape(&file_name),
            escape(dataset.path()),
        ))
    }
}

/// The XDMF `AttributeType` of a field of shape `shape`.
fn attribute_type(shape: &[usize]) -> &'static str {
    match shape {
        [_] | [_, 1] => "Scalar",
        [_, _] => "Vector",
        [_, a, b] if a == b => "Tensor",
        _ => "Matrix",
    }
}

/// `text` escaped for an XML attribute or text node.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether `name` matches the glob `pattern` (`*` any run, `?` one character).
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_fnmatch() {
        assert!(glob_match("*", "u"));
        assert!(glob_match("u*", "u_x"));
        assert!(glob_match("?", "p"));
        assert!(glob_match("a*c", "abbbc"));
        assert!(!glob_match("a*c", "abbb"));
        assert!(!glob_match("u", "uu"));
    }

    #[test]
    fn attribute_types_follow_the_shape() {
        assert_eq!(attribute_type(&[5]), "Scalar");
        assert_eq!(attribute_type(&[5, 1]), "Scalar");
        assert_eq!(attribute_type(&[5, 2]), "Vector");
        assert_eq!(attribute_type(&[5, 3, 3]), "Tensor");
        assert_eq!(attribute_type(&[5, 2, 3]), "Matrix");
    }
}
