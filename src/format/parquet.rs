//! Parquet files, written as the rows stream in.
//!
//! Each output column gets a Parquet type from the type its source declares
//! ([`column_type_for`]). Rows go into Arrow builders; every few thousand
//! rows they become a record batch that the Parquet writer encodes and
//! compresses into the row group in progress, and a row group is closed
//! (written out) every [`ROW_GROUP_ROWS`] rows or once it holds
//! [`ROW_GROUP_BYTES`], so memory stays flat whatever the row count.
//!
//! A value is converted exactly or not at all: a decimal with more places
//! than its column keeps, a timestamp finer than a microsecond, text that is
//! not a date in a DATE column: each is an [`Error::ColumnValue`] naming the
//! column, the value and the column's type, never a silently changed value.

use super::{write_err, Counting, Output, RecordWriter};
use crate::error::{Error, Result};
use crate::value::ValueRef;
use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use ::parquet::errors::ParquetError;
use ::parquet::file::properties::WriterProperties;
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{Datelike as _, NaiveDate};
use std::fmt;
use std::io::Write as _;
use std::sync::Arc;

/// A row group is closed at this many rows...
pub const ROW_GROUP_ROWS: usize = 65_536;
/// ...or once the writer holds this many bytes for it, whichever comes first.
pub const ROW_GROUP_BYTES: usize = 64 << 20;
/// Rows are handed to the Parquet writer in record batches of this many
/// rows, or fewer once the builders hold [`BATCH_BYTES`].
const BATCH_ROWS: usize = 8_192;
const BATCH_BYTES: usize = 8 << 20;

/// The largest precision of a Parquet (and Arrow Decimal128) decimal.
const MAX_DECIMAL_PRECISION: u8 = 38;

/// The Parquet type of an output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    Int64,
    Float64,
    /// UTF-8 text; any value can be written as its text.
    Text,
    Binary,
    /// Days since 1970-01-01.
    Date,
    /// Microseconds since 1970-01-01T00:00:00Z; a timestamp without an
    /// offset is taken as UTC.
    TimestampMicrosUtc,
    /// An exact number: `precision` digits in all, `scale` of them after
    /// the point (0 <= scale <= precision <= 38).
    Decimal {
        precision: u8,
        scale: i8,
    },
    /// A JSON document, as UTF-8 text with Parquet's JSON logical type.
    Json,
}

impl ColumnType {
    fn data_type(self) -> DataType {
        match self {
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Text | ColumnType::Json => DataType::Utf8,
            ColumnType::Binary => DataType::Binary,
            ColumnType::Date => DataType::Date32,
            ColumnType::TimestampMicrosUtc => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            ColumnType::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
        }
    }

    fn field(self, name: &str) -> Field {
        let field = Field::new(name, self.data_type(), true);
        match self {
            ColumnType::Json => field.with_extension_type(arrow_schema::extension::Json::default()),
            _ => field,
        }
    }

    /// What a value of this type is, for "... is not a timestamp".
    fn noun(self) -> &'static str {
        match self {
            ColumnType::Boolean => "a boolean",
            ColumnType::Int64 => "a 64-bit integer",
            ColumnType::Float64 => "a number",
            ColumnType::Text | ColumnType::Json => "text",
            ColumnType::Binary => "binary data",
            ColumnType::Date => "a date (YYYY-MM-DD)",
            ColumnType::TimestampMicrosUtc => "a timestamp",
            ColumnType::Decimal { .. } => "a number",
        }
    }
}

/// The type as Parquet names it: `INT64`, `TIMESTAMP`, `DECIMAL(10,2)`.
impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Boolean => f.write_str("BOOLEAN"),
            ColumnType::Int64 => f.write_str("INT64"),
            ColumnType::Float64 => f.write_str("DOUBLE"),
            ColumnType::Text => f.write_str("STRING"),
            ColumnType::Binary => f.write_str("BINARY"),
            ColumnType::Date => f.write_str("DATE"),
            ColumnType::TimestampMicrosUtc => f.write_str("TIMESTAMP"),
            ColumnType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            ColumnType::Json => f.write_str("JSON"),
        }
    }
}

/// The Parquet type for a column whose source declares `declared`
/// (`Column::declared_type`): PostgreSQL's type names (`int4`,
/// `timestamptz`, `numeric`, `int4[]`), the labels the MySQL source gives
/// (`bigint unsigned`, `tinyint(1)`, `datetime`), and SQLite's declared
/// types, which can be anything and are read by SQLite's affinity rules
/// (`UNSIGNED BIG INT` is an integer, `VARYING CHARACTER(20)` text).
/// Unknown or none is text, which every value can be written as.
pub fn column_type_for(declared: Option<&str>) -> ColumnType {
    let Some(declared) = declared else {
        return ColumnType::Text;
    };
    let lower = declared.trim().to_ascii_lowercase();
    // PostgreSQL arrays arrive as JSON documents.
    if lower.ends_with("[]") {
        return ColumnType::Json;
    }
    // `numeric(10, 2)`, `timestamp(3) with time zone`, `int(11) unsigned`:
    // the name's words, and what stands in the parentheses.
    let (words, args) = match (lower.find('('), lower.find(')')) {
        (Some(open), Some(close)) if open < close => (
            format!("{} {}", &lower[..open], &lower[close + 1..]),
            Some(lower[open + 1..close].replace(' ', "")),
        ),
        _ => (lower.clone(), None),
    };
    let words: Vec<&str> = words.split_whitespace().collect();
    let name = words.join(" ");
    let unsigned = words.contains(&"unsigned");
    let base = words
        .iter()
        .filter(|w| !matches!(**w, "unsigned" | "signed" | "zerofill"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let args = args.as_deref();
    match base.as_str() {
        "bool" | "boolean" => ColumnType::Boolean,
        // MySQL's BOOLEAN is TINYINT(1); BIT(1) is one bit.
        "tinyint" | "bit" if args == Some("1") => ColumnType::Boolean,
        // An unsigned BIGINT (and a BIT(64)) can pass i64::MAX, which the
        // MySQL source hands over as a decimal: 20 digits hold any u64.
        "bigint" | "int8" | "bit" if unsigned || base == "bit" => ColumnType::Decimal {
            precision: 20,
            scale: 0,
        },
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "int2" | "int4"
        | "int8" | "smallserial" | "serial" | "bigserial" | "serial2" | "serial4" | "serial8"
        | "year" | "oid" | "xid" | "cid" | "regproc" | "regclass" | "regtype" => ColumnType::Int64,
        "real" | "float" | "float4" | "float8" | "double" | "double precision" => {
            ColumnType::Float64
        }
        "numeric" | "decimal" | "dec" => decimal(args),
        "date" => ColumnType::Date,
        "datetime"
        | "timestamp"
        | "timestamptz"
        | "timestamp with time zone"
        | "timestamp without time zone" => ColumnType::TimestampMicrosUtc,
        "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary"
        | "geometry" => ColumnType::Binary,
        "json" | "jsonb" => ColumnType::Json,
        // Named types whose values are text (or would be misread by the
        // affinity rules below: `interval` contains "int", `point` too).
        "text"
        | "varchar"
        | "char"
        | "character"
        | "character varying"
        | "bpchar"
        | "name"
        | "uuid"
        | "time"
        | "timetz"
        | "time with time zone"
        | "time without time zone"
        | "interval"
        | "inet"
        | "cidr"
        | "xml"
        | "citext"
        | "enum"
        | "set"
        | "clob"
        | "string"
        | "point" => ColumnType::Text,
        _ => affinity(&name),
    }
}

/// `numeric(p,s)` / `decimal(p)` as a Parquet decimal. Without a declared
/// precision the column stays text: PostgreSQL's bare `numeric` holds up to
/// 131,072 digits before the point and 16,383 after, and the MySQL source's
/// `decimal` label carries no precision, so no DECIMAL(p,s) is sure to hold
/// every value, and a DOUBLE would round them; text keeps every digit. So
/// does a precision past Parquet's 38.
fn decimal(args: Option<&str>) -> ColumnType {
    let Some(args) = args else {
        return ColumnType::Text;
    };
    let (p, s) = match args.split_once(',') {
        Some((p, s)) => (p.parse::<i32>(), s.parse::<i32>()),
        None => (args.parse::<i32>(), Ok(0)),
    };
    let (Ok(p), Ok(s)) = (p, s) else {
        return ColumnType::Text;
    };
    // PostgreSQL 15 allows a scale below 0 (`numeric(5,-2)` rounds to
    // hundreds) or above the precision (`numeric(2,5)`: 0.000xy); Parquet
    // wants 0 <= scale <= precision, and these hold the same values.
    let (p, s) = if s < 0 { (p - s, 0) } else { (p.max(s), s) };
    if p < 1 || p > MAX_DECIMAL_PRECISION as i32 {
        return ColumnType::Text;
    }
    ColumnType::Decimal {
        precision: p as u8,
        scale: s as i8,
    }
}

/// SQLite's column affinity (https://sqlite.org/datatype3.html, 3.1) for a
/// name nothing above knows: "INT" anywhere is an integer, "CHAR", "CLOB" or
/// "TEXT" text, "BLOB" binary, "REAL", "FLOA" or "DOUB" a float; NUMERIC
/// affinity stays text (see [`decimal`]). Names with an underscore or a dot
/// are PostgreSQL's user types (enums, domains, `schema.type`), not SQLite
/// declarations, and stay text: an enum `print_status` is not an integer.
fn affinity(name: &str) -> ColumnType {
    if name.contains(['_', '.', '"']) {
        return ColumnType::Text;
    }
    if name.contains("int") {
        ColumnType::Int64
    } else if ["char", "clob", "text"].iter().any(|w| name.contains(w)) {
        ColumnType::Text
    } else if name.contains("blob") {
        ColumnType::Binary
    } else if ["real", "floa", "doub"].iter().any(|w| name.contains(w)) {
        ColumnType::Float64
    } else {
        ColumnType::Text
    }
}

/// The codec of the file's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCompression {
    #[default]
    Snappy,
    Zstd,
    Gzip,
    None,
}

impl ParquetCompression {
    fn codec(self) -> Compression {
        match self {
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
            ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCompression::None => Compression::UNCOMPRESSED,
        }
    }
}

/// One column's values of the batch in progress.
enum Builder {
    Boolean(BooleanBuilder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Text(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Decimal(Decimal128Builder),
}

impl Builder {
    fn new(ty: ColumnType) -> Builder {
        match ty {
            ColumnType::Boolean => Builder::Boolean(BooleanBuilder::new()),
            ColumnType::Int64 => Builder::Int64(Int64Builder::new()),
            ColumnType::Float64 => Builder::Float64(Float64Builder::new()),
            ColumnType::Text | ColumnType::Json => Builder::Text(StringBuilder::new()),
            ColumnType::Binary => Builder::Binary(BinaryBuilder::new()),
            ColumnType::Date => Builder::Date(Date32Builder::new()),
            ColumnType::TimestampMicrosUtc => {
                Builder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnType::Decimal { precision, scale } => Builder::Decimal(
                Decimal128Builder::new()
                    .with_precision_and_scale(precision, scale)
                    // Checked in `ParquetWriter::new`.
                    .unwrap_or_default(),
            ),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Boolean(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Binary(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
            Builder::Decimal(b) => Arc::new(b.finish()),
        }
    }
}

/// A value converted for its column, before it is appended: a row is
/// converted whole first, so a value that fails leaves no column of the
/// row appended and the builders stay aligned.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Days(i32),
    Decimal(i128),
    /// Appended from the value itself (text, JSON, bytes).
    AsIs,
}

struct ColumnSpec {
    name: String,
    ty: ColumnType,
    /// The source's declared type, for error messages.
    declared: Option<String>,
}

/// Writes rows into a Parquet file: see the module's documentation.
pub struct ParquetWriter {
    writer: ArrowWriter<Counting>,
    schema: SchemaRef,
    columns: Vec<ColumnSpec>,
    builders: Vec<Builder>,
    cells: Vec<Cell>,
    /// A value's text, for a text column given a number or bytes.
    text: String,
    batch_rows: usize,
    batch_bytes: usize,
    row_group_bytes: usize,
}

impl ParquetWriter {
    pub fn new(
        columns: &[(String, ColumnType)],
        compression: ParquetCompression,
        out: Output,
    ) -> Result<Self> {
        Self::with_limits(columns, compression, out, ROW_GROUP_ROWS, ROW_GROUP_BYTES)
    }

    /// Names each column's source type (`Column::declared_type`, in column
    /// order) in the errors of values that do not convert.
    pub fn with_source_types(mut self, declared: &[Option<String>]) -> Self {
        for (c, d) in self.columns.iter_mut().zip(declared) {
            c.declared = d.clone();
        }
        self
    }

    fn with_limits(
        columns: &[(String, ColumnType)],
        compression: ParquetCompression,
        out: Output,
        row_group_rows: usize,
        row_group_bytes: usize,
    ) -> Result<Self> {
        for (name, ty) in columns {
            if let ColumnType::Decimal { precision, scale } = *ty {
                if !(1..=MAX_DECIMAL_PRECISION).contains(&precision)
                    || scale < 0
                    || scale as u8 > precision
                {
                    return Err(Error::Internal(format!(
                        "column {name:?}: a Parquet DECIMAL({precision},{scale}) cannot be written; \
                         it needs 0 <= scale <= precision <= 38"
                    )));
                }
            }
        }
        let schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, ty)| ty.field(name))
                .collect::<Vec<_>>(),
        ));
        let props = WriterProperties::builder()
            .set_compression(compression.codec())
            .set_max_row_group_row_count(Some(row_group_rows.max(1)))
            .set_max_row_group_bytes(Some(row_group_bytes.max(1)))
            .set_created_by(format!("dropsync {}", env!("CARGO_PKG_VERSION")))
            .build();
        let out = Counting {
            inner: out,
            bytes: 0,
        };
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(parquet_err)?;
        Ok(ParquetWriter {
            writer,
            schema,
            columns: columns
                .iter()
                .map(|(name, ty)| ColumnSpec {
                    name: name.clone(),
                    ty: *ty,
                    declared: None,
                })
                .collect(),
            builders: columns.iter().map(|(_, ty)| Builder::new(*ty)).collect(),
            cells: Vec::with_capacity(columns.len()),
            text: String::new(),
            batch_rows: 0,
            batch_bytes: 0,
            row_group_bytes,
        })
    }

    /// Hands the rows in the builders to the Parquet writer, and closes the
    /// row group in progress once it holds too many bytes (the writer
    /// closes it at the row limit itself).
    fn write_batch(&mut self) -> Result<()> {
        if self.batch_rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| Error::Internal(format!("parquet record batch: {e}")))?;
        self.batch_rows = 0;
        self.batch_bytes = 0;
        self.writer.write(&batch).map_err(parquet_err)?;
        if self.writer.memory_size() >= self.row_group_bytes {
            self.writer.flush().map_err(parquet_err)?;
        }
        Ok(())
    }
}

impl RecordWriter for ParquetWriter {
    fn write_refs(&mut self, record: &[ValueRef<'_>]) -> Result<()> {
        if record.len() != self.columns.len() {
            return Err(Error::Internal(format!(
                "parquet writer: a row of {} values for {} columns",
                record.len(),
                self.columns.len()
            )));
        }
        self.cells.clear();
        for (c, v) in self.columns.iter().zip(record) {
            self.cells.push(convert(c, *v)?);
        }
        for ((b, cell), v) in self.builders.iter_mut().zip(&self.cells).zip(record) {
            self.batch_bytes += append(b, *cell, *v, &mut self.text);
        }
        self.batch_rows += 1;
        if self.batch_rows >= BATCH_ROWS || self.batch_bytes >= BATCH_BYTES {
            self.write_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.write_batch()?;
        let mut out = self.writer.into_inner().map_err(parquet_err)?;
        out.flush().map_err(write_err)?;
        Ok(out.bytes)
    }

    fn data_bytes(&self) -> u64 {
        (self.writer.bytes_written() + self.writer.in_progress_size() + self.batch_bytes) as u64
    }
}

fn parquet_err(e: ParquetError) -> Error {
    match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => write_err(*io),
            Err(other) => Error::Internal(format!("parquet writer: {other}")),
        },
        other => Error::Internal(format!("parquet writer: {other}")),
    }
}

/// Appends a converted value; returns about how many bytes it takes.
fn append(b: &mut Builder, cell: Cell, v: ValueRef<'_>, text: &mut String) -> usize {
    match (b, cell) {
        (Builder::Boolean(b), Cell::Bool(x)) => b.append_value(x),
        (Builder::Int64(b), Cell::Int(x)) => b.append_value(x),
        (Builder::Float64(b), Cell::Float(x)) => b.append_value(x),
        (Builder::Date(b), Cell::Days(x)) => b.append_value(x),
        (Builder::Timestamp(b), Cell::Int(x)) => b.append_value(x),
        (Builder::Decimal(b), Cell::Decimal(x)) => {
            b.append_value(x);
            return 16;
        }
        (Builder::Text(b), Cell::AsIs) => {
            return match v {
                ValueRef::Text(s) | ValueRef::Json(s) | ValueRef::Decimal(s) => {
                    b.append_value(s);
                    s.len() + 4
                }
                other => {
                    text.clear();
                    other.write_text(text);
                    b.append_value(&*text);
                    text.len() + 4
                }
            };
        }
        (Builder::Binary(b), Cell::AsIs) => {
            let bytes = match v {
                ValueRef::Bytes(bytes) => bytes,
                ValueRef::Text(s) | ValueRef::Json(s) | ValueRef::Decimal(s) => s.as_bytes(),
                _ => &[],
            };
            b.append_value(bytes);
            return bytes.len() + 4;
        }
        (b, _) => {
            // Cell::Null (a mismatch cannot happen: `convert` made the cell
            // for this column's type).
            match b {
                Builder::Boolean(b) => b.append_null(),
                Builder::Int64(b) => b.append_null(),
                Builder::Float64(b) => b.append_null(),
                Builder::Text(b) => b.append_null(),
                Builder::Binary(b) => b.append_null(),
                Builder::Date(b) => b.append_null(),
                Builder::Timestamp(b) => b.append_null(),
                Builder::Decimal(b) => b.append_null(),
            }
            return 1;
        }
    }
    8
}

/// Converts one value for its column, or says why it cannot.
fn convert(c: &ColumnSpec, v: ValueRef<'_>) -> Result<Cell> {
    if v == ValueRef::Null {
        return Ok(Cell::Null);
    }
    let fail = |problem: Problem| Err(value_error(c, v, problem));
    Ok(match c.ty {
        ColumnType::Text | ColumnType::Json => Cell::AsIs,
        ColumnType::Binary => match v {
            ValueRef::Bytes(_) | ValueRef::Text(_) | ValueRef::Json(_) => Cell::AsIs,
            _ => return fail(Problem::NotA),
        },
        ColumnType::Boolean => match v {
            ValueRef::Bool(b) => Cell::Bool(b),
            ValueRef::Int(0) => Cell::Bool(false),
            ValueRef::Int(1) => Cell::Bool(true),
            ValueRef::Text(s) | ValueRef::Decimal(s) => {
                match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "t" | "1" => Cell::Bool(true),
                    "false" | "f" | "0" => Cell::Bool(false),
                    _ => return fail(Problem::NotA),
                }
            }
            _ => return fail(Problem::NotA),
        },
        ColumnType::Int64 => match v {
            ValueRef::Int(i) => Cell::Int(i),
            // Exact only: 3.0 is 3, 3.5 is not an integer.
            ValueRef::Float(f)
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
            {
                Cell::Int(f as i64)
            }
            ValueRef::Text(s) | ValueRef::Decimal(s) => match parse_decimal(s, 38, 0) {
                Ok(n) => match i64::try_from(n) {
                    Ok(i) => Cell::Int(i),
                    Err(_) => return fail(Problem::OutOfRange),
                },
                Err(DecimalProblem::TooManyDigits) => return fail(Problem::OutOfRange),
                Err(_) => return fail(Problem::NotA),
            },
            _ => return fail(Problem::NotA),
        },
        ColumnType::Float64 => match v {
            ValueRef::Float(f) => Cell::Float(f),
            ValueRef::Int(i) => Cell::Float(i as f64),
            ValueRef::Text(s) | ValueRef::Decimal(s) => match s.trim().parse::<f64>() {
                Ok(f) => Cell::Float(f),
                Err(_) => return fail(Problem::NotA),
            },
            _ => return fail(Problem::NotA),
        },
        ColumnType::Decimal { precision, scale } => {
            let mut buf = String::new();
            let text = match v {
                ValueRef::Text(s) | ValueRef::Decimal(s) => s,
                ValueRef::Int(_) | ValueRef::Float(_) => {
                    // A float through its shortest exact text: 12.5 is
                    // "12.5", 0.1 + 0.2 "0.30000000000000004".
                    v.write_text(&mut buf);
                    &buf
                }
                _ => return fail(Problem::NotA),
            };
            match parse_decimal(text, precision, scale.max(0) as u8) {
                Ok(n) => Cell::Decimal(n),
                Err(DecimalProblem::NotANumber) => return fail(Problem::NotA),
                Err(DecimalProblem::TooManyPlaces) => return fail(Problem::TooManyPlaces),
                Err(DecimalProblem::TooManyDigits) => return fail(Problem::TooManyDigits),
            }
        }
        ColumnType::Date => match v {
            ValueRef::Text(s) => match parse_date(s.trim()) {
                Some(d) => match i32::try_from(days_since_epoch(d)) {
                    Ok(days) => Cell::Days(days),
                    Err(_) => return fail(Problem::OutOfRange),
                },
                None => return fail(Problem::NotA),
            },
            _ => return fail(Problem::NotA),
        },
        ColumnType::TimestampMicrosUtc => match v {
            ValueRef::Text(s) => match parse_timestamp(s.trim()) {
                Ok(micros) => Cell::Int(micros),
                Err(p) => return fail(p),
            },
            _ => return fail(Problem::NotA),
        },
    })
}

/// Why a value does not fit its column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Problem {
    /// Not a value of the column's kind at all.
    NotA,
    OutOfRange,
    /// More decimal places than the column's scale.
    TooManyPlaces,
    /// More digits than the column's precision.
    TooManyDigits,
    /// A time finer than a microsecond.
    TooPrecise,
}

fn value_error(c: &ColumnSpec, v: ValueRef<'_>, problem: Problem) -> Error {
    let value = shown(v);
    let ty = c.ty;
    let what = match (problem, ty) {
        (Problem::NotA, _) => format!("is not {}", ty.noun()),
        (Problem::OutOfRange, ColumnType::Int64) => "is out of range for a 64-bit integer".into(),
        (Problem::OutOfRange, _) => format!("is out of range for a Parquet {ty}"),
        (Problem::TooManyPlaces, ColumnType::Decimal { scale, .. }) => {
            format!("has more decimal places than the column's {scale}")
        }
        (Problem::TooManyDigits, ColumnType::Decimal { precision, .. }) => {
            format!("has more digits than the column's {precision}")
        }
        (Problem::TooPrecise, _) => "is more precise than a microsecond".into(),
        (_, _) => format!("does not fit a Parquet {ty}"),
    };
    let from = match &c.declared {
        Some(d) => format!(" from the source type {d:?}"),
        None => String::new(),
    };
    let fix = match problem {
        Problem::TooManyPlaces => "round it in the query",
        _ => "cast it in the query",
    };
    Error::ColumnValue {
        row: None,
        column: c.name.clone(),
        message: format!(
            "{value} {what} (the Parquet column is {ty}{from}); {fix} or {}",
            crate::hints::MAP_AS_TEXT.cli
        ),
    }
}

/// A value as an error message quotes it: text quoted and cut at 80
/// characters, numbers as they are, bytes by their length.
fn shown(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(s) | ValueRef::Decimal(s) | ValueRef::Json(s) => {
            match s.char_indices().nth(80) {
                Some((cut, _)) => format!("{:?}...", &s[..cut]),
                None => format!("{s:?}"),
            }
        }
        ValueRef::Bytes(b) => format!("a {}-byte binary value", b.len()),
        ValueRef::Null => "NULL".into(),
        other => {
            let mut s = String::new();
            other.write_text(&mut s);
            s
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DecimalProblem {
    NotANumber,
    TooManyPlaces,
    TooManyDigits,
}

/// `-12.50`, `1e3`, `.5` as the integer `value * 10^scale`, exactly:
/// trailing zeros after the point are dropped (12.50 fits a scale of 1),
/// any other digit past `scale` places is an error, never rounded.
fn parse_decimal(s: &str, precision: u8, scale: u8) -> Result<i128, DecimalProblem> {
    use DecimalProblem::*;
    let s = s.trim();
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (
            &body[..i],
            body[i + 1..].parse::<i32>().map_err(|_| NotANumber)?,
        ),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(NotANumber);
    }
    let frac = frac_part.trim_end_matches('0');
    let digits = int_part
        .bytes()
        .chain(frac.bytes())
        .skip_while(|b| *b == b'0');
    let mut n: i128 = 0;
    let mut count: i64 = 0;
    for d in digits {
        count += 1;
        if count > MAX_DECIMAL_PRECISION as i64 {
            return Err(TooManyDigits);
        }
        n = n * 10 + (d - b'0') as i128;
    }
    if n == 0 {
        return Ok(0);
    }
    // The value is n * 10^-places.
    let places = frac.len() as i64 - exponent as i64;
    if places > scale as i64 {
        return Err(TooManyPlaces);
    }
    for _ in 0..(scale as i64 - places) {
        n = n.checked_mul(10).ok_or(TooManyDigits)?;
    }
    if n >= 10i128.pow(precision as u32) {
        return Err(TooManyDigits);
    }
    Ok(if negative { -n } else { n })
}

fn days_since_epoch(d: NaiveDate) -> i64 {
    // 719,163 days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
    d.num_days_from_ce() as i64 - 719_163
}

/// Reads `n` ASCII digits from the front of `s`.
fn digits(s: &mut &[u8], n: usize) -> Option<u32> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s[..n].iter().fold(0u32, |v, b| v * 10 + (b - b'0') as u32);
    *s = &s[n..];
    Some(v)
}

fn expect(s: &mut &[u8], c: u8) -> Option<()> {
    match s.split_first() {
        Some((first, rest)) if *first == c => {
            *s = rest;
            Some(())
        }
        _ => None,
    }
}

/// `YYYY-MM-DD` at the front of `s` (a year of four digits or more, with
/// an optional sign, as chrono and PostgreSQL write years past 9999).
fn date_prefix(s: &mut &[u8]) -> Option<NaiveDate> {
    let negative = match s.first() {
        Some(b'-') => {
            *s = &s[1..];
            true
        }
        Some(b'+') => {
            *s = &s[1..];
            false
        }
        _ => false,
    };
    let year_len = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(4..=6).contains(&year_len) {
        return None;
    }
    let year = digits(s, year_len)? as i32;
    expect(s, b'-')?;
    let month = digits(s, 2)?;
    expect(s, b'-')?;
    let day = digits(s, 2)?;
    NaiveDate::from_ymd_opt(if negative { -year } else { year }, month, day)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut b = s.as_bytes();
    let d = date_prefix(&mut b)?;
    b.is_empty().then_some(d)
}

/// ISO 8601 date and time as microseconds since 1970-01-01T00:00:00Z:
/// `T` or a space between them, seconds and their fraction optional, an
/// offset (`Z`, `+02:00`, `+0200`, `+02`) optional and UTC without one. A
/// date alone is its midnight.
fn parse_timestamp(s: &str) -> Result<i64, Problem> {
    let mut b = s.as_bytes();
    let date = date_prefix(&mut b).ok_or(Problem::NotA)?;
    let mut micros_of_day: i64 = 0;
    if let Some((sep, rest)) = b.split_first() {
        if !matches!(sep, b'T' | b't' | b' ') {
            return Err(Problem::NotA);
        }
        b = rest;
        let hour = digits(&mut b, 2).ok_or(Problem::NotA)?;
        expect(&mut b, b':').ok_or(Problem::NotA)?;
        let minute = digits(&mut b, 2).ok_or(Problem::NotA)?;
        let mut second = 0;
        let mut fraction = 0;
        if expect(&mut b, b':').is_some() {
            second = digits(&mut b, 2).ok_or(Problem::NotA)?;
            if expect(&mut b, b'.').is_some() {
                let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return Err(Problem::NotA);
                }
                let (kept, rest) = b[..n].split_at(n.min(6));
                if rest.iter().any(|c| *c != b'0') {
                    return Err(Problem::TooPrecise);
                }
                fraction = kept.iter().fold(0i64, |v, c| v * 10 + (c - b'0') as i64)
                    * 10i64.pow(6 - kept.len() as u32);
                b = &b[n..];
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(Problem::NotA);
        }
        micros_of_day =
            (hour as i64 * 3600 + minute as i64 * 60 + second as i64) * 1_000_000 + fraction;
        // The offset, maybe after a space.
        if b.first() == Some(&b' ') {
            b = &b[1..];
        }
        match b.split_first() {
            None => {}
            Some((b'Z' | b'z', rest)) if rest.is_empty() => b = rest,
            Some((sign @ (b'+' | b'-'), rest)) => {
                b = rest;
                let hours = digits(&mut b, 2).ok_or(Problem::NotA)?;
                let _ = expect(&mut b, b':');
                let minutes = if b.is_empty() {
                    0
                } else {
                    digits(&mut b, 2).ok_or(Problem::NotA)?
                };
                if !b.is_empty() || hours > 23 || minutes > 59 {
                    return Err(Problem::NotA);
                }
                let east = (hours as i64 * 60 + minutes as i64) * 60_000_000;
                micros_of_day -= if *sign == b'+' { east } else { -east };
            }
            Some(_) => return Err(Problem::NotA),
        }
        if !b.is_empty() {
            return Err(Problem::NotA);
        }
    }
    days_since_epoch(date)
        .checked_mul(86_400_000_000)
        .and_then(|m| m.checked_add(micros_of_day))
        .ok_or(Problem::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use ::parquet::file::metadata::ParquetMetaData;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, Int64Type};
    use arrow_array::Array;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn cols(columns: &[(&str, ColumnType)]) -> Vec<(String, ColumnType)> {
        columns.iter().map(|(n, t)| (n.to_string(), *t)).collect()
    }

    /// Writes the rows and returns the file and the byte count `finish` gave.
    fn write_file(
        writer: Result<ParquetWriter>,
        buf: &Shared,
        rows: &[Vec<Value>],
    ) -> (bytes::Bytes, u64) {
        let mut w: Box<dyn RecordWriter> = Box::new(writer.unwrap());
        for r in rows {
            w.write(r).unwrap();
        }
        let n = w.finish().unwrap();
        let file = bytes::Bytes::from(buf.0.lock().unwrap().clone());
        (file, n)
    }

    fn write(
        columns: &[(&str, ColumnType)],
        compression: ParquetCompression,
        rows: &[Vec<Value>],
    ) -> (bytes::Bytes, u64) {
        let buf = Shared::default();
        let w = ParquetWriter::new(&cols(columns), compression, Box::new(buf.clone()));
        write_file(w, &buf, rows)
    }

    fn read(file: bytes::Bytes) -> (Arc<ParquetMetaData>, Vec<RecordBatch>) {
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let meta = builder.metadata().clone();
        let batches = builder
            .build()
            .unwrap()
            .collect::<std::result::Result<Vec<_>, _>>()
            .unwrap();
        (meta, batches)
    }

    /// Every cell as text: dates and timestamps in ISO 8601, bytes in hex.
    fn render(batches: &[RecordBatch]) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for batch in batches {
            for i in 0..batch.num_rows() {
                let row = batch
                    .columns()
                    .iter()
                    .map(|col| {
                        if col.is_null(i) {
                            return "NULL".to_string();
                        }
                        match col.data_type() {
                            DataType::Boolean => col.as_boolean().value(i).to_string(),
                            DataType::Int64 => col.as_primitive::<Int64Type>().value(i).to_string(),
                            DataType::Float64 => format!(
                                "{:?}",
                                col.as_primitive::<arrow_array::types::Float64Type>()
                                    .value(i)
                            ),
                            DataType::Utf8 => col.as_string::<i32>().value(i).to_string(),
                            DataType::Binary => col
                                .as_binary::<i32>()
                                .value(i)
                                .iter()
                                .map(|b| format!("{b:02x}"))
                                .collect(),
                            DataType::Date32 => {
                                let days = col
                                    .as_primitive::<arrow_array::types::Date32Type>()
                                    .value(i);
                                NaiveDate::from_ymd_opt(1970, 1, 1)
                                    .unwrap()
                                    .checked_add_signed(chrono::TimeDelta::days(days as i64))
                                    .unwrap()
                                    .to_string()
                            }
                            DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
                                if tz.as_ref() == "UTC" =>
                            {
                                let m = col
                                    .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                                    .value(i);
                                chrono::DateTime::from_timestamp_micros(m)
                                    .unwrap()
                                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                                    .to_string()
                            }
                            DataType::Decimal128(..) => {
                                col.as_primitive::<Decimal128Type>().value_as_string(i)
                            }
                            other => panic!("unexpected type {other}"),
                        }
                    })
                    .collect();
                rows.push(row);
            }
        }
        rows
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }
    fn d(s: &str) -> Value {
        Value::Decimal(s.into())
    }

    const EVERY_TYPE: [(&str, ColumnType); 10] = [
        ("b", ColumnType::Boolean),
        ("i", ColumnType::Int64),
        ("f", ColumnType::Float64),
        ("t", ColumnType::Text),
        ("bin", ColumnType::Binary),
        ("d", ColumnType::Date),
        ("ts", ColumnType::TimestampMicrosUtc),
        (
            "dec",
            ColumnType::Decimal {
                precision: 12,
                scale: 3,
            },
        ),
        (
            "big",
            ColumnType::Decimal {
                precision: 38,
                scale: 0,
            },
        ),
        ("j", ColumnType::Json),
    ];

    /// Rows for [`EVERY_TYPE`] and how they read back.
    fn every_type_rows() -> (Vec<Vec<Value>>, Vec<Vec<&'static str>>) {
        let nines = "99999999999999999999999999999999999999";
        let rows = vec![
            vec![
                Value::Bool(true),
                Value::Int(i64::MAX),
                Value::Float(1.5),
                t("héllo, \"world\""),
                Value::Bytes(vec![0, 255]),
                t("2024-02-29"),
                t("2024-01-01T10:00:00+02:00"),
                d("-12.345"),
                d(nines),
                Value::Json(r#"{"a":[1,2]}"#.into()),
            ],
            vec![
                Value::Int(0),
                Value::Int(i64::MIN),
                Value::Int(-3),
                Value::Int(42),
                t("raw"),
                t("1969-12-31"),
                t("1969-12-31 23:59:59.999999"),
                Value::Int(-7),
                d(&format!("-{nines}")),
                t("[1, null]"),
            ],
            vec![Value::Null; 10],
            vec![
                t("false"),
                d("9223372036854775807"),
                Value::Float(f64::NEG_INFINITY),
                Value::Bytes(vec![1, 2, 3]),
                Value::Bytes(vec![]),
                t("0001-01-01"),
                t("2024-06-30t12:00Z"),
                Value::Float(12.5),
                d("1e3"),
                Value::Int(5),
            ],
            vec![
                Value::Bool(false),
                Value::Float(3.0),
                d("0.1"),
                Value::Float(0.1),
                Value::Json("{}".into()),
                t("9999-12-31"),
                t("2024-01-01T00:00:00.5-05:30"),
                d("-0.5"),
                t("12.000"),
                t("\"s\""),
            ],
            vec![
                Value::Bool(true),
                Value::Int(-1),
                Value::Float(-0.0),
                Value::Null,
                Value::Null,
                Value::Null,
                t("1900-03-01 00:00:00.000001+0100"),
                d("0.000"),
                Value::Int(0),
                Value::Null,
            ],
        ];
        let expected = vec![
            vec![
                "true",
                "9223372036854775807",
                "1.5",
                "héllo, \"world\"",
                "00ff",
                "2024-02-29",
                "2024-01-01T08:00:00.000000Z",
                "-12.345",
                nines,
                r#"{"a":[1,2]}"#,
            ],
            vec![
                "false",
                "-9223372036854775808",
                "-3.0",
                "42",
                "726177",
                "1969-12-31",
                "1969-12-31T23:59:59.999999Z",
                "-7.000",
                "-99999999999999999999999999999999999999",
                "[1, null]",
            ],
            vec!["NULL"; 10],
            vec![
                "false",
                "9223372036854775807",
                "-inf",
                "AQID",
                "",
                "0001-01-01",
                "2024-06-30T12:00:00.000000Z",
                "12.500",
                "1000",
                "5",
            ],
            vec![
                "false",
                "3",
                "0.1",
                "0.1",
                "7b7d",
                "9999-12-31",
                "2024-01-01T05:30:00.500000Z",
                "-0.500",
                "12",
                "\"s\"",
            ],
            vec![
                "true",
                "-1",
                "-0.0",
                "NULL",
                "NULL",
                "NULL",
                "1900-02-28T23:00:00.000001Z",
                "0.000",
                "0",
                "NULL",
            ],
        ];
        (rows, expected)
    }

    #[test]
    fn every_type_round_trips() {
        let (rows, expected) = every_type_rows();
        let (file, n) = write(&EVERY_TYPE, ParquetCompression::default(), &rows);
        assert_eq!(n as usize, file.len());
        assert_eq!(&file[..4], b"PAR1");
        let (meta, batches) = read(file);
        assert_eq!(render(&batches), expected);

        let schema = batches[0].schema();
        let types: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(
            types,
            [
                "Boolean",
                "Int64",
                "Float64",
                "Utf8",
                "Binary",
                "Date32",
                "Timestamp(µs, \"UTC\")",
                "Decimal128(12, 3)",
                "Decimal128(38, 0)",
                "Utf8",
            ]
        );
        assert!(schema.fields().iter().all(|f| f.is_nullable()));
        // The Parquet schema's logical types, as other readers see them.
        let logical: Vec<String> = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| format!("{:?}", c.logical_type_ref()))
            .collect();
        assert_eq!(logical[3], "Some(String)");
        assert_eq!(logical[5], "Some(Date)");
        assert!(
            logical[6].contains("is_adjusted_to_u_t_c: true") && logical[6].contains("MICROS"),
            "{}",
            logical[6]
        );
        assert_eq!(
            logical[7],
            "Some(Decimal(DecimalType { scale: 3, precision: 12 }))"
        );
        assert_eq!(logical[9], "Some(Json)");
    }

    #[test]
    fn an_empty_result_is_a_file_with_the_schema() {
        let (file, n) = write(&EVERY_TYPE, ParquetCompression::Snappy, &[]);
        assert_eq!(n as usize, file.len());
        let (meta, batches) = read(file);
        assert_eq!(meta.num_row_groups(), 0);
        assert!(batches.is_empty());
        assert_eq!(meta.file_metadata().schema_descr().num_columns(), 10);
    }

    fn row_group_rows(meta: &ParquetMetaData) -> Vec<i64> {
        meta.row_groups().iter().map(|g| g.num_rows()).collect()
    }

    #[test]
    fn row_groups_close_at_the_row_limit() {
        let rows: Vec<Vec<Value>> = (0..2 * ROW_GROUP_ROWS as i64 + 10)
            .map(|i| vec![Value::Int(i)])
            .collect();
        let (file, _) = write(
            &[("n", ColumnType::Int64)],
            ParquetCompression::Snappy,
            &rows,
        );
        let (meta, batches) = read(file);
        assert_eq!(
            row_group_rows(&meta),
            [ROW_GROUP_ROWS as i64, ROW_GROUP_ROWS as i64, 10]
        );
        let values: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(
            values,
            (0..2 * ROW_GROUP_ROWS as i64 + 10).collect::<Vec<_>>()
        );
    }

    #[test]
    fn row_groups_close_at_the_byte_limit() {
        // 2,000 rows of 1 KiB that do not compress: about 2 MiB, in row
        // groups of at most 256 KiB.
        let mut rng = fastrand::Rng::with_seed(7);
        let rows: Vec<Vec<Value>> = (0..2000)
            .map(|i| {
                let s: String = (0..1024).map(|_| rng.alphanumeric()).collect();
                vec![Value::Int(i), Value::Text(s)]
            })
            .collect();
        let buf = Shared::default();
        let w = ParquetWriter::with_limits(
            &cols(&[("n", ColumnType::Int64), ("s", ColumnType::Text)]),
            ParquetCompression::None,
            Box::new(buf.clone()),
            ROW_GROUP_ROWS,
            256 << 10,
        );
        let (file, _) = write_file(w, &buf, &rows);
        let (meta, batches) = read(file);
        let groups = row_group_rows(&meta);
        assert!(groups.len() >= 8, "{groups:?}");
        assert_eq!(groups.iter().sum::<i64>(), 2000);
        for g in meta.row_groups() {
            assert!(g.total_byte_size() < 512 << 10, "{}", g.total_byte_size());
        }
        let rendered = render(&batches);
        assert_eq!(rendered.len(), 2000);
        assert_eq!(rendered[1999][1], rows[1999][1].to_text());
    }

    #[test]
    fn every_compression_reads_back() {
        let (rows, expected) = every_type_rows();
        for (compression, codec) in [
            (ParquetCompression::Snappy, "SNAPPY"),
            (ParquetCompression::Zstd, "ZSTD"),
            (ParquetCompression::Gzip, "GZIP"),
            (ParquetCompression::None, "UNCOMPRESSED"),
        ] {
            let (file, n) = write(&EVERY_TYPE, compression, &rows);
            assert_eq!(n as usize, file.len());
            let (meta, batches) = read(file);
            assert_eq!(render(&batches), expected, "{compression:?}");
            for c in meta.row_group(0).columns() {
                assert!(
                    format!("{:?}", c.compression()).starts_with(codec),
                    "{compression:?}: {:?}",
                    c.compression()
                );
            }
        }
    }

    /// The error `value` gives in a column of type `ty` declared `declared`.
    fn error_for(ty: ColumnType, declared: &str, value: Value) -> String {
        let buf = Shared::default();
        let mut w =
            ParquetWriter::new(&cols(&[("c", ty)]), ParquetCompression::None, Box::new(buf))
                .unwrap()
                .with_source_types(&[Some(declared.to_string())]);
        let e = w.write(&[value]).unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::Mapping);
        e.to_string()
    }

    #[test]
    fn values_that_do_not_convert_name_column_value_and_type() {
        let buf = Shared::default();
        let mut w = ParquetWriter::new(
            &cols(&[
                ("id", ColumnType::Int64),
                ("created_at", ColumnType::TimestampMicrosUtc),
            ]),
            ParquetCompression::None,
            Box::new(buf.clone()),
        )
        .unwrap()
        .with_source_types(&[Some("int8".into()), Some("timestamp".into())]);
        w.write(&[Value::Int(1), t("2024-01-01 00:00:00")]).unwrap();
        let e = w.write(&[Value::Int(2), t("yesterday")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"column "created_at": "yesterday" is not a timestamp (the Parquet column is TIMESTAMP from the source type "timestamp"); cast it in the query or map the column with type = "text""#
        );
        // The row that failed left nothing behind: the next rows line up.
        w.write(&[Value::Int(3), Value::Null]).unwrap();
        let (file, _) = write_file(Ok(w), &buf, &[]);
        let (_, batches) = read(file);
        assert_eq!(
            render(&batches),
            [vec!["1", "2024-01-01T00:00:00.000000Z"], vec!["3", "NULL"]]
        );

        let dec = ColumnType::Decimal {
            precision: 10,
            scale: 2,
        };
        assert_eq!(
            error_for(dec, "NUMERIC(10,2)", d("1.234")),
            r#"column "c": "1.234" has more decimal places than the column's 2 (the Parquet column is DECIMAL(10,2) from the source type "NUMERIC(10,2)"); round it in the query or map the column with type = "text""#
        );
        assert!(error_for(dec, "NUMERIC(10,2)", Value::Float(0.1 + 0.2))
            .starts_with(r#"column "c": 0.30000000000000004 has more decimal places"#));
        assert!(error_for(dec, "NUMERIC(10,2)", d("123456789.5"))
            .contains(r#""123456789.5" has more digits than the column's 10"#));
        assert!(error_for(dec, "NUMERIC(10,2)", t("12,50"))
            .contains(r#""12,50" is not a number (the Parquet column is DECIMAL(10,2)"#));
        assert!(error_for(ColumnType::Int64, "INTEGER", t("abc"))
            .contains(r#""abc" is not a 64-bit integer (the Parquet column is INT64 from the source type "INTEGER")"#));
        assert!(error_for(ColumnType::Int64, "bigint", d("1e30"))
            .contains(r#""1e30" is out of range for a 64-bit integer"#));
        assert!(error_for(ColumnType::Int64, "INTEGER", Value::Float(2.5))
            .contains("2.5 is not a 64-bit integer"));
        assert!(error_for(ColumnType::Date, "date", t("2023-02-29"))
            .contains(r#""2023-02-29" is not a date (YYYY-MM-DD) (the Parquet column is DATE"#));
        assert!(error_for(ColumnType::Date, "date", t("infinity"))
            .contains(r#""infinity" is not a date"#));
        assert!(
            error_for(ColumnType::Date, "DATE", Value::Int(19000)).contains("19000 is not a date")
        );
        assert!(error_for(
            ColumnType::TimestampMicrosUtc,
            "datetime",
            t("2024-01-01T00:00:00.1234567")
        )
        .contains(r#""2024-01-01T00:00:00.1234567" is more precise than a microsecond"#));
        assert!(error_for(ColumnType::Boolean, "BOOLEAN", Value::Int(2))
            .contains("2 is not a boolean (the Parquet column is BOOLEAN"));
        assert!(
            error_for(ColumnType::Binary, "BLOB", Value::Int(2)).contains("2 is not binary data")
        );
        assert!(
            error_for(ColumnType::Float64, "REAL", Value::Bytes(vec![1; 3]))
                .contains("a 3-byte binary value is not a number")
        );
        let long = "x".repeat(200);
        assert!(error_for(ColumnType::Date, "date", t(&long))
            .contains(&format!("\"{}\"... is not a date", "x".repeat(80))));

        // The caller puts the row's key in front.
        let keyed = Error::ColumnValue {
            row: Some("42".into()),
            column: "c".into(),
            message: "m".into(),
        };
        assert_eq!(keyed.to_string(), r#"row 42: column "c": m"#);
    }

    #[test]
    fn decimals_parse_exactly() {
        let p = |s: &str, precision: u8, scale: u8| parse_decimal(s, precision, scale);
        assert_eq!(p("12.5", 10, 2), Ok(1250));
        assert_eq!(p("-12.50", 10, 1), Ok(-125));
        assert_eq!(p("+.5", 10, 1), Ok(5));
        assert_eq!(p("5.", 10, 1), Ok(50));
        assert_eq!(p("1.5e2", 10, 0), Ok(150));
        assert_eq!(p("15E-1", 10, 1), Ok(15));
        assert_eq!(p("1e-7", 10, 2), Err(DecimalProblem::TooManyPlaces));
        assert_eq!(p("0.000", 1, 0), Ok(0));
        assert_eq!(p("-0", 1, 0), Ok(0));
        assert_eq!(p("00012", 2, 0), Ok(12));
        assert_eq!(p("100", 2, 0), Err(DecimalProblem::TooManyDigits));
        assert_eq!(p("1e40", 38, 0), Err(DecimalProblem::TooManyDigits));
        assert_eq!(
            p(&"9".repeat(39), 38, 0),
            Err(DecimalProblem::TooManyDigits)
        );
        assert_eq!(p("", 10, 0), Err(DecimalProblem::NotANumber));
        assert_eq!(p(".", 10, 0), Err(DecimalProblem::NotANumber));
        assert_eq!(p("1.2.3", 10, 0), Err(DecimalProblem::NotANumber));
        assert_eq!(p("NaN", 10, 0), Err(DecimalProblem::NotANumber));
        assert_eq!(p("1e", 10, 0), Err(DecimalProblem::NotANumber));
    }

    #[test]
    fn timestamps_parse_in_their_iso_forms() {
        let at = |s: &str| {
            parse_timestamp(s).map(|m| {
                chrono::DateTime::from_timestamp_micros(m)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string()
            })
        };
        let ok = |s: &str, want: &str| assert_eq!(at(s), Ok(want.to_string()), "{s}");
        ok("2024-05-06", "2024-05-06T00:00:00.000000Z");
        ok("2024-05-06 07:08", "2024-05-06T07:08:00.000000Z");
        ok("2024-05-06T07:08:09", "2024-05-06T07:08:09.000000Z");
        ok("2024-05-06T07:08:09.1", "2024-05-06T07:08:09.100000Z");
        ok(
            "2024-05-06T07:08:09.123456000",
            "2024-05-06T07:08:09.123456Z",
        );
        ok("2024-05-06T07:08:09Z", "2024-05-06T07:08:09.000000Z");
        ok("2024-05-06T07:08:09+02", "2024-05-06T05:08:09.000000Z");
        ok("2024-05-06T07:08:09+0230", "2024-05-06T04:38:09.000000Z");
        ok("2024-05-06 07:08:09 -05:00", "2024-05-06T12:08:09.000000Z");
        ok("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00.000000Z");
        ok("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z");
        ok("+10000-01-01T00:00:00Z", "+10000-01-01T00:00:00.000000Z");
        for bad in [
            "",
            "yesterday",
            "2024-5-6",
            "2024-05-06X07:08",
            "2024-05-06T7:08",
            "2024-05-06T24:00:00",
            "2024-05-06T07:60",
            "2024-05-06T07:08:09.",
            "2024-05-06T07:08:09+2",
            "2024-05-06T07:08:09 UTC",
            "2024-05-06T07:08:09Z+01",
            "infinity",
        ] {
            assert_eq!(at(bad), Err(Problem::NotA), "{bad}");
        }
        assert_eq!(at("2024-05-06T07:08:09.0000001"), Err(Problem::TooPrecise));
    }

    #[test]
    fn declared_types_map_to_parquet_types() {
        use ColumnType::*;
        let dec = |precision, scale| Decimal { precision, scale };
        let table: &[(Option<&str>, ColumnType)] = &[
            (None, Text),
            (Some(""), Text),
            // SQLite: the common names, and anything else by affinity.
            (Some("INTEGER"), Int64),
            (Some("BIGINT"), Int64),
            (Some("UNSIGNED BIG INT"), Int64),
            (Some("INT2"), Int64),
            (Some("REAL"), Float64),
            (Some("DOUBLE PRECISION"), Float64),
            (Some("FLOAT"), Float64),
            (Some("NUMERIC(10,2)"), dec(10, 2)),
            (Some("DECIMAL(10, 5)"), dec(10, 5)),
            (Some("NUMERIC(7)"), dec(7, 0)),
            (Some("NUMERIC"), Text),
            (Some("DECIMAL(39,2)"), Text),
            (Some("DECIMAL(38,38)"), dec(38, 38)),
            (Some("BOOLEAN"), Boolean),
            (Some("DATE"), Date),
            (Some("DATETIME"), TimestampMicrosUtc),
            (Some("TIMESTAMP"), TimestampMicrosUtc),
            (Some("BLOB"), Binary),
            (Some("TEXT"), Text),
            (Some("VARCHAR(255)"), Text),
            (Some("VARYING CHARACTER(255)"), Text),
            (Some("NATIVE CHARACTER(70)"), Text),
            (Some("CLOB"), Text),
            (Some("JSON"), Json),
            (Some("MONEY"), Text),
            // PostgreSQL: the server's type names.
            (Some("int2"), Int64),
            (Some("int4"), Int64),
            (Some("int8"), Int64),
            (Some("oid"), Int64),
            (Some("float4"), Float64),
            (Some("float8"), Float64),
            (Some("numeric"), Text),
            (Some("numeric(12,4)"), dec(12, 4)),
            (Some("numeric(5,-2)"), dec(7, 0)),
            (Some("numeric(2,5)"), dec(5, 5)),
            (Some("bool"), Boolean),
            (Some("date"), Date),
            (Some("timestamp"), TimestampMicrosUtc),
            (Some("timestamptz"), TimestampMicrosUtc),
            (Some("timestamp with time zone"), TimestampMicrosUtc),
            (Some("timestamp(3) without time zone"), TimestampMicrosUtc),
            (Some("bytea"), Binary),
            (Some("json"), Json),
            (Some("jsonb"), Json),
            (Some("int4[]"), Json),
            (Some("text[]"), Json),
            (Some("text"), Text),
            (Some("varchar"), Text),
            (Some("bpchar"), Text),
            (Some("uuid"), Text),
            (Some("interval"), Text),
            (Some("time"), Text),
            (Some("timetz"), Text),
            (Some("inet"), Text),
            (Some("citext"), Text),
            (Some("point"), Text),
            (Some("print_status"), Text),
            (Some("public.mood"), Text),
            // MySQL: the source's labels.
            (Some("tinyint(1)"), Boolean),
            (Some("bit(1)"), Boolean),
            (Some("bit"), dec(20, 0)),
            (Some("tinyint"), Int64),
            (Some("tinyint unsigned"), Int64),
            (Some("smallint unsigned"), Int64),
            (Some("mediumint"), Int64),
            (Some("int"), Int64),
            (Some("int unsigned"), Int64),
            (Some("bigint"), Int64),
            (Some("bigint unsigned"), dec(20, 0)),
            (Some("BIGINT(20) UNSIGNED"), dec(20, 0)),
            (Some("year"), Int64),
            (Some("decimal"), Text),
            (Some("DECIMAL(65,30)"), Text),
            (Some("float"), Float64),
            (Some("double"), Float64),
            (Some("date"), Date),
            (Some("datetime"), TimestampMicrosUtc),
            (Some("DATETIME(6)"), TimestampMicrosUtc),
            (Some("timestamp"), TimestampMicrosUtc),
            (Some("time"), Text),
            (Some("json"), Json),
            (Some("blob"), Binary),
            (Some("binary"), Binary),
            (Some("varbinary"), Binary),
            (Some("geometry"), Binary),
            (Some("enum"), Text),
            (Some("set"), Text),
            (Some("char"), Text),
        ];
        for (declared, want) in table {
            assert_eq!(column_type_for(*declared), *want, "{declared:?}");
        }
    }

    #[test]
    fn a_bad_decimal_type_is_refused() {
        for (precision, scale) in [(0, 0), (39, 0), (10, -1), (5, 6)] {
            let r = ParquetWriter::new(
                &cols(&[("c", ColumnType::Decimal { precision, scale })]),
                ParquetCompression::None,
                Box::new(Shared::default()),
            );
            assert!(r.is_err(), "{precision},{scale}");
        }
    }

    /// The Python reader that `tests/parquet_readback.py` needs, or `None`
    /// (outside CI only: under CI a missing pyarrow fails the test).
    fn pyarrow_python() -> Option<String> {
        // scripts/setup.sh installs pyarrow into this venv.
        let candidates = ["/var/tmp/dropsync-python/bin/python", "python3"];
        for python in candidates {
            let ok = std::process::Command::new(python)
                .args(["-c", "import pyarrow.parquet"])
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return Some(python.to_string());
            }
        }
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        assert!(
            !ci,
            "pyarrow cannot be imported by {candidates:?}: run scripts/setup.sh, which installs it"
        );
        eprintln!(
            "pyarrow is not installed (scripts/setup.sh installs it): skipping the read-back"
        );
        None
    }

    #[test]
    fn pyarrow_reads_every_type_back() {
        let Some(python) = pyarrow_python() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("every.parquet");
        let (rows, _) = every_type_rows();
        for compression in [ParquetCompression::Snappy, ParquetCompression::Zstd] {
            let file = std::fs::File::create(&path).unwrap();
            let mut w: Box<dyn RecordWriter> = Box::new(
                ParquetWriter::new(&cols(&EVERY_TYPE), compression, Box::new(file)).unwrap(),
            );
            for r in &rows {
                w.write(r).unwrap();
            }
            let n = w.finish().unwrap();
            assert_eq!(n, std::fs::metadata(&path).unwrap().len());

            // What pyarrow must read: its types, the Parquet logical types,
            // and each value in the script's canonical JSON form (dates ISO,
            // timestamps as microseconds since the epoch in UTC, decimals as
            // exact text, bytes in hex, floats that JSON lacks as strings).
            let expected = serde_json::json!({
                "columns": [
                    {"name": "b", "arrow": "bool", "logical": "None"},
                    {"name": "i", "arrow": "int64", "logical": "None"},
                    {"name": "f", "arrow": "double", "logical": "None"},
                    {"name": "t", "arrow": "string", "logical": "String"},
                    {"name": "bin", "arrow": "binary", "logical": "None"},
                    {"name": "d", "arrow": "date32[day]", "logical": "Date"},
                    {"name": "ts", "arrow": "timestamp[us, tz=UTC]", "logical": "Timestamp(isAdjustedToUTC=true, timeUnit=microseconds, is_from_converted_type=false, force_set_converted_type=false)"},
                    {"name": "dec", "arrow": "decimal128(12, 3)", "logical": "Decimal(precision=12, scale=3)"},
                    {"name": "big", "arrow": "decimal128(38, 0)", "logical": "Decimal(precision=38, scale=0)"},
                    {"name": "j", "arrow": "extension<arrow.json>", "logical": "JSON"},
                ],
                "rows": [
                    [true, i64::MAX, 1.5, "héllo, \"world\"", "00ff", "2024-02-29", 1_704_096_000_000_000_i64, "-12.345", "9".repeat(38), r#"{"a":[1,2]}"#],
                    [false, i64::MIN, -3.0, "42", "726177", "1969-12-31", -1, "-7.000", format!("-{}", "9".repeat(38)), "[1, null]"],
                    [null, null, null, null, null, null, null, null, null, null],
                    [false, i64::MAX, "-inf", "AQID", "", "0001-01-01", 1_719_748_800_000_000_i64, "12.500", "1000", "5"],
                    [false, 3, 0.1, "0.1", "7b7d", "9999-12-31", 1_704_087_000_500_000_i64, "-0.500", "12", "\"s\""],
                    [true, -1, "-0.0", null, null, null, -2_203_894_799_999_999_i64, "0.000", "0", null],
                ],
            });
            let expected_path = dir.path().join("expected.json");
            std::fs::write(&expected_path, expected.to_string()).unwrap();
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parquet_readback.py");
            let out = std::process::Command::new(&python)
                .arg(script)
                .arg(&path)
                .arg(&expected_path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{compression:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
