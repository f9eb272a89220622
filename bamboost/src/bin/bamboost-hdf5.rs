//! `bamboost-hdf5`: the `bamboost` command-line tool with HDF5 linked. `bamboost` runs it for
//! the two commands that read simulation files (`list --sync` and `list <UID> <name>`); it
//! runs every other command as well.

#[path = "bamboost/cli.rs"]
mod cli;

use bamboost::index::{Index, SyncReport};
use bamboost::simulation::{Parameter, Parameters};
use cli::{print_json, record_json, write_out};
use serde_json::json;
use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main::<ReadFiles>()
}

/// Reads simulation files with HDF5.
struct ReadFiles;

impl cli::SimulationFiles for ReadFiles {
    fn sync(index: &Index, key: &str) -> cli::Result<SyncReport> {
        Ok(index.sync(key, false)?)
    }

    fn show(index: &Index, key: &str, name: &str, as_json: bool) -> cli::Result<()> {
        show_simulation(index, key, name, as_json)
    }
}

fn show_simulation(index: &Index, key: &str, name: &str, as_json: bool) -> cli::Result<()> {
    let record = index.simulation(key, name)?;
    let collection = index.open_collection(key)?;
    let sim = collection.simulation(name)?;
    let metadata = sim.metadata()?;
    let series = sim.data()?;
    let steps = series.len()?;
    let fields = series.field_names()?;
    let globals = series.global_names()?;
    if as_json {
        let mut value = record_json(&record);
        value["uid"] = json!(sim.uid());
        value["path"] = json!(sim.path());
        value["metadata"] = Parameters::from_iter(
            metadata
                .iter()
                .map(|(k, v)| (k.clone(), Parameter::Value(v.clone()))),
        )
        .to_json();
        value["series"] =
            json!({"path": series.path(), "steps": steps, "fields": fields, "globals": globals});
        return print_json(&value);
    }
    let mut out = String::new();
    out.push_str(&format!("{}  ({})\n", sim.uid(), sim.path().display()));
    out.push_str("metadata:\n");
    for (k, v) in &metadata {
        out.push_str(&format!("  {k:<16} {v}\n"));
    }
    out.push_str("parameters:\n");
    let mut path = String::new();
    for_each_leaf(&record.parameters, &mut path, &mut |k, v| {
        let text = match v {
            Parameter::Value(v) => v.to_string(),
            Parameter::Array(a) => a.to_string(),
            Parameter::Map(_) => String::new(),
        };
        out.push_str(&format!("  {k:<16} {text}\n"));
    });
    if !record.links.is_empty() {
        out.push_str("links:\n");
        for (k, v) in &record.links {
            out.push_str(&format!("  {k:<16} {v}\n"));
        }
    }
    out.push_str(&format!(
        "series `{}`: {steps} step(s); fields: {}; globals: {}\n",
        series.path(),
        list_or_none(&fields),
        list_or_none(&globals)
    ));
    write_out(&out)
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Calls `f` with the dotted key and the value of every parameter that is not a map; `path` is
/// scratch space.
fn for_each_leaf(parameters: &Parameters, path: &mut String, f: &mut impl FnMut(&str, &Parameter)) {
    for (key, value) in parameters.iter() {
        let len = path.len();
        if len > 0 {
            path.push('.');
        }
        path.push_str(key);
        match value {
            Parameter::Map(map) => for_each_leaf(map, path, f),
            leaf => f(path, leaf),
        }
        path.truncate(len);
    }
}
