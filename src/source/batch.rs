//! Batches of rows in their encoded form.
//!
//! Sources write each row straight into one byte buffer in the snapshot's
//! record encoding (postcard of `Vec<Value>`), so the hot path allocates
//! nothing per value: hashing, spilling and storing use the bytes as they are,
//! and only rows that end up in a file are decoded.

use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};

/// Encoded rows back to back, with the start of every field.
#[derive(Default)]
pub struct RowBatch {
    data: Vec<u8>,
    /// Start of each row in `data`, plus the end of the last.
    rows: Vec<u32>,
    /// Start of each field, `columns` per row.
    fields: Vec<u32>,
    columns: usize,
}

// Variant indexes of `Value` in postcard's encoding; must follow the enum.
const NULL: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const DECIMAL: u8 = 4;
const TEXT: u8 = 5;
const BYTES: u8 = 6;
const JSON: u8 = 7;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl RowBatch {
    pub fn new(columns: usize, rows: usize) -> Self {
        let mut b = RowBatch {
            data: Vec::with_capacity(rows * (columns * 16 + 2)),
            rows: Vec::with_capacity(rows + 1),
            fields: Vec::with_capacity(rows * columns),
            columns,
        };
        b.rows.push(0);
        b
    }

    /// Empties the batch for reuse, keeping its buffers.
    pub fn reset(&mut self, columns: usize) {
        self.data.clear();
        self.rows.clear();
        self.rows.push(0);
        self.fields.clear();
        self.columns = columns;
    }

    pub fn len(&self) -> usize {
        self.rows.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held, to size batches by memory rather than row count.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Starts a row; push exactly `columns` values, then call `end_row`.
    pub fn begin_row(&mut self) {
        varint(&mut self.data, self.columns as u64);
    }

    fn field(&mut self, tag: u8) {
        self.fields.push(self.data.len() as u32);
        self.data.push(tag);
    }

    pub fn push_null(&mut self) {
        self.field(NULL);
    }

    pub fn push_bool(&mut self, b: bool) {
        self.field(BOOL);
        self.data.push(b as u8);
    }

    pub fn push_int(&mut self, i: i64) {
        self.field(INT);
        varint(&mut self.data, ((i << 1) ^ (i >> 63)) as u64);
    }

    pub fn push_float(&mut self, f: f64) {
        self.field(FLOAT);
        self.data.extend_from_slice(&f.to_le_bytes());
    }

    /// Text that is not valid UTF-8 is repaired with U+FFFD rather than failing the run.
    pub fn push_text(&mut self, t: &[u8]) {
        self.field(TEXT);
        match std::str::from_utf8(t) {
            Ok(s) => {
                varint(&mut self.data, s.len() as u64);
                self.data.extend_from_slice(s.as_bytes());
            }
            Err(_) => {
                let s = String::from_utf8_lossy(t);
                varint(&mut self.data, s.len() as u64);
                self.data.extend_from_slice(s.as_bytes());
            }
        }
    }

    fn string(&mut self, tag: u8, s: &str) {
        self.field(tag);
        varint(&mut self.data, s.len() as u64);
        self.data.extend_from_slice(s.as_bytes());
    }

    /// An exact number as its decimal text (database numerics).
    pub fn push_decimal(&mut self, s: &str) {
        self.string(DECIMAL, s)
    }

    /// A JSON document as its text (database json columns, arrays).
    pub fn push_json(&mut self, s: &str) {
        self.string(JSON, s)
    }

    /// Any borrowed value, without allocating.
    pub fn push_ref(&mut self, v: ValueRef<'_>) {
        match v {
            ValueRef::Null => self.push_null(),
            ValueRef::Bool(b) => self.push_bool(b),
            ValueRef::Int(i) => self.push_int(i),
            ValueRef::Float(f) => self.push_float(f),
            ValueRef::Decimal(s) => self.push_decimal(s),
            ValueRef::Text(s) => self.string(TEXT, s),
            ValueRef::Bytes(b) => self.push_bytes(b),
            ValueRef::Json(s) => self.push_json(s),
        }
    }

    pub fn push_bytes(&mut self, b: &[u8]) {
        self.field(BYTES);
        varint(&mut self.data, b.len() as u64);
        self.data.extend_from_slice(b);
    }

    /// Any other value goes through postcard itself.
    pub fn push_value(&mut self, v: &Value) -> Result<()> {
        self.fields.push(self.data.len() as u32);
        let data = std::mem::take(&mut self.data);
        self.data =
            postcard::to_extend(v, data).map_err(|e| Error::Internal(format!("encode: {e}")))?;
        Ok(())
    }

    pub fn end_row(&mut self) {
        self.rows.push(self.data.len() as u32);
    }

    /// The encoded row (a postcard `Vec<Value>`).
    pub fn row(&self, i: usize) -> &[u8] {
        &self.data[self.rows[i] as usize..self.rows[i + 1] as usize]
    }

    /// The encoded value of column `c` in row `i`.
    pub fn field_bytes(&self, i: usize, c: usize) -> &[u8] {
        let start = self.fields[i * self.columns + c] as usize;
        let end = if c + 1 < self.columns {
            self.fields[i * self.columns + c + 1] as usize
        } else {
            self.rows[i + 1] as usize
        };
        &self.data[start..end]
    }

    pub fn is_null(&self, i: usize, c: usize) -> bool {
        self.field_bytes(i, c).first() == Some(&NULL)
    }

    pub fn decode_row(&self, i: usize) -> Result<Vec<Value>> {
        decode_record(self.row(i))
    }
}

/// Appends the encoding of a key made of the given encoded fields; equal to
/// encoding the key's `Vec<Value>`.
pub fn encode_key<'a>(fields: impl ExactSizeIterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    out.clear();
    varint(out, fields.len() as u64);
    for f in fields {
        out.extend_from_slice(f);
    }
}

pub fn encode_record(values: &[Value], out: &mut Vec<u8>) -> Result<()> {
    out.clear();
    let taken = std::mem::take(out);
    *out =
        postcard::to_extend(values, taken).map_err(|e| Error::Internal(format!("encode: {e}")))?;
    Ok(())
}

/// Decodes a record into borrowed values, without allocating per value.
pub fn decode_refs<'a>(rec: &'a [u8], out: &mut Vec<ValueRef<'a>>) -> Result<()> {
    fn bad() -> Error {
        Error::Internal(format!(
            "a stored record does not decode; {} to start the snapshot afresh",
            crate::hints::RESET.cli
        ))
    }
    fn read_varint(rec: &[u8], at: &mut usize) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = *rec.get(*at).ok_or_else(bad)?;
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(bad())
    }
    fn read_slice<'a>(rec: &'a [u8], at: &mut usize) -> Result<&'a [u8]> {
        let len = read_varint(rec, at)? as usize;
        let s = rec.get(*at..*at + len).ok_or_else(bad)?;
        *at += len;
        Ok(s)
    }
    fn read_str<'a>(rec: &'a [u8], at: &mut usize) -> Result<&'a str> {
        std::str::from_utf8(read_slice(rec, at)?).map_err(|_| bad())
    }
    out.clear();
    let mut at = 0;
    let n = read_varint(rec, &mut at)?;
    for _ in 0..n {
        let tag = read_varint(rec, &mut at)?;
        out.push(match tag {
            0 => ValueRef::Null,
            1 => {
                let b = *rec.get(at).ok_or_else(bad)?;
                at += 1;
                ValueRef::Bool(b != 0)
            }
            2 => {
                let z = read_varint(rec, &mut at)?;
                ValueRef::Int(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            3 => {
                let b = rec.get(at..at + 8).ok_or_else(bad)?;
                at += 8;
                ValueRef::Float(f64::from_le_bytes(b.try_into().map_err(|_| bad())?))
            }
            4 => ValueRef::Decimal(read_str(rec, &mut at)?),
            5 => ValueRef::Text(read_str(rec, &mut at)?),
            6 => ValueRef::Bytes(read_slice(rec, &mut at)?),
            7 => ValueRef::Json(read_str(rec, &mut at)?),
            _ => return Err(bad()),
        });
    }
    Ok(())
}

pub fn decode_record(bytes: &[u8]) -> Result<Vec<Value>> {
    postcard::from_bytes(bytes).map_err(|e| {
        Error::Internal(format!(
            "a stored record does not decode ({e}); {} to start the snapshot afresh",
            crate::hints::RESET.cli
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_postcard_exactly() {
        let rows = vec![
            vec![
                Value::Null,
                Value::Bool(true),
                Value::Int(-3),
                Value::Int(i64::MIN),
                Value::Float(1.5),
                Value::Text("héllo, \"wörld\"".into()),
                Value::Bytes(vec![0, 255, 7]),
                Value::Decimal("12345678901234567890.5".into()),
            ],
            vec![
                Value::Int(i64::MAX),
                Value::Bool(false),
                Value::Null,
                Value::Int(300),
                Value::Float(-0.0),
                Value::Text(String::new()),
                Value::Bytes(vec![1; 200]),
                Value::Json("{\"a\":1}".into()),
            ],
        ];
        let mut b = RowBatch::new(8, 2);
        for r in &rows {
            b.begin_row();
            for v in r {
                match v {
                    Value::Null => b.push_null(),
                    Value::Bool(x) => b.push_bool(*x),
                    Value::Int(x) => b.push_int(*x),
                    Value::Float(x) => b.push_float(*x),
                    Value::Text(x) => b.push_text(x.as_bytes()),
                    Value::Bytes(x) => b.push_bytes(x),
                    Value::Decimal(x) => b.push_decimal(x),
                    Value::Json(x) => b.push_json(x),
                }
            }
            b.end_row();
        }
        assert_eq!(b.len(), 2);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(b.row(i), postcard::to_stdvec(r).unwrap().as_slice());
            assert_eq!(&b.decode_row(i).unwrap(), r);
            let mut refs = Vec::new();
            decode_refs(b.row(i), &mut refs).unwrap();
            assert_eq!(refs, r.iter().map(Value::as_ref).collect::<Vec<_>>());
            let mut key = Vec::new();
            encode_key(
                [b.field_bytes(i, 2), b.field_bytes(i, 7)].into_iter(),
                &mut key,
            );
            assert_eq!(
                key,
                postcard::to_stdvec(&vec![r[2].clone(), r[7].clone()]).unwrap()
            );
        }
        assert!(b.is_null(0, 0) && !b.is_null(0, 1) && b.is_null(1, 2));
    }
}
