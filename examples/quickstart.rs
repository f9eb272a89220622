//! Quickstart: a collection, a simulation with nested parameters, a mesh, a 3-step series of
//! fields with globals, and the XDMF file for ParaView — then everything read back and printed.
//!
//! ```text
//! cargo run -p bamboost-examples --example quickstart -- <output directory>
//! ```
//!
//! Without an argument it writes to `<temp dir>/bamboost-quickstart`. Running it again
//! replaces the simulation `quickstart`. Open `<dir>/quickstart/data.xdmf` in ParaView, or the
//! collection in Python bamboost 0.14 (`bamboost.Collection("<dir>")`).
#![deny(warnings)]

use bamboost::collection::{Collection, NewSimulation};
use bamboost::simulation::{CellType, FieldOptions, NodeNumbering, Parameters};
use bamboost::xdmf::XdmfOptions;
use ndarray::{Array1, Array2, arr2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("bamboost-quickstart"));
    let collection = Collection::open(&dir)?;

    let parameters = Parameters::new()
        .with("conductivity", 1.5)
        .with("steps", 3)
        .with(
            "solver",
            Parameters::new()
                .with("kind", "explicit")
                .with("tolerance", 1e-8),
        );
    let sim = collection.add(
        NewSimulation::new()
            .name("quickstart")
            .parameters(parameters)
            .description("the bamboost-rs quickstart")
            .tags(["example"])
            .override_existing(true),
    )?;

    // A unit square of two triangles. Distributed writes store every rank's rows; this data
    // lives on rank 0, so under mpirun the other ranks take part with no rows.
    let on_root = bamboost::Comm::world().rank() == 0;
    let rows = |n: usize| if on_root { n } else { 0 };
    let nodes = arr2(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    let nodes = nodes.slice(ndarray::s![..rows(4), ..]).to_owned();
    let cells = arr2(&[[0_i64, 1, 2], [0, 2, 3]]);
    let cells = cells.slice(ndarray::s![..rows(2), ..]).to_owned();
    sim.run(|sim| -> bamboost::Result<()> {
        sim.add_mesh(
            "default",
            nodes.view(),
            cells.view(),
            CellType::Triangle,
            NodeNumbering::Global,
        )?;
        let mut series = sim.data()?;
        for (i, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
            let step = series.require_step(Some(t), None)?;
            let temperature: Array1<f64> = nodes.column(0).mapv(|x| x * (1.0 + t));
            let displacement: Array2<f64> = &nodes * (0.1 * t);
            step.add_field("temperature", &temperature, FieldOptions::new())?;
            step.add_field("displacement", &displacement, FieldOptions::new())?;
            let cell_id = ndarray::arr1(&[0.0, 1.0]);
            step.add_field(
                "cell_id",
                &cell_id.slice(ndarray::s![..rows(2)]),
                FieldOptions::new().cell(),
            )?;
            // Globals are root-only: rank 0's value is stored.
            step.add_scalar("energy", temperature.sum())?;
            step.add_global("extent", vec![1.0 + t, i as f64], vec![2])?;
        }
        Ok(())
    })?;
    let xdmf = sim.create_xdmf(&XdmfOptions::default())?;

    // Read everything back (every rank reads the same) and report on rank 0.
    let series = sim.data()?;
    let globals = series.globals()?;
    let report = format!(
        "collection {} at {}\n\
         simulation {} ({}), status {}\n\
         parameters: solver.kind = {:?}, solver.tolerance = {:?}\n\
         mesh: {} nodes, {} cells\n\
         series `data`: {} steps, times {:?}, fields {:?}\n\
         globals: energy = {:?}\n\
         files: {:?}\n\
         ParaView: {}",
        collection.uid().as_str(),
        collection.path().display(),
        sim.uid(),
        sim.path().display(),
        sim.status()?,
        sim.parameters()?
            .value("solver.kind")
            .and_then(|v| v.as_str().map(str::to_owned)),
        sim.parameters()?
            .value("solver.tolerance")
            .and_then(|v| v.as_f64()),
        sim.mesh("default")?.coordinates.nrows(),
        sim.mesh("default")?.topology.nrows(),
        series.len()?,
        series.values()?,
        series.field_names()?,
        globals["energy"].iter().collect::<Vec<_>>(),
        sim.files()?.keys().collect::<Vec<_>>(),
        xdmf.display(),
    );
    assert_eq!(series.len()?, 3, "three steps were written");
    assert_eq!(
        series.read_field::<f64>("temperature", -1)?.as_slice(),
        Some(&[0.0, 2.0, 2.0, 0.0][..])
    );
    if on_root {
        println!("{report}");
    }
    Ok(())
}
