//! JSON exactly as Python's `json` module writes and reads it: `json.dumps` separators
//! (`", "`, `": "`), `ensure_ascii` escapes, `repr` floats, and the `NaN`, `Infinity`,
//! `-Infinity` tokens. h5py attribute envelopes and the SQLite index both store this text.

/// Appends `s` as a JSON string the way `json.dumps` does by default (`ensure_ascii=True`):
/// everything outside printable ASCII becomes a lowercase `\uXXXX` escape (UTF-16 pairs above
/// U+FFFF).
pub(crate) fn json_str(out: &mut String, s: &str) {
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
pub(crate) fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if is_positional(f) {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = write_positional(&mut out, f);
        return out;
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

/// Whether Python's `repr` writes finite `f` without an exponent (decimal exponent -4..16).
pub(crate) fn is_positional(f: f64) -> bool {
    f == 0.0 || (1e-4..1e16).contains(&f.abs())
}

/// Python's `repr` of an `f` for which [`is_positional`] holds: Rust's shortest round-trip
/// digits, which are Python's, with `.0` on whole numbers.
pub(crate) fn write_positional(out: &mut impl std::fmt::Write, f: f64) -> std::fmt::Result {
    if f.fract() != 0.0 {
        write!(out, "{f}")
    } else if f == 0.0 && f.is_sign_negative() {
        out.write_str("-0.0")
    } else {
        // Exact: a whole number below 1e16 fits an i64 (and `{f:.1}` is much slower).
        write!(out, "{}.0", f as i64)
    }
}

/// A JSON value as Python's `json.loads` reads it (including `NaN`, `Infinity`, `-Infinity`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
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
    /// The text as `json.dumps` writes it.
    pub(crate) fn dump(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null | Json::Int(None) => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(Some(i)) => out.push_str(&i.to_string()),
            Json::Float(f) => out.push_str(&py_float_repr(*f)),
            Json::Str(s) => json_str(out, s),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    json_str(out, key);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
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
            Json::Arr(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A list of strings.
    pub(crate) fn string_list<S: AsRef<str>>(items: &[S]) -> Json {
        Json::Arr(
            items
                .iter()
                .map(|s| Json::Str(s.as_ref().to_owned()))
                .collect(),
        )
    }

    /// Parses a whole document, or `None` where `json.loads` would raise.
    pub(crate) fn parse(s: &str) -> Option<Self> {
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
