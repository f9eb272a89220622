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
        match short_decimal(f) {
            Some((m, k)) => write_decimal(out, f.is_sign_negative(), m, k),
            None => write!(out, "{f}"),
        }
    } else if f == 0.0 && f.is_sign_negative() {
        out.write_str("-0.0")
    } else {
        // Exact: a whole number below 1e16 fits an i64 (and `{f:.1}` is much slower).
        write_decimal(out, f < 0.0, f.abs() as u64 * 10, 1)
    }
}

/// The shortest decimal `m / 10^k` (`k ≥ 1`, at most 9 significant digits) that reads back as
/// `|f|`, if exactly one of that length does; `None` sends the caller to the general (slower)
/// shortest-digits formatting. For `f` with a fractional part below 1e16.
///
/// `m / 10^k` reads back as `|f|` exactly when the division in doubles gives `|f|`: both are
/// exact doubles and division rounds correctly, as reading a decimal does. The integers that
/// can read back as `|f|` lie within one of the rounded `|f| · 10^k` (the product is exact to
/// 1/16 below 2^50): if none of the three does, no decimal with `k` places does.
fn short_decimal(f: f64) -> Option<(u64, u32)> {
    let a = f.abs();
    let mut scale = 1.0;
    for k in 1..=13 {
        scale *= 10.0;
        let m = (a * scale).round();
        if m >= 1e9 {
            return None;
        }
        let reads_back = |m: f64| m >= 0.0 && m / scale == a;
        match (reads_back(m - 1.0), reads_back(m), reads_back(m + 1.0)) {
            (false, false, false) => continue,
            (false, true, false) => return Some((m as u64, k)),
            // Two candidates: which one Python picks needs the exact arithmetic.
            _ => return None,
        }
    }
    None
}

/// Writes `-m / 10^k` (or `m / 10^k`) with `k` places (no point for `k = 0`): what `write!`
/// gives for an integer, without the formatting machinery.
pub(crate) fn write_decimal(
    out: &mut impl std::fmt::Write,
    negative: bool,
    m: u64,
    k: u32,
) -> std::fmt::Result {
    let mut digits = [0u8; 24];
    let mut at = digits.len();
    let mut rest = m;
    for place in 0.. {
        if place == k && k > 0 {
            at -= 1;
            digits[at] = b'.';
        }
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 && place >= k {
            break;
        }
    }
    if negative {
        at -= 1;
        digits[at] = b'-';
    }
    // Only ASCII digits, a point and a sign were written.
    out.write_str(std::str::from_utf8(&digits[at..]).unwrap_or_default())
}

/// `text` (`-?digits.digits`, no exponent) by Clinger's fast path: up to 15 digits make an exact
/// integer, and one division by an exact power of ten rounds once, as reading a decimal does.
/// `None` for anything longer or other.
fn exact_decimal(text: &str) -> Option<f64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.')?;
    if whole.len() + fraction.len() > 15 {
        return None;
    }
    let mut m = 0u64;
    for b in whole.bytes().chain(fraction.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        m = m * 10 + u64::from(b - b'0');
    }
    let f = m as f64 / 10f64.powi(fraction.len() as i32);
    Some(if negative { -f } else { f })
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
            text: s,
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
    text: &'a str,
    /// `text` as bytes.
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
            b'0'..=b'9' => self.number(),
            b'n' => self.eat("null").then_some(Json::Null),
            b't' => self.eat("true").then_some(Json::Bool(true)),
            b'f' => self.eat("false").then_some(Json::Bool(false)),
            b'N' => self.eat("NaN").then_some(Json::Float(f64::NAN)),
            b'I' => self.eat("Infinity").then_some(Json::Float(f64::INFINITY)),
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
        // ASCII on both sides: character boundaries.
        let text = self.text.get(start..self.pos)?;
        if is_float {
            exact_decimal(text)
                .or_else(|| text.parse().ok())
                .map(Json::Float)
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
            // Stops at an ASCII byte or the end: a character boundary.
            out.push_str(self.text.get(start..self.pos)?);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with Rust's shortest round-trip digits (Python's `repr`) wherever
    /// it answers, and answers for short decimals.
    #[test]
    fn short_decimals_match_the_general_formatting() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut answered = 0;
        let mut values = Vec::new();
        for _ in 0..200_000 {
            let r = next();
            // Short decimals at many scales, random doubles, and values near 2^k and 10^k.
            let digits = (r % 1_000_000_000) as f64;
            let places = (r >> 32) % 14;
            values.push(digits / 10f64.powi(places as i32));
            values.push(-(digits + 0.5) / 10f64.powi(places as i32));
            values.push(f64::from_bits(0x3f00_0000_0000_0000 + (r >> 20)));
            values.push((r % 4096) as f64 / 4096.0 + (r >> 40) as f64);
            values.push(0.1 * (r % 1000) as f64);
        }
        for f in values {
            if !is_positional(f) || f.fract() == 0.0 {
                continue;
            }
            let mut fast = String::new();
            write_positional(&mut fast, f).unwrap();
            assert_eq!(fast, format!("{f}"), "{f:e}");
            answered += usize::from(short_decimal(f).is_some());
        }
        assert!(
            answered > 250_000,
            "the fast path answered {answered} times"
        );
    }

    /// Decimals read by the fast path are the doubles Rust's parser reads.
    #[test]
    fn exact_decimals_match_the_general_parser() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut read = 0;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = (state % 10u64.pow((state >> 60) as u32 + 1)).to_string();
            let point = (state >> 40) as usize % (digits.len() + 1);
            let sign = if state & 1 == 0 { "" } else { "-" };
            let whole = if point == 0 { "0" } else { &digits[..point] };
            let text = format!("{sign}{whole}.{}", &digits[point..]);
            let text = if text.ends_with('.') {
                format!("{text}5")
            } else {
                text
            };
            if let Some(f) = exact_decimal(&text) {
                read += 1;
                let expected: f64 = text.parse().unwrap();
                assert_eq!(f.to_bits(), expected.to_bits(), "{text}");
            }
        }
        assert!(read > 150_000, "the fast path read {read} decimals");
        assert_eq!(exact_decimal("1e5"), None);
        assert_eq!(exact_decimal("0.1234567890123456"), None);
    }
}
