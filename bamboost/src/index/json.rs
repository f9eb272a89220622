//! JSON as Python bamboost stores it in the index: `json.dumps` style (separators `", "` and
//! `": "`, ASCII only, `NaN`/`Infinity` tokens), with its `{"__type__", "__value__"}` envelopes
//! for datetimes and complex numbers. Parsing accepts the same tokens, which `serde_json`
//! rejects, so both directions live here.

use crate::h5::{ArrayData, AttrArray, AttrValue, py_float_repr};
use crate::simulation::{Parameter, Parameters};

/// A JSON value; object keys keep their order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The text as Python's `json.dumps` writes it.
    pub(crate) fn dump(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => out.push_str(&i.to_string()),
            Json::Float(f) if f.is_nan() => out.push_str("NaN"),
            Json::Float(f) if f.is_infinite() => {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Json::Float(f) => out.push_str(&py_float_repr(*f)),
            Json::Str(s) => write_str(s, out),
            Json::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Parses JSON text, including Python's `NaN`, `Infinity` and `-Infinity`.
    pub(crate) fn parse(text: &str) -> Result<Json, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value()?;
        parser.skip_ws();
        if parser.pos != parser.bytes.len() {
            return Err(format!("unexpected text at byte {}", parser.pos));
        }
        Ok(value)
    }

    /// The string of a [`Json::Str`].
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The strings of a list (other items skipped); empty for anything else.
    pub(crate) fn strings(&self) -> Vec<String> {
        match self {
            Json::List(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A list of strings.
    pub(crate) fn string_list<S: AsRef<str>>(items: &[S]) -> Json {
        Json::List(
            items
                .iter()
                .map(|s| Json::Str(s.as_ref().to_owned()))
                .collect(),
        )
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.bytes[self.pos..].starts_with(token.as_bytes()) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_ws();
        let Some(&byte) = self.bytes.get(self.pos) else {
            return Err("unexpected end of text".into());
        };
        match byte {
            b'n' if self.eat("null") => Ok(Json::Null),
            b't' if self.eat("true") => Ok(Json::Bool(true)),
            b'f' if self.eat("false") => Ok(Json::Bool(false)),
            b'N' if self.eat("NaN") => Ok(Json::Float(f64::NAN)),
            b'I' if self.eat("Infinity") => Ok(Json::Float(f64::INFINITY)),
            b'-' if self.eat("-Infinity") => Ok(Json::Float(f64::NEG_INFINITY)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.eat("]") {
                    return Ok(Json::List(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_ws();
                    if self.eat("]") {
                        return Ok(Json::List(items));
                    }
                    if !self.eat(",") {
                        return Err(format!("expected `,` or `]` at byte {}", self.pos));
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut fields = Vec::new();
                self.skip_ws();
                if self.eat("}") {
                    return Ok(Json::Object(fields));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.skip_ws();
                    if !self.eat(":") {
                        return Err(format!("expected `:` at byte {}", self.pos));
                    }
                    fields.push((key, self.value()?));
                    self.skip_ws();
                    if self.eat("}") {
                        return Ok(Json::Object(fields));
                    }
                    if !self.eat(",") {
                        return Err(format!("expected `,` or `}}` at byte {}", self.pos));
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(format!("unexpected character at byte {}", self.pos)),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Json::Int(i));
        }
        text.parse::<f64>()
            .map(Json::Float)
            .map_err(|_| format!("invalid number `{text}`"))
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(format!("expected a string at byte {}", self.pos));
        }
        let mut units: Vec<u16> = Vec::new();
        let mut out = String::new();
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err("unterminated string".into());
            };
            if byte != b'\\' && !units.is_empty() {
                out.push_str(&String::from_utf16_lossy(&units));
                units.clear();
            }
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let escape = self.bytes.get(self.pos + 1).copied();
                    self.pos += 2;
                    let simple = match escape {
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'/') => '/',
                        Some(b'\\') => '\\',
                        Some(b'"') => '"',
                        Some(b'u') => {
                            let hex = self
                                .bytes
                                .get(self.pos..self.pos + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u16::from_str_radix(h, 16).ok())
                                .ok_or("invalid \\u escape")?;
                            self.pos += 4;
                            units.push(hex);
                            continue;
                        }
                        _ => return Err("invalid escape".into()),
                    };
                    if !units.is_empty() {
                        out.push_str(&String::from_utf16_lossy(&units));
                        units.clear();
                    }
                    out.push(simple);
                }
                _ => {
                    // Copy one UTF-8 character.
                    let rest = std::str::from_utf8(&self.bytes[self.pos..])
                        .map_err(|_| "invalid utf-8".to_string())?;
                    let c = rest.chars().next().ok_or("unterminated string")?;
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

/// The JSON Python bamboost's index stores for a parameter value. A set is stored as a list
/// (Python stores the string `"{1, 2} (unserializable)"`, which no reader can use).
pub(crate) fn from_parameter(parameter: &Parameter) -> Json {
    match parameter {
        Parameter::Value(value) => from_value(value),
        Parameter::Array(array) => from_array(array),
        Parameter::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.to_owned(), from_parameter(v)))
                .collect(),
        ),
    }
}

fn envelope(kind: &str, value: Json) -> Json {
    Json::Object(vec![
        ("__type__".into(), Json::Str(kind.into())),
        ("__value__".into(), value),
    ])
}

fn complex(re: f64, im: f64) -> Json {
    envelope(
        "complex",
        Json::Object(vec![
            ("real".into(), Json::Float(re)),
            ("imag".into(), Json::Float(im)),
        ]),
    )
}

fn from_value(value: &AttrValue) -> Json {
    match value {
        AttrValue::None => Json::Null,
        AttrValue::Bool(b) => Json::Bool(*b),
        AttrValue::Int(i) => Json::Int(*i),
        AttrValue::Float(f) => Json::Float(*f),
        AttrValue::Complex { re, im } => complex(*re, *im),
        AttrValue::Str(s) => Json::Str(s.clone()),
        AttrValue::DateTime(t) => envelope("datetime", Json::Str(iso_format(t))),
        AttrValue::Set(items) => Json::List(items.iter().map(from_value).collect()),
        AttrValue::Array(array) => from_array(array),
    }
}

/// Python's `datetime.isoformat()`: microseconds only when not zero.
fn iso_format(t: &chrono::NaiveDateTime) -> String {
    if t.and_utc().timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

/// Nested lists, as numpy's `tolist()`.
fn from_array(array: &AttrArray) -> Json {
    let leaves: Vec<Json> = match &array.data {
        ArrayData::Bool(v) => v.iter().map(|b| Json::Bool(*b)).collect(),
        ArrayData::Int(v) => v.iter().map(|i| Json::Int(*i)).collect(),
        ArrayData::Float(v) => v.iter().map(|f| Json::Float(*f)).collect(),
        ArrayData::Complex(v) => v.iter().map(|(re, im)| complex(*re, *im)).collect(),
        ArrayData::Str(v) => v.iter().map(|s| Json::Str(s.clone())).collect(),
    };
    nest(&array.shape, &mut leaves.into_iter())
}

fn nest(shape: &[usize], leaves: &mut impl Iterator<Item = Json>) -> Json {
    match shape {
        [] => leaves.next().unwrap_or(Json::Null),
        [n] => Json::List(leaves.take(*n).collect()),
        [n, rest @ ..] => Json::List((0..*n).map(|_| nest(rest, leaves)).collect()),
    }
}

/// The parameter a stored JSON value stands for. Lists become arrays when they are
/// rectangular and of one element kind; anything else keeps its JSON text as a string.
pub(crate) fn to_parameter(json: &Json) -> Parameter {
    match json {
        Json::Object(fields) => {
            if let Some(value) = from_envelope(fields) {
                return Parameter::Value(value);
            }
            Parameter::Map(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), to_parameter(v)))
                    .collect::<Parameters>(),
            )
        }
        other => Parameter::Value(to_value(other)),
    }
}

fn to_value(json: &Json) -> AttrValue {
    match json {
        Json::Null => AttrValue::None,
        Json::Bool(b) => AttrValue::Bool(*b),
        Json::Int(i) => AttrValue::Int(*i),
        Json::Float(f) => AttrValue::Float(*f),
        Json::Str(s) => AttrValue::Str(s.clone()),
        Json::List(_) => match to_array(json) {
            Some(array) => AttrValue::Array(array),
            None => AttrValue::Str(json.dump()),
        },
        Json::Object(fields) => {
            from_envelope(fields).unwrap_or_else(|| AttrValue::Str(json.dump()))
        }
    }
}

fn from_envelope(fields: &[(String, Json)]) -> Option<AttrValue> {
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    match (get("__type__")?.as_str()?, get("__value__")?) {
        ("datetime", Json::Str(text)) => {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(AttrValue::DateTime)
        }
        ("complex", Json::Object(parts)) => {
            let part = |key: &str| match parts.iter().find(|(k, _)| k == key)?.1 {
                Json::Float(f) => Some(f),
                Json::Int(i) => Some(i as f64),
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
    while let Json::List(items) = probe {
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
    } else if leaves.iter().all(|l| matches!(l, Json::Int(_))) {
        ArrayData::Int(
            leaves
                .iter()
                .map(|l| if let Json::Int(i) = l { *i } else { 0 })
                .collect(),
        )
    } else if leaves
        .iter()
        .all(|l| matches!(l, Json::Int(_) | Json::Float(_)))
    {
        ArrayData::Float(
            leaves
                .iter()
                .map(|l| match l {
                    Json::Int(i) => *i as f64,
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
        (Json::List(items), [n, rest @ ..]) if items.len() == *n => {
            for item in items {
                collect_leaves(item, rest, out)?;
            }
            Some(())
        }
        (Json::List(_), _) | (_, [_, ..]) => None,
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
        let json = Json::parse(text).map_err(|e| e.to_string());
        let json = json.as_ref().map(Json::dump);
        assert_eq!(json.as_deref(), Ok(text));
        let parsed = Json::parse(text).map(|j| to_parameter(&j));
        let Ok(Parameter::Map(map)) = parsed else {
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
        assert!(Json::parse("[1, 2").is_err());
        assert!(Json::parse("{\"a\" 1}").is_err());
    }

    #[test]
    fn ragged_or_mixed_lists_stay_text() {
        let json = Json::parse(r#"[1, "a"]"#).map(|j| to_parameter(&j));
        assert_eq!(
            json,
            Ok(Parameter::Value(AttrValue::Str(r#"[1, "a"]"#.into())))
        );
        let ragged = Json::parse("[[1], [1, 2]]").map(|j| to_parameter(&j));
        assert!(matches!(ragged, Ok(Parameter::Value(AttrValue::Str(_)))));
    }
}
