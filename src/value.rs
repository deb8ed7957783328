//! The typed values that flow from a source, through mapping, into files and snapshots.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// One cell. Kept small and owned so rows can cross threads in batches.
///
/// The serde representation is the snapshot's on-disk encoding (postcard), so
/// variants may be appended but never reordered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An exact number kept as its decimal text so no digit is lost.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    /// A JSON document kept as its text; embedded as JSON in JSON output.
    Json(String),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the value's type, as shown by `check` and in errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Decimal(_) => "decimal",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Json(_) => "json",
        }
    }

    /// A borrowed view, which the file writers take.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Decimal(s) => ValueRef::Decimal(s),
            Value::Text(s) => ValueRef::Text(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Json(s) => ValueRef::Json(s),
        }
    }

    /// Appends the value as it appears in a CSV field (NULL is the empty field).
    pub fn write_text(&self, out: &mut String) {
        self.as_ref().write_text(out)
    }

    /// The value as text (CSV field, template substitution, error messages).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    /// Appends the value as a JSON value (see [`ValueRef::write_json`]).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.as_ref().write_json(out)
    }

    /// Natural order used to sort rows by key (numbers numerically, text by code point).
    pub fn natural_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        fn rank(v: &Value) -> u8 {
            match v {
                Null => 0,
                Bool(_) => 1,
                Int(_) | Float(_) | Decimal(_) => 2,
                Text(_) | Json(_) => 3,
                Bytes(_) => 4,
            }
        }
        match (self, other) {
            (Int(a), Int(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Text(a) | Json(a), Text(b) | Json(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (a, b) if rank(a) == 2 && rank(b) == 2 => {
                let (x, y) = (a.as_f64(), b.as_f64());
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }

    fn as_f64(&self) -> f64 {
        match self {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Decimal(s) => s.parse().unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }
}

/// Shortest text that reads back as the same float; integral floats keep a `.0`
/// so a reader can tell them from integers.
/// A value borrowed from an encoded record: what the file writers consume, so
/// rows go from the snapshot encoding to text without allocating per value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Decimal(&'a str),
    Text(&'a str),
    Bytes(&'a [u8]),
    Json(&'a str),
}

impl ValueRef<'_> {
    /// An owned copy (for error messages; the hot path stays borrowed).
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Decimal(s) => Value::Decimal(s.to_string()),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::Json(s) => Value::Json(s.to_string()),
        }
    }

    /// Appends the value as it appears in a CSV field (NULL is the empty field).
    pub fn write_text(&self, out: &mut String) {
        match *self {
            ValueRef::Null => {}
            ValueRef::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            ValueRef::Int(i) => {
                let _ = write!(out, "{i}");
            }
            ValueRef::Float(f) => write_float(f, out),
            ValueRef::Decimal(s) | ValueRef::Text(s) | ValueRef::Json(s) => out.push_str(s),
            ValueRef::Bytes(b) => base64::engine::general_purpose::STANDARD.encode_string(b, out),
        }
    }

    /// Appends the value as a JSON value. Types are kept: numbers stay numbers,
    /// NULL is `null`, JSON documents are embedded, bytes become base64 strings.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match *self {
            ValueRef::Null => out.extend_from_slice(b"null"),
            ValueRef::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            ValueRef::Int(i) => {
                let _ = std::io::Write::write_fmt(out, format_args!("{i}"));
            }
            ValueRef::Float(f) if f.is_finite() => {
                let mut s = String::new();
                write_float(f, &mut s);
                out.extend_from_slice(s.as_bytes());
            }
            // JSON has no NaN or infinity.
            ValueRef::Float(_) => out.extend_from_slice(b"null"),
            ValueRef::Decimal(s) | ValueRef::Json(s) => out.extend_from_slice(s.as_bytes()),
            ValueRef::Text(s) => write_json_string(s, out),
            ValueRef::Bytes(b) => {
                let s = base64::engine::general_purpose::STANDARD.encode(b);
                write_json_string(&s, out)
            }
        }
    }
}

fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else {
        let _ = write!(out, "{f:?}");
    }
}

fn write_json_string(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping is correct and fast; reuse it.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Values shown to a person in error messages: strings quoted, others plain.
pub fn display_key(values: &[Value]) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::Text(s) => format!("{s:?}"),
            Value::Null => "NULL".to_string(),
            other => other.to_text(),
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_keep_their_kind_and_precision() {
        assert_eq!(Value::Float(1.0).to_text(), "1.0");
        assert_eq!(Value::Float(0.1).to_text(), "0.1");
        assert_eq!(Value::Float(1e300).to_text(), "1e300");
        let mut j = Vec::new();
        Value::Float(f64::NAN).write_json(&mut j);
        assert_eq!(j, b"null");
    }

    #[test]
    fn natural_order_compares_numbers_across_kinds() {
        assert_eq!(
            Value::Int(2).natural_cmp(&Value::Float(10.0)),
            Ordering::Less
        );
        assert_eq!(
            Value::Text("b".into()).natural_cmp(&Value::Text("a".into())),
            Ordering::Greater
        );
    }

    #[test]
    fn json_escapes_text_and_embeds_documents() {
        let mut j = Vec::new();
        Value::Text("a\"b\n".into()).write_json(&mut j);
        assert_eq!(String::from_utf8(j).unwrap(), r#""a\"b\n""#);
        let mut j = Vec::new();
        Value::Json(r#"{"x":[1]}"#.into()).write_json(&mut j);
        assert_eq!(String::from_utf8(j).unwrap(), r#"{"x":[1]}"#);
    }
}
