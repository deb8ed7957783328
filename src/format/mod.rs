//! Streaming file writers: CSV (RFC 4180), JSON (one array) and NDJSON;
//! Parquet in [`parquet`].

pub mod parquet;

use crate::config::{CsvOptions, Format};
use crate::error::{Error, Result};
use crate::source::decode_refs;
use crate::value::{Value, ValueRef};
use std::io::Write;

/// Writes records one at a time; nothing is buffered beyond the I/O buffer.
pub trait RecordWriter: Send {
    fn write_refs(&mut self, record: &[ValueRef<'_>]) -> Result<()>;

    fn write(&mut self, record: &[Value]) -> Result<()> {
        let refs: Vec<ValueRef<'_>> = record.iter().map(Value::as_ref).collect();
        self.write_refs(&refs)
    }

    /// Writes a record straight from its encoding (the fast path).
    fn write_encoded(&mut self, record: &[u8]) -> Result<()> {
        let mut refs = Vec::new();
        decode_refs(record, &mut refs)?;
        self.write_refs(&refs)
    }

    /// Flushes and closes the file, returning the bytes written.
    fn finish(self: Box<Self>) -> Result<u64>;
}

pub type Output = Box<dyn Write + Send>;

pub fn writer(
    format: Format,
    csv: &CsvOptions,
    columns: &[String],
    out: Output,
) -> Result<Box<dyn RecordWriter>> {
    let out = Counting {
        inner: out,
        bytes: 0,
    };
    Ok(match format {
        Format::Csv => Box::new(CsvWriter::new(csv, columns, out)?),
        Format::Json => Box::new(JsonWriter::new(columns, out, false)),
        Format::Ndjson => Box::new(JsonWriter::new(columns, out, true)),
    })
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("cannot write the output file", e)
}

struct Counting {
    inner: Output,
    bytes: u64,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct CsvWriter {
    w: csv::Writer<Counting>,
    field: String,
}

impl CsvWriter {
    fn new(opts: &CsvOptions, columns: &[String], mut out: Counting) -> Result<Self> {
        if opts.bom {
            out.write_all("\u{feff}".as_bytes()).map_err(write_err)?;
        }
        let mut w = csv::WriterBuilder::new()
            .delimiter(opts.delimiter)
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .buffer_capacity(256 * 1024)
            .from_writer(out);
        if opts.header {
            w.write_record(columns).map_err(csv_err)?;
        }
        Ok(CsvWriter {
            w,
            field: String::new(),
        })
    }
}

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => write_err(io),
        other => Error::Internal(format!("csv writer: {other:?}")),
    }
}

impl RecordWriter for CsvWriter {
    fn write_refs(&mut self, record: &[ValueRef<'_>]) -> Result<()> {
        for v in record {
            self.field.clear();
            v.write_text(&mut self.field);
            self.w.write_field(&self.field).map_err(csv_err)?;
        }
        self.w
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(csv_err)
    }

    fn finish(self: Box<Self>) -> Result<u64> {
        let mut out = self
            .w
            .into_inner()
            .map_err(|e| write_err(std::io::Error::other(e.to_string())))?;
        out.flush().map_err(write_err)?;
        Ok(out.bytes)
    }
}

struct JsonWriter {
    out: std::io::BufWriter<Counting>,
    /// `"name":` for each column, escaped once.
    keys: Vec<Vec<u8>>,
    lines: bool,
    count: u64,
    buf: Vec<u8>,
}

impl JsonWriter {
    fn new(columns: &[String], out: Counting, lines: bool) -> Self {
        let keys = columns
            .iter()
            .map(|c| {
                let mut k = serde_json::to_vec(c).unwrap_or_default();
                k.push(b':');
                k
            })
            .collect();
        JsonWriter {
            out: std::io::BufWriter::with_capacity(256 * 1024, out),
            keys,
            lines,
            count: 0,
            buf: Vec::with_capacity(1024),
        }
    }
}

impl RecordWriter for JsonWriter {
    fn write_refs(&mut self, record: &[ValueRef<'_>]) -> Result<()> {
        let b = &mut self.buf;
        b.clear();
        if !self.lines {
            b.extend_from_slice(if self.count == 0 { b"[\n" } else { b",\n" });
        }
        b.push(b'{');
        for (i, (k, v)) in self.keys.iter().zip(record).enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.extend_from_slice(k);
            v.write_json(b);
        }
        b.push(b'}');
        if self.lines {
            b.push(b'\n');
        }
        self.count += 1;
        self.out.write_all(b).map_err(write_err)
    }

    fn finish(mut self: Box<Self>) -> Result<u64> {
        if !self.lines {
            let tail: &[u8] = if self.count == 0 { b"[]\n" } else { b"\n]\n" };
            self.out.write_all(tail).map_err(write_err)?;
        }
        let mut out = self
            .out
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        out.flush().map_err(write_err)?;
        Ok(out.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn render(format: Format, opts: CsvOptions, rows: &[Vec<Value>]) -> (String, u64) {
        let buf = Shared::default();
        let mut w = writer(
            format,
            &opts,
            &["a".into(), "b".into()],
            Box::new(buf.clone()),
        )
        .unwrap();
        for r in rows {
            w.write(r).unwrap();
        }
        let n = w.finish().unwrap();
        let s = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        (s, n)
    }

    #[test]
    fn csv_quotes_and_counts_bytes() {
        let rows = vec![vec![Value::Text("x;\"y\"\r\nz".into()), Value::Null]];
        let opts = CsvOptions {
            delimiter: b';',
            header: true,
            bom: true,
        };
        let (s, n) = render(Format::Csv, opts, &rows);
        assert_eq!(s, "\u{feff}a;b\r\n\"x;\"\"y\"\"\r\nz\";\r\n");
        assert_eq!(n as usize, s.len());
    }

    #[test]
    fn json_and_ndjson_keep_types() {
        let rows = vec![
            vec![Value::Int(1), Value::Null],
            vec![Value::Float(2.5), Value::Bool(true)],
        ];
        let (s, _) = render(Format::Json, CsvOptions::default(), &rows);
        assert_eq!(s, "[\n{\"a\":1,\"b\":null},\n{\"a\":2.5,\"b\":true}\n]\n");
        let (s, _) = render(Format::Json, CsvOptions::default(), &[]);
        assert_eq!(s, "[]\n");
        let (s, _) = render(Format::Ndjson, CsvOptions::default(), &rows);
        assert_eq!(s, "{\"a\":1,\"b\":null}\n{\"a\":2.5,\"b\":true}\n");
    }
}
