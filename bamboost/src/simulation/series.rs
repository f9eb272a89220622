//! Series: numbered steps (e.g. time steps), each with fields (distributed arrays) and globals
//! (one row of numbers per step).
//!
//! Layout (Python bamboost 0.14): the series group has the attribute `.series = True`;
//! `.map` (float64, resizable, NaN-filled) holds the value of each step; `fields/<name>/<step>`
//! one dataset per field and step, with the attributes `mesh` and `type` (`Node`/`Cell`);
//! `globals/<name>` a float64 dataset of shape `(steps, …)`, NaN where a step gave no value.

use super::Simulation;
use crate::error::{Error, Result};
use crate::h5::{AttrValue, Element, File};
use crate::mpi::{CommSlot, HasComm};
use crate::{Comm, root_process};
use ndarray::{ArrayD, ArrayView, Dimension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a field's values live: on the mesh nodes or on its cells (XDMF's `Center`).
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FieldType {
    /// One row per node.
    #[default]
    Node,
    /// One row per cell.
    Cell,
}

impl FieldType {
    /// `Node` or `Cell`, as stored in the attribute `type`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Node => "Node",
            FieldType::Cell => "Cell",
        }
    }
}

/// How [`Step::add_field`] stores a field.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldOptions<'a> {
    /// The global row of each local row (a degree-of-freedom map); `None` stores the ranks'
    /// rows one after the other.
    pub indices: Option<&'a [u64]>,
    /// Node or cell values.
    pub field_type: FieldType,
    /// The mesh the field lives on.
    pub mesh: &'a str,
}

impl Default for FieldOptions<'_> {
    fn default() -> Self {
        FieldOptions {
            indices: None,
            field_type: FieldType::Node,
            mesh: "default",
        }
    }
}

impl<'a> FieldOptions<'a> {
    /// Node values on mesh `default`, rows stored rank after rank.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new() -> FieldOptions<'a> {
        FieldOptions::default()
    }

    /// Cell values instead of node values.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn cell(mut self) -> FieldOptions<'a> {
        self.field_type = FieldType::Cell;
        self
    }

    /// Stores local row `i` at global row `indices[i]`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn indices(mut self, indices: &'a [u64]) -> FieldOptions<'a> {
        self.indices = Some(indices);
        self
    }

    /// The mesh the field lives on.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn mesh(mut self, mesh: &'a str) -> FieldOptions<'a> {
        self.mesh = mesh;
        self
    }
}

/// A series of a simulation.
///
/// # MPI
///
/// Root-only methods (rank 0 reads, every rank gets the value) unless the documentation says
/// collective; call them on every rank.
#[derive(Debug, Clone)]
pub struct Series {
    file: File,
    comm: CommSlot,
    path: String,
    next_step: usize,
}

impl HasComm for Series {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

impl Series {
    pub(crate) fn open(sim: &Simulation, path: &str) -> Result<Series> {
        let mut series = Series {
            file: sim.file.clone(),
            comm: sim.comm.child(),
            path: path.trim_matches('/').to_owned(),
            next_step: 0,
        };
        series.next_step = series.checked_len()?;
        Ok(series)
    }

    /// The path of the series group from the file's root (`data` for the default series).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn error(&self, message: String) -> Error {
        Error::Series {
            file: self.file.path().into(),
            series: self.path.clone(),
            message,
        }
    }

    fn step_path(&self, field: &str, step: usize) -> String {
        format!("{}/fields/{field}/{step}", self.path)
    }

    /// Step `step` counted from the end when negative (`-1` is the last step).
    fn resolve(&self, step: i64, len: usize) -> Result<usize> {
        let resolved = if step < 0 { len as i64 + step } else { step };
        usize::try_from(resolved)
            .ok()
            .filter(|s| *s < len)
            .ok_or_else(|| self.error(format!("step {step} is out of range for {len} steps")))
    }

    /// Starts step `step` (default: after the last one) with value `value` (e.g. the time;
    /// default NaN), stored in `.map`. Rank 0 decides the number and the value and every rank
    /// gets them, so the ranks cannot disagree (they could in Python bamboost).
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`], [`Error::Shape`].
    ///
    /// # MPI
    ///
    /// Collective (root-only decision, broadcast).
    pub fn require_step(&mut self, value: Option<f64>, step: Option<usize>) -> Result<Step<'_>> {
        let (step, value) = self.claim_step(value, step, self.next_step)?;
        self.next_step = step + 1;
        Ok(Step {
            series: self,
            step,
            value,
        })
    }

    /// Reads field `name` at `step` (negative counts from the last step), converted to `T`.
    ///
    /// # Errors
    ///
    /// [`Error::Series`] if the field has no such step; [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective: every rank reads the whole array.
    pub fn read_field<T: Element>(&self, name: &str, step: i64) -> Result<ArrayD<T>> {
        let steps = self.field_steps(name)?;
        let last = steps.last().map_or(0, |s| s + 1);
        let step = self.resolve(step, last)?;
        if !steps.contains(&step) {
            return Err(self.error(format!("field `{name}` has no step {step}")));
        }
        let f = self.file.open()?;
        f.root().dataset(&self.step_path(name, step))?.read()
    }

    /// Reads field `name` at the steps `range` (Python's `field[a:b]`; negative ends count
    /// from the last step), one array per step.
    ///
    /// # Errors
    ///
    /// As [`Series::read_field`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn read_field_steps<T: Element>(
        &self,
        name: &str,
        range: std::ops::Range<i64>,
    ) -> Result<Vec<ArrayD<T>>> {
        let steps = self.field_steps(name)?;
        let len = steps.last().map_or(0, |s| s + 1) as i64;
        let clamp = |i: i64| (if i < 0 { len + i } else { i }).clamp(0, len);
        (clamp(range.start)..clamp(range.end))
            .map(|step| self.read_field(name, step))
            .collect()
    }

    /// Every global as a column: name → array of shape `(steps, …)` (NaN where a step has no
    /// value), shorter columns padded with NaN to the length of the series.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective: every rank reads.
    pub fn globals(&self) -> Result<BTreeMap<String, ArrayD<f64>>> {
        let len = self.len()?;
        let f = self.file.open()?;
        let group = f.root().group(&format!("{}/globals", self.path))?;
        let mut out = BTreeMap::new();
        for name in group.datasets()? {
            let mut column = group.dataset(&name)?.read::<f64>()?;
            if column.ndim() > 0 && column.shape()[0] < len {
                let mut shape = column.shape().to_vec();
                shape[0] = len;
                let mut padded = ArrayD::from_elem(shape, f64::NAN);
                padded
                    .slice_each_axis_mut(|ax| {
                        if ax.axis.index() == 0 {
                            (0..column.shape()[0]).into()
                        } else {
                            (..).into()
                        }
                    })
                    .assign(&column);
                column = padded;
            }
            out.insert(name, column);
        }
        Ok(out)
    }
}

#[root_process]
impl Series {
    /// Checks the group and returns the number of steps.
    fn checked_len(&self) -> Result<usize> {
        let f = self.file.open()?;
        let group = f
            .root()
            .group(&self.path)
            .map_err(|_| self.error("no such group".into()))?;
        match group.attr(".series") {
            Ok(AttrValue::Bool(true)) => {}
            _ => return Err(self.error("the group is not a series (no `.series = True`)".into())),
        }
        drop(group);
        drop(f);
        self.len()
    }

    /// The number of steps (the length of `.map`; 0 before the first step).
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn len(&self) -> Result<usize> {
        let f = self.file.open()?;
        let group = f.root().group(&self.path)?;
        if !group.contains(".map") {
            return Ok(0);
        }
        Ok(group
            .dataset(".map")?
            .shape()?
            .first()
            .copied()
            .unwrap_or(0))
    }

    /// Whether the series has no steps.
    ///
    /// # Errors
    ///
    /// As [`Series::len`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The value of every step (`.map`), NaN where none was given.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn values(&self) -> Result<Vec<f64>> {
        let f = self.file.open()?;
        let group = f.root().group(&self.path)?;
        if !group.contains(".map") {
            return Ok(Vec::new());
        }
        Ok(group.dataset(".map")?.read::<f64>()?.into_iter().collect())
    }

    /// The names of the fields, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn field_names(&self) -> Result<Vec<String>> {
        let f = self.file.open()?;
        let group = f.root().group(&format!("{}/fields", self.path))?;
        group.groups()
    }

    /// The steps field `name` holds, in numeric order.
    ///
    /// # Errors
    ///
    /// [`Error::Series`] if there is no such field.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn field_steps(&self, name: &str) -> Result<Vec<usize>> {
        let f = self.file.open()?;
        let group = f
            .root()
            .group(&format!("{}/fields/{name}", self.path))
            .map_err(|_| self.error(format!("no field `{name}`")))?;
        let mut steps: Vec<usize> = group
            .datasets()?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        steps.sort_unstable();
        Ok(steps)
    }

    /// The names of the globals, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn global_names(&self) -> Result<Vec<String>> {
        let f = self.file.open()?;
        f.root()
            .group(&format!("{}/globals", self.path))?
            .datasets()
    }

    /// Rank 0 picks the step (given, or after the last one) and stores its value.
    fn claim_step(
        &self,
        value: Option<f64>,
        step: Option<usize>,
        next: usize,
    ) -> Result<(usize, f64)> {
        let step = step.unwrap_or(next.max(self.len()?));
        let value = value.unwrap_or(f64::NAN);
        let f = self.file.open_mut()?;
        f.root()
            .group(&self.path)?
            .write_row(".map", step, vec![value], Vec::new())?;
        f.close()?;
        Ok((step, value))
    }
}

/// One step of a series, for adding fields and globals.
///
/// # MPI
///
/// As each method says.
#[derive(Debug)]
pub struct Step<'s> {
    series: &'s Series,
    step: usize,
    value: f64,
}

impl HasComm for Step<'_> {
    fn comm(&self) -> Comm {
        self.series.comm.get()
    }
}

impl Step<'_> {
    /// The step number.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn number(&self) -> usize {
        self.step
    }

    /// The step value (NaN if none was given).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Writes field `name` at this step: each rank gives its rows (see
    /// [`crate::h5::Group::write_distributed_array`]), stored at
    /// `<series>/fields/<name>/<step>` with the attributes `mesh` and `type`.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the ranks' trailing dimensions differ or the indices do not match
    /// the rows; [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn add_field<'a, T: Element, D: Dimension>(
        &self,
        name: &str,
        local: impl Into<ArrayView<'a, T, D>>,
        options: FieldOptions<'_>,
    ) -> Result<()> {
        let f = self.series.file.open_mut()?;
        let fields = f.root().group(&format!("{}/fields", self.series.path))?;
        let field = fields.require_group(name)?;
        let dataset =
            field.write_distributed_array(&self.step.to_string(), local, options.indices)?;
        dataset.set_attr("mesh", options.mesh)?;
        dataset.set_attr("type", options.field_type.as_str())?;
        field.set_attr("field_type", options.field_type.as_str())?;
        drop(field);
        drop(fields);
        f.close()
    }
}

#[root_process]
impl Step<'_> {
    /// Stores the scalar global `name` at this step (Python's `add_scalar`).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if `name` holds non-scalar values.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn add_scalar(&self, name: &str, value: f64) -> Result<()> {
        self.add_global(name, vec![value], Vec::new())
    }

    /// Stores the global `name` at this step: `values` of shape `shape` (row-major; `[]` for a
    /// scalar). Every step must give the same shape.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shape differs from earlier steps or from `values.len()`.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn add_global(&self, name: &str, values: Vec<f64>, shape: Vec<usize>) -> Result<()> {
        if shape.iter().product::<usize>() != values.len() {
            return Err(Error::Shape {
                file: self.series.file.path().into(),
                object: format!("{}/globals/{name}", self.series.path),
                message: format!("{} values do not have shape {shape:?}", values.len()),
            });
        }
        let f = self.series.file.open_mut()?;
        f.root()
            .group(&format!("{}/globals", self.series.path))?
            .write_row(name, self.step, values, shape)?;
        f.close()
    }
}
