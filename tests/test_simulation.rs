//! Collections, simulations, parameters, series, meshes and XDMF on one process: the behaviours
//! of Python bamboost's `test_collection.py`, `test_simulation.py`, `test_parameter_validation.py`
//! and `test_simulation_dict.py`, on real files.

use bamboost::Error;
use bamboost::collection::{Collection, DuplicateAction, Filter, NewSimulation};
use bamboost::h5::AttrValue;
use bamboost::simulation::{
    CellType, FieldOptions, NodeNumbering, Parameter, Parameters, RunScript, Status, StatusInfo,
};
use bamboost::xdmf::XdmfOptions;
use ndarray::{ArrayD, IxDyn, arr1, arr2};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn collection() -> (tempfile::TempDir, Collection) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let collection = Collection::open(dir.path().join("coll")).expect("collection");
    (dir, collection)
}

fn people(collection: &Collection) -> bamboost::Result<()> {
    for (name, first, age) in [
        ("testsim1", "John", 20),
        ("testsim2", "Jane", 30),
        ("testsim3", "Jack", 40),
    ] {
        let params = Parameters::new()
            .with("first_name", first)
            .with("age", age)
            .with("list", vec![1_i64, 2, 3])
            .with("dict", Parameters::new().with("a", 1).with("b", "x"));
        collection.add(NewSimulation::new().name(name).parameters(params))?;
    }
    Ok(())
}

fn names(collection: &Collection) -> Vec<String> {
    collection.simulation_names().expect("names")
}

// --- collections -----------------------------------------------------------------------------

#[test]
fn length_lookup_and_records() -> TestResult {
    let (_dir, c) = collection();
    people(&c)?;
    assert_eq!(c.len()?, 3);
    assert_eq!(c.simulation("testsim1")?.name(), "testsim1");
    assert!(matches!(
        c.simulation("nope"),
        Err(Error::NoSuchSimulation { .. })
    ));
    let records = c.records()?;
    assert_eq!(records.len(), 3);
    assert_eq!(records[1].get("dict.a"), Some(AttrValue::Int(1)));
    assert_eq!(
        records[2].get("first_name"),
        Some(AttrValue::Str("Jack".into()))
    );
    assert_eq!(
        c.simulations()?
            .iter()
            .map(|s| s.name().to_owned())
            .collect::<Vec<_>>(),
        names(&c)
    );
    Ok(())
}

#[test]
fn add_named_and_generated_with_description_tags_files_and_links() -> TestResult {
    let (dir, c) = collection();
    let target = c.add(NewSimulation::new().name("target"))?;
    let generated = c.add(NewSimulation::new().parameters(Parameters::new().with("x", 1)))?;
    assert_eq!(generated.name().len(), 10);
    assert!(generated.path().is_dir());

    let file = dir.path().join("input.txt");
    std::fs::write(&file, "mesh size 0.1")?;
    let sub = dir.path().join("config");
    std::fs::create_dir_all(sub.join("deep"))?;
    std::fs::write(sub.join("deep/a.toml"), "a = 1")?;
    let sim = c.add(
        NewSimulation::new()
            .name("sim1")
            .parameters(Parameters::new().with("x", 2))
            .description("a run")
            .tags(["alpha", "beta", "alpha", ""])
            .files([file, sub])
            .link("ref", &target.uid()),
    )?;
    assert_eq!(sim.description()?, "a run");
    assert_eq!(sim.tags()?, ["alpha", "beta"]);
    assert_eq!(
        std::fs::read_to_string(sim.path().join("input.txt"))?,
        "mesh size 0.1"
    );
    let files = sim.files()?;
    assert!(files.contains_key("config/deep/a.toml"), "{files:?}");
    assert!(files.contains_key("data.h5"));
    assert_eq!(sim.links()?.get("ref"), Some(&target.uid()));
    assert_eq!(sim.status()?, StatusInfo::new(Status::Initialized));
    assert!(sim.created_at()?.is_some());
    Ok(())
}

#[test]
fn a_taken_name_fails_unless_overridden() -> TestResult {
    let (_dir, c) = collection();
    c.add(
        NewSimulation::new()
            .name("s")
            .parameters(Parameters::new().with("v", 1)),
    )?;
    let again = c.add(
        NewSimulation::new()
            .name("s")
            .parameters(Parameters::new().with("v", 2)),
    );
    assert!(matches!(again, Err(Error::SimulationExists { .. })));
    let replaced = c.add(
        NewSimulation::new()
            .name("s")
            .parameters(Parameters::new().with("v", 3))
            .override_existing(true),
    )?;
    assert_eq!(c.len()?, 1);
    assert_eq!(replaced.parameters()?.value("v"), Some(&AttrValue::Int(3)));
    Ok(())
}

#[test]
fn a_failed_creation_removes_the_directory() -> TestResult {
    let (dir, c) = collection();
    let missing = dir.path().join("no-such-file");
    let result = c.add(NewSimulation::new().name("broken").files([missing]));
    assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
    assert!(!c.path().join("broken").exists());
    assert_eq!(c.len()?, 0);
    Ok(())
}

#[test]
fn reserved_and_dotted_keys_are_rejected_before_anything_is_created() -> TestResult {
    let (_dir, c) = collection();
    for key in ["name", "links", "status", "invalid.key"] {
        let result = c.add(
            NewSimulation::new()
                .name("x")
                .parameters(Parameters::new().with(key, 1)),
        );
        assert!(
            matches!(result, Err(Error::InvalidParameter { .. })),
            "{key}: {result:?}"
        );
    }
    assert!(!c.path().join("x").exists());
    let sim = c.add(NewSimulation::new().name("ok"))?;
    for key in ["status", "b.c", "tags"] {
        let result = sim.set_parameters(&Parameters::new().with(key, 1));
        assert!(
            matches!(result, Err(Error::InvalidParameter { .. })),
            "{key}"
        );
    }
    assert!(sim.parameters()?.is_empty());
    Ok(())
}

#[test]
fn duplicates_raise_for_every_value_kind() -> TestResult {
    let cases = [
        Parameters::new().with("a", 1).with("b", "x"),
        Parameters::new().with("l", vec![1_i64, 2, 3]),
        Parameters::new().with("d", Parameters::new().with("k", 1.5)),
        Parameters::new().with(
            "d",
            Parameters::new().with("n", Parameters::new().with("z", true)),
        ),
    ];
    for params in cases {
        let (_dir, c) = collection();
        c.add(NewSimulation::new().parameters(params.clone()))?;
        let again = c.add(NewSimulation::new().parameters(params));
        assert!(
            matches!(again, Err(Error::DuplicateSimulation { .. })),
            "{again:?}"
        );
        assert_eq!(c.len()?, 1);
    }
    Ok(())
}

#[test]
fn duplicate_actions_skip_ignore_and_replace() -> TestResult {
    let (_dir, c) = collection();
    let p = Parameters::new().with("a", 1).with("b", 2);
    c.add(NewSimulation::new().name("sim1").parameters(p.clone()))?;
    let skipped = c.add(
        NewSimulation::new()
            .name("sim2")
            .parameters(p.clone())
            .duplicate_action(DuplicateAction::Skip),
    )?;
    assert_eq!(skipped.name(), "sim1");
    assert_eq!(c.len()?, 1);
    c.add(
        NewSimulation::new()
            .name("sim2")
            .parameters(p.clone())
            .duplicate_action(DuplicateAction::Ignore),
    )?;
    assert_eq!(names(&c), ["sim1", "sim2"]);
    c.add(
        NewSimulation::new()
            .name("sim3")
            .parameters(p.clone())
            .duplicate_action(DuplicateAction::Replace),
    )?;
    assert_eq!(names(&c), ["sim3"]);
    // A subset of the parameters is not a duplicate.
    c.add(
        NewSimulation::new()
            .name("sim4")
            .parameters(Parameters::new().with("a", 1))
            .duplicate_action(DuplicateAction::Replace),
    )?;
    assert_eq!(names(&c), ["sim3", "sim4"]);
    Ok(())
}

#[test]
fn none_equals_a_missing_key_in_the_duplicate_check() -> TestResult {
    let (_dir, c) = collection();
    let replace = |name: &str, p: Parameters| {
        c.add(
            NewSimulation::new()
                .name(name)
                .parameters(p)
                .duplicate_action(DuplicateAction::Replace),
        )
    };
    replace(
        "s1",
        Parameters::new().with("a", 1).with("n", AttrValue::None),
    )?;
    replace(
        "s2",
        Parameters::new().with("a", 1).with("n", AttrValue::None),
    )?;
    assert_eq!(names(&c), ["s2"], "same None value: replaced");
    replace("s3", Parameters::new().with("a", 1))?;
    assert_eq!(names(&c), ["s3"], "None equals missing");
    replace(
        "s4",
        Parameters::new().with("a", 2).with("n", AttrValue::None),
    )?;
    assert_eq!(names(&c), ["s3", "s4"], "other parameter differs");
    replace("s5", Parameters::new().with("a", 2).with("n", 2))?;
    assert_eq!(names(&c), ["s3", "s4", "s5"], "None vs 2 differs");
    Ok(())
}

#[test]
fn duplicate_checks_see_the_whole_collection_and_compare_links() -> TestResult {
    let (_dir, c) = collection();
    let t1 = c.add(
        NewSimulation::new()
            .name("t1")
            .parameters(Parameters::new().with("t", 1)),
    )?;
    let t2 = c.add(
        NewSimulation::new()
            .name("t2")
            .parameters(Parameters::new().with("t", 2)),
    )?;
    let p = Parameters::new().with("p", 5);
    c.add(
        NewSimulation::new()
            .name("s1")
            .parameters(p.clone())
            .link("ref", &t1.uid()),
    )?;
    let filtered = c.filter(Filter::eq("t", 1));
    let other_link = filtered.add(
        NewSimulation::new()
            .name("s2")
            .parameters(p.clone())
            .link("ref", &t2.uid())
            .duplicate_action(DuplicateAction::Replace),
    );
    assert!(
        other_link.is_ok(),
        "a different link target is no duplicate"
    );
    filtered.add(
        NewSimulation::new()
            .name("s3")
            .parameters(p)
            .link("ref", &t1.uid())
            .duplicate_action(DuplicateAction::Replace),
    )?;
    assert_eq!(names(&c), ["s2", "s3", "t1", "t2"]);
    Ok(())
}

#[test]
fn filters_and_sorts_make_views() -> TestResult {
    let (_dir, c) = collection();
    people(&c)?;
    let view = c.filter(Filter::eq("age", 20).or(Filter::eq("age", 40)));
    assert_eq!(names(&view), ["testsim1", "testsim3"]);
    assert_eq!(
        names(&view.filter(Filter::eq("first_name", "Jack"))),
        ["testsim3"]
    );
    assert_eq!(view.len()?, 2);
    assert_eq!(c.len()?, 3, "the base collection is unchanged");
    assert_eq!(
        names(&c.sort("age", false)),
        ["testsim3", "testsim2", "testsim1"]
    );
    let view = c.filter(Filter::ge("age", 30)).sort("first_name", false);
    assert_eq!(names(&view), ["testsim2", "testsim3"]);
    assert_eq!(names(&view), ["testsim2", "testsim3"], "iterating twice");
    Ok(())
}

#[test]
fn multi_key_sort_and_tag_filter() -> TestResult {
    let (_dir, c) = collection();
    for (name, priority, step, tags) in [
        ("a", 2, 1, vec!["x"]),
        ("b", 1, 1, vec!["x", "y"]),
        ("c", 1, 2, vec!["y"]),
    ] {
        c.add(
            NewSimulation::new()
                .name(name)
                .parameters(
                    Parameters::new()
                        .with("priority", priority)
                        .with("step", step),
                )
                .tags(tags),
        )?;
    }
    assert_eq!(
        names(&c.sort("priority", true).sort("step", false)),
        ["c", "b", "a"]
    );
    assert_eq!(names(&c.filter(Filter::tags(["x", "y"]))), ["b"]);
    Ok(())
}

#[test]
fn delete_checks_every_name_first() -> TestResult {
    let (_dir, c) = collection();
    people(&c)?;
    let view = c.filter(Filter::eq("age", 20));
    let result = view.delete(vec!["testsim2".into(), "missing".into()]);
    assert!(matches!(result, Err(Error::NoSuchSimulation { ref name, .. }) if name == "missing"));
    assert_eq!(c.len()?, 3, "nothing was deleted");
    view.delete(vec!["testsim2".into()])?;
    assert_eq!(names(&c), ["testsim1", "testsim3"]);
    Ok(())
}

// --- simulations -----------------------------------------------------------------------------

#[test]
fn run_sets_started_then_finished_or_failed() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    let inside = sim.run(|w| w.status().map(|s| s.status))?;
    assert_eq!(inside, Status::Started);
    assert_eq!(sim.status()?.status, Status::Finished);

    let failed = sim.run(|_| Err::<(), _>("An error occurred"));
    assert!(matches!(failed, Err(Error::RunFailed { .. })));
    assert_eq!(sim.status()?.to_string(), "failed [An error occurred]");

    let panicked =
        std::panic::catch_unwind(|| sim.run(|_| -> Result<(), String> { panic!("boom") }));
    assert!(panicked.is_err(), "the panic propagates");
    assert_eq!(sim.status()?.to_string(), "failed [panic: boom]");
    Ok(())
}

#[test]
fn status_description_and_tags_setters() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    sim.set_status(StatusInfo {
        status: Status::Failed,
        message: Some("An error occurred".into()),
    })?;
    assert_eq!(
        sim.metadata()?.get("status"),
        Some(&AttrValue::Str("failed [An error occurred]".into()))
    );
    sim.set_description("new")?;
    assert_eq!(sim.description()?, "new");
    sim.set_tags(vec!["b".into(), "a".into(), "b".into(), "".into()])?;
    assert_eq!(sim.tags()?, ["a", "b"]);
    sim.set_metadata("custom", AttrValue::Int(7))?;
    assert_eq!(sim.metadata()?.get("custom"), Some(&AttrValue::Int(7)));
    Ok(())
}

#[test]
fn parameters_of_every_kind_round_trip() -> TestResult {
    let (_dir, c) = collection();
    let when = chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
        .and_then(|d| d.and_hms_micro_opt(11, 21, 40, 719_201))
        .ok_or("date")?;
    let params = Parameters::new()
        .with("i", 1)
        .with("f", 2.5)
        .with("flag", true)
        .with("s", "héllo")
        .with("none", AttrValue::None)
        .with("when", when)
        .with(
            "aset",
            AttrValue::Set(vec![AttrValue::Int(1), AttrValue::Int(2)]),
        )
        .with("z", AttrValue::Complex { re: 1.0, im: -2.0 })
        .with("lst", vec![1.0, 2.0])
        .with("strlist", vec!["a", "b"])
        .with(
            "arr",
            Parameter::from(ArrayD::from_shape_vec(
                IxDyn(&[2, 2]),
                vec![1.0, 2.0, 3.0, 4.0],
            )?),
        )
        .with(
            "nested",
            Parameters::new()
                .with("k", 1)
                .with("deep", Parameters::new().with("z", "v")),
        );
    let sim = c.add(NewSimulation::new().name("s").parameters(params.clone()))?;
    assert_eq!(sim.parameters()?, params);
    let stored =
        bamboost::h5::File::new(sim.path().join("data.h5"), bamboost::mpi::CommSlot::new());
    let f = stored.open()?;
    let group = f.root().group(".parameters")?;
    assert!(
        group.datasets()?.contains(&"arr".to_owned()),
        "arrays are datasets"
    );
    assert!(
        group.attrs()?.contains_key("nested.deep.z"),
        "nested keys are flattened"
    );
    Ok(())
}

#[test]
fn nested_updates_keep_siblings_and_replace_conflicts() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(
        NewSimulation::new().name("s").parameters(
            Parameters::new()
                .with("n", Parameters::new().with("a", 1).with("b", 2))
                .with(
                    "arr",
                    Parameter::from(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1_i64, 2])?),
                ),
        ),
    )?;
    sim.set_parameters(&Parameters::new().with("n", Parameters::new().with("a", 5)))?;
    sim.set_parameter("n.c", Parameter::from("new"))?;
    sim.set_parameter("arr", Parameter::from(3))?;
    let p = sim.parameters()?;
    assert_eq!(p.value("n.a"), Some(&AttrValue::Int(5)));
    assert_eq!(p.value("n.b"), Some(&AttrValue::Int(2)));
    assert_eq!(p.value("n.c"), Some(&AttrValue::Str("new".into())));
    assert_eq!(
        p.value("arr"),
        Some(&AttrValue::Int(3)),
        "the old dataset is gone"
    );
    sim.set_parameter("n", Parameter::from(0))?;
    assert_eq!(
        sim.parameters()?.value("n"),
        Some(&AttrValue::Int(0)),
        "a leaf replaces a map"
    );
    Ok(())
}

#[test]
fn run_script_plain_and_slurm() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    let path = sim.create_run_script(RunScript {
        commands: vec!["echo hi".into(), "mpirun -n 4 ./solver".into()],
        sbatch: None,
    })?;
    let text = std::fs::read_to_string(&path)?;
    assert!(
        text.starts_with("#!/bin/bash\n\n\nexport SIMULATION_DIR="),
        "{text}"
    );
    assert!(text.contains(&format!("export SIMULATION_ID={}\n\n", sim.uid())));
    assert!(text.ends_with("echo hi\nmpirun -n 4 ./solver"));
    assert!(!text.contains("#SBATCH"));
    assert_eq!(
        sim.metadata()?.get("submitted"),
        Some(&AttrValue::Bool(false))
    );

    sim.create_run_script(RunScript {
        commands: vec!["./solver".into()],
        sbatch: Some(vec![
            ("--ntasks".into(), "4".into()),
            ("--job-name".into(), "mine".into()),
        ]),
    })?;
    let text = std::fs::read_to_string(&path)?;
    let out = sim.path().join("s.out");
    let expected = format!(
        "#SBATCH --output={}\n#SBATCH --job-name=mine\n#SBATCH --ntasks=4\n",
        out.display()
    );
    assert!(text.contains(&expected), "{text}");
    let status = std::process::Command::new("bash")
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .status()?;
    assert!(
        !status.success(),
        "./solver does not exist, so the script fails"
    );
    Ok(())
}

#[test]
fn require_series_makes_a_series_and_refuses_a_plain_group() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    let series = sim.require_series("loadcurve")?;
    assert_eq!(series.len()?, 0);
    let f = sim.file().open_mut()?;
    f.root().create_group("plain")?;
    f.close()?;
    assert!(matches!(
        sim.require_series("plain"),
        Err(Error::Series { .. })
    ));
    assert!(matches!(sim.series("missing"), Err(Error::Series { .. })));
    Ok(())
}

// --- series, meshes, XDMF --------------------------------------------------------------------

#[test]
fn three_steps_of_fields_and_globals() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    let mut series = sim.data()?;
    for (i, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
        let step = series.require_step(Some(t), None)?;
        assert_eq!(step.number(), i);
        let k = i as f64;
        step.add_field(
            "u",
            &arr2(&[[k, 0.0], [k, 1.0], [k, 2.0]]),
            FieldOptions::new(),
        )?;
        step.add_field("c", &arr1(&[k]), FieldOptions::new().cell())?;
        step.add_scalar("energy", 10.0 * k)?;
        if i != 1 {
            step.add_global("vec", vec![k, -k], vec![2])?;
        }
    }
    assert_eq!(series.len()?, 3);
    assert_eq!(series.values()?, [0.0, 0.5, 1.0]);
    assert_eq!(series.field_names()?, ["c", "u"]);
    assert_eq!(series.field_steps("u")?, [0, 1, 2]);
    assert_eq!(
        series.read_field::<f64>("u", -1)?,
        arr2(&[[2.0, 0.0], [2.0, 1.0], [2.0, 2.0]]).into_dyn()
    );
    assert_eq!(series.read_field::<f64>("c", 1)?, arr1(&[1.0]).into_dyn());
    assert_eq!(series.read_field_steps::<f64>("c", 1..3)?.len(), 2);
    assert!(matches!(
        series.read_field::<f64>("u", 3),
        Err(Error::Series { .. })
    ));
    let globals = series.globals()?;
    assert_eq!(globals["energy"], arr1(&[0.0, 10.0, 20.0]).into_dyn());
    let vec = &globals["vec"];
    assert_eq!(vec.shape(), [3, 2]);
    assert!(vec[[1, 0]].is_nan(), "a step without the global is NaN");
    assert_eq!(vec[[2, 1]], -2.0);
    // A global keeps its shape.
    let step = series.require_step(None, None)?;
    assert!(
        step.add_global("vec", vec![1.0, 2.0, 3.0], vec![3])
            .is_err()
    );
    Ok(())
}

#[test]
fn explicit_steps_leave_nan_values_and_dof_maps_reorder_rows() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    let mut series = sim.require_series("loadcurve")?;
    series.require_step(None, Some(0))?;
    let step = series.require_step(Some(7.0), Some(3))?;
    step.add_field(
        "f",
        &arr1(&[10.0, 20.0, 30.0]),
        FieldOptions::new().indices(&[0, 2, 1]),
    )?;
    let values = series.values()?;
    assert_eq!(values.len(), 4);
    assert!(values[0].is_nan() && values[1].is_nan() && values[2].is_nan());
    assert_eq!(values[3], 7.0);
    assert_eq!(
        series.read_field::<f64>("f", 3)?,
        arr1(&[10.0, 30.0, 20.0]).into_dyn()
    );
    assert_eq!(series.require_step(None, None)?.number(), 4);
    Ok(())
}

#[test]
fn meshes_and_xdmf_for_any_number_of_steps() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    let nodes = arr2(&[
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
    ]);
    let cells = arr2(&[[0_i64, 1, 2, 3]]);
    sim.add_mesh(
        "default",
        nodes.view(),
        cells.view(),
        CellType::Tetrahedron,
        NodeNumbering::Global,
    )?;
    let mesh = sim.mesh("default")?;
    assert_eq!(mesh.coordinates, nodes);
    assert_eq!(mesh.topology, cells);
    assert_eq!(mesh.cell_type, Some(CellType::Tetrahedron));
    let mut series = sim.data()?;
    for t in [0.0, 0.1, 0.2, 0.3] {
        let step = series.require_step(Some(t), None)?;
        step.add_field("p", &arr1(&[t; 4]), FieldOptions::new())?;
        step.add_field("s", &arr1(&[t]), FieldOptions::new().cell())?;
    }
    let path = sim.create_xdmf(&XdmfOptions::default())?;
    let xml = std::fs::read_to_string(path)?;
    assert!(xml.contains(r#"GeometryType="XYZ""#));
    assert!(xml.contains(r#"TopologyType="Tetrahedron" NumberOfElements="1""#));
    assert_eq!(xml.matches("<Time ").count(), 4);
    assert_eq!(xml.matches(r#"Center="Cell""#).count(), 4);
    assert!(xml.contains(">data.h5:/data/fields/p/3</DataItem>"));
    let only_p = sim.create_xdmf(&XdmfOptions {
        fields: vec!["p*".into()],
        steps: Some(vec![1]),
        filename: "p.xdmf".into(),
        ..XdmfOptions::default()
    })?;
    let xml = std::fs::read_to_string(only_p)?;
    assert_eq!(xml.matches("<Attribute ").count(), 1);
    assert!(xml.contains(r#"<Time Value="0.1" />"#));
    Ok(())
}

#[test]
fn a_missing_mesh_is_a_typed_error() -> TestResult {
    let (_dir, c) = collection();
    let sim = c.add(NewSimulation::new().name("s"))?;
    assert!(matches!(sim.mesh("nope"), Err(Error::NotFound { .. })));
    assert!(matches!(
        sim.create_xdmf(&XdmfOptions::default()),
        Err(Error::NotFound { .. })
    ));
    Ok(())
}
