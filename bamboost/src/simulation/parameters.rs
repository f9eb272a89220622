//! Simulation parameters: nested maps of values, stored flattened with `.` in `/.parameters`.

use crate::error::{Error, Result};
use crate::h5::{ArrayData, AttrArray, AttrValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Keys Python bamboost reserves for its own table columns; a parameter may not use them.
///
/// # MPI
///
/// Local: a constant.
pub const RESERVED_KEYS: [&str; 10] = [
    "id",
    "collection_uid",
    "name",
    "created_at",
    "modified_at",
    "description",
    "tags",
    "status",
    "submitted",
    "links",
];

/// One parameter value.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Parameter {
    /// A value stored as an attribute (numbers, strings, bools, `None`, datetimes, sets,
    /// complex numbers and lists).
    Value(AttrValue),
    /// A numeric array stored as a dataset (Python's `numpy.ndarray` parameters).
    Array(AttrArray),
    /// A nested map, stored flattened: `{"solver": {"tol": 1e-6}}` is `solver.tol`.
    Map(Parameters),
}

impl<T: Into<AttrValue>> From<T> for Parameter {
    fn from(value: T) -> Self {
        Parameter::Value(value.into())
    }
}

impl From<Parameters> for Parameter {
    fn from(map: Parameters) -> Self {
        Parameter::Map(map)
    }
}

impl From<ndarray::ArrayD<f64>> for Parameter {
    fn from(array: ndarray::ArrayD<f64>) -> Self {
        Parameter::Array(AttrArray {
            shape: array.shape().to_vec(),
            data: ArrayData::Float(array.into_iter().collect()),
        })
    }
}

impl From<ndarray::ArrayD<i64>> for Parameter {
    fn from(array: ndarray::ArrayD<i64>) -> Self {
        Parameter::Array(AttrArray {
            shape: array.shape().to_vec(),
            data: ArrayData::Int(array.into_iter().collect()),
        })
    }
}

/// The parameters of a simulation: a map from key to [`Parameter`], nested maps allowed.
///
/// Keys may not contain `.` (the separator of the stored, flattened names), and top-level keys
/// may not be one of [`RESERVED_KEYS`]; [`Parameters::validate`] checks both, and every writer
/// calls it before storing anything.
///
/// ```
/// use bamboost::simulation::Parameters;
///
/// let p = Parameters::new()
///     .with("mesh_size", 0.1)
///     .with("solver", Parameters::new().with("tol", 1e-6).with("kind", "cg"));
/// assert_eq!(p.value("solver.tol").and_then(|v| v.as_f64()), Some(1e-6));
/// assert_eq!(p.flatten().keys().collect::<Vec<_>>(), ["mesh_size", "solver.kind", "solver.tol"]);
/// ```
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Parameters(BTreeMap<String, Parameter>);

impl Parameters {
    /// No parameters.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new() -> Parameters {
        Parameters::default()
    }

    /// `self` with `key` set to `value` (builder style).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn with(mut self, key: &str, value: impl Into<Parameter>) -> Parameters {
        self.insert(key, value);
        self
    }

    /// Sets `key` to `value`, returning the previous value.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn insert(&mut self, key: &str, value: impl Into<Parameter>) -> Option<Parameter> {
        self.0.insert(key.to_owned(), value.into())
    }

    /// The parameter at a dotted path (`"solver.tol"`), a nested map included.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn get(&self, path: &str) -> Option<&Parameter> {
        let mut parts = path.split('.');
        let mut current = self.0.get(parts.next()?)?;
        for part in parts {
            match current {
                Parameter::Map(map) => current = map.0.get(part)?,
                _ => return None,
            }
        }
        Some(current)
    }

    /// The attribute value at a dotted path, if it is one.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn value(&self, path: &str) -> Option<&AttrValue> {
        match self.get(path)? {
            Parameter::Value(value) => Some(value),
            _ => None,
        }
    }

    /// The top-level entries, in key order.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Parameter)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of top-level entries.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every leaf under its dotted name, as stored in `/.parameters`. Empty maps vanish (as in
    /// Python bamboost).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn flatten(&self) -> BTreeMap<String, Parameter> {
        let mut out = BTreeMap::new();
        self.flatten_into("", &mut out);
        out
    }

    fn flatten_into(&self, prefix: &str, out: &mut BTreeMap<String, Parameter>) {
        for (key, value) in &self.0 {
            let name = format!("{prefix}{key}");
            match value {
                Parameter::Map(map) => map.flatten_into(&format!("{name}."), out),
                leaf => {
                    out.insert(name, leaf.clone());
                }
            }
        }
    }

    /// Rebuilds nested maps from dotted names (the inverse of [`Parameters::flatten`]). When a
    /// name is both a leaf and a prefix (`a` and `a.b`), the nested map wins.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn unflatten(flat: BTreeMap<String, Parameter>) -> Parameters {
        let mut root = Parameters::new();
        for (name, value) in flat {
            let parts: Vec<&str> = name.split('.').collect();
            let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
            let mut map = &mut root;
            for part in parents {
                let entry = map
                    .0
                    .entry((*part).to_owned())
                    .or_insert_with(|| Parameter::Map(Parameters::new()));
                if !matches!(entry, Parameter::Map(_)) {
                    *entry = Parameter::Map(Parameters::new());
                }
                let Parameter::Map(inner) = entry else {
                    unreachable!("made a map just above")
                };
                map = inner;
            }
            match map.0.get(*last) {
                Some(Parameter::Map(_)) => {}
                _ => {
                    map.0.insert((*last).to_owned(), value);
                }
            }
        }
        root
    }

    /// Merges `other` into `self`: nested maps merge key by key (siblings are kept), anything
    /// else is replaced.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn merge(&mut self, other: &Parameters) {
        for (key, value) in &other.0 {
            match (self.0.get_mut(key), value) {
                (Some(Parameter::Map(mine)), Parameter::Map(theirs)) => mine.merge(theirs),
                _ => {
                    self.0.insert(key.clone(), value.clone());
                }
            }
        }
    }

    /// Checks every key: no key may contain `.` or be empty, and no top-level key may be one
    /// of [`RESERVED_KEYS`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming the first bad key.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn validate(&self) -> Result<()> {
        for key in self.0.keys() {
            validate_top_level_key(key)?;
        }
        self.validate_nested("")
    }

    fn validate_nested(&self, prefix: &str) -> Result<()> {
        for (key, value) in &self.0 {
            validate_key_part(&format!("{prefix}{key}"), key)?;
            if let Parameter::Map(map) = value {
                map.validate_nested(&format!("{prefix}{key}."))?;
            }
        }
        Ok(())
    }

    /// Parameters from a JSON object: objects nest, `null` is `None`, integers and floats stay
    /// apart, and arrays of numbers, bools or strings (rectangular when nested) become list
    /// attributes, as Python lists do.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if `json` is not an object, or an array mixes types or
    /// holds objects (Python bamboost cannot store those either).
    ///
    /// # MPI
    ///
    /// Local.
    ///
    /// ```
    /// use bamboost::simulation::Parameters;
    ///
    /// let p = Parameters::from_json(&serde_json::json!({"n": 3, "grid": {"dx": [0.1, 0.2]}}))?;
    /// assert_eq!(p.value("n").and_then(|v| v.as_i64()), Some(3));
    /// # Ok::<(), bamboost::Error>(())
    /// ```
    pub fn from_json(json: &serde_json::Value) -> Result<Parameters> {
        let serde_json::Value::Object(object) = json else {
            return Err(invalid("", "parameters must be a JSON object"));
        };
        let mut out = Parameters::new();
        for (key, value) in object {
            let parameter = match value {
                serde_json::Value::Object(_) => {
                    Parameter::Map(Parameters::from_json(value).map_err(|e| prefixed(key, e))?)
                }
                other => Parameter::Value(json_value(key, other)?),
            };
            out.0.insert(key.clone(), parameter);
        }
        Ok(out)
    }

    /// The parameters as a JSON object, for scripts: arrays as nested lists, datetimes as ISO
    /// strings, complex numbers as `{"real", "imag"}`, sets as lists, and NaN or infinite
    /// numbers as `null` (JSON has no such numbers).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        Parameter::Value(value) => value_json(value),
                        Parameter::Array(array) => value_json(&AttrValue::Array(array.clone())),
                        Parameter::Map(map) => map.to_json(),
                    };
                    (k.clone(), value)
                })
                .collect(),
        )
    }
}

/// One value as JSON (see [`Parameters::to_json`]).
fn value_json(value: &AttrValue) -> serde_json::Value {
    use serde_json::{Value, json};
    let float = |f: f64| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
    match value {
        AttrValue::None => Value::Null,
        AttrValue::Bool(b) => json!(b),
        AttrValue::Int(i) => json!(i),
        AttrValue::Float(f) => float(*f),
        AttrValue::Complex { re, im } => json!({"real": float(*re), "imag": float(*im)}),
        AttrValue::Str(s) => json!(s),
        AttrValue::DateTime(t) => json!(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        AttrValue::Set(items) => Value::Array(items.iter().map(value_json).collect()),
        AttrValue::Array(array) => {
            let leaves: Vec<Value> = match &array.data {
                ArrayData::Bool(v) => v.iter().map(|b| json!(b)).collect(),
                ArrayData::Int(v) => v.iter().map(|i| json!(i)).collect(),
                ArrayData::Float(v) => v.iter().map(|f| float(*f)).collect(),
                ArrayData::Complex(v) => v
                    .iter()
                    .map(|(re, im)| json!({"real": float(*re), "imag": float(*im)}))
                    .collect(),
                ArrayData::Str(v) => v.iter().map(|s| json!(s)).collect(),
            };
            fn nest(shape: &[usize], leaves: &mut impl Iterator<Item = Value>) -> Value {
                match shape {
                    [] => leaves.next().unwrap_or(Value::Null),
                    [n, rest @ ..] => Value::Array((0..*n).map(|_| nest(rest, leaves)).collect()),
                }
            }
            nest(&array.shape, &mut leaves.into_iter())
        }
    }
}

impl<K: Into<String>, V: Into<Parameter>> FromIterator<(K, V)> for Parameters {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Parameters(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// The entries by key, sorted.
impl IntoIterator for Parameters {
    type Item = (String, Parameter);
    type IntoIter = std::collections::btree_map::IntoIter<String, Parameter>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

fn invalid(key: &str, reason: &str) -> Error {
    Error::InvalidParameter {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

fn prefixed(key: &str, error: Error) -> Error {
    match error {
        Error::InvalidParameter { key: inner, reason } => Error::InvalidParameter {
            key: format!("{key}.{inner}"),
            reason,
        },
        other => other,
    }
}

/// Checks a top-level key: not reserved, no `.`.
fn validate_top_level_key(key: &str) -> Result<()> {
    if RESERVED_KEYS.contains(&key) {
        return Err(invalid(key, "the key is reserved"));
    }
    validate_key_part(key, key)
}

fn validate_key_part(full: &str, part: &str) -> Result<()> {
    if part.is_empty() {
        return Err(invalid(full, "a key cannot be empty"));
    }
    if part.contains('.') {
        return Err(invalid(full, "a key cannot contain a period"));
    }
    Ok(())
}

fn json_value(key: &str, value: &serde_json::Value) -> Result<AttrValue> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => AttrValue::None,
        J::Bool(b) => AttrValue::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => AttrValue::Int(i),
            None => AttrValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => AttrValue::Str(s.clone()),
        J::Array(_) => AttrValue::Array(json_array(key, value)?),
        J::Object(_) => return Err(invalid(key, "a nested object is not a value")),
    })
}

/// A rectangular JSON array of one scalar kind as an n-dimensional array.
fn json_array(key: &str, value: &serde_json::Value) -> Result<AttrArray> {
    use serde_json::Value as J;
    let mut shape = Vec::new();
    let mut level = value;
    while let J::Array(items) = level {
        shape.push(items.len());
        match items.first() {
            Some(first) => level = first,
            None => break,
        }
    }
    let mut leaves = Vec::new();
    collect_leaves(key, value, &shape, &mut leaves)?;
    let mixed = || {
        invalid(
            key,
            "a list must hold numbers, bools or strings of one kind",
        )
    };
    let data = if leaves.is_empty() {
        ArrayData::Float(Vec::new())
    } else if leaves.iter().all(|v| v.is_i64()) {
        ArrayData::Int(leaves.iter().filter_map(|v| v.as_i64()).collect())
    } else if leaves.iter().all(|v| v.is_number()) {
        ArrayData::Float(leaves.iter().filter_map(|v| v.as_f64()).collect())
    } else if leaves.iter().all(|v| v.is_boolean()) {
        ArrayData::Bool(leaves.iter().filter_map(|v| v.as_bool()).collect())
    } else if leaves.iter().all(|v| v.is_string()) {
        ArrayData::Str(
            leaves
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    } else {
        return Err(mixed());
    };
    Ok(AttrArray { shape, data })
}

fn collect_leaves<'v>(
    key: &str,
    value: &'v serde_json::Value,
    shape: &[usize],
    out: &mut Vec<&'v serde_json::Value>,
) -> Result<()> {
    match (value, shape.split_first()) {
        (serde_json::Value::Array(items), Some((&len, rest))) if items.len() == len => items
            .iter()
            .try_for_each(|item| collect_leaves(key, item, rest, out)),
        (serde_json::Value::Array(_), _) => Err(invalid(key, "a nested list must be rectangular")),
        (serde_json::Value::Object(_), _) => Err(invalid(key, "a list cannot hold objects")),
        (leaf, None) => {
            out.push(leaf);
            Ok(())
        }
        (_, Some(_)) => Err(invalid(key, "a nested list must be rectangular")),
    }
}

/// A value in a form where equal numbers compare equal whatever their type and arrays compare
/// element-wise: Python bamboost's duplicate check (`ComparableIterable`, pandas equality).
#[derive(Debug, PartialEq)]
pub(crate) enum Comparable {
    Number(f64),
    Text(String),
    List(Vec<Comparable>),
    Other(String),
}

impl Comparable {
    /// `None` for a missing-like value (`None`, NaN): it equals a missing key.
    pub(crate) fn of(parameter: &Parameter) -> Option<Comparable> {
        match parameter {
            Parameter::Value(value) => Comparable::of_value(value),
            Parameter::Array(array) => Some(Comparable::of_array(array)),
            Parameter::Map(map) => Some(Comparable::Other(format!("{map:?}"))),
        }
    }

    fn of_value(value: &AttrValue) -> Option<Comparable> {
        Some(match value {
            AttrValue::None => return None,
            AttrValue::Float(f) if f.is_nan() => return None,
            AttrValue::Bool(b) => Comparable::Number(f64::from(u8::from(*b))),
            AttrValue::Int(i) => Comparable::Number(*i as f64),
            AttrValue::Float(f) => Comparable::Number(*f),
            AttrValue::Str(s) => Comparable::Text(s.clone()),
            AttrValue::Array(array) => Comparable::of_array(array),
            other => Comparable::Other(format!("{other:?}")),
        })
    }

    fn of_array(array: &AttrArray) -> Comparable {
        let numbers =
            |v: Vec<f64>| Comparable::List(v.into_iter().map(Comparable::Number).collect());
        match &array.data {
            ArrayData::Bool(v) => numbers(v.iter().map(|b| f64::from(u8::from(*b))).collect()),
            ArrayData::Int(v) => numbers(v.iter().map(|i| *i as f64).collect()),
            ArrayData::Float(v) => numbers(v.clone()),
            ArrayData::Str(v) => {
                Comparable::List(v.iter().cloned().map(Comparable::Text).collect())
            }
            other => Comparable::Other(format!("{other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_and_unflatten_round_trip() {
        let p = Parameters::new().with("a", 1).with(
            "nested",
            Parameters::new()
                .with("k", "v")
                .with("deep", Parameters::new().with("z", 2.5)),
        );
        let flat = p.flatten();
        assert_eq!(
            flat.keys().collect::<Vec<_>>(),
            ["a", "nested.deep.z", "nested.k"]
        );
        assert_eq!(Parameters::unflatten(flat), p);
        assert_eq!(p.value("nested.deep.z"), Some(&AttrValue::Float(2.5)));
        assert!(p.get("nested.k.x").is_none());
    }

    #[test]
    fn empty_maps_vanish_when_flattened() {
        let p = Parameters::new().with("e", Parameters::new()).with("x", 1);
        assert_eq!(p.flatten().len(), 1);
    }

    #[test]
    fn merge_keeps_siblings() {
        let mut p = Parameters::new().with("n", Parameters::new().with("a", 1).with("b", 2));
        p.merge(&Parameters::new().with("n", Parameters::new().with("a", 5)));
        assert_eq!(p.value("n.a"), Some(&AttrValue::Int(5)));
        assert_eq!(p.value("n.b"), Some(&AttrValue::Int(2)));
    }

    #[test]
    fn reserved_and_dotted_keys_are_rejected() {
        for key in RESERVED_KEYS {
            let err = Parameters::new().with(key, 1).validate().unwrap_err();
            assert!(err.to_string().contains("is reserved"), "{err}");
        }
        let err = Parameters::new().with("a.b", 1).validate().unwrap_err();
        assert!(err.to_string().contains("cannot contain a period"), "{err}");
        let nested = Parameters::new().with("a", Parameters::new().with("x.y", 1));
        assert!(
            matches!(nested.validate(), Err(Error::InvalidParameter { key, .. }) if key == "a.x.y")
        );
        // Reserved names are fine below the top level.
        assert!(
            Parameters::new()
                .with("a", Parameters::new().with("name", 1))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn json_arrays_become_typed_lists() -> Result<()> {
        let p = Parameters::from_json(&serde_json::json!({
            "ints": [1, 2], "floats": [1, 2.5], "grid": [[1, 2], [3, 4]],
            "names": ["a", "b"], "empty": [], "none": null, "n": {"deep": true}
        }))?;
        let array = |k| match p.value(k) {
            Some(AttrValue::Array(a)) => a.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(array("ints").data, ArrayData::Int(vec![1, 2]));
        assert_eq!(array("floats").data, ArrayData::Float(vec![1.0, 2.5]));
        assert_eq!(array("grid").shape, [2, 2]);
        assert_eq!(
            array("names").data,
            ArrayData::Str(vec!["a".into(), "b".into()])
        );
        assert_eq!(array("empty").data, ArrayData::Float(vec![]));
        assert_eq!(p.value("none"), Some(&AttrValue::None));
        assert_eq!(p.value("n.deep"), Some(&AttrValue::Bool(true)));
        for bad in [
            serde_json::json!({"m": [1, "a"]}),
            serde_json::json!({"m": [[1], [1, 2]]}),
            serde_json::json!({"m": [{}]}),
        ] {
            assert!(matches!(
                Parameters::from_json(&bad),
                Err(Error::InvalidParameter { .. })
            ));
        }
        Ok(())
    }

    #[test]
    fn comparable_values_match_like_pandas() {
        let c = |v: Parameter| Comparable::of(&v);
        assert_eq!(c(1.into()), c(1.0.into()));
        assert_eq!(c(AttrValue::None.into()), None);
        assert_eq!(c(vec![1_i64, 2].into()), c(vec![1.0, 2.0].into()));
        assert_ne!(c("1".into()), c(1.into()));
    }
}
