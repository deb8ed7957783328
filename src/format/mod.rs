//! Streaming file writers: CSV (RFC 4180), JSON (one array) and NDJSON;
//! Parquet in [`parquet`].

pub mod parquet;

use crate::config::{Compression, CsvOptions, Format};
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

    /// Flushes and closes the file, returning the bytes written (as
    /// stored: compressed when it is).
    fn finish(self: Box<Self>) -> Result<u64>;

    /// The file's data so far, before compression: what a part's byte
    /// limit counts. Exact for the text formats when `encoded_len` was
    /// asked before each record (header and the closing bytes of a JSON
    /// array included); Parquet's is the encoded size of the rows written
    /// and buffered.
    fn data_bytes(&self) -> u64;

    /// What writing `record` would add to `data_bytes`, when the format
    /// can say before writing it (text formats: by encoding it), so that a
    /// part is closed before a row that would take it past its limit.
    fn encoded_len(&mut self, _record: &[ValueRef<'_>]) -> Result<Option<u64>> {
        Ok(None)
    }
}

pub type Output = Box<dyn Write + Send>;

/// How a sync's files are written: the format and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFormat {
    pub format: Format,
    pub csv: CsvOptions,
    pub compression: Compression,
    pub parquet_compression: parquet::ParquetCompression,
}

impl FileFormat {
    pub fn of(sync: &crate::config::SyncSettings) -> FileFormat {
        FileFormat {
            format: sync.format,
            csv: sync.csv.clone(),
            compression: sync.compression,
            parquet_compression: sync.parquet_compression,
        }
    }

    /// Plain output of `format` with default options (previews, tests).
    pub fn plain(format: Format, csv: CsvOptions) -> FileFormat {
        FileFormat {
            format,
            csv,
            compression: Compression::None,
            parquet_compression: Default::default(),
        }
    }
}

/// A writer of `columns`; `types` are the columns' type names as the
/// source declares them (Parquet's column types come from them; see
/// `parquet::column_type_for`).
pub fn writer(
    ff: &FileFormat,
    columns: &[String],
    types: &[Option<String>],
    out: Output,
) -> Result<Box<dyn RecordWriter>> {
    if ff.format == Format::Parquet {
        let cols: Vec<(String, parquet::ColumnType)> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let declared = types.get(i).and_then(|t| t.as_deref());
                (c.clone(), parquet::column_type_for(declared))
            })
            .collect();
        return Ok(Box::new(
            parquet::ParquetWriter::new(&cols, ff.parquet_compression, out)?
                .with_source_types(types),
        ));
    }
    let out = Counting {
        inner: out,
        bytes: 0,
    };
    let sink = match ff.compression {
        Compression::None => Sink::Plain(out),
        Compression::Gzip => Sink::Gzip(Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::default(),
        ))),
    };
    Ok(match ff.format {
        Format::Csv => Box::new(CsvWriter::new(&ff.csv, columns, sink)?),
        Format::Json => Box::new(JsonWriter::new(columns, sink, false)),
        Format::Ndjson | Format::Parquet => Box::new(JsonWriter::new(columns, sink, true)),
    })
}

/// Where a text format's bytes go: the file, or a gzip stream into it;
/// `data` counts what went in before compression.
enum Sink {
    Plain(Counting),
    // Boxed: the encoder's state is large, and one sink lives per file.
    Gzip(Box<flate2::write::GzEncoder<Counting>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

impl Sink {
    /// Ends the stream (gzip's trailer) and returns the bytes stored.
    fn close(self) -> std::io::Result<u64> {
        let mut out = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
        };
        out.flush()?;
        Ok(out.bytes)
    }
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
    w: csv::Writer<Sink>,
    field: String,
    /// Bytes before compression: BOM, header and records.
    data: u64,
    /// Encodes one record to measure it (`encoded_len`), same options.
    measure: csv::Writer<ByteCount>,
    measured: std::sync::Arc<std::sync::atomic::AtomicU64>,
    last_len: Option<u64>,
}

/// Counts the bytes written to it and drops them.
struct ByteCount(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn csv_builder(opts: &CsvOptions) -> csv::WriterBuilder {
    let mut b = csv::WriterBuilder::new();
    b.delimiter(opts.delimiter)
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary);
    b
}

impl CsvWriter {
    fn new(opts: &CsvOptions, columns: &[String], mut out: Sink) -> Result<Self> {
        let mut data = 0;
        if opts.bom {
            out.write_all("\u{feff}".as_bytes()).map_err(write_err)?;
            data += 3;
        }
        let mut w = csv_builder(opts)
            .buffer_capacity(256 * 1024)
            .from_writer(out);
        let measured = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut measure = csv_builder(opts).from_writer(ByteCount(measured.clone()));
        if opts.header {
            w.write_record(columns).map_err(csv_err)?;
            measure.write_record(columns).map_err(csv_err)?;
            measure.flush().map_err(write_err)?;
            data += measured.load(std::sync::atomic::Ordering::Relaxed);
        }
        Ok(CsvWriter {
            w,
            field: String::new(),
            data,
            measure,
            measured,
            last_len: None,
        })
    }

    fn write_fields<W: Write>(
        w: &mut csv::Writer<W>,
        field: &mut String,
        record: &[ValueRef<'_>],
    ) -> Result<()> {
        for v in record {
            field.clear();
            v.write_text(field);
            w.write_field(&*field).map_err(csv_err)?;
        }
        w.write_record(std::iter::empty::<&[u8]>()).map_err(csv_err)
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
        Self::write_fields(&mut self.w, &mut self.field, record)?;
        // csv does not say what a record took; `encoded_len` measured it
        // when parts are cut by size, the only reader of `data_bytes`.
        self.data += self.last_len.take().unwrap_or(0);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<u64> {
        let out = self
            .w
            .into_inner()
            .map_err(|e| write_err(std::io::Error::other(e.to_string())))?;
        out.close().map_err(write_err)
    }

    fn data_bytes(&self) -> u64 {
        self.data
    }

    fn encoded_len(&mut self, record: &[ValueRef<'_>]) -> Result<Option<u64>> {
        let before = self.measured.load(std::sync::atomic::Ordering::Relaxed);
        Self::write_fields(&mut self.measure, &mut self.field, record)?;
        self.measure.flush().map_err(write_err)?;
        let n = self.measured.load(std::sync::atomic::Ordering::Relaxed) - before;
        self.last_len = Some(n);
        Ok(Some(n))
    }
}

struct JsonWriter {
    out: std::io::BufWriter<Sink>,
    /// `"name":` for each column, escaped once.
    keys: Vec<Vec<u8>>,
    lines: bool,
    count: u64,
    buf: Vec<u8>,
    /// Bytes before compression, with the array's closing bytes.
    data: u64,
}

impl JsonWriter {
    fn new(columns: &[String], out: Sink, lines: bool) -> Self {
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
            // An empty array is `[]\n`; with rows it ends in `\n]\n`.
            data: if lines { 0 } else { 3 },
        }
    }

    /// Encodes `record` into `buf`, separator included.
    fn encode(&mut self, record: &[ValueRef<'_>]) {
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
    }
}

impl RecordWriter for JsonWriter {
    fn write_refs(&mut self, record: &[ValueRef<'_>]) -> Result<()> {
        self.encode(record);
        self.count += 1;
        self.data += self.buf.len() as u64;
        self.out.write_all(&self.buf).map_err(write_err)
    }

    fn finish(mut self: Box<Self>) -> Result<u64> {
        if !self.lines {
            let tail: &[u8] = if self.count == 0 { b"[]\n" } else { b"\n]\n" };
            self.out.write_all(tail).map_err(write_err)?;
        }
        let out = self
            .out
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        out.close().map_err(write_err)
    }

    fn data_bytes(&self) -> u64 {
        self.data
    }

    fn encoded_len(&mut self, record: &[ValueRef<'_>]) -> Result<Option<u64>> {
        self.encode(record);
        Ok(Some(self.buf.len() as u64))
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
            &FileFormat::plain(format, opts),
            &["a".into(), "b".into()],
            &[],
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
