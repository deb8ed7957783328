//! The statements of the in-database diff, built as text.
//!
//! Only SQL that PostgreSQL and its wire-compatible engines share: no
//! `ON CONFLICT`, `MERGE`, `RETURNING`, row constructors, JSON functions or
//! extensions (see docs/sources.md#in-database-diff). Identifiers are always
//! double-quoted, so a schema or column name is used exactly as written.

use crate::config::ColumnSpec;
use crate::source::Column;
use crate::value::Value;

/// How rows are hashed; recorded with the snapshot, since a snapshot hashed
/// one way would make every row look changed to the other (a run that finds
/// one refuses with advice instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// `md5` of the canonical text ([`canon_expr`]): SQL every engine of
    /// the family has.
    Md5,
    /// PostgreSQL 14 and later: `hash_record_extended` over the synced
    /// values in binary, each type through its own hash function; types
    /// whose equality is looser than their text (numeric scale, -0,
    /// intervals, json) are hashed as text. Several times faster than md5
    /// of text, computed in the parallel workers.
    Record,
}

impl Hashing {
    /// The name kept in `dropsync_syncs.canon`.
    pub fn version(self) -> &'static str {
        match self {
            Hashing::Md5 => "c1",
            Hashing::Record => "h1",
        }
    }

    fn column_type(self) -> &'static str {
        match self {
            Hashing::Md5 => "varchar",
            Hashing::Record => "bigint",
        }
    }

    /// From the server's `version()`: real PostgreSQL 14 or later (not a
    /// fork reporting an older PostgreSQL, as Redshift and YugabyteDB do).
    pub fn for_server(version: &str) -> Hashing {
        let major: u32 = version
            .strip_prefix("PostgreSQL ")
            .map(|v| {
                v.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if major >= 14 && !version.contains("Redshift") && !version.contains("-YB-") {
            Hashing::Record
        } else {
            Hashing::Md5
        }
    }
}

/// The type a key column has in the snapshot's base table.
///
/// Keys whose equality is exactly their text's keep their own type there,
/// so the database can walk the model's index and the base's primary key
/// side by side (a merge join) instead of hashing both; any other key is
/// kept as its text. `_next` holds every key as text, cast on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Any of PostgreSQL's integers (they compare across widths).
    Bigint,
    Uuid,
    Date,
    Timestamp,
    /// An instant: its text is pinned to UTC by the session.
    Timestamptz,
    Text,
}

impl KeyType {
    fn of(declared: Option<&str>) -> KeyType {
        match declared {
            Some("int2" | "int4" | "int8") => KeyType::Bigint,
            Some("uuid") => KeyType::Uuid,
            Some("date") => KeyType::Date,
            Some("timestamp") => KeyType::Timestamp,
            Some("timestamptz") => KeyType::Timestamptz,
            _ => KeyType::Text,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            KeyType::Bigint => "bigint",
            KeyType::Uuid => "uuid",
            KeyType::Date => "date",
            KeyType::Timestamp => "timestamp",
            KeyType::Timestamptz => "timestamptz",
            KeyType::Text => "varchar",
        }
    }

    /// `expr` (a key of the model, or text from `_next`) in this type.
    fn cast(self, expr: &str) -> String {
        format!("CAST({expr} AS {})", self.sql())
    }
}

/// How a sync's snapshot is kept: the hashing and each key column's type.
/// Recorded in `dropsync_syncs.canon`; a snapshot kept another way is not
/// comparable with this run's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub hashing: Hashing,
    pub keys: Vec<KeyType>,
}

impl Layout {
    /// From the server's hashing and the model's key columns' types. Typed
    /// keys only on PostgreSQL 14+: the portable SQL keeps keys as text.
    pub fn new(hashing: Hashing, declared: &[Option<&str>]) -> Layout {
        let keys = declared
            .iter()
            .map(|d| match hashing {
                Hashing::Record => KeyType::of(*d),
                Hashing::Md5 => KeyType::Text,
            })
            .collect();
        Layout { hashing, keys }
    }

    /// `h1:bigint,varchar`: what `dropsync_syncs.canon` holds.
    pub fn canon(&self) -> String {
        let keys: Vec<&str> = self.keys.iter().map(|k| k.sql()).collect();
        format!("{}:{}", self.hashing.version(), keys.join(","))
    }

    /// Whether some key keeps its own type, so the diff may walk the
    /// model and the base in key order.
    pub fn typed(&self) -> bool {
        self.keys.iter().any(|k| *k != KeyType::Text)
    }

    /// `_k1`, `_k2`, ... of `_next` (text) cast to the base's types.
    fn next_keys(&self, alias: &str) -> Vec<String> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| k.cast(&format!("{alias}_k{}", i + 1)))
            .collect()
    }
}

/// SQL lists: the items with `sep` between them.
trait Joined {
    fn joined(self, sep: &str) -> String;
}

impl<I: Iterator<Item = String>> Joined for I {
    fn joined(self, sep: &str) -> String {
        self.collect::<Vec<_>>().join(sep)
    }
}

/// `"name"`, with any `"` doubled.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with any `'` doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The tables of one sync in the state schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// `"schema"`.
    pub schema: String,
    /// The snapshot: per key, the hash and the delivered record.
    pub base: String,
    /// A generation written but not yet known to be delivered.
    pub next: String,
    /// One row per sync: owner, generation in force, pending generation.
    pub syncs: String,
}

impl Tables {
    pub fn new(schema: &str, sync_id: &str) -> Tables {
        let s = quote(schema);
        let name = table_name(sync_id);
        Tables {
            base: format!("{s}.{}", quote(&name)),
            next: format!("{s}.{}", quote(&format!("{name}_next"))),
            syncs: format!("{s}.\"dropsync_syncs\""),
            schema: s,
        }
    }
}

/// `ds_<sync id>`: ids are letters, digits, `-`, `_` and `.`; a name that
/// had to change (or be cut to fit PostgreSQL's 63 bytes with `_next`)
/// gets a hash of the id, so two ids never share a table.
pub fn table_name(sync_id: &str) -> String {
    let clean: String = sync_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if clean == sync_id && clean.len() <= 40 {
        return format!("ds_{clean}");
    }
    let cut: String = clean.chars().take(40).collect();
    format!(
        "ds_{cut}_{:08x}",
        xxhash_rust::xxh3::xxh3_64(sync_id.as_bytes()) as u32
    )
}

/// How one output column enters the row's hash.
#[derive(Debug, Clone, PartialEq)]
pub enum CanonPart {
    /// A model column, by name, with its server type's name.
    Column { name: String, ty: Option<String> },
    /// A constant, as Dropsync writes it.
    Constant(Value),
}

/// Types whose equality is exactly "same text": hashed in binary by
/// [`Hashing::Record`]. Any other is hashed as its text, as the local
/// engine compares what Dropsync decodes (1.5 and 1.50 differ there).
const BINARY_SAFE: [&str; 14] = [
    "int2",
    "int4",
    "int8",
    "oid",
    "bool",
    "text",
    "varchar",
    "bpchar",
    "date",
    "timestamp",
    "timestamptz",
    "uuid",
    "bytea",
    "time",
];

/// The row's hash over the synced values.
pub fn hash_expr(parts: &[CanonPart], hashing: Hashing) -> String {
    match hashing {
        Hashing::Md5 => format!("md5({})", canon_expr(parts)),
        Hashing::Record if parts.is_empty() => "CAST(0 AS bigint)".into(),
        Hashing::Record => {
            let items = parts
                .iter()
                .map(|p| match p {
                    CanonPart::Column { name, ty } => {
                        let col = format!("m.{}", quote(name));
                        if ty.as_deref().is_some_and(|t| BINARY_SAFE.contains(&t)) {
                            col
                        } else {
                            format!("CAST({col} AS varchar)")
                        }
                    }
                    CanonPart::Constant(v) => {
                        format!("CAST({} AS varchar)", literal(&constant_canon(v)))
                    }
                })
                .joined(", ");
            format!("hash_record_extended(ROW({items}), 0)")
        }
    }
}

/// The canonical text of the synced values, hashed with `md5` per row.
///
/// A model column reads `<octet length>:<text>`, NULL reads `-`, and a
/// constant reads a type tag and its text, so the parts join with `|`
/// without ambiguity: `''` differs from NULL, `Text("5")` from `Int(5)`.
/// The text of a value depends on the session settings the state session
/// pins (time zone UTC, ISO dates, ISO 8601 intervals, exact floats, hex
/// bytea), so the same value hashes the same on every run.
pub fn canon_expr(parts: &[CanonPart]) -> String {
    if parts.is_empty() {
        return "''".into();
    }
    parts
        .iter()
        .map(|p| match p {
            CanonPart::Column { name, .. } => {
                let text = format!("CAST(m.{} AS varchar)", quote(name));
                format!("coalesce(CAST(octet_length({text}) AS varchar) || ':' || {text}, '-')")
            }
            CanonPart::Constant(v) => literal(&constant_canon(v)),
        })
        .joined(" || '|' || ")
}

fn constant_canon(v: &Value) -> String {
    let (tag, text) = match v {
        Value::Null => return "-".into(),
        Value::Bool(b) => ("b", b.to_string()),
        Value::Int(i) => ("i", i.to_string()),
        Value::Float(f) => ("f", format!("{f:?}")),
        Value::Decimal(d) => ("d", d.clone()),
        Value::Text(t) => ("t", t.clone()),
        Value::Bytes(b) => ("x", b.iter().map(|b| format!("{b:02x}")).collect()),
        Value::Json(j) => ("j", j.clone()),
    };
    format!("{tag}{}:{text}", text.len())
}

/// The canonical parts of a mapping, or the first output column the
/// database cannot compute (a template: rendered by Dropsync, it can read
/// the run's id and time, and its text of floats and dates is its own).
pub fn translate(
    spec: Option<&[ColumnSpec]>,
    model_columns: &[Column],
) -> Result<Vec<CanonPart>, super::Untranslatable> {
    let column = |name: &str| CanonPart::Column {
        name: name.to_string(),
        ty: model_columns
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.declared_type.clone()),
    };
    let Some(spec) = spec else {
        return Ok(model_columns.iter().map(|c| column(&c.name)).collect());
    };
    spec.iter()
        .enumerate()
        .map(|(i, c)| match c {
            ColumnSpec::From { from, .. } => Ok(column(from)),
            ColumnSpec::Constant { value, .. } => Ok(CanonPart::Constant(value.clone())),
            ColumnSpec::Template { to, .. } => Err(super::Untranslatable {
                index: i + 1,
                column: to.clone(),
            }),
        })
        .collect()
}

/// The model as a subquery: a trailing `;` would end the statement.
pub fn model_subquery(sql: &str) -> String {
    let trimmed = sql.trim().trim_end_matches(';').trim_end();
    // A comment on the last line would swallow the closing parenthesis.
    format!("({trimmed}\n)")
}

fn key_cols(n: usize, prefix: &str) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}_k{i}")).collect()
}

/// Session settings the canonical text depends on, one statement each: an
/// engine that lacks one (bytea_output, IntervalStyle) keeps its own, which
/// is as stable from run to run.
pub const SESSION_SETTINGS: [&str; 6] = [
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'iso_8601'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
    "SET client_encoding = 'UTF8'",
];

/// `CREATE TABLE IF NOT EXISTS` for the sync's tables, one statement each.
pub fn create_tables(t: &Tables, layout: &Layout) -> Vec<String> {
    let h = layout.hashing.column_type();
    let names = key_cols(layout.keys.len(), "");
    let typed: Vec<String> = names
        .iter()
        .zip(&layout.keys)
        .map(|(c, k)| format!("{c} {} NOT NULL", k.sql()))
        .collect();
    let text: Vec<String> = names
        .iter()
        .map(|c| format!("{c} varchar NOT NULL"))
        .collect();
    let k_names = names.join(", ");
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {} (sync_id varchar NOT NULL PRIMARY KEY, owner varchar NOT NULL, \
             generation bigint NOT NULL, pending bigint, row_count bigint NOT NULL, keys integer NOT NULL, \
             canon varchar NOT NULL, updated_at timestamptz NOT NULL)",
            t.syncs
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({}, _h {h} NOT NULL, _rec bytea NOT NULL, PRIMARY KEY ({k_names}))",
            t.base,
            typed.join(", ")
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {} (_gen bigint NOT NULL, _op char(1) NOT NULL, {}, _h {h}, \
             _rec bytea NOT NULL, PRIMARY KEY (_gen, {k_names}))",
            t.next,
            text.join(", ")
        ),
    ]
}

/// The snapshot in force, as a relation with `_o`, the keys, `_h` (and
/// `_rec` with a pending generation): the base, or (for a preview, which
/// writes nothing) the base with a delivered but not yet applied
/// generation laid over it.
///
/// The base goes into the join without its records: the join's hash table
/// then holds keys and hashes only and stays in memory for tens of millions
/// of rows; [`removed_record`] fetches a record for each removed row.
pub fn current_snapshot(t: &Tables, layout: &Layout, pending: Option<i64>) -> String {
    let names = key_cols(layout.keys.len(), "");
    let k = names.join(", ");
    match pending {
        None => format!("SELECT 1 AS _o, {k}, _h FROM {}", t.base),
        Some(g) => {
            let same = layout
                .next_keys("x.")
                .iter()
                .zip(&names)
                .map(|(x, c)| format!("{x} = b.{c}"))
                .joined(" AND ");
            let bk = names.iter().map(|c| format!("b.{c}")).joined(", ");
            let nk = layout
                .next_keys("")
                .iter()
                .zip(&names)
                .map(|(x, c)| format!("{x} AS {c}"))
                .joined(", ");
            format!(
                "SELECT 1 AS _o, {bk}, b._h, b._rec FROM {base} AS b WHERE NOT EXISTS \
                 (SELECT 1 FROM {next} AS x WHERE x._gen = {g} AND {same}) \
                 UNION ALL SELECT 1 AS _o, {nk}, _h, _rec FROM {next} WHERE _gen = {g} AND _op = 'u'",
                base = t.base,
                next = t.next,
            )
        }
    }
}

/// The last delivered record of a removed row (`o` the snapshot's side of
/// the diff), looked up in the base by its primary key: only for the rows
/// the diff returns. `None` for relations that carry `_rec` themselves.
pub fn removed_record(t: &Tables, keys: usize, pending: Option<i64>) -> String {
    match pending {
        Some(_) => "o._rec".into(),
        None => {
            let same = key_cols(keys, "")
                .iter()
                .map(|c| format!("b.{c} = o.{c}"))
                .joined(" AND ");
            format!(
                "CASE WHEN n._ds_n IS NULL THEN (SELECT b._rec FROM {} AS b WHERE {same}) END",
                t.base
            )
        }
    }
}

/// No snapshot: the relation [`current_snapshot`] stands for, with no rows
/// (a first run needs no table of the state schema to exist).
pub fn empty_snapshot(layout: &Layout) -> String {
    let k = layout
        .keys
        .iter()
        .zip(key_cols(layout.keys.len(), ""))
        .map(|(t, c)| format!("{} AS {c}", t.cast("NULL")))
        .joined(", ");
    format!(
        "SELECT 1 AS _o, {k}, CAST(NULL AS {}) AS _h, CAST(NULL AS bytea) AS _rec WHERE 1 = 0",
        layout.hashing.column_type()
    )
}

/// The model's row count (the duplicate-key check).
pub fn count_model(model_sql: &str) -> String {
    format!("SELECT count(*) FROM {} AS m", model_subquery(model_sql))
}

/// Columns of the diff's result before the model's own.
pub const DIFF_PREFIX: usize = 3;

/// The diff of a model with a snapshot: only what changed.
pub struct Diff<'a> {
    pub model_sql: &'a str,
    pub key: &'a [String],
    pub layout: &'a Layout,
    /// The model's columns, as the result carries them.
    pub columns: &'a [String],
    /// [`hash_expr`] of the mapping.
    pub hash: &'a str,
    /// [`current_snapshot`] or [`empty_snapshot`].
    pub snapshot: &'a str,
    /// [`removed_record`].
    pub record: &'a str,
}

impl Diff<'_> {
    /// `_kind` ('a' added, 'c' changed, 'r' removed), the new hash (a, c),
    /// the last delivered record (r), the keys as text, then the model's
    /// columns (a, c). Streams churn-sized results.
    ///
    /// Hashing the snapshot (`in_key_order` false), `OFFSET 0` keeps the
    /// model's side a subquery of its own: PostgreSQL then computes the
    /// keys' text and the hashes in its parallel workers, below the
    /// Gather, instead of in the join's filter on one core. Walking both
    /// sides in key order, the model must stay open to the planner, which
    /// can only then read it through its index.
    pub fn sql(&self, in_key_order: bool) -> String {
        let n = self.key.len();
        let nk = key_cols(n, "_ds");
        let ok = key_cols(n, "");
        // A typed key stays as the model has it, so an index on it can give
        // the join its order (an integer of another width compares as is).
        let keys_new = self
            .key
            .iter()
            .zip(&nk)
            .zip(&self.layout.keys)
            .map(|((k, a), t)| match t {
                KeyType::Text => format!("{} AS {a}", t.cast(&format!("m.{}", quote(k)))),
                _ => format!("m.{} AS {a}", quote(k)),
            })
            .joined(", ");
        let list = |prefix: &str| {
            self.columns
                .iter()
                .map(|c| format!("{prefix}.{}", quote(c)))
                .joined(", ")
        };
        let (model_cols, out_cols) = (list("m"), list("n"));
        let keys_out = nk
            .iter()
            .zip(&ok)
            .map(|(a, b)| format!("CAST(coalesce(n.{a}, o.{b}) AS varchar)"))
            .joined(", ");
        let on = nk
            .iter()
            .zip(&ok)
            .map(|(a, b)| format!("n.{a} = o.{b}"))
            .joined(" AND ");
        let (hash, record, snapshot) = (self.hash, self.record, self.snapshot);
        let fence = if in_key_order { "" } else { " OFFSET 0" };
        format!(
            "SELECT CASE WHEN o._o IS NULL THEN 'a' WHEN n._ds_n IS NULL THEN 'r' ELSE 'c' END AS _ds_kind, \
             CAST(n._ds_h AS varchar), {record}, {keys_out}, {out_cols} \
             FROM (SELECT 1 AS _ds_n, {keys_new}, {hash} AS _ds_h, {model_cols} FROM {model} AS m{fence}) AS n \
             FULL JOIN ({snapshot}) AS o ON {on} \
             WHERE o._o IS NULL OR n._ds_n IS NULL OR n._ds_h <> o._h",
            model = model_subquery(self.model_sql),
        )
    }
}

/// Model keys that appear more than once, with their count (first 10).
pub fn duplicate_keys(model_sql: &str, key: &[String]) -> String {
    let cols = key
        .iter()
        .map(|k| format!("m.{}", quote(k)))
        .collect::<Vec<_>>();
    let shown = cols
        .iter()
        .map(|c| format!("CAST({c} AS varchar)"))
        .joined(", ");
    format!(
        "SELECT {shown}, count(*) OVER () FROM {model} AS m GROUP BY {cols} HAVING count(*) > 1 LIMIT 10",
        cols = cols.join(", "),
        model = model_subquery(model_sql)
    )
}

/// `INSERT` of `rows` rows into the next generation, bound parameters.
pub fn insert_next(t: &Tables, keys: usize, rows: usize, hashing: Hashing) -> String {
    let per = keys + 4;
    let values = (0..rows)
        .map(|r| {
            let ps = (1..=per)
                .map(|i| match i {
                    // The hash travels as text, whatever its column's type.
                    _ if i == per - 1 => format!(
                        "CAST(CAST(${} AS varchar) AS {})",
                        r * per + i,
                        hashing.column_type()
                    ),
                    _ => format!("${}", r * per + i),
                })
                .joined(", ");
            format!("({ps})")
        })
        .joined(", ");
    format!(
        "INSERT INTO {} (_gen, _op, {}, _h, _rec) VALUES {values}",
        t.next,
        key_cols(keys, "").join(", ")
    )
}

/// `COPY` of the next generation's rows (PostgreSQL's binary format).
pub fn copy_next(t: &Tables, keys: usize) -> String {
    format!(
        "COPY {} (_gen, _op, {}, _h, _rec) FROM STDIN (FORMAT binary)",
        t.next,
        key_cols(keys, "").join(", ")
    )
}

/// Memory for the diff's hash join, set for its transaction only.
pub const DIFF_WORK_MEM: &str = "SET LOCAL work_mem = '512MB'";

/// Asks the planner for a diff without hash joins, to see whether it can
/// walk both sides in key order (see [`super::join_plan`]); undone by
/// [`HASH_JOINS_BACK`] when it cannot.
pub const NO_HASH_JOINS: &str = "SET LOCAL enable_hashjoin = off";
pub const HASH_JOINS_BACK: &str = "SET LOCAL enable_hashjoin = on";

/// How closely the rows of the table of index `$1` (`"schema"."name"`)
/// follow its first column: the absolute `pg_stats.correlation` (NULL
/// without statistics).
pub const INDEX_ORDER: &str = "SELECT CAST(min(abs(s.correlation)) AS real) FROM pg_index i \
     JOIN pg_class t ON t.oid = i.indrelid \
     JOIN pg_namespace n ON n.oid = t.relnamespace \
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
     JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname \
     WHERE i.indexrelid = to_regclass($1)";

/// Folds generation `g` of `next` into the base, one statement each; the
/// caller runs them in one transaction with the generation's bookkeeping.
pub fn roll_forward(t: &Tables, layout: &Layout, g: i64) -> Vec<String> {
    let k = key_cols(layout.keys.len(), "");
    let same = layout
        .next_keys("x.")
        .iter()
        .zip(&k)
        .map(|(x, c)| format!("b.{c} = {x}"))
        .joined(" AND ");
    let names = k.join(", ");
    let typed = layout.next_keys("").join(", ");
    let mut statements = vec![
        // Statistics of the generation, so the planner looks its keys up
        // in the base's index instead of scanning the whole base.
        format!("ANALYZE {}", t.next),
        format!(
            "DELETE FROM {} AS b USING {} AS x WHERE x._gen = {g} AND {same}",
            t.base, t.next
        ),
        format!(
            "INSERT INTO {} ({names}, _h, _rec) SELECT {typed}, _h, _rec FROM {} WHERE _gen = {g} AND _op = 'u'",
            t.base, t.next
        ),
        // TRUNCATE, not DELETE: a first generation of millions of rows
        // would stay behind as dead rows that every later scan of `next` reads.
        format!("TRUNCATE {}", t.next),
    ];
    if g == 1 {
        // The first generation filled the base: its statistics now, not
        // when autovacuum comes by.
        statements.push(format!("ANALYZE {}", t.base));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_names_and_text() {
        assert_eq!(quote("Order \"Lines\""), "\"Order \"\"Lines\"\"\"");
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn table_names_are_unique_and_fit() {
        assert_eq!(table_name("orders"), "ds_orders");
        assert_ne!(table_name("a-b"), table_name("a_b"));
        assert!(table_name("a-b").starts_with("ds_a_b_"));
        let long = "x".repeat(128);
        assert!(table_name(&long).len() + "_next".len() <= 63);
        assert_ne!(table_name(&long), table_name(&"x".repeat(127)));
    }

    #[test]
    fn constants_are_tagged_by_type() {
        let c = |v| canon_expr(&[CanonPart::Constant(v)]);
        assert_eq!(c(Value::Int(5)), "'i1:5'");
        assert_eq!(c(Value::Text("5".into())), "'t1:5'");
        assert_eq!(c(Value::Text("it's".into())), "'t4:it''s'");
        assert_eq!(c(Value::Null), "'-'");
    }

    #[test]
    fn columns_are_length_prefixed_and_null_marked() {
        let col = |n: &str| CanonPart::Column {
            name: n.into(),
            ty: None,
        };
        let e = canon_expr(&[col("a"), col("B c")]);
        assert_eq!(
            e,
            "coalesce(CAST(octet_length(CAST(m.\"a\" AS varchar)) AS varchar) || ':' || CAST(m.\"a\" AS varchar), '-') \
             || '|' || coalesce(CAST(octet_length(CAST(m.\"B c\" AS varchar)) AS varchar) || ':' || CAST(m.\"B c\" AS varchar), '-')"
        );
    }

    #[test]
    fn the_diff_joins_on_every_key_column() {
        let layout = Layout::new(Hashing::Record, &[Some("text"), Some("int4")]);
        let d = Diff {
            model_sql: "SELECT * FROM t;",
            key: &["region".into(), "id".into()],
            layout: &layout,
            columns: &["region".into(), "id".into(), "v".into()],
            hash: "'x'",
            snapshot: "SELECT 1 AS _o, _k1, _k2, _h, _rec FROM \"s\".\"ds_t\"",
            record: "o._rec",
        };
        let s = d.sql(false);
        assert!(
            s.contains("FROM (SELECT * FROM t\n) AS m OFFSET 0) AS n"),
            "{s}"
        );
        assert!(d.sql(true).contains("FROM (SELECT * FROM t\n) AS m) AS n"));
        assert!(
            s.contains("ON n._ds_k1 = o._k1 AND n._ds_k2 = o._k2"),
            "{s}"
        );
        assert!(s.contains("FROM (SELECT * FROM t\n) AS m"), "{s}");
        assert!(s.contains(
            "CAST(coalesce(n._ds_k1, o._k1) AS varchar), CAST(coalesce(n._ds_k2, o._k2) AS varchar), n.\"region\", n.\"id\", n.\"v\""
        ));
        // The text key is compared as text, the integer as the model has it.
        assert!(
            s.contains("CAST(m.\"region\" AS varchar) AS _ds_k1, m.\"id\" AS _ds_k2"),
            "{s}"
        );
    }

    #[test]
    fn inserts_number_their_parameters() {
        let t = Tables::new("dropsync", "orders");
        assert_eq!(
            insert_next(&t, 1, 2, Hashing::Md5),
            "INSERT INTO \"dropsync\".\"ds_orders_next\" (_gen, _op, _k1, _h, _rec) VALUES ($1, $2, $3, CAST(CAST($4 AS varchar) AS varchar), $5), ($6, $7, $8, CAST(CAST($9 AS varchar) AS varchar), $10)"
        );
    }

    #[test]
    fn record_hashing_is_for_postgresql_14_and_later_and_hashes_loose_types_as_text() {
        for (version, hashing) in [
            (
                "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64",
                Hashing::Record,
            ),
            ("PostgreSQL 13.4 on x86_64", Hashing::Md5),
            ("PostgreSQL 11.2-YB-2.18.0.0-b0 on x86_64", Hashing::Md5),
            (
                "PostgreSQL 8.0.2 on i686-pc-linux-gnu, Redshift 1.0.4",
                Hashing::Md5,
            ),
            ("CockroachDB CCL v23.1.0", Hashing::Md5),
        ] {
            assert_eq!(Hashing::for_server(version), hashing, "{version}");
        }
        let col = |n: &str, t: &str| CanonPart::Column {
            name: n.into(),
            ty: Some(t.into()),
        };
        assert_eq!(
            hash_expr(&[col("id", "int8"), col("amount", "numeric"), CanonPart::Constant(Value::Int(5))], Hashing::Record),
            "hash_record_extended(ROW(m.\"id\", CAST(m.\"amount\" AS varchar), CAST('i1:5' AS varchar)), 0)"
        );
    }

    #[test]
    fn a_pending_generation_is_laid_over_the_base() {
        let t = Tables::new("s", "x");
        let layout = Layout::new(Hashing::Record, &[Some("int8"), Some("varchar")]);
        let s = current_snapshot(&t, &layout, Some(4));
        assert!(
            s.contains(
                "x._gen = 4 AND CAST(x._k1 AS bigint) = b._k1 AND CAST(x._k2 AS varchar) = b._k2"
            ),
            "{s}"
        );
        assert!(
            s.contains("SELECT 1 AS _o, CAST(_k1 AS bigint) AS _k1, CAST(_k2 AS varchar) AS _k2, _h, _rec FROM \"s\".\"ds_x_next\" WHERE _gen = 4 AND _op = 'u'"),
            "{s}"
        );
    }

    #[test]
    fn keys_keep_their_type_when_equality_is_their_text() {
        let layout = Layout::new(
            Hashing::Record,
            &[
                Some("int4"),
                Some("uuid"),
                Some("timestamptz"),
                Some("numeric"),
                None,
            ],
        );
        assert_eq!(layout.canon(), "h1:bigint,uuid,timestamptz,varchar,varchar");
        assert!(layout.typed());
        // The portable SQL keeps every key as text.
        let portable = Layout::new(Hashing::Md5, &[Some("int4")]);
        assert_eq!(portable.canon(), "c1:varchar");
        assert!(!portable.typed());
        let t = Tables::new("s", "x");
        let tables = create_tables(&t, &layout);
        assert!(tables[1].contains("(_k1 bigint NOT NULL, _k2 uuid NOT NULL, _k3 timestamptz NOT NULL, _k4 varchar NOT NULL"), "{}", tables[1]);
        assert!(
            tables[2].contains("_k1 varchar NOT NULL, _k2 varchar NOT NULL"),
            "{}",
            tables[2]
        );
        let roll = roll_forward(&t, &Layout::new(Hashing::Record, &[Some("int8")]), 3);
        assert!(
            roll[1].ends_with("x._gen = 3 AND b._k1 = CAST(x._k1 AS bigint)"),
            "{}",
            roll[1]
        );
        assert!(
            roll[2].contains("SELECT CAST(_k1 AS bigint), _h, _rec"),
            "{}",
            roll[2]
        );
    }
}
