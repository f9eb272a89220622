//! Collections shared with Python bamboost 0.14.0, both ways, and XDMF files read by meshio.
//! The Python interpreter is `BAMBOOST_PYTHON`, else `target/pyenv/bin/python`;
//! `.ci/install.sh` creates that virtual environment with `bamboost==0.14.0` and `meshio`.
//!
//! The data checks print a whole collection as canonical JSON twice — through Python bamboost
//! (`python/dump_collection.py`) and through this crate (`dump` below) — and compare.

use bamboost::collection::{Collection, NewSimulation, YamlValue};
use bamboost::h5::{ArrayData, AttrArray, AttrValue};
use bamboost::simulation::{
    CellType, FieldOptions, NodeNumbering, Parameter, Parameters, Simulation,
};
use bamboost::xdmf::XdmfOptions;
use bamboost_tests::{run_python, run_python_file};
use ndarray::{ArrayD, IxDyn, arr1, arr2};
use serde_json::{Value as Json, json};
use std::path::Path;

#[test]
fn a_python_collection_opens_here_with_its_metadata() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("from-python");
    let uid = run_python(
        home.path(),
        &format!(
            r#"
from bamboost import Collection
c = Collection({path:?})
c.metadata.update({{"description": "made in python", "tags": ["a", "b"], "custom": {{"foo": 1}}}})
c.metadata.save()
print(c.uid)
"#,
            path = path.display().to_string()
        ),
    );
    let collection = Collection::open_existing(&path, Default::default())?;
    assert_eq!(collection.uid().as_str(), uid.trim());
    let metadata = collection.metadata()?;
    assert_eq!(metadata.uid().as_deref(), Some(uid.trim()));
    assert_eq!(metadata.description().as_deref(), Some("made in python"));
    assert_eq!(metadata.tags(), ["a", "b"]);
    assert_eq!(
        metadata.get("custom").and_then(|c| c.get("foo")),
        Some(&YamlValue::from(1))
    );
    let created = metadata.created_at().expect("a creation time");
    assert!(
        chrono::NaiveDateTime::parse_from_str(&created, "%Y-%m-%d %H:%M:%S%.f").is_ok(),
        "{created}"
    );
    Ok(())
}

#[test]
fn a_collection_made_here_opens_in_python_with_its_metadata() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("from-rust");
    let collection = Collection::open(&path)?;
    let mut metadata = collection.metadata()?;
    metadata.set_description(Some("made in rust"));
    metadata.set_tags(["x", "y"]);
    metadata.add_alias("rusty");
    metadata.set("custom", serde_norway_value("{foo: 2}"));
    collection.save_metadata(&metadata)?;
    let printed = run_python(
        home.path(),
        &format!(
            r#"
from bamboost import Collection
c = Collection({path:?}, sync_collection=False)
m = c.metadata
print(c.uid)
print(m.description)
print(",".join(m.tags))
print(",".join(m.aliases))
print(m["custom"]["foo"])
print(type(m.created_at).__name__)
"#,
            path = path.display().to_string()
        ),
    );
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(
        lines,
        [
            collection.uid().as_str(),
            "made in rust",
            "x,y",
            "rusty",
            "2",
            "datetime"
        ]
    );
    Ok(())
}

fn serde_norway_value(text: &str) -> YamlValue {
    bamboost::collection::CollectionMetadata::from_yaml(&format!("v: {text}"))
        .expect("valid YAML")
        .get("v")
        .cloned()
        .expect("a value")
}

// --- whole collections as canonical JSON -------------------------------------------------------

/// Python's `datetime.isoformat()`.
fn isoformat(t: &chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

fn float(f: f64) -> Json {
    if f.is_nan() { json!("NaN") } else { json!(f) }
}

/// Nested lists of `items` in the row-major `shape`.
fn nest(shape: &[usize], items: &mut impl Iterator<Item = Json>) -> Json {
    match shape.split_first() {
        None => items.next().unwrap_or(Json::Null),
        Some((&n, rest)) => Json::Array((0..n).map(|_| nest(rest, items)).collect()),
    }
}

fn array(a: &AttrArray) -> Json {
    let items: Vec<Json> = match &a.data {
        ArrayData::Bool(v) => v.iter().map(|x| json!(x)).collect(),
        ArrayData::Int(v) => v.iter().map(|x| json!(x)).collect(),
        ArrayData::Float(v) => v.iter().map(|x| float(*x)).collect(),
        ArrayData::Str(v) => v.iter().map(|x| json!(x)).collect(),
        other => panic!("unexpected array {other:?}"),
    };
    nest(&a.shape, &mut items.into_iter())
}

fn value(v: &AttrValue) -> Json {
    match v {
        AttrValue::None => Json::Null,
        AttrValue::Bool(b) => json!(b),
        AttrValue::Int(i) => json!(i),
        AttrValue::Float(f) => float(*f),
        AttrValue::Str(s) => json!(s),
        AttrValue::DateTime(t) => json!({"datetime": isoformat(t)}),
        AttrValue::Complex { re, im } => json!({"complex": [re, im]}),
        AttrValue::Set(items) => {
            let mut items: Vec<Json> = items.iter().map(value).collect();
            items.sort_by(|a, b| match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => a.to_string().cmp(&b.to_string()),
            });
            json!({"set": items})
        }
        AttrValue::Array(a) => array(a),
        other => panic!("unexpected value {other:?}"),
    }
}

fn parameters(p: &Parameters) -> Json {
    Json::Object(
        p.iter()
            .map(|(k, v)| {
                let v = match v {
                    Parameter::Value(v) => value(v),
                    Parameter::Array(a) => array(a),
                    Parameter::Map(m) => parameters(m),
                };
                (k.to_owned(), v)
            })
            .collect(),
    )
}

fn ndarray_json<T: Copy + Into<f64>>(a: &ArrayD<T>, as_int: bool) -> Json {
    let items = a.iter().map(|x| {
        let f: f64 = (*x).into();
        if as_int { json!(f as i64) } else { float(f) }
    });
    nest(a.shape(), &mut items.collect::<Vec<_>>().into_iter())
}

/// The collection as `python/dump_collection.py` prints it, read through this crate.
fn dump(path: &Path) -> bamboost::Result<Json> {
    let collection = Collection::open_existing(path, Default::default())?;
    let mut sims = serde_json::Map::new();
    for sim in collection.simulations()? {
        sims.insert(sim.name().to_owned(), dump_simulation(&sim)?);
    }
    Ok(json!({"uid": collection.uid().as_str(), "simulations": sims}))
}

fn dump_simulation(sim: &Simulation) -> bamboost::Result<Json> {
    let mut metadata = sim.metadata()?;
    let created = metadata.remove("created_at");
    let series_paths = match metadata.remove(".series_paths") {
        Some(AttrValue::Array(AttrArray {
            data: ArrayData::Str(v),
            ..
        })) => v,
        _ => Vec::new(),
    };
    let mut meta: serde_json::Map<String, Json> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), value(v)))
        .collect();
    meta.insert("tags".into(), json!(sim.tags()?));
    let mut series_json = serde_json::Map::new();
    let mut sorted_paths = series_paths.clone();
    sorted_paths.sort();
    let file = sim.file().open()?;
    for path in &sorted_paths {
        let series = sim.series(path)?;
        let mut fields = serde_json::Map::new();
        for name in series.field_names()? {
            let mut steps = serde_json::Map::new();
            let mut types = serde_json::Map::new();
            for step in series.field_steps(&name)? {
                let data = series.read_field::<f64>(&name, step as i64)?;
                steps.insert(step.to_string(), ndarray_json(&data, false));
                let dataset = file
                    .root()
                    .dataset(&format!("{path}/fields/{name}/{step}"))?;
                types.insert(step.to_string(), value(&dataset.attr("type")?));
            }
            fields.insert(name, json!({"steps": steps, "types": types}));
        }
        let mut globals = serde_json::Map::new();
        for name in series.global_names()? {
            let raw = file
                .root()
                .dataset(&format!("{path}/globals/{name}"))?
                .read::<f64>()?;
            globals.insert(name, ndarray_json(&raw, false));
        }
        let values: Vec<Json> = series.values()?.into_iter().map(float).collect();
        series_json.insert(
            path.clone(),
            json!({"values": values, "fields": fields, "globals": globals}),
        );
    }
    let mut meshes = serde_json::Map::new();
    for name in file.root().group(".mesh")?.groups()? {
        let mesh = sim.mesh(&name)?;
        let topology = mesh.topology.mapv(|n| n as f64).into_dyn();
        meshes.insert(
            name,
            json!({
                "coordinates": ndarray_json(&mesh.coordinates.into_dyn(), false),
                "topology": ndarray_json(&topology, true),
                "cell_type": mesh.cell_type.map(|c| c.as_str()),
            }),
        );
    }
    drop(file);
    Ok(json!({
        "parameters": parameters(&sim.parameters()?),
        "metadata": meta,
        "created_at_is_datetime": matches!(created, Some(AttrValue::DateTime(_))),
        "links": sim.links()?,
        "series": series_json,
        "meshes": meshes,
    }))
}

/// The demo of `python/write_demo.py`, written by this crate.
fn write_demo(path: &Path) -> bamboost::Result<Collection> {
    let collection = Collection::open(path)?;
    let target = collection.add(
        NewSimulation::new()
            .name("target")
            .parameters(Parameters::new().with("t", 1)),
    )?;
    let when = chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
        .and_then(|d| d.and_hms_micro_opt(11, 21, 40, 719_201))
        .expect("a valid date");
    let array = |shape: &[usize], v: Vec<f64>| {
        Parameter::from(ArrayD::from_shape_vec(IxDyn(shape), v).expect("matching shape"))
    };
    let params = Parameters::new()
        .with("a", 1)
        .with("b", 2.5)
        .with("s", "héllo")
        .with("flag", true)
        .with("none", AttrValue::None)
        .with("when", when)
        .with(
            "aset",
            AttrValue::Set(vec![AttrValue::Int(1), AttrValue::Int(2)]),
        )
        .with("z", AttrValue::Complex { re: 1.0, im: -2.0 })
        .with("lst", vec![1_i64, 2, 3])
        .with("strlist", vec!["x", "y"])
        .with("arr", array(&[4], vec![1.0, 2.0, 3.0, 4.0]))
        .with(
            "nested",
            Parameters::new()
                .with("k", 1)
                .with("deep", Parameters::new().with("z", "v"))
                .with("arr2", array(&[2, 2], vec![1.0, 2.0, 3.0, 4.0])),
        );
    let sim = collection.add(
        NewSimulation::new()
            .name("sim1")
            .parameters(params)
            .description("a demo")
            .tags(["x", "y"])
            .link("ref", &target.uid()),
    )?;
    sim.run(|sim| -> bamboost::Result<()> {
        let nodes = arr2(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
        let cells = arr2(&[[0_i64, 1, 2], [0, 2, 3]]);
        sim.add_mesh(
            "default",
            nodes.view(),
            cells.view(),
            CellType::Triangle,
            NodeNumbering::Global,
        )?;
        let mut series = sim.data()?;
        for (i, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
            let k = i as f64;
            let step = series.require_step(Some(t), None)?;
            step.add_field("u", &(&nodes * (k + 1.0)), FieldOptions::new())?;
            step.add_field("p", &(arr1(&[0.0, 1.0, 2.0, 3.0]) + k), FieldOptions::new())?;
            step.add_field(
                "c",
                &arr1(&[10.0 * k, 20.0 * k]),
                FieldOptions::new().cell(),
            )?;
            step.add_scalar("energy", 1.5 * k)?;
            step.add_global("vec", vec![k, -k], vec![2])?;
        }
        sim.set_metadata("custom_meta", AttrValue::Str("hello".into()))?;
        let mut loadcurve = sim.require_series("loadcurve")?;
        loadcurve.require_step(None, Some(0))?;
        loadcurve
            .require_step(Some(7.0), Some(3))?
            .add_scalar("force", 2.0)?;
        Ok(())
    })?;
    sim.create_xdmf(&XdmfOptions::default())?;
    Ok(collection)
}

/// Replaces the collection UID in a dump, to compare collections made apart.
fn without_uid(dump: &Json, uid: &str) -> Json {
    serde_json::from_str(&dump.to_string().replace(uid, "UID")).expect("valid JSON")
}

#[test]
fn python_written_simulations_read_the_same_here() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("py");
    run_python_file(home.path(), "write_demo.py", &[&path]);
    let python: Json = serde_json::from_str(&run_python_file(
        home.path(),
        "dump_collection.py",
        &[&path],
    ))
    .expect("JSON from python");
    let rust = dump(&path)?;
    assert_eq!(rust, python);
    Ok(())
}

#[test]
fn simulations_written_here_read_the_same_in_python_as_python_s_own() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let ours = home.path().join("rs");
    let collection = write_demo(&ours)?;
    let python: Json = serde_json::from_str(&run_python_file(
        home.path(),
        "dump_collection.py",
        &[&ours],
    ))
    .expect("JSON from python");
    assert_eq!(dump(&ours)?, python, "python reads what this crate reads");
    // And it is what Python bamboost itself writes for the same demo.
    let theirs = home.path().join("py");
    let their_uid = run_python_file(home.path(), "write_demo.py", &[&theirs]);
    let python_own: Json = serde_json::from_str(&run_python_file(
        home.path(),
        "dump_collection.py",
        &[&theirs],
    ))
    .expect("JSON from python");
    assert_eq!(
        without_uid(&python, collection.uid().as_str()),
        without_uid(&python_own, their_uid.trim())
    );
    Ok(())
}

#[test]
fn meshio_reads_the_xdmf_mesh_steps_and_fields() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("rs");
    let collection = write_demo(&path)?;
    let sim = collection.simulation("sim1")?;
    let read: Json = serde_json::from_str(&run_python_file(
        home.path(),
        "read_xdmf.py",
        &[&sim.path().join("data.xdmf")],
    ))
    .expect("JSON from meshio");
    let ours = dump_simulation(&sim)?;
    let mesh = &ours["meshes"]["default"];
    assert_eq!(read["points"], mesh["coordinates"]);
    assert_eq!(read["cells"], json!({"triangle": mesh["topology"]}));
    let steps = read["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    let fields = &ours["series"]["data"]["fields"];
    for (i, step) in steps.iter().enumerate() {
        let k = i.to_string();
        assert_eq!(step["time"], ours["series"]["data"]["values"][i]);
        assert_eq!(step["point_data"]["u"], fields["u"]["steps"][&k]);
        assert_eq!(step["point_data"]["p"], fields["p"]["steps"][&k]);
        assert_eq!(step["cell_data"]["c"], json!([fields["c"]["steps"][&k]]));
    }
    Ok(())
}
