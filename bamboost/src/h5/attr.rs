//! Attribute values, encoded exactly as Python bamboost and h5py write them.
//!
//! [`write`] stores an [`AttrValue`] the way Python bamboost 0.14 (`AttrsEncoder` + h5py)
//! does, and [`read`] decodes what Python wrote. Values that have no HDF5 type in Python
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
fn isoformat(dt: &NaiveDateTime) -> Result<String, String> {
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
        other => {
            return Err(format!(
                "a set may hold only none, bools, integers, floats and strings, not {other:?}"
            ));
        }
    }
    Ok(())
}

/// Appends `s` as a JSON string the way `json.dumps` does by default (`ensure_ascii=True`):
/// everything outside printable ASCII becomes a lowercase `\uXXXX` escape (UTF-16 pairs above
/// U+FFFF).
fn json_str(out: &mut String, s: &str) {
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
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)` as `json.dumps` writes it: the shortest round-trip digits, positional
/// for decimal exponents -4..16 (always with a fraction, `1.0`), else `1e-05` / `1.5e+16`.
fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // Rust's `{:e}` also gives the shortest round-trip digits, e.g. `-1.25e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let (int, frac) = if exp < 0 {
            let zeros = "0".repeat(exp.unsigned_abs() as usize - 1);
            ("0".to_owned(), format!("{zeros}{digits}"))
        } else {
            let point = exp as usize + 1;
            if digits.len() > point {
                (digits[..point].to_owned(), digits[point..].to_owned())
            } else {
                (format!("{digits:0<point$}"), "0".to_owned())
            }
        };
        format!("{sign}{int}.{frac}")
    } else {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{point}e{exp_sign}{:02}", exp.unsigned_abs())
    }
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
            let raw = read_bytes(attr, dtype, len)?;
            ArrayData::Bool(raw.into_iter().map(|b| b != 0).collect())
        }
        TypeDescriptor::Enum(e) => {
            // h5py reads an enum as its integer values.
            let size = e.size as usize;
            let big = matches!(dtype.byte_order(), hdf5::datatype::ByteOrder::BigEndian);
            let raw = read_bytes(attr, dtype, len)?;
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
            let raw = read_bytes(attr, dtype, len)?;
            let strings = raw.chunks(*size).map(|b| {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                lossy(&b[..end])
            });
            // `chunks` of an empty buffer (zero-size strings) yields nothing.
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

/// Reads the attribute's `len` elements in its own (fixed-size) file type, unconverted.
fn read_bytes(
    attr: &hdf5::Attribute,
    dtype: &hdf5::Datatype,
    len: usize,
) -> Result<Vec<u8>, String> {
    let bytes = len
        .checked_mul(dtype.size())
        .ok_or("the attribute is too large")?;
    let mut buf = vec![0_u8; bytes];
    let status = hdf5::sync::sync(|| {
        // SAFETY: both ids are open for the duration of the call; with the attribute's own
        // fixed-size type as memory type, H5Aread writes exactly `len * size` bytes, which
        // `buf` holds.
        unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) }
    });
    if status < 0 {
        return Err("cannot read the attribute data".to_owned());
    }
    Ok(buf)
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

/// A JSON value as Python's `json.loads` reads it (including `NaN`, `Infinity`, `-Infinity`).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    /// An integer; `None` if it exceeds `i64` (Python's ints are unbounded).
    Int(Option<i64>),
    Float(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole document, or `None` where `json.loads` would raise.
    fn parse(s: &str) -> Option<Self> {
        let mut p = Parser {
            s: s.as_bytes(),
            pos: 0,
            depth: 0,
        };
        let value = p.value()?;
        p.ws();
        (p.pos == p.s.len()).then_some(value)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    /// Nesting limit: envelopes are shallow, and this keeps recursion bounded.
    const MAX_DEPTH: usize = 64;

    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.s[self.pos..].starts_with(token.as_bytes());
        if found {
            self.pos += token.len();
        }
        found
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        let c = *self.s.get(self.pos)?;
        match c {
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth > Self::MAX_DEPTH {
                    return None;
                }
                let v = if c == b'{' {
                    self.object()
                } else {
                    self.array()
                };
                self.depth -= 1;
                v
            }
            b'"' => self.string().map(Json::Str),
            _ if self.eat("null") => Some(Json::Null),
            _ if self.eat("true") => Some(Json::Bool(true)),
            _ if self.eat("false") => Some(Json::Bool(false)),
            _ if self.eat("NaN") => Some(Json::Float(f64::NAN)),
            _ if self.eat("Infinity") => Some(Json::Float(f64::INFINITY)),
            _ if self.eat("-Infinity") => Some(Json::Float(f64::NEG_INFINITY)),
            _ => self.number(),
        }
    }

    fn object(&mut self) -> Option<Json> {
        self.pos += 1; // '{'
        let mut fields = Vec::new();
        self.ws();
        if self.eat("}") {
            return Some(Json::Obj(fields));
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(":") {
                return None;
            }
            fields.push((key, self.value()?));
            self.ws();
            if self.eat("}") {
                return Some(Json::Obj(fields));
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn array(&mut self) -> Option<Json> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.ws();
        if self.eat("]") {
            return Some(Json::Arr(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            if self.eat("]") {
                return Some(Json::Arr(items));
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, Python's number grammar.
    fn number(&mut self) -> Option<Json> {
        let start = self.pos;
        self.eat("-");
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.s.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.eat("0") {
            // A leading zero stands alone; "01" fails later as trailing data.
        } else if digits(self) == 0 {
            return None;
        }
        let mut is_float = false;
        if self.s.get(self.pos) == Some(&b'.')
            && self.s.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
        {
            self.pos += 1;
            digits(self);
            is_float = true;
        }
        if matches!(self.s.get(self.pos), Some(b'e' | b'E')) {
            let mark = self.pos;
            self.pos += 1;
            if !self.eat("-") {
                self.eat("+");
            }
            if digits(self) == 0 {
                self.pos = mark; // not an exponent after all
            } else {
                is_float = true;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        if is_float {
            text.parse().ok().map(Json::Float)
        } else {
            Some(Json::Int(text.parse().ok()))
        }
    }

    /// A string literal; Python's strict mode rejects raw control characters.
    fn string(&mut self) -> Option<String> {
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self
                .s
                .get(self.pos)
                .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.pos += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.pos]).ok()?);
            match *self.s.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let c = *self.s.get(self.pos)?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return None,
                    }
                }
                _ => return None, // control character
            }
        }
    }

    /// The code point of `XXXX` after `\u`, joining a UTF-16 surrogate pair. A lone surrogate
    /// (which Python keeps but Rust strings cannot hold) becomes U+FFFD.
    fn unicode_escape(&mut self) -> Option<char> {
        let hex4 = |p: &mut Self| -> Option<u32> {
            let h = p.s.get(p.pos..p.pos + 4)?;
            let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
            if !h.iter().all(u8::is_ascii_hexdigit) {
                return None; // from_str_radix accepts a sign
            }
            p.pos += 4;
            Some(v)
        };
        let high = hex4(self)?;
        if (0xd800..0xdc00).contains(&high) && self.s[self.pos..].starts_with(b"\\u") {
            let mark = self.pos;
            self.pos += 2;
            let low = hex4(self)?;
            if (0xdc00..0xe000).contains(&low) {
                let c = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                return char::from_u32(c);
            }
            self.pos = mark; // not a pair: the next escape stands alone
        }
        Some(char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER))
    }
}
