//! Parameter values as Python bamboost stores them in the index: Python-style JSON
//! ([`crate::pyjson`]) with its `{"__type__", "__value__"}` envelopes for datetimes and complex
//! numbers.

use crate::h5::{ArrayData, AttrArray, AttrValue, isoformat};
pub(crate) use crate::pyjson::Json;
use crate::simulation::{Parameter, Parameters};

/// The JSON Python bamboost's index stores for a parameter value. A set is stored as a list
/// (Python stores the string `"{1, 2} (unserializable)"`, which no reader can use).
pub(crate) fn from_parameter(parameter: &Parameter) -> Json {
    match parameter {
        Parameter::Value(value) => from_value(value),
        Parameter::Array(array) => from_array(array),
        Parameter::Map(map) => Json::Obj(
            map.iter()
                .map(|(k, v)| (k.to_owned(), from_parameter(v)))
                .collect(),
        ),
    }
}

fn envelope(kind: &str, value: Json) -> Json {
    Json::Obj(vec![
        ("__type__".into(), Json::Str(kind.into())),
        ("__value__".into(), value),
    ])
}

fn complex(re: f64, im: f64) -> Json {
    envelope(
        "complex",
        Json::Obj(vec![
            ("real".into(), Json::Float(re)),
            ("imag".into(), Json::Float(im)),
        ]),
    )
}

fn from_value(value: &AttrValue) -> Json {
    match value {
        AttrValue::None => Json::Null,
        AttrValue::Bool(b) => Json::Bool(*b),
        AttrValue::Int(i) => Json::Int(Some(*i)),
        AttrValue::Float(f) => Json::Float(*f),
        AttrValue::Complex { re, im } => complex(*re, *im),
        AttrValue::Str(s) => Json::Str(s.clone()),
        AttrValue::DateTime(t) => envelope("datetime", Json::Str(iso_format(t))),
        AttrValue::Set(items) => Json::Arr(items.iter().map(from_value).collect()),
        AttrValue::Array(array) => from_array(array),
    }
}

/// Python's `datetime.isoformat()`.
pub(crate) fn iso_format(t: &chrono::NaiveDateTime) -> String {
    isoformat(t).unwrap_or_else(|_| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
}

/// Nested lists, as numpy's `tolist()`.
fn from_array(array: &AttrArray) -> Json {
    let leaves: Vec<Json> = match &array.data {
        ArrayData::Bool(v) => v.iter().map(|b| Json::Bool(*b)).collect(),
        ArrayData::Int(v) => v.iter().map(|i| Json::Int(Some(*i))).collect(),
        ArrayData::Float(v) => v.iter().map(|f| Json::Float(*f)).collect(),
        ArrayData::Complex(v) => v.iter().map(|(re, im)| complex(*re, *im)).collect(),
        ArrayData::Str(v) => v.iter().map(|s| Json::Str(s.clone())).collect(),
    };
    nest(&array.shape, &mut leaves.into_iter())
}

fn nest(shape: &[usize], leaves: &mut impl Iterator<Item = Json>) -> Json {
    match shape {
        [] => leaves.next().unwrap_or(Json::Null),
        [n] => Json::Arr(leaves.take(*n).collect()),
        [n, rest @ ..] => Json::Arr((0..*n).map(|_| nest(rest, leaves)).collect()),
    }
}

/// The parameter a stored JSON value stands for. Lists become arrays when they are
/// rectangular and of one element kind; anything else keeps its JSON text as a string.
pub(crate) fn to_parameter(json: Json) -> Parameter {
    match json {
        Json::Obj(fields) => {
            if let Some(value) = from_envelope(&fields) {
                return Parameter::Value(value);
            }
            Parameter::Map(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, to_parameter(v)))
                    .collect::<Parameters>(),
            )
        }
        other => Parameter::Value(to_value(other)),
    }
}

fn to_value(json: Json) -> AttrValue {
    match json {
        Json::Null | Json::Int(None) => AttrValue::None,
        Json::Bool(b) => AttrValue::Bool(b),
        Json::Int(Some(i)) => AttrValue::Int(i),
        Json::Float(f) => AttrValue::Float(f),
        Json::Str(s) => AttrValue::Str(s),
        Json::Arr(_) => match to_array(&json) {
            Some(array) => AttrValue::Array(array),
            None => AttrValue::Str(json.dump()),
        },
        Json::Obj(ref fields) => {
            from_envelope(fields).unwrap_or_else(|| AttrValue::Str(json.dump()))
        }
    }
}

/// Whether `fields` are a `{"__type__", "__value__"}` envelope of a value.
pub(crate) fn is_envelope(fields: &[(String, Json)]) -> bool {
    from_envelope(fields).is_some()
}

fn from_envelope(fields: &[(String, Json)]) -> Option<AttrValue> {
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    match (get("__type__")?.as_str()?, get("__value__")?) {
        ("datetime", Json::Str(text)) => {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(AttrValue::DateTime)
        }
        ("complex", Json::Obj(parts)) => {
            let part = |key: &str| match parts.iter().find(|(k, _)| k == key)?.1 {
                Json::Float(f) => Some(f),
                Json::Int(Some(i)) => Some(i as f64),
                _ => None,
            };
            Some(AttrValue::Complex {
                re: part("real")?,
                im: part("imag")?,
            })
        }
        _ => None,
    }
}

/// A rectangular list of one element kind (ints widen to floats) as an array.
fn to_array(json: &Json) -> Option<AttrArray> {
    let mut shape = Vec::new();
    let mut probe = json;
    while let Json::Arr(items) = probe {
        shape.push(items.len());
        match items.first() {
            Some(first) => probe = first,
            None => break,
        }
    }
    let mut leaves = Vec::new();
    collect_leaves(json, &shape, &mut leaves)?;
    let data = if leaves.iter().all(|l| matches!(l, Json::Bool(_))) {
        ArrayData::Bool(
            leaves
                .iter()
                .map(|l| matches!(l, Json::Bool(true)))
                .collect(),
        )
    } else if leaves.iter().all(|l| matches!(l, Json::Int(Some(_)))) {
        ArrayData::Int(
            leaves
                .iter()
                .map(|l| if let Json::Int(Some(i)) = l { *i } else { 0 })
                .collect(),
        )
    } else if leaves
        .iter()
        .all(|l| matches!(l, Json::Int(Some(_)) | Json::Float(_)))
    {
        ArrayData::Float(
            leaves
                .iter()
                .map(|l| match l {
                    Json::Int(Some(i)) => *i as f64,
                    Json::Float(f) => *f,
                    _ => 0.0,
                })
                .collect(),
        )
    } else if leaves.iter().all(|l| matches!(l, Json::Str(_))) {
        ArrayData::Str(
            leaves
                .iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect(),
        )
    } else {
        return None;
    };
    Some(AttrArray { shape, data })
}

fn collect_leaves<'a>(json: &'a Json, shape: &[usize], out: &mut Vec<&'a Json>) -> Option<()> {
    match (json, shape) {
        (Json::Arr(items), [n, rest @ ..]) if items.len() == *n => {
            for item in items {
                collect_leaves(item, rest, out)?;
            }
            Some(())
        }
        (Json::Arr(_), _) | (_, [_, ..]) => None,
        (leaf, []) => {
            out.push(leaf);
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_as_python() {
        let p = Parameters::new()
            .with("k", 1)
            .with("deep", Parameters::new().with("z", "q"))
            .with("x", 1.0);
        assert_eq!(
            from_parameter(&Parameter::Map(p)).dump(),
            r#"{"deep": {"z": "q"}, "k": 1, "x": 1.0}"#
        );
        assert_eq!(Json::Str("é\"\n".into()).dump(), r#""\u00e9\"\n""#);
        assert_eq!(Json::Float(f64::NAN).dump(), "NaN");
        let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .map(AttrValue::DateTime)
            .map(Parameter::Value);
        assert_eq!(
            t.as_ref().map(|t| from_parameter(t).dump()).as_deref(),
            Some(r#"{"__type__": "datetime", "__value__": "2024-01-02T03:04:05"}"#)
        );
    }

    #[test]
    fn parses_python_tokens_and_round_trips() {
        let text = r#"{"a": [[1.0, 2.5], [NaN, -Infinity]], "s": "\u00e9\ud83d\ude00", "n": null, "c": {"__type__": "complex", "__value__": {"real": 1.0, "imag": -2.0}}}"#;
        let json = Json::parse(text).map(|j| j.dump());
        assert_eq!(json.as_deref(), Some(text));
        let parsed = Json::parse(text).map(to_parameter);
        let Some(Parameter::Map(map)) = parsed else {
            panic!("not a map: {parsed:?}")
        };
        assert_eq!(map.value("s"), Some(&AttrValue::Str("é😀".into())));
        assert_eq!(
            map.value("c"),
            Some(&AttrValue::Complex { re: 1.0, im: -2.0 })
        );
        let Some(AttrValue::Array(a)) = map.value("a") else {
            panic!("not an array")
        };
        assert_eq!(a.shape, [2, 2]);
        assert!(Json::parse("[1, 2").is_none());
        assert!(Json::parse("{\"a\" 1}").is_none());
    }

    #[test]
    fn ragged_or_mixed_lists_stay_text() {
        let json = Json::parse(r#"[1, "a"]"#).map(to_parameter);
        assert_eq!(
            json,
            Some(Parameter::Value(AttrValue::Str(r#"[1, "a"]"#.into())))
        );
        let ragged = Json::parse("[[1], [1, 2]]").map(to_parameter);
        assert!(matches!(ragged, Some(Parameter::Value(AttrValue::Str(_)))));
    }
}
