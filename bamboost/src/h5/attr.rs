//! Attribute values, encoded exactly as Python bamboost and h5py write them.
//!
//! `write` stores an [`AttrValue`] the way Python bamboost 0.14 (`AttrsEncoder` + h5py)
//! does, and `read` decodes what Python wrote. Values that have no HDF5 type in Python
//! (`None`, `datetime`, `set`) travel as a JSON "envelope" string
//! `{"__type__": "<Python class name>", "__value__": ...}`, formatted byte for byte like
//! Python's `json.dumps`: `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`, floats in
//! `repr` form and NaN/infinity as the non-standard tokens `NaN`, `Infinity`, `-Infinity`.
//!
//! Reading is more lenient than writing: any integer or float width, vlen ASCII strings,
//! `{r, i}` compounds of `f32`, and fixed-length strings are accepted. Fixed-length strings
//! read as [`AttrValue::Str`], where Python bamboost returns a list of byte values.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use hdf5::plist::CharEncoding;
use hdf5::types::{CompoundType, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex64;
use serde::{Deserialize, Serialize};

pub(crate) use crate::pyjson::py_float_repr;
use crate::pyjson::{Json, json_str};

/// The value of an HDF5 attribute, as Python bamboost 0.14 reads and writes it.
///
/// | variant | stored in HDF5 as |
/// |---|---|
/// | `None` | vlen UTF-8 string `{"__type__": "NoneType", "__value__": "None"}` |
/// | `Bool` | scalar `H5T_ENUM {int8; FALSE = 0; TRUE = 1}` (h5py's bool) |
/// | `Int` | scalar 64-bit signed integer |
/// | `Float` | scalar 64-bit float |
/// | `Complex` | scalar compound `{f64 r; f64 i}` (h5py's complex) |
/// | `Str` | scalar variable-length UTF-8 string |
/// | `DateTime` | vlen UTF-8 string `{"__type__": "datetime", "__value__": "<ISO 8601>"}` |
/// | `Set` | vlen UTF-8 string `{"__type__": "set", "__value__": [...]}` |
/// | `Array` | an n-dimensional attribute of bools, 64-bit integers, 64-bit floats, complex numbers or vlen UTF-8 strings |
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AttrValue {
    /// Python's `None`.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer (any stored integer type reads as this).
    Int(i64),
    /// A floating-point number (any stored float type reads as this).
    Float(f64),
    /// A complex number.
    Complex {
        /// Real part.
        re: f64,
        /// Imaginary part.
        im: f64,
    },
    /// A string.
    Str(String),
    /// A naive date and time (Python's `datetime` without a time zone).
    DateTime(chrono::NaiveDateTime),
    /// A set of scalar values (Python's `set`), in stored order.
    Set(Vec<AttrValue>),
    /// An n-dimensional array, row-major.
    Array(AttrArray),
}

/// An n-dimensional array attribute: a shape and row-major data.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrArray {
    /// The shape; `[n]` for a list.
    pub shape: Vec<usize>,
    /// The elements, row-major.
    pub data: ArrayData,
}

/// The elements of an [`AttrArray`].
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ArrayData {
    /// Booleans.
    Bool(Vec<bool>),
    /// Integers.
    Int(Vec<i64>),
    /// Floats.
    Float(Vec<f64>),
    /// Complex numbers as `(re, im)`.
    Complex(Vec<(f64, f64)>),
    /// Strings.
    Str(Vec<String>),
}

impl AttrValue {
    /// The string of a [`AttrValue::Str`], else `None`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer of an [`AttrValue::Int`], else `None`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number of an [`AttrValue::Float`] or [`AttrValue::Int`] (converted, so integers
    /// beyond 2^53 are rounded), else `None`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Float(f) => Some(*f),
            Self::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean of an [`AttrValue::Bool`], else `None`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl AttrArray {
    /// The elements as scalar values, row-major.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn elements(&self) -> Vec<AttrValue> {
        match &self.data {
            ArrayData::Bool(v) => v.iter().map(|b| AttrValue::Bool(*b)).collect(),
            ArrayData::Int(v) => v.iter().map(|i| AttrValue::Int(*i)).collect(),
            ArrayData::Float(v) => v.iter().map(|x| AttrValue::Float(*x)).collect(),
            ArrayData::Complex(v) => v
                .iter()
                .map(|(re, im)| AttrValue::Complex { re: *re, im: *im })
                .collect(),
            ArrayData::Str(v) => v.iter().map(|s| AttrValue::Str(s.clone())).collect(),
        }
    }
}

/// Python's `str()` of the value: `None`, `True`, `3`, `0.1`, `1e-06`, `inf`, `(1+2j)`, a
/// string as is, `2024-01-31 12:00:00.500000` (a datetime with a space, the fraction only when
/// there is one), `{1, 'a'}` and `[[1.0, 2.0], [3.0, 4.0]]` (elements as Python's `repr()`,
/// strings quoted).
///
/// # MPI
///
/// Local.
impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrValue::Str(s) => f.write_str(s),
            other => write_repr(f, other),
        }
    }
}

/// Python's `repr()` of the nested list: `[[1.0, 2.0], [3.0, 4.0]]`.
///
/// # MPI
///
/// Local.
impl std::fmt::Display for AttrArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_nested(f, &self.shape, &self.data, &mut 0)
    }
}

/// Python's `repr()` of `value` (datetimes as their `str()`).
fn write_repr(out: &mut impl std::fmt::Write, value: &AttrValue) -> std::fmt::Result {
    match value {
        AttrValue::None => out.write_str("None"),
        AttrValue::Bool(b) => write_bool(out, *b),
        AttrValue::Int(i) => write_int(out, *i),
        AttrValue::Float(x) => write_float(out, *x),
        AttrValue::Complex { re, im } => write_complex(out, *re, *im),
        AttrValue::Str(s) => write_str_repr(out, s),
        AttrValue::DateTime(t) => match isoformat(t) {
            Ok(iso) => out.write_str(&iso.replacen('T', " ", 1)),
            Err(_) => write!(out, "{t}"),
        },
        AttrValue::Set(items) if items.is_empty() => out.write_str("set()"),
        AttrValue::Set(items) => {
            out.write_str("{")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write_repr(out, item)?;
            }
            out.write_str("}")
        }
        AttrValue::Array(array) => write_nested(out, &array.shape, &array.data, &mut 0),
    }
}

fn write_int(out: &mut impl std::fmt::Write, i: i64) -> std::fmt::Result {
    crate::pyjson::write_decimal(out, i < 0, i.unsigned_abs(), 0)
}

fn write_bool(out: &mut impl std::fmt::Write, b: bool) -> std::fmt::Result {
    out.write_str(if b { "True" } else { "False" })
}

fn write_complex(out: &mut impl std::fmt::Write, re: f64, im: f64) -> std::fmt::Result {
    // Python drops a zero real part and writes whole parts without `.0`.
    let part = |x: f64| py_float(x).trim_end_matches(".0").to_owned();
    if re == 0.0 && re.is_sign_positive() {
        write!(out, "{}j", part(im))
    } else {
        let sign = if im < 0.0 || (im == 0.0 && im.is_sign_negative()) {
            ""
        } else {
            "+"
        };
        write!(out, "({}{sign}{}j)", part(re), part(im))
    }
}

/// The elements of `data` from `*next` on as nested lists of `shape`; `None` for elements
/// missing from `data`.
fn write_nested(
    out: &mut impl std::fmt::Write,
    shape: &[usize],
    data: &ArrayData,
    next: &mut usize,
) -> std::fmt::Result {
    let Some((n, rest)) = shape.split_first() else {
        let i = *next;
        *next += 1;
        let written = match data {
            ArrayData::Bool(v) => v.get(i).map(|b| write_bool(out, *b)),
            ArrayData::Int(v) => v.get(i).map(|x| write_int(out, *x)),
            ArrayData::Float(v) => v.get(i).map(|x| write_float(out, *x)),
            ArrayData::Complex(v) => v.get(i).map(|(re, im)| write_complex(out, *re, *im)),
            ArrayData::Str(v) => v.get(i).map(|s| write_str_repr(out, s)),
        };
        return written.unwrap_or_else(|| out.write_str("None"));
    };
    out.write_str("[")?;
    for i in 0..*n {
        if i > 0 {
            out.write_str(", ")?;
        }
        write_nested(out, rest, data, next)?;
    }
    out.write_str("]")
}

fn write_float(out: &mut impl std::fmt::Write, x: f64) -> std::fmt::Result {
    if x.is_nan() {
        out.write_str("nan")
    } else if x.is_infinite() {
        out.write_str(if x > 0.0 { "inf" } else { "-inf" })
    } else if crate::pyjson::is_positional(x) {
        crate::pyjson::write_positional(out, x)
    } else {
        out.write_str(&py_float_repr(x))
    }
}

fn py_float(x: f64) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_float(&mut s, x);
    s
}

/// Python's `repr()` of a string: single quotes unless it holds one and no double quote.
fn write_str_repr(out: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    write!(out, "{quote}")?;
    for c in s.chars() {
        match c {
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if c == quote => write!(out, "\\{c}")?,
            c if c.is_control() => write!(out, "\\x{:02x}", c as u32)?,
            c => write!(out, "{c}")?,
        }
    }
    write!(out, "{quote}")
}

impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<i32> for AttrValue {
    fn from(v: i32) -> Self {
        Self::Int(v.into())
    }
}

impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<u32> for AttrValue {
    fn from(v: u32) -> Self {
        Self::Int(v.into())
    }
}

impl From<f32> for AttrValue {
    fn from(v: f32) -> Self {
        Self::Float(v.into())
    }
}

impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        Self::Str(v.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        Self::Str(v)
    }
}

impl From<NaiveDateTime> for AttrValue {
    fn from(v: NaiveDateTime) -> Self {
        Self::DateTime(v)
    }
}

impl From<Complex64> for AttrValue {
    fn from(v: Complex64) -> Self {
        Self::Complex { re: v.re, im: v.im }
    }
}

impl From<Vec<f64>> for AttrValue {
    fn from(v: Vec<f64>) -> Self {
        list(v.len(), ArrayData::Float(v))
    }
}

impl From<Vec<i64>> for AttrValue {
    fn from(v: Vec<i64>) -> Self {
        list(v.len(), ArrayData::Int(v))
    }
}

impl From<Vec<bool>> for AttrValue {
    fn from(v: Vec<bool>) -> Self {
        list(v.len(), ArrayData::Bool(v))
    }
}

impl From<Vec<String>> for AttrValue {
    fn from(v: Vec<String>) -> Self {
        list(v.len(), ArrayData::Str(v))
    }
}

impl From<Vec<&str>> for AttrValue {
    fn from(v: Vec<&str>) -> Self {
        let v: Vec<String> = v.into_iter().map(str::to_owned).collect();
        list(v.len(), ArrayData::Str(v))
    }
}

/// A 1-D array of `len` elements.
fn list(len: usize, data: ArrayData) -> AttrValue {
    AttrValue::Array(AttrArray {
        shape: vec![len],
        data,
    })
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes (or replaces) attribute `name` on `loc`, encoded as Python bamboost 0.14 does (see
/// [`AttrValue`]).
///
/// The value is validated and encoded before an existing attribute of the same name is
/// deleted, so an invalid value leaves the old attribute in place. Details:
/// * an array with no elements is stored as float64 of its shape, as h5py stores `[]`, so it
///   reads back as [`ArrayData::Float`];
/// * an array of shape `[]` (0-d) is stored as a scalar and reads back as a scalar variant;
/// * a [`AttrValue::Set`] may hold only `None`, bools, integers, floats and strings (what
///   `json.dumps` and a Python `set` accept); it is written in the given order, without
///   removing duplicates;
/// * a [`AttrValue::DateTime`] keeps microseconds (Python's resolution; nanoseconds are
///   truncated) and must lie in years 1 to 9999 and not be a leap second;
/// * strings may not contain NUL characters (HDF5 strings are NUL-terminated).
///
/// ASCII names are created with the ASCII name encoding, as h5py does; other names as UTF-8.
pub(crate) fn write(loc: &hdf5::Location, name: &str, value: &AttrValue) -> Result<(), String> {
    let encoded = encode(value)?;
    let exists = loc
        .attr_names()
        .map_err(|e| format!("cannot list attributes: {e}"))?
        .iter()
        .any(|n| n == name);
    if exists {
        loc.delete_attr(name)
            .map_err(|e| format!("cannot delete the old attribute: {e}"))?;
    }
    let encoding = if name.is_ascii() {
        CharEncoding::Ascii
    } else {
        CharEncoding::Utf8
    };
    let builder = loc.new_attr_builder().char_encoding(encoding);
    let created = match &encoded {
        Encoded::Bool(a) => builder.with_data(a).create(name),
        Encoded::Int(a) => builder.with_data(a).create(name),
        Encoded::Float(a) => builder.with_data(a).create(name),
        Encoded::Complex(a) => builder.with_data(a).create(name),
        Encoded::Str(a) => builder.with_data(a).create(name),
        // Nothing to write: create the attribute with its shape only.
        Encoded::Empty(shape) => builder.empty::<f64>().shape(shape.as_slice()).create(name),
    };
    created
        .map(drop)
        .map_err(|e| format!("cannot create the attribute: {e}"))
}

/// An [`AttrValue`] as the typed n-d array h5py would store (shape `[]` is a scalar).
enum Encoded {
    Bool(ArrayD<bool>),
    Int(ArrayD<i64>),
    Float(ArrayD<f64>),
    Complex(ArrayD<Complex64>),
    Str(ArrayD<VarLenUnicode>),
    /// A zero-size float64 array of this shape.
    Empty(Vec<usize>),
}

fn encode(value: &AttrValue) -> Result<Encoded, String> {
    let scalar = |s: &str| Ok(Encoded::Str(ndarray::arr0(vlen(s)?).into_dyn()));
    match value {
        AttrValue::None => scalar(&envelope("NoneType", "\"None\"")),
        AttrValue::Bool(b) => Ok(Encoded::Bool(ndarray::arr0(*b).into_dyn())),
        AttrValue::Int(i) => Ok(Encoded::Int(ndarray::arr0(*i).into_dyn())),
        AttrValue::Float(f) => Ok(Encoded::Float(ndarray::arr0(*f).into_dyn())),
        AttrValue::Complex { re, im } => Ok(Encoded::Complex(
            ndarray::arr0(Complex64::new(*re, *im)).into_dyn(),
        )),
        AttrValue::Str(s) => scalar(s),
        AttrValue::DateTime(dt) => {
            let mut iso = String::new();
            json_str(&mut iso, &isoformat(dt)?);
            scalar(&envelope("datetime", &iso))
        }
        AttrValue::Set(items) => {
            let mut json = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    json.push_str(", ");
                }
                json_scalar(&mut json, item)?;
            }
            json.push(']');
            scalar(&envelope("set", &json))
        }
        AttrValue::Array(array) => encode_array(array),
    }
}

fn encode_array(array: &AttrArray) -> Result<Encoded, String> {
    let len = match &array.data {
        ArrayData::Bool(v) => v.len(),
        ArrayData::Int(v) => v.len(),
        ArrayData::Float(v) => v.len(),
        ArrayData::Complex(v) => v.len(),
        ArrayData::Str(v) => v.len(),
    };
    let size = array
        .shape
        .iter()
        .try_fold(1_usize, |n, &d| n.checked_mul(d));
    if size != Some(len) {
        return Err(format!(
            "the array shape {:?} does not match its {len} elements",
            array.shape
        ));
    }
    if len == 0 {
        // h5py stores `[]` (no element type to infer) as float64.
        return Ok(Encoded::Empty(array.shape.clone()));
    }
    fn nd<T>(shape: &[usize], data: Vec<T>) -> Result<ArrayD<T>, String> {
        ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| format!("invalid array: {e}"))
    }
    let shape = &array.shape;
    Ok(match &array.data {
        ArrayData::Bool(v) => Encoded::Bool(nd(shape, v.clone())?),
        ArrayData::Int(v) => Encoded::Int(nd(shape, v.clone())?),
        ArrayData::Float(v) => Encoded::Float(nd(shape, v.clone())?),
        ArrayData::Complex(v) => {
            let v = v.iter().map(|&(re, im)| Complex64::new(re, im)).collect();
            Encoded::Complex(nd(shape, v)?)
        }
        ArrayData::Str(v) => {
            let v = v.iter().map(|s| vlen(s)).collect::<Result<_, _>>()?;
            Encoded::Str(nd(shape, v)?)
        }
    })
}

fn vlen(s: &str) -> Result<VarLenUnicode, String> {
    s.parse()
        .map_err(|_| format!("the string {s:?} contains a NUL character"))
}

/// The envelope `{"__type__": "<type_name>", "__value__": <value_json>}` in `json.dumps` layout.
fn envelope(type_name: &str, value_json: &str) -> String {
    format!(r#"{{"__type__": "{type_name}", "__value__": {value_json}}}"#)
}

/// Python's `datetime.isoformat()` of a naive datetime.
pub(crate) fn isoformat(dt: &NaiveDateTime) -> Result<String, String> {
    if !(1..=9999).contains(&dt.year()) {
        return Err(format!(
            "the datetime {dt} is outside Python's years 1 to 9999"
        ));
    }
    let nanos = dt.nanosecond();
    if nanos >= 1_000_000_000 {
        return Err(format!(
            "the datetime {dt} is a leap second, which Python cannot represent"
        ));
    }
    let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    // Python's resolution is a microsecond; it omits a zero fraction.
    let micros = nanos / 1000;
    if micros != 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    Ok(s)
}

/// Appends a set element as `json.dumps` writes it.
fn json_scalar(out: &mut String, value: &AttrValue) -> Result<(), String> {
    match value {
        AttrValue::None => out.push_str("null"),
        AttrValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttrValue::Int(i) => out.push_str(&i.to_string()),
        AttrValue::Float(f) => out.push_str(&py_float_repr(*f)),
        AttrValue::Str(s) => json_str(out, s),
        AttrValue::Complex { .. }
        | AttrValue::DateTime(_)
        | AttrValue::Set(_)
        | AttrValue::Array(_) => {
            // Python's `json.dumps` (complex, datetime) or `set` (set, list) rejects these.
            return Err("a set may hold only none, bools, integers, floats and strings".to_owned());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Reads attribute `name` of `loc`.
///
/// Accepted stored types (anything else is an "unsupported attribute type" error):
/// * signed and unsigned integers of any width, and enums other than h5py's bool, as
///   [`AttrValue::Int`] (a `u64` above `i64::MAX` is an error);
/// * 32- and 64-bit floats as [`AttrValue::Float`];
/// * h5py's bool enum as [`AttrValue::Bool`] (any non-zero byte is `true`, as in NumPy);
/// * compounds `{r, i}` of floats as [`AttrValue::Complex`];
/// * vlen UTF-8 and ASCII strings and fixed-length strings as [`AttrValue::Str`] (invalid UTF-8
///   is replaced by U+FFFD; fixed-length strings end at the first NUL). Python bamboost reads
///   fixed-length strings as lists of byte values instead.
///
/// A scalar string that is a JSON object with `__type__` and `__value__` keys is decoded as
/// Python bamboost does: `NoneType`, `datetime` (any ISO 8601 form `datetime.fromisoformat`
/// writes, an offset is dropped keeping the wall-clock time) and `set`; an unknown `__type__`
/// stays a string, a malformed `datetime` or `set` is an error. Non-scalar attributes read as
/// [`AttrValue::Array`], and their strings are never decoded.
pub(crate) fn read(loc: &hdf5::Location, name: &str) -> Result<AttrValue, String> {
    let attr = loc.attr(name).map_err(|e| match loc.attr_names() {
        Ok(names) if !names.iter().any(|n| n == name) => "no such attribute".to_owned(),
        _ => format!("cannot open the attribute: {e}"),
    })?;
    read_attr(&attr)
}

/// Reads all attributes of `loc`, sorted by name, each as [`read`] does.
///
/// The first attribute that cannot be read fails the whole call; its name is in the message.
pub(crate) fn read_all(loc: &hdf5::Location) -> Result<BTreeMap<String, AttrValue>, String> {
    let names = loc
        .attr_names()
        .map_err(|e| format!("cannot list attributes: {e}"))?;
    names
        .into_iter()
        .map(|name| {
            let value = read(loc, &name).map_err(|e| format!("attribute {name:?}: {e}"))?;
            Ok((name, value))
        })
        .collect()
}

fn read_attr(attr: &hdf5::Attribute) -> Result<AttrValue, String> {
    let dtype = attr
        .dtype()
        .map_err(|e| format!("cannot read the attribute type: {e}"))?;
    let desc = dtype
        .to_descriptor()
        .map_err(|e| format!("unsupported attribute type: {e}"))?;
    let space = attr
        .space()
        .map_err(|e| format!("cannot read the attribute shape: {e}"))?;
    if space.is_null() {
        // h5py's `Empty`: a type but no value at all.
        return Err(format!(
            "unsupported attribute type: empty ({desc}, null dataspace)"
        ));
    }
    let shape = (!space.is_scalar()).then(|| space.shape());
    let data = read_data(attr, &dtype, &desc, space.size())?;
    let Some(shape) = shape else {
        return scalar(data);
    };
    Ok(AttrValue::Array(AttrArray { shape, data }))
}

fn read_data(
    attr: &hdf5::Attribute,
    dtype: &hdf5::Datatype,
    desc: &TypeDescriptor,
    len: usize,
) -> Result<ArrayData, String> {
    let failed = |e: hdf5::Error| format!("cannot read the attribute ({desc}): {e}");
    Ok(match desc {
        TypeDescriptor::Unsigned(IntSize::U8) => {
            let raw = attr.read_raw::<u64>().map_err(failed)?;
            let ints = raw.into_iter().map(|u| {
                i64::try_from(u)
                    .map_err(|_| format!("the uint64 value {u} exceeds the int64 range"))
            });
            ArrayData::Int(ints.collect::<Result<_, _>>()?)
        }
        // Every other integer fits: HDF5 converts it exactly.
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
            ArrayData::Int(attr.read_raw::<i64>().map_err(failed)?)
        }
        TypeDescriptor::Float(_) => ArrayData::Float(attr.read_raw::<f64>().map_err(failed)?),
        TypeDescriptor::Boolean => {
            // Raw bytes: converting an out-of-range enum value into a Rust `bool` would be UB.
            let raw = super::raw::attribute_bytes(attr, dtype, len)?;
            ArrayData::Bool(raw.into_iter().map(|b| b != 0).collect())
        }
        TypeDescriptor::Enum(e) => {
            // h5py reads an enum as its integer values.
            let size = e.size as usize;
            let big = matches!(dtype.byte_order(), hdf5::datatype::ByteOrder::BigEndian);
            let raw = super::raw::attribute_bytes(attr, dtype, len)?;
            let ints = raw
                .chunks_exact(size)
                .map(|b| int_from_bytes(b, e.signed, big));
            ArrayData::Int(ints.collect::<Result<_, _>>()?)
        }
        TypeDescriptor::Compound(c) if is_complex(c) => {
            let raw = attr.read_raw::<Complex64>().map_err(failed)?;
            ArrayData::Complex(raw.into_iter().map(|c| (c.re, c.im)).collect())
        }
        TypeDescriptor::VarLenUnicode => {
            let raw = attr.read_raw::<VarLenUnicode>().map_err(failed)?;
            ArrayData::Str(raw.iter().map(|s| lossy(s.as_bytes())).collect())
        }
        TypeDescriptor::VarLenAscii => {
            let raw = attr.read_raw::<VarLenAscii>().map_err(failed)?;
            ArrayData::Str(raw.iter().map(|s| lossy(s.as_bytes())).collect())
        }
        TypeDescriptor::FixedAscii(size) | TypeDescriptor::FixedUnicode(size) => {
            let raw = super::raw::attribute_bytes(attr, dtype, len)?;
            let strings = raw.chunks((*size).max(1)).map(|b| {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                lossy(&b[..end])
            });
            // Zero-size strings leave an empty buffer, hence no chunks.
            let mut strings: Vec<String> = strings.collect();
            strings.resize(len, String::new());
            ArrayData::Str(strings)
        }
        other => return Err(format!("unsupported attribute type: {other}")),
    })
}

/// The scalar variant of a one-element read.
fn scalar(data: ArrayData) -> Result<AttrValue, String> {
    let missing = || "the scalar attribute holds no value".to_owned();
    Ok(match data {
        ArrayData::Bool(v) => AttrValue::Bool(*v.first().ok_or_else(missing)?),
        ArrayData::Int(v) => AttrValue::Int(*v.first().ok_or_else(missing)?),
        ArrayData::Float(v) => AttrValue::Float(*v.first().ok_or_else(missing)?),
        ArrayData::Complex(v) => {
            let &(re, im) = v.first().ok_or_else(missing)?;
            AttrValue::Complex { re, im }
        }
        ArrayData::Str(v) => decode_str(v.into_iter().next().ok_or_else(missing)?)?,
    })
}

/// h5py's complex convention: exactly the float fields `r` then `i`.
fn is_complex(c: &CompoundType) -> bool {
    let mut fields: Vec<_> = c.fields.iter().collect();
    fields.sort_by_key(|f| f.index);
    matches!(
        fields.as_slice(),
        [r, i] if r.name == "r" && i.name == "i"
            && matches!(r.ty, TypeDescriptor::Float(_))
            && matches!(i.ty, TypeDescriptor::Float(_))
    )
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An enum member value of 1 to 8 bytes in the given byte order.
fn int_from_bytes(bytes: &[u8], signed: bool, big_endian: bool) -> Result<i64, String> {
    let mut le = bytes.to_vec();
    if big_endian {
        le.reverse();
    }
    let negative = signed && le.last().is_some_and(|b| b & 0x80 != 0);
    let mut buf = [if negative { 0xff } else { 0 }; 8];
    buf[..le.len()].copy_from_slice(&le);
    if signed {
        Ok(i64::from_le_bytes(buf))
    } else {
        let u = u64::from_le_bytes(buf);
        i64::try_from(u).map_err(|_| format!("the enum value {u} exceeds the int64 range"))
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding JSON envelopes
// ---------------------------------------------------------------------------------------------

/// A scalar string, decoded through its envelope if it is one.
fn decode_str(s: String) -> Result<AttrValue, String> {
    let Some(Json::Obj(fields)) = Json::parse(&s) else {
        return Ok(AttrValue::Str(s));
    };
    // Python builds a dict: for a repeated key the last one wins.
    let get = |key: &str| fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
    let (Some(Json::Str(type_name)), Some(value)) = (get("__type__"), get("__value__")) else {
        return Ok(AttrValue::Str(s));
    };
    match type_name.as_str() {
        "NoneType" => Ok(AttrValue::None),
        "datetime" => {
            let Json::Str(iso) = value else {
                return Err("the datetime envelope holds no string".to_owned());
            };
            parse_isoformat(iso)
                .map(AttrValue::DateTime)
                .ok_or_else(|| format!("invalid datetime {iso:?} in a datetime envelope"))
        }
        "set" => {
            let Json::Arr(items) = value else {
                return Err("the set envelope holds no list".to_owned());
            };
            let items = items.iter().map(|item| match item {
                Json::Null => Ok(AttrValue::None),
                Json::Bool(b) => Ok(AttrValue::Bool(*b)),
                Json::Int(Some(i)) => Ok(AttrValue::Int(*i)),
                Json::Int(None) => Err("a set element exceeds the int64 range".to_owned()),
                Json::Float(f) => Ok(AttrValue::Float(*f)),
                Json::Str(s) => Ok(AttrValue::Str(s.clone())),
                // Python cannot put lists or dicts into a set either.
                Json::Arr(_) | Json::Obj(_) => Err("a set element is a list or dict".to_owned()),
            });
            Ok(AttrValue::Set(items.collect::<Result<_, _>>()?))
        }
        _ => Ok(AttrValue::Str(s)),
    }
}

/// Parses what `datetime.fromisoformat` (Python 3.11) accepts in practice:
/// `YYYY-MM-DD[<sep>HH:MM[:SS[.fff…]]][Z|±HH:MM]` with any one-character separator. Digits
/// beyond microseconds are truncated; an offset is dropped (the wall-clock time is kept).
fn parse_isoformat(s: &str) -> Option<NaiveDateTime> {
    let date = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    let rest = s.get(10..)?;
    let mut chars = rest.chars();
    if chars.next().is_none() {
        return date.and_hms_opt(0, 0, 0);
    }
    let time = strip_offset(chars.as_str());
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None; // leap second: Python rejects second 60
    }
    Some(date.and_time(time.with_nanosecond(nanos / 1000 * 1000)?))
}

/// `time` without a trailing `Z` or `±HH[:MM[:SS[.ffffff]]]` UTC offset.
fn strip_offset(time: &str) -> &str {
    if let Some(t) = time.strip_suffix('Z') {
        return t;
    }
    match time.rfind(['+', '-']) {
        Some(i)
            if i > 0
                && time[i + 1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b':' || b == b'.') =>
        {
            &time[..i]
        }
        _ => time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::types::FloatSize;
    use std::process::Command;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").expect("test datetime")
    }

    fn arr(shape: &[usize], data: ArrayData) -> AttrValue {
        AttrValue::Array(AttrArray {
            shape: shape.to_vec(),
            data,
        })
    }

    fn new_file() -> (tempfile::TempDir, hdf5::File) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = hdf5::File::create(dir.path().join("attrs.h5")).expect("create file");
        (dir, file)
    }

    /// One value of every kind, with names that sort as written.
    fn samples() -> Vec<(&'static str, AttrValue)> {
        vec![
            ("a_none", AttrValue::None),
            ("b_true", true.into()),
            ("b_false", false.into()),
            ("c_int", AttrValue::Int(-42)),
            ("c_int_max", AttrValue::Int(i64::MAX)),
            ("c_int_min", AttrValue::Int(i64::MIN)),
            ("d_float", 2.5.into()),
            ("d_float_neg_zero", AttrValue::Float(-0.0)),
            ("d_float_inf", AttrValue::Float(f64::INFINITY)),
            ("e_complex", Complex64::new(1.5, -2.0).into()),
            ("f_str", "héllo wörld ✓".into()),
            ("f_str_empty", "".into()),
            ("f_str_json_list", "[1, 2]".into()),
            ("f_str_not_json", "{not json".into()),
            (
                "f_str_unknown_envelope",
                r#"{"__type__": "complex", "__value__": 1}"#.into(),
            ),
            ("g_dt", dt("2025-01-31T12:30:05").into()),
            ("g_dt_us", dt("2025-01-31T12:30:05.000123").into()),
            (
                "h_set",
                AttrValue::Set(vec![
                    AttrValue::Int(1),
                    "é".into(),
                    AttrValue::Float(2.5),
                    AttrValue::None,
                    AttrValue::Bool(false),
                    AttrValue::Float(1e-5),
                    AttrValue::Float(1e16),
                ]),
            ),
            ("h_set_empty", AttrValue::Set(vec![])),
            ("i_floats", vec![1.0, 2.5].into()),
            ("i_ints", vec![1_i64, -2].into()),
            (
                "i_ints2d",
                arr(&[2, 3], ArrayData::Int(vec![1, 2, 3, 4, 5, 6])),
            ),
            ("i_bools", vec![true, false].into()),
            (
                "i_complexes",
                arr(&[2], ArrayData::Complex(vec![(1.0, 2.0), (3.0, -4.0)])),
            ),
            ("i_strs", vec!["a", "bé"].into()),
            ("i_single", vec![7.0].into()),
            ("j_empty", arr(&[0], ArrayData::Float(vec![]))),
            ("ünïcode", AttrValue::Int(1)),
        ]
    }

    #[test]
    fn round_trip_every_variant() {
        let (_dir, file) = new_file();
        let group = file.create_group("g").expect("group");
        let ds = group
            .new_dataset::<f64>()
            .shape(3)
            .create("ds")
            .expect("dataset");
        for (name, value) in samples() {
            write(&group, name, &value).expect(name);
            assert_eq!(read(&group, name).expect(name), value, "{name}");
            write(&ds, name, &value).expect(name);
            assert_eq!(read(&ds, name).expect(name), value, "{name} on a dataset");
        }
        let all = read_all(&group).expect("read_all");
        let expected: BTreeMap<String, AttrValue> = samples()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        assert_eq!(all, expected);
        assert_eq!(all.keys().next().map(String::as_str), Some("a_none"));
    }

    #[test]
    fn lossy_round_trips() {
        let (_dir, file) = new_file();
        let cases = [
            // Empty arrays of any element type are stored as float64 (h5py's `[]`).
            (
                arr(&[0], ArrayData::Str(vec![])),
                arr(&[0], ArrayData::Float(vec![])),
            ),
            (
                arr(&[2, 0], ArrayData::Int(vec![])),
                arr(&[2, 0], ArrayData::Float(vec![])),
            ),
            // A 0-d array is a scalar.
            (arr(&[], ArrayData::Int(vec![5])), AttrValue::Int(5)),
            // Python keeps microseconds only.
            (
                dt("2025-01-31T12:30:05.123456789").into(),
                dt("2025-01-31T12:30:05.123456").into(),
            ),
            (1.5_f32.into(), AttrValue::Float(1.5)),
            (7_u32.into(), AttrValue::Int(7)),
        ];
        for (i, (value, expected)) in cases.into_iter().enumerate() {
            let name = format!("a{i}");
            write(&file, &name, &value).expect("write");
            assert_eq!(read(&file, &name).expect("read"), expected, "{value:?}");
        }
        write(&file, "nan", &AttrValue::Float(f64::NAN)).expect("write");
        assert!(
            read(&file, "nan")
                .expect("read")
                .as_f64()
                .is_some_and(f64::is_nan)
        );
        let set = AttrValue::Set(vec![f64::NAN.into(), f64::NEG_INFINITY.into()]);
        write(&file, "set", &set).expect("write");
        let AttrValue::Set(items) = read(&file, "set").expect("read") else {
            panic!("not a set")
        };
        assert!(items[0].as_f64().is_some_and(f64::is_nan));
        assert_eq!(items[1], AttrValue::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn replace_changes_the_type() {
        let (_dir, file) = new_file();
        write(&file, "k", &AttrValue::Int(1)).expect("write");
        write(&file, "k", &"now a string".into()).expect("replace");
        assert_eq!(read(&file, "k").expect("read"), "now a string".into());
        assert_eq!(file.attr_names().expect("names"), ["k"]);
    }

    #[test]
    fn invalid_values_leave_the_old_attribute() {
        let (_dir, file) = new_file();
        write(&file, "k", &AttrValue::Int(1)).expect("write");
        let invalid = [
            (arr(&[3], ArrayData::Int(vec![1, 2])), "shape"),
            (
                AttrValue::Set(vec![vec![1.0].into()]),
                "a set may hold only",
            ),
            (
                AttrValue::Set(vec![AttrValue::None, dt("2025-01-01T00:00:00").into()]),
                "set",
            ),
            ("a\0b".into(), "NUL"),
            (vec!["ok", "a\0b"].into(), "NUL"),
            (dt("+10000-01-01T00:00:00").into(), "years 1 to 9999"),
        ];
        for (value, message) in invalid {
            let err = write(&file, "k", &value).expect_err("invalid value");
            assert!(err.contains(message), "{err}");
            assert_eq!(read(&file, "k").expect("old value"), AttrValue::Int(1));
        }
    }

    #[test]
    fn exact_on_disk_types() {
        let (_dir, file) = new_file();
        for (name, value) in samples() {
            write(&file, name, &value).expect(name);
        }
        let desc = |name: &str| {
            let attr = file.attr(name).expect(name);
            (
                attr.dtype()
                    .expect("dtype")
                    .to_descriptor()
                    .expect("descriptor"),
                attr.shape(),
            )
        };
        let vlen = TypeDescriptor::VarLenUnicode;
        for name in ["a_none", "f_str", "g_dt", "h_set"] {
            assert_eq!(desc(name), (vlen.clone(), vec![]), "{name}");
        }
        assert_eq!(desc("b_true"), (TypeDescriptor::Boolean, vec![]));
        assert_eq!(
            desc("c_int"),
            (TypeDescriptor::Integer(IntSize::U8), vec![])
        );
        assert_eq!(
            desc("d_float"),
            (TypeDescriptor::Float(FloatSize::U8), vec![])
        );
        let (TypeDescriptor::Compound(c), shape) = desc("e_complex") else {
            panic!("complex is not a compound")
        };
        assert!(shape.is_empty());
        assert_eq!(c.size, 16);
        let fields: Vec<_> = c
            .fields
            .iter()
            .map(|f| (f.name.as_str(), &f.ty, f.offset))
            .collect();
        let f64_ty = TypeDescriptor::Float(FloatSize::U8);
        assert_eq!(fields, [("r", &f64_ty, 0), ("i", &f64_ty, 8)]);
        assert_eq!(desc("i_strs"), (vlen, vec![2]));
        assert_eq!(desc("i_bools"), (TypeDescriptor::Boolean, vec![2]));
        assert_eq!(
            desc("i_ints2d"),
            (TypeDescriptor::Integer(IntSize::U8), vec![2, 3])
        );
        assert_eq!(
            desc("j_empty"),
            (TypeDescriptor::Float(FloatSize::U8), vec![0])
        );
        // Little endian, as h5py writes on every common platform (H5T_STD_I64LE etc.).
        for name in ["c_int", "d_float"] {
            let order = file
                .attr(name)
                .and_then(|a| a.dtype())
                .expect(name)
                .byte_order();
            assert_eq!(order, hdf5::datatype::ByteOrder::LittleEndian);
        }
        // Scalars have a scalar dataspace, not a 1-element array.
        assert!(
            file.attr("c_int")
                .expect("attr")
                .space()
                .expect("space")
                .is_scalar()
        );
        // Names: ASCII like h5py, UTF-8 when they need it.
        let enc = |name: &str| file.attr_info(name).expect(name).char_encoding;
        assert_eq!(enc("c_int"), CharEncoding::Ascii);
        assert_eq!(enc("ünïcode"), CharEncoding::Utf8);
    }

    #[test]
    fn envelope_text_is_what_json_dumps_writes() {
        let (_dir, file) = new_file();
        let raw = |value: &AttrValue| {
            write(&file, "k", value).expect("write");
            let attr = file.attr("k").expect("attr");
            attr.read_scalar::<VarLenUnicode>()
                .expect("vlen string")
                .as_str()
                .to_owned()
        };
        assert_eq!(
            raw(&AttrValue::None),
            r#"{"__type__": "NoneType", "__value__": "None"}"#
        );
        assert_eq!(
            raw(&dt("2025-01-31T12:30:05").into()),
            r#"{"__type__": "datetime", "__value__": "2025-01-31T12:30:05"}"#
        );
        assert_eq!(
            raw(&dt("0987-01-31T02:03:04.5").into()),
            r#"{"__type__": "datetime", "__value__": "0987-01-31T02:03:04.500000"}"#
        );
        let set = AttrValue::Set(vec![
            AttrValue::Int(1),
            AttrValue::Float(2.5),
            "h\u{e9}llo \"q\" \\ \n\u{1}\u{7f}😀".into(),
            AttrValue::None,
            AttrValue::Bool(true),
            AttrValue::Float(f64::NAN),
            AttrValue::Float(1e-5),
        ]);
        assert_eq!(
            raw(&set),
            r#"{"__type__": "set", "__value__": [1, 2.5, "h\u00e9llo \"q\" \\ \n\u0001\u007f\ud83d\ude00", null, true, NaN, 1e-05]}"#
        );
        assert_eq!(
            raw(&AttrValue::Set(vec![])),
            r#"{"__type__": "set", "__value__": []}"#
        );
    }

    #[test]
    fn floats_are_formatted_like_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (2.5, "2.5"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1e-4, "0.0001"),
            (1.5e-4, "0.00015"),
            (1e-5, "1e-05"),
            (9.999e-5, "9.999e-05"),
            (0.30000000000000004, "0.30000000000000004"),
            (9999999999999998.0, "9999999999999998.0"),
            (-1.25e-7, "-1.25e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (123456789.125, "123456789.125"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ];
        for (f, expected) in cases {
            assert_eq!(py_float_repr(f), expected, "{f:e}");
        }
    }

    #[test]
    fn display_is_pythons_str() {
        let cases: [(AttrValue, &str); 14] = [
            (AttrValue::None, "None"),
            (true.into(), "True"),
            ((-3_i64).into(), "-3"),
            (2.0.into(), "2.0"),
            (1e-6.into(), "1e-06"),
            (f64::NEG_INFINITY.into(), "-inf"),
            (f64::NAN.into(), "nan"),
            (AttrValue::Complex { re: 1.0, im: -2.5 }, "(1-2.5j)"),
            (AttrValue::Complex { re: 0.0, im: 2.0 }, "2j"),
            ("it's".into(), "it's"),
            (
                dt("2024-01-31T12:00:00.5").into(),
                "2024-01-31 12:00:00.500000",
            ),
            (
                AttrValue::Set(vec![1_i64.into(), "it's".into(), "a\nb".into()]),
                r#"{1, "it's", 'a\nb'}"#,
            ),
            (AttrValue::Set(vec![]), "set()"),
            (
                AttrValue::Array(AttrArray {
                    shape: vec![2, 2],
                    data: ArrayData::Float(vec![1.0, 2.5, 3.0, 4.0]),
                }),
                "[[1.0, 2.5], [3.0, 4.0]]",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(value.to_string(), expected, "{value:?}");
        }
    }

    #[test]
    fn envelopes_decode_like_python() {
        let str_of = |s: &str| AttrValue::Str(s.to_owned());
        let ok = |s: &str| decode_str(s.to_owned()).expect(s);
        // Not envelopes: the string stays as is.
        for s in [
            "",
            "plain",
            "[1, 2]",
            "{not json",
            r#"{"__type__": "NoneType"}"#,
            r#"{"__type__": "complex", "__value__": {"real": 1.0, "imag": 2.0}}"#,
            r#"{"__type__": 5, "__value__": null}"#,
            r#"{"__type__": "NoneType", "__value__": "None"} trailing"#,
            "{\"__type__\": \"NoneType\", \"__value__\": \"a\u{1}b\"}",
            r#"{"__type__": "set", "__value__": [01]}"#,
        ] {
            assert_eq!(ok(s), str_of(s), "{s}");
        }
        assert_eq!(
            ok(r#"{"__type__": "NoneType", "__value__": "None"}"#),
            AttrValue::None
        );
        assert_eq!(
            ok(r#" {"__value__":null,"__type__":"NoneType"} "#),
            AttrValue::None
        );
        assert_eq!(
            ok(r#"{"__type__": "set", "__type__": "NoneType", "__value__": 1}"#),
            AttrValue::None,
            "the last repeated key wins"
        );
        let datetimes = [
            ("2025-01-31T12:30:05", "2025-01-31T12:30:05"),
            ("2025-01-31T12:30:05.000123", "2025-01-31T12:30:05.000123"),
            ("2025-01-31 12:30:05.5", "2025-01-31T12:30:05.5"),
            (
                "2025-01-31T12:30:05.123456789",
                "2025-01-31T12:30:05.123456",
            ),
            ("2025-01-31T12:30", "2025-01-31T12:30:00"),
            ("2025-01-31", "2025-01-31T00:00:00"),
            ("2025-01-31T12:30:05+02:00", "2025-01-31T12:30:05"),
            ("2025-01-31T12:30:05.25-05:30", "2025-01-31T12:30:05.25"),
            ("2025-01-31T12:30:05Z", "2025-01-31T12:30:05"),
        ];
        for (iso, expected) in datetimes {
            let s = format!(r#"{{"__type__": "datetime", "__value__": "{iso}"}}"#);
            assert_eq!(ok(&s), dt(expected).into(), "{iso}");
        }
        for bad in [
            r#"{"__type__": "datetime", "__value__": "yesterday"}"#,
            r#"{"__type__": "datetime", "__value__": "2025-01-31T12:30:60"}"#,
            r#"{"__type__": "datetime", "__value__": 5}"#,
            r#"{"__type__": "set", "__value__": "ab"}"#,
            r#"{"__type__": "set", "__value__": [[1]]}"#,
            r#"{"__type__": "set", "__value__": [99999999999999999999]}"#,
        ] {
            assert!(decode_str(bad.to_owned()).is_err(), "{bad}");
        }
        let set = ok(
            r#"{"__type__": "set", "__value__": [1, -2.5e3, "\u00e9\ud83d\ude00\/\t", null, true, false, 1E2, -0]}"#,
        );
        let expected = AttrValue::Set(vec![
            AttrValue::Int(1),
            AttrValue::Float(-2500.0),
            "é😀/\t".into(),
            AttrValue::None,
            AttrValue::Bool(true),
            AttrValue::Bool(false),
            AttrValue::Float(100.0),
            AttrValue::Int(0),
        ]);
        assert_eq!(set, expected);
        let AttrValue::Set(special) =
            ok(r#"{"__type__": "set", "__value__": [NaN, Infinity, -Infinity, "\udc00"]}"#)
        else {
            panic!("not a set")
        };
        assert!(special[0].as_f64().is_some_and(f64::is_nan));
        assert_eq!(
            special[1..3],
            [f64::INFINITY.into(), f64::NEG_INFINITY.into()]
        );
        assert_eq!(special[3], "\u{fffd}".into(), "a lone surrogate");
    }

    #[test]
    fn accessors_and_conversions() {
        assert_eq!(AttrValue::from("x").as_str(), Some("x"));
        assert_eq!(AttrValue::from(String::from("x")).as_str(), Some("x"));
        assert_eq!(AttrValue::from(3_i32).as_i64(), Some(3));
        assert_eq!(AttrValue::from(3_i64).as_f64(), Some(3.0));
        assert_eq!(AttrValue::from(0.5).as_f64(), Some(0.5));
        assert_eq!(AttrValue::from(true).as_bool(), Some(true));
        assert_eq!(AttrValue::from(0.5).as_i64(), None);
        assert_eq!(AttrValue::None.as_str(), None);
        assert_eq!(AttrValue::Int(1).as_bool(), None);
        assert_eq!(
            AttrValue::from(vec![String::from("a")]),
            arr(&[1], ArrayData::Str(vec!["a".into()]))
        );
        assert_eq!(
            AttrValue::from(Complex64::new(1.0, 2.0)),
            AttrValue::Complex { re: 1.0, im: 2.0 }
        );
    }

    #[test]
    fn unsupported_and_missing_attributes_are_errors() {
        let (_dir, file) = new_file();
        let err = read(&file, "missing").expect_err("missing");
        assert_eq!(err, "no such attribute");
        let pair = TypeDescriptor::Compound(CompoundType {
            fields: vec![
                hdf5::types::CompoundField::typed::<i32>("a", 0, 0),
                hdf5::types::CompoundField::typed::<f64>("b", 8, 1),
            ],
            size: 16,
        });
        file.new_attr_builder()
            .empty_as(&pair)
            .create("pair")
            .expect("create");
        let err = read(&file, "pair").expect_err("compound");
        assert!(err.starts_with("unsupported attribute type"), "{err}");
        let err = read_all(&file).expect_err("read_all");
        assert!(err.starts_with("attribute \"pair\": unsupported"), "{err}");
    }

    // ---- interoperability with h5py -------------------------------------------------------

    /// `python3` with h5py; the interoperability tests fail (never skip) without it.
    fn python() -> Command {
        let found = Command::new("python3")
            .args(["-c", "import h5py, numpy"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "the h5py interoperability tests need `python3` on PATH with h5py and numpy: \
             run `pip install h5py numpy`"
        );
        Command::new("python3")
    }

    fn run_python(script: &str, path: &std::path::Path) -> String {
        let out = python()
            .arg("-c")
            .arg(script)
            .arg(path)
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "python3 failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Reads every attribute with h5py, decodes it as bamboost 0.14's `AttrsEncoder.decode`
    /// does, and prints a JSON description of each.
    const PY_READ: &str = r#"
import json, math, sys
from datetime import datetime
import h5py
import numpy as np

def decode(v):
    if isinstance(v, str):
        try:
            d = json.loads(v)
        except json.JSONDecodeError:
            return v
        if isinstance(d, dict) and "__type__" in d and "__value__" in d:
            t, x = d["__type__"], d["__value__"]
            if t == "NoneType":
                return None
            if t == "datetime":
                return datetime.fromisoformat(x)
            if t == "set":
                return set(x)
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v

def plain(x):
    if isinstance(x, complex):
        return [x.real, x.imag]
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if isinstance(x, list):
        return [plain(y) for y in x]
    return x

out = {}
with h5py.File(sys.argv[1], "r") as f:
    for name in f.attrs:
        raw = f.attrs[name]
        aid = f.attrs.get_id(name)
        info = h5py.check_string_dtype(aid.dtype)
        v = decode(raw)
        d = {
            "type": type(v).__name__,
            "dtype": str(aid.dtype),
            "shape": list(aid.shape),
            "string": None if info is None else [info.encoding, info.length],
        }
        if isinstance(v, datetime):
            d["value"] = v.isoformat()
        elif isinstance(v, set):
            d["value"] = plain(list(v))
        elif isinstance(v, np.ndarray):
            d["value"] = plain(v.tolist())
        elif v is not None:
            d["value"] = plain(v)
        if isinstance(raw, str) and raw.startswith('{"__type__"'):
            d["dumps_exact"] = raw == json.dumps(json.loads(raw))
        out[name] = d
print(json.dumps(out))
"#;

    #[test]
    fn h5py_reads_what_we_write() {
        let (dir, file) = new_file();
        for (name, value) in samples() {
            write(&file, name, &value).expect(name);
        }
        let set = AttrValue::Set(vec![f64::NAN.into(), f64::NEG_INFINITY.into(), "x".into()]);
        write(&file, "h_set_special", &set).expect("write");
        drop(file);
        let out = run_python(PY_READ, &dir.path().join("attrs.h5"));
        let got: serde_json::Value = serde_json::from_str(&out).expect("json from python");
        let check =
            |name: &str, ty: &str, dtype: &str, shape: &[usize], value: serde_json::Value| {
                let d = &got[name];
                assert_eq!(d["type"], ty, "{name}: {d}");
                assert_eq!(d["dtype"], dtype, "{name}: {d}");
                assert_eq!(d["shape"], serde_json::json!(shape), "{name}: {d}");
                assert_eq!(d["value"], value, "{name}: {d}");
            };
        use serde_json::json;
        let vlen_utf8 = json!(["utf-8", null]);
        check("a_none", "NoneType", "object", &[], serde_json::Value::Null);
        check("b_true", "bool", "bool", &[], json!(true));
        check("b_false", "bool", "bool", &[], json!(false));
        check("c_int", "int", "int64", &[], json!(-42));
        check("c_int_min", "int", "int64", &[], json!(i64::MIN));
        check("d_float", "float", "float64", &[], json!(2.5));
        check("d_float_inf", "float", "float64", &[], json!("inf"));
        check(
            "e_complex",
            "complex",
            "complex128",
            &[],
            json!([1.5, -2.0]),
        );
        check("f_str", "str", "object", &[], json!("héllo wörld ✓"));
        check("f_str_json_list", "str", "object", &[], json!("[1, 2]"));
        let unknown = r#"{"__type__": "complex", "__value__": 1}"#;
        check(
            "f_str_unknown_envelope",
            "str",
            "object",
            &[],
            json!(unknown),
        );
        check(
            "g_dt",
            "datetime",
            "object",
            &[],
            json!("2025-01-31T12:30:05"),
        );
        check(
            "g_dt_us",
            "datetime",
            "object",
            &[],
            json!("2025-01-31T12:30:05.000123"),
        );
        check("i_floats", "ndarray", "float64", &[2], json!([1.0, 2.5]));
        check(
            "i_ints2d",
            "ndarray",
            "int64",
            &[2, 3],
            json!([[1, 2, 3], [4, 5, 6]]),
        );
        check("i_bools", "ndarray", "bool", &[2], json!([true, false]));
        check(
            "i_complexes",
            "ndarray",
            "complex128",
            &[2],
            json!([[1.0, 2.0], [3.0, -4.0]]),
        );
        check("i_strs", "ndarray", "object", &[2], json!(["a", "bé"]));
        check("j_empty", "ndarray", "float64", &[0], json!([]));
        check("ünïcode", "int", "int64", &[], json!(1));
        for name in ["a_none", "f_str", "g_dt", "h_set", "i_strs"] {
            assert_eq!(
                got[name]["string"], vlen_utf8,
                "{name} is a vlen UTF-8 string"
            );
        }
        // Python's sets are unordered: compare as multisets.
        let same_items = |name: &str, expected: serde_json::Value| {
            let d = &got[name];
            assert_eq!(d["type"], "set", "{name}: {d}");
            let (Some(got), Some(expected)) = (d["value"].as_array(), expected.as_array()) else {
                panic!("{name}: not a list: {d}")
            };
            assert_eq!(got.len(), expected.len(), "{name}: {d}");
            assert!(expected.iter().all(|e| got.contains(e)), "{name}: {d}");
        };
        same_items("h_set", json!([1, "é", 2.5, null, false, 1e-5, 1e16]));
        same_items("h_set_empty", json!([]));
        same_items("h_set_special", json!(["nan", "-inf", "x"]));
        // The envelope strings are byte for byte what `json.dumps` would have written.
        for name in [
            "a_none",
            "g_dt",
            "g_dt_us",
            "h_set",
            "h_set_empty",
            "h_set_special",
        ] {
            assert_eq!(got[name]["dumps_exact"], true, "{name}: {}", got[name]);
        }
    }

    /// Writes attributes as Python bamboost 0.14 (`AttrsEncoder.encode` + h5py) does, plus
    /// types other writers produce, and some that cannot be read (group `bad`).
    const PY_WRITE: &str = r#"
import json, sys
from datetime import datetime
import h5py
import numpy as np

def env(t, v):
    return json.dumps({"__type__": t, "__value__": v})

with h5py.File(sys.argv[1], "w") as f:
    a = f.attrs
    a["int"] = 42
    a["float"] = 2.5
    a["bool"] = True
    a["np_bool"] = np.bool_(False)
    a["complex"] = 1.5 - 2j
    a["str"] = "héllo wörld"
    a["none"] = env("NoneType", "None")
    a["dt"] = env("datetime", datetime(2025, 1, 31, 12, 30, 5).isoformat())
    a["dt_us"] = env("datetime", datetime(2025, 1, 31, 12, 30, 5, 123).isoformat())
    a["set"] = env("set", list({1, "é", 2.5, None}))
    a["set_special"] = env("set", [float("nan"), float("inf"), -float("inf")])
    a["floats"] = [1.0, 2.5]
    a["strs"] = ["a", "bé"]
    a["ints2d"] = [[1, 2, 3], [4, 5, 6]]
    a["empty"] = []
    a["fixed"] = np.bytes_(b"abc")
    a["bools"] = [True, False]
    a["complexes"] = [1j, 2]
    a["unknown_env"] = env("complex", {"real": 1.0, "imag": 2.0})
    a["not_json"] = "{not json"
    a["i8"] = np.int8(-3)
    a["u32"] = np.uint32(4000000000)
    a["u64_small"] = np.uint64(5)
    a["f32"] = np.float32(0.5)
    a["c64"] = np.complex64(1 + 2j)
    a["be_i32"] = np.array(7, dtype=">i4")
    a["be_f64"] = np.array(0.25, dtype=">f8")
    a["fixed_list"] = np.array([b"ab", b"c"])
    a.create("fixed_utf8", "héllo".encode(), dtype=h5py.string_dtype("utf-8", 6))
    a.create("vlen_ascii", "plain", dtype=h5py.string_dtype("ascii"))
    a.create("enum", 42, dtype=h5py.enum_dtype({"RED": 0, "BLUE": 42}, basetype=">i2"))
    bad = f.create_group("bad").attrs
    bad["u64"] = np.uint64(2**63)
    bad["empty"] = h5py.Empty("f8")
    bad["struct"] = np.array((1, 2.0), dtype=[("a", "i4"), ("b", "f8")])
    bad["bad_dt"] = env("datetime", "yesterday")
"#;

    #[test]
    fn we_read_what_h5py_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("py.h5");
        run_python(PY_WRITE, &path);
        let file = hdf5::File::open(&path).expect("open");
        let mut all = read_all(&file).expect("read_all");
        let take = |all: &mut BTreeMap<String, AttrValue>, name: &str| {
            all.remove(name).unwrap_or_else(|| panic!("{name} missing"))
        };
        let expected = [
            ("int", AttrValue::Int(42)),
            ("float", AttrValue::Float(2.5)),
            ("bool", AttrValue::Bool(true)),
            ("np_bool", AttrValue::Bool(false)),
            ("complex", AttrValue::Complex { re: 1.5, im: -2.0 }),
            ("str", "héllo wörld".into()),
            ("none", AttrValue::None),
            ("dt", dt("2025-01-31T12:30:05").into()),
            ("dt_us", dt("2025-01-31T12:30:05.000123").into()),
            ("floats", vec![1.0, 2.5].into()),
            ("strs", vec!["a", "bé"].into()),
            (
                "ints2d",
                arr(&[2, 3], ArrayData::Int(vec![1, 2, 3, 4, 5, 6])),
            ),
            ("empty", arr(&[0], ArrayData::Float(vec![]))),
            ("fixed", "abc".into()),
            ("bools", vec![true, false].into()),
            (
                "complexes",
                arr(&[2], ArrayData::Complex(vec![(0.0, 1.0), (2.0, 0.0)])),
            ),
            (
                "unknown_env",
                r#"{"__type__": "complex", "__value__": {"real": 1.0, "imag": 2.0}}"#.into(),
            ),
            ("not_json", "{not json".into()),
            ("i8", AttrValue::Int(-3)),
            ("u32", AttrValue::Int(4_000_000_000)),
            ("u64_small", AttrValue::Int(5)),
            ("f32", AttrValue::Float(0.5)),
            ("c64", AttrValue::Complex { re: 1.0, im: 2.0 }),
            ("be_i32", AttrValue::Int(7)),
            ("be_f64", AttrValue::Float(0.25)),
            (
                "fixed_list",
                arr(&[2], ArrayData::Str(vec!["ab".into(), "c".into()])),
            ),
            ("fixed_utf8", "héllo".into()),
            ("vlen_ascii", "plain".into()),
            ("enum", AttrValue::Int(42)),
        ];
        for (name, value) in expected {
            assert_eq!(take(&mut all, name), value, "{name}");
            assert_eq!(read(&file, name).expect(name), value, "{name} through read");
        }
        let AttrValue::Set(items) = take(&mut all, "set") else {
            panic!("set")
        };
        assert_eq!(items.len(), 4);
        for item in [
            AttrValue::Int(1),
            "é".into(),
            AttrValue::Float(2.5),
            AttrValue::None,
        ] {
            assert!(items.contains(&item), "{item:?} in {items:?}");
        }
        let AttrValue::Set(special) = take(&mut all, "set_special") else {
            panic!("set")
        };
        assert!(special[0].as_f64().is_some_and(f64::is_nan));
        assert_eq!(
            special[1..],
            [f64::INFINITY.into(), f64::NEG_INFINITY.into()]
        );
        assert!(all.is_empty(), "unexpected attributes: {all:?}");

        let bad = file.group("bad").expect("group");
        let err = |name: &str| read(&bad, name).expect_err(name);
        assert!(
            err("u64").contains("exceeds the int64 range"),
            "{}",
            err("u64")
        );
        assert!(
            err("empty").starts_with("unsupported attribute type"),
            "{}",
            err("empty")
        );
        assert!(
            err("struct").starts_with("unsupported attribute type"),
            "{}",
            err("struct")
        );
        assert!(
            err("bad_dt").contains("invalid datetime"),
            "{}",
            err("bad_dt")
        );
        assert!(read_all(&bad).is_err());
    }
}
