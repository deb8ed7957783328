//! CSV file source: every field is text; an empty field is NULL (the same
//! convention our CSV writer uses, so files round-trip).

use super::{finish, hand_over, BatchSink, Column, RowBatch, Source};
use crate::error::{Error, Result};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub struct CsvSource {
    path: PathBuf,
    delimiter: u8,
    header: bool,
    columns: Vec<Column>,
}

impl CsvSource {
    pub fn open(path: &Path, delimiter: u8, header: bool) -> Result<Self> {
        let mut source = CsvSource {
            path: path.to_path_buf(),
            delimiter,
            header,
            columns: Vec::new(),
        };
        let mut reader = source.reader()?;
        let first = if header {
            reader.headers().map_err(|e| source.err(e))?.clone()
        } else {
            let mut rec = csv::StringRecord::new();
            reader.read_record(&mut rec).map_err(|e| source.err(e))?;
            rec
        };
        source.columns = first
            .iter()
            .enumerate()
            .map(|(i, name)| Column {
                name: if header {
                    name.trim_start_matches('\u{feff}').to_string()
                } else {
                    format!("column_{}", i + 1)
                },
                declared_type: Some("text".into()),
                primary_key: false,
            })
            .collect();
        if source.columns.is_empty() {
            return Err(Error::Source {
                source_name: format!("csv {}", path.display()),
                message: "the file is empty; it needs at least a header row".into(),
            });
        }
        Ok(source)
    }

    fn err(&self, e: csv::Error) -> Error {
        let message = match (e.position(), e.kind()) {
            (Some(pos), csv::ErrorKind::UnequalLengths { expected_len, len, .. }) => format!(
                "line {} has {len} fields but the header has {expected_len}; fix that line or quote fields that contain the delimiter",
                pos.line()
            ),
            (Some(pos), csv::ErrorKind::Utf8 { .. }) => {
                format!("line {} is not valid UTF-8; save the file as UTF-8", pos.line())
            }
            _ => e.to_string(),
        };
        Error::Source {
            source_name: format!("csv {}", self.path.display()),
            message,
        }
    }

    fn reader(&self) -> Result<csv::Reader<BufReader<File>>> {
        let file = File::open(&self.path).map_err(|e| Error::Source {
            source_name: format!("csv {}", self.path.display()),
            message: format!("cannot open the file ({e}); check [source] path"),
        })?;
        Ok(csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(self.header)
            .from_reader(BufReader::with_capacity(256 * 1024, file)))
    }
}

impl Source for CsvSource {
    fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn stream(&mut self, batch_size: usize, sink: &mut BatchSink<'_>) -> Result<()> {
        let mut reader = self.reader()?;
        let mut record = csv::StringRecord::new();
        let n = self.columns.len();
        let mut batch = RowBatch::new(n, batch_size);
        while reader.read_record(&mut record).map_err(|e| self.err(e))? {
            batch.begin_row();
            for f in record.iter() {
                if f.is_empty() {
                    batch.push_null();
                } else {
                    batch.push_text(f.as_bytes());
                }
            }
            batch.end_row();
            if !hand_over(&mut batch, sink, n, batch_size)? {
                return Ok(());
            }
        }
        finish(batch, sink)
    }
}
