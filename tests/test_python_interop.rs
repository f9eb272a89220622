//! Collections shared with Python bamboost 0.14.0, both ways. The Python interpreter is
//! `BAMBOOST_PYTHON`, else `target/pyenv/bin/python`; `.ci/install.sh` creates that virtual
//! environment with `bamboost==0.14.0`.

use bamboost::collection::{Collection, YamlValue};
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    std::env::var_os("BAMBOOST_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin/python"),
        PathBuf::from,
    )
}

/// Runs `script` with Python bamboost, its home (and so its index) inside `home`; returns
/// the standard output.
fn run_python(home: &Path, script: &str) -> String {
    let python = python();
    let output = Command::new(&python)
        .arg("-c")
        .arg(script)
        .env("HOME", home)
        .env_remove("BAMBOOST_MPI")
        .current_dir(home)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): run `source .ci/install.sh` to create the virtual environment with bamboost==0.14.0",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

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
