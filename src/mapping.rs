//! Column mapping: every model column as is, or selected / renamed / constant /
//! templated output columns. Change detection runs on the mapped record, so a
//! column that is not synced never makes a row "changed".
//!
//! Templates are minijinja (Jinja2) templates. They see each model column by
//! its bare name, `row` (every column, `row["first name"]`), `model` (`id`,
//! `name`), `sync` (`id`) and `run` (`id`, `started_at`), and, besides the
//! builtin filters, `tojson`, `fromjson`, `dateformat` / `datetimeformat` and
//! a `default` that also replaces NULL. A template column's `type` turns the
//! rendered text into an integer, float, boolean or JSON value.

use crate::config::{ColumnSpec, OutputType};
use crate::error::{Error, Result};
use crate::source::Column;
use crate::value::{display_key, Value};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use minijinja::value::{Enumerator, Object, Rest};
use minijinja::{ErrorKind, State, Value as Jv};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a template knows about the run besides the row: `model.id`,
/// `model.name`, `sync.id`, `run.id` and `run.started_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingContext {
    pub model_id: String,
    pub model_name: String,
    pub sync_id: String,
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
}

impl MappingContext {
    /// Stand-in values for callers without a run (`check`, previews).
    pub fn placeholder() -> MappingContext {
        MappingContext {
            model_id: "model".into(),
            model_name: "model".into(),
            sync_id: "sync".into(),
            run_id: 0,
            started_at: Utc::now(),
        }
    }
}

enum Op {
    Column(usize),
    Constant(Value),
    /// A template name in `env`, and the type its output converts to.
    Template {
        name: String,
        output: OutputType,
    },
}

/// What every row's template context shares: the model's column names and
/// the run's variables.
#[derive(Debug)]
struct Shared {
    /// The model's column names, in order, without repeats.
    names: Vec<String>,
    /// Each name's position in the row (the first, when a name repeats).
    index: HashMap<String, usize>,
    model: Jv,
    sync: Jv,
    run: Jv,
}

impl Shared {
    fn new(columns: &[Column], ctx: &MappingContext) -> Shared {
        let mut index = HashMap::with_capacity(columns.len());
        let mut names = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            if !index.contains_key(&c.name) {
                index.insert(c.name.clone(), i);
                names.push(c.name.clone());
            }
        }
        let map = |pairs: Vec<(&str, Jv)>| {
            Jv::from_serialize(pairs.into_iter().collect::<BTreeMap<_, _>>())
        };
        Shared {
            names,
            index,
            model: map(vec![
                ("id", Jv::from(ctx.model_id.as_str())),
                ("name", Jv::from(ctx.model_name.as_str())),
            ]),
            sync: map(vec![("id", Jv::from(ctx.sync_id.as_str()))]),
            run: map(vec![
                ("id", Jv::from(ctx.run_id)),
                (
                    "started_at",
                    Jv::from(ctx.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
                ),
            ]),
        }
    }
}

/// One row as a template's context: bare column names first, then `row`,
/// `model`, `sync` and `run`. Values convert only when a template reads them.
#[derive(Debug)]
struct RowContext {
    shared: Arc<Shared>,
    row: Vec<Value>,
}

impl Object for RowContext {
    fn get_value(self: &Arc<Self>, key: &Jv) -> Option<Jv> {
        let key = key.as_str()?;
        if let Some(&i) = self.shared.index.get(key) {
            return Some(to_jinja(&self.row[i]));
        }
        match key {
            "row" => Some(Jv::from_object(RowMap(self.clone()))),
            "model" => Some(self.shared.model.clone()),
            "sync" => Some(self.shared.sync.clone()),
            "run" => Some(self.shared.run.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

/// `row`: every model column by name, in the model's order.
#[derive(Debug)]
struct RowMap(Arc<RowContext>);

impl Object for RowMap {
    fn get_value(self: &Arc<Self>, key: &Jv) -> Option<Jv> {
        let i = *self.0.shared.index.get(key.as_str()?)?;
        Some(to_jinja(&self.0.row[i]))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.0
                .shared
                .names
                .iter()
                .map(|n| Jv::from(n.as_str()))
                .collect(),
        )
    }
}

/// The names a template may use besides the model's columns, with the
/// attributes each has.
const CONTEXT_VARIABLES: [(&str, &[&str]); 3] = [
    ("model", &["id", "name"]),
    ("sync", &["id"]),
    ("run", &["id", "started_at"]),
];

pub struct Mapping {
    output: Vec<String>,
    /// Each output column's type name, as a source would declare it: what
    /// typed formats (Parquet) write. A model column keeps its source's.
    types: Vec<Option<String>>,
    ops: Vec<Op>,
    identity: bool,
    has_templates: bool,
    env: minijinja::Environment<'static>,
    shared: Arc<Shared>,
    /// The key columns' positions and their label (`id`, `(a, b)`), to
    /// name the row in errors; see [`Mapping::name_rows_by`].
    key: Option<(Vec<usize>, String)>,
    /// The model's column names, in order.
    column_names: Vec<String>,
}

impl Mapping {
    /// Checks the mapping against the model's columns; errors name the mapping
    /// and the missing column. Templates see stand-in `model`, `sync` and
    /// `run` values: a run compiles with [`Mapping::compile_with`].
    pub fn compile(columns: &[Column], spec: Option<&[ColumnSpec]>) -> Result<Mapping> {
        Mapping::compile_with(columns, spec, &MappingContext::placeholder())
    }

    /// [`Mapping::compile`], with the run's `model`, `sync` and `run`
    /// variables for templates.
    pub fn compile_with(
        columns: &[Column],
        spec: Option<&[ColumnSpec]>,
        context: &MappingContext,
    ) -> Result<Mapping> {
        let env = environment();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let shared = Arc::new(Shared::new(columns, context));
        let column_names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let available = || {
            names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(spec) = spec else {
            let mut seen = std::collections::HashSet::new();
            for n in &names {
                if !seen.insert(*n) {
                    return Err(Error::Query {
                        message: format!(
                            "the query returns two columns named {n:?}; give them distinct names with AS, or map columns in [[sync.columns]]"
                        ),
                    });
                }
            }
            return Ok(Mapping {
                output: column_names.clone(),
                types: columns.iter().map(|c| c.declared_type.clone()).collect(),
                ops: (0..columns.len()).map(Op::Column).collect(),
                identity: true,
                has_templates: false,
                env,
                shared,
                key: None,
                column_names,
            });
        };
        let mut env = env;
        let mut ops = Vec::with_capacity(spec.len());
        for (i, c) in spec.iter().enumerate() {
            let index = i + 1;
            ops.push(match c {
                ColumnSpec::From { from, .. } => {
                    let pos =
                        names
                            .iter()
                            .position(|n| n == from)
                            .ok_or_else(|| Error::Mapping {
                                index,
                                message: format!(
                            "column {from:?} is not among the model's columns ({}); fix `from`",
                            available()
                        ),
                            })?;
                    Op::Column(pos)
                }
                ColumnSpec::Constant { value, .. } => Op::Constant(value.clone()),
                ColumnSpec::Template {
                    template, output, ..
                } => {
                    let name = format!("column_{index}");
                    env.add_template_owned(name.clone(), template.clone())
                        .map_err(|e| Error::Mapping {
                            index,
                            message: format!("the template does not parse: {e}"),
                        })?;
                    let tmpl = env
                        .get_template(&name)
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    check_names(&tmpl, template, &shared.index, &env).map_err(|message| {
                        Error::Mapping {
                            index,
                            message: format!("{message} ({})", available()),
                        }
                    })?;
                    Op::Template {
                        name,
                        output: *output,
                    }
                }
            });
        }
        let types = spec
            .iter()
            .zip(&ops)
            .map(|(c, op)| match (c, op) {
                (_, Op::Column(pos)) => columns[*pos].declared_type.clone(),
                (_, Op::Constant(v)) => declared_for_value(v),
                (ColumnSpec::Template { output, .. }, _) => declared_for_output(*output),
                _ => None,
            })
            .collect();
        Ok(Mapping {
            output: spec.iter().map(|c| c.output_name().to_string()).collect(),
            types,
            has_templates: ops.iter().any(|op| matches!(op, Op::Template { .. })),
            ops,
            identity: false,
            env,
            shared,
            key: None,
            column_names,
        })
    }

    /// Names each row by its key (`row id=42`) in the errors of [`Mapping::apply`];
    /// `key` holds the key columns' positions among the model's columns.
    pub fn name_rows_by(&mut self, key: &[usize]) {
        let label = match key {
            [one] => self.column_names.get(*one).cloned().unwrap_or_default(),
            many => format!(
                "({})",
                many.iter()
                    .filter_map(|&i| self.column_names.get(i).cloned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.key = (!key.is_empty()).then(|| (key.to_vec(), label));
    }

    /// True when every model column is synced as is.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// True when some output column is a template.
    pub fn has_templates(&self) -> bool {
        self.has_templates
    }

    /// The positions of the template columns among the output columns.
    pub fn template_columns(&self) -> Vec<usize> {
        (self.ops.iter().enumerate())
            .filter(|(_, op)| matches!(op, Op::Template { .. }))
            .map(|(i, _)| i)
            .collect()
    }

    /// Output column types (see `types`), in order.
    pub fn output_types(&self) -> &[Option<String>] {
        &self.types
    }

    /// Output column names, in order.
    pub fn output(&self) -> &[String] {
        &self.output
    }

    /// Maps one model row to its output record.
    pub fn apply(&self, row: Vec<Value>) -> Result<Vec<Value>> {
        if self.identity {
            return Ok(row);
        }
        if !self.has_templates {
            return Ok(self
                .ops
                .iter()
                .map(|op| match op {
                    Op::Column(pos) => row[*pos].clone(),
                    Op::Constant(v) => v.clone(),
                    Op::Template { .. } => Value::Null,
                })
                .collect());
        }
        let ctx = Arc::new(RowContext {
            shared: self.shared.clone(),
            row,
        });
        let root = Jv::from_dyn_object(ctx.clone());
        let mut out = Vec::with_capacity(self.ops.len());
        for (i, op) in self.ops.iter().enumerate() {
            out.push(match op {
                Op::Column(pos) => ctx.row[*pos].clone(),
                Op::Constant(v) => v.clone(),
                Op::Template { name, output } => self.render(i, name, *output, &ctx, &root)?,
            });
        }
        Ok(out)
    }

    /// Each template column's value for one row on its own, by its position
    /// among the output columns: what previews show, a failing column not
    /// hiding the others.
    pub fn render_templates(&self, row: Vec<Value>) -> Vec<(usize, Result<Value>)> {
        let ctx = Arc::new(RowContext {
            shared: self.shared.clone(),
            row,
        });
        let root = Jv::from_dyn_object(ctx.clone());
        self.ops
            .iter()
            .enumerate()
            .filter_map(|(i, op)| match op {
                Op::Template { name, output } => {
                    Some((i, self.render(i, name, *output, &ctx, &root)))
                }
                _ => None,
            })
            .collect()
    }

    /// Output column `i`'s template over one row, converted to its type.
    fn render(
        &self,
        i: usize,
        name: &str,
        output: OutputType,
        ctx: &RowContext,
        root: &Jv,
    ) -> Result<Value> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let text = tmpl.render(root).map_err(|e| Error::Mapping {
            index: i + 1,
            message: format!(
                "{}the template failed: {}",
                self.row_label(&ctx.row)
                    .map(|r| format!("row {r}: "))
                    .unwrap_or_default(),
                render_error(&e)
            ),
        })?;
        convert(text, output).map_err(|what| Error::ColumnValue {
            row: self.row_label(&ctx.row),
            column: self.output[i].clone(),
            message: what.message(i + 1),
        })
    }

    /// The row's key as errors show it, `id=42`, when the run gave the key.
    fn row_label(&self, row: &[Value]) -> Option<String> {
        let (key, label) = self.key.as_ref()?;
        let values: Vec<Value> = key
            .iter()
            .map(|&i| row.get(i).cloned().unwrap_or(Value::Null))
            .collect();
        Some(format!("{label}={}", display_key(&values)))
    }
}

/// The template engine with Dropsync's filters: strict about unknown names,
/// NULL printed as nothing, and no HTML escaping.
fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // NULL renders as nothing, like an empty CSV field, and booleans as
    // the files write them (`true`, where Jinja would print `True`).
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            Ok(())
        } else if let Some(b) = bool_of(value) {
            out.write_str(if b { "true" } else { "false" })
                .map_err(|_| minijinja::Error::from(ErrorKind::WriteFailure))
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.add_filter("default", default_filter);
    env.add_filter("d", default_filter);
    env.add_filter("dateformat", date_format);
    env.add_filter("datetimeformat", date_format);
    env.add_filter("fromjson", from_json);
    env
}

/// The names a template uses must be the model's columns, `row` (with a
/// column's name), `model`, `sync`, `run` (with their attributes) or one of
/// the engine's functions. Returns what is wrong, without the list of columns.
fn check_names(
    tmpl: &minijinja::Template<'_, '_>,
    source: &str,
    index: &HashMap<String, usize>,
    env: &minijinja::Environment<'_>,
) -> std::result::Result<(), String> {
    let mut vars: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    vars.sort();
    let is_column = |n: &str| index.contains_key(n);
    for var in vars {
        let (head, attr) = match var.split_once('.') {
            Some((h, rest)) => (h, Some(rest.split('.').next().unwrap_or(rest))),
            None => (var.as_str(), None),
        };
        if is_column(head) {
            continue;
        }
        if head == "row" {
            if let Some(attr) = attr.filter(|a| !is_column(a)) {
                return Err(format!(
                    "the template uses row.{attr}, which is not among the model's columns"
                ));
            }
            continue;
        }
        if let Some((_, attrs)) = CONTEXT_VARIABLES.iter().find(|(n, _)| *n == head) {
            match attr {
                Some(a) if !attrs.contains(&a) => {
                    return Err(format!(
                        "the template uses {head}.{a}; {head} has {}. Other names must be among the model's columns",
                        attrs.join(", ")
                    ))
                }
                _ => continue,
            }
        }
        if env.globals().any(|(g, _)| g == head) {
            continue;
        }
        return Err(format!(
            "the template uses {{{{ {head} }}}}, which is not among the model's columns"
        ));
    }
    if !is_column("row") {
        for name in subscripted_row_names(source) {
            if !is_column(&name) {
                return Err(format!(
                    "the template uses row[{name:?}], which is not among the model's columns"
                ));
            }
        }
    }
    Ok(())
}

/// The quoted names of `row["..."]` / `row['...']` inside the template's
/// `{{ }}` and `{% %}` tags.
fn subscripted_row_names(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(open) = rest.find(['{']) {
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let tag_end = after[1..].find(close).map(|e| e + 1).unwrap_or(after.len());
        let tag = &after[1..tag_end];
        rest = &after[tag_end..];
        let mut t = tag;
        while let Some(p) = t.find("row") {
            let before_ok = t[..p]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
            let tail = t[p + 3..].trim_start();
            t = &t[p + 3..];
            if !before_ok {
                continue;
            }
            let Some(tail) = tail.strip_prefix('[') else {
                continue;
            };
            let tail = tail.trim_start();
            let Some(q) = tail.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(end) = tail[1..].find(q) else {
                continue;
            };
            let name = &tail[1..1 + end];
            if !name.contains('\\') && tail[1 + end + 1..].trim_start().starts_with(']') {
                out.push(name.to_string());
            }
        }
    }
    out
}

fn render_error(e: &minijinja::Error) -> String {
    let what = match (e.kind(), e.detail()) {
        (ErrorKind::UndefinedError, _) => {
            "a value it uses is undefined (a missing key or attribute?)".to_string()
        }
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    };
    match e.line() {
        Some(line) if line > 1 => format!("{what} (line {line})"),
        _ => what,
    }
}

fn bool_of(v: &Jv) -> Option<bool> {
    (v.kind() == minijinja::value::ValueKind::Bool).then(|| v.is_true())
}

fn to_jinja(v: &Value) -> Jv {
    match v {
        Value::Null => Jv::from(()),
        Value::Bool(b) => Jv::from(*b),
        Value::Int(i) => Jv::from(*i),
        Value::Float(f) => Jv::from(*f),
        other => Jv::from(other.to_text()),
    }
}

// ---------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------

/// A rendered value its column's `type` cannot hold.
struct NotConvertible {
    rendered: String,
    what: &'static str,
}

impl NotConvertible {
    fn message(&self, index: usize) -> String {
        const SHOWN: usize = 80;
        let shown: String = if self.rendered.chars().count() > SHOWN {
            format!("{}…", self.rendered.chars().take(SHOWN).collect::<String>())
        } else {
            self.rendered.clone()
        };
        format!(
            "mapping #{index} rendered {shown:?}, which is not {}; {}",
            self.what,
            crate::hints::TEMPLATE_TYPE_TEXT.cli
        )
    }
}

/// The rendered text as the column's type: empty (or blank) output is NULL
/// for every type but text.
fn convert(text: String, output: OutputType) -> std::result::Result<Value, NotConvertible> {
    if output == OutputType::Text {
        return Ok(Value::Text(text));
    }
    let t = text.trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    let fail = |what| NotConvertible {
        rendered: text.clone(),
        what,
    };
    match output {
        OutputType::Text => unreachable!(),
        OutputType::Integer => {
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            // `{{ price * 2 }}` of a float renders `84.0`: integral floats pass.
            match t.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::Int(f as i64)),
                _ => Err(fail("an integer")),
            }
        }
        OutputType::Float => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(fail("a finite number")),
        },
        OutputType::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Value::Bool(true)),
            "false" | "0" | "no" => Ok(Value::Bool(false)),
            _ => Err(fail("a boolean (true/false, 1/0, yes/no)")),
        },
        OutputType::Json => {
            if serde_json::from_str::<serde::de::IgnoredAny>(t).is_err() {
                return Err(fail("valid JSON"));
            }
            Ok(Value::Json(minify_json(t)))
        }
    }
}

/// Valid JSON text without the whitespace between tokens: one line, as
/// NDJSON needs, and every number's digits kept as written.
fn minify_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

/// `default(value, default="", boolean=false)`: like Jinja's, but NULL
/// counts as missing too, so `{{ email | default("n/a") }}` fills NULLs.
fn default_filter(
    state: &State,
    value: &Jv,
    args: Rest<Jv>,
) -> std::result::Result<Jv, minijinja::Error> {
    if args.len() > 2 {
        return Err(minijinja::Error::from(ErrorKind::TooManyArguments));
    }
    let other = args.first().cloned().unwrap_or_else(|| Jv::from(""));
    let lax = match args.get(1) {
        Some(v) => {
            if v.is_undefined()
                && state.undefined_behavior() == minijinja::UndefinedBehavior::Strict
            {
                return Err(minijinja::Error::from(ErrorKind::UndefinedError));
            }
            v.is_true()
        }
        None => false,
    };
    Ok(
        if value.is_undefined() || value.is_none() || (lax && !value.is_true()) {
            other
        } else {
            value.clone()
        },
    )
}

/// `dateformat(format="%Y-%m-%d")` and `datetimeformat(format=...)`: reads a
/// date or timestamp (ISO 8601 text as sources give it, with or without an
/// offset, naive meaning UTC; or Unix seconds) and formats it with strftime
/// (chrono). NULL stays NULL.
fn date_format(value: &Jv, format: Option<&str>) -> std::result::Result<Jv, minijinja::Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(Jv::from(()));
    }
    let bad = |m: String| minijinja::Error::new(ErrorKind::InvalidOperation, m);
    let when = if let Some(s) = value.as_str() {
        parse_when(s).ok_or_else(|| {
            bad(format!(
                "{s:?} is not a date or a timestamp (ISO 8601, such as 2024-05-01 or 2024-05-01T13:45:00Z)"
            ))
        })?
    } else if let Some(secs) = value.as_i64() {
        DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| bad(format!("{secs} is out of range as Unix seconds")))?
            .fixed_offset()
    } else if let Ok(f) = f64::try_from(value.clone()) {
        DateTime::from_timestamp_micros((f * 1e6).round() as i64)
            .filter(|_| f.is_finite())
            .ok_or_else(|| bad(format!("{f} is out of range as Unix seconds")))?
            .fixed_offset()
    } else {
        return Err(bad(format!(
            "{value} is not a date or a timestamp (ISO 8601 text or Unix seconds)"
        )));
    };
    let format = format.unwrap_or("%Y-%m-%d");
    let mut out = String::new();
    std::fmt::Write::write_fmt(&mut out, format_args!("{}", when.format(format)))
        .map_err(|_| bad(format!("{format:?} is not a valid strftime format")))?;
    Ok(Jv::from(out))
}

/// ISO 8601 dates and timestamps: `2024-05-01`, `2024-05-01 13:45:00`,
/// `2024-05-01T13:45:00.123Z`, `2024-05-01 13:45:00+02`. Naive ones are UTC.
fn parse_when(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    let zulu;
    let s = match s.strip_suffix(['Z', 'z']) {
        Some(rest) => {
            zulu = format!("{rest}+00:00");
            zulu.as_str()
        }
        None => s,
    };
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
        "%Y-%m-%d %H:%M:%S%.f %#z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d.and_utc().fixed_offset());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().fixed_offset())
}

/// `fromjson`: JSON text (a json column, say) as a value, so
/// `{{ (payload | fromjson).name }}` reads into it. NULL stays NULL.
fn from_json(value: &Jv) -> std::result::Result<Jv, minijinja::Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(Jv::from(()));
    }
    let s = value
        .as_str()
        .ok_or_else(|| minijinja::Error::new(ErrorKind::InvalidOperation, "fromjson reads text"))?;
    serde_json::from_str::<serde_json::Value>(s)
        .map(Jv::from_serialize)
        .map_err(|e| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("fromjson: the text is not valid JSON ({e})"),
            )
        })
}

/// A constant's type, named as a source would declare it.
fn declared_for_value(v: &Value) -> Option<String> {
    Some(
        match v {
            Value::Int(_) => "bigint",
            Value::Float(_) => "double",
            Value::Bool(_) => "boolean",
            Value::Json(_) => "json",
            _ => "text",
        }
        .to_string(),
    )
}

/// A template column's declared `type`, named as a source would.
fn declared_for_output(t: crate::config::OutputType) -> Option<String> {
    Some(
        match t {
            OutputType::Text => "text",
            OutputType::Integer => "bigint",
            OutputType::Float => "double",
            OutputType::Boolean => "boolean",
            OutputType::Json => "json",
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cols(names: &[&str]) -> Vec<Column> {
        names
            .iter()
            .map(|n| Column {
                name: n.to_string(),
                declared_type: None,
                primary_key: false,
            })
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn tpl(template: &str, to: &str, output: OutputType) -> ColumnSpec {
        ColumnSpec::Template {
            template: template.into(),
            to: to.into(),
            output,
        }
    }

    /// Renders one template column over one row of `names`.
    fn render(
        names: &[&str],
        row: Vec<Value>,
        template: &str,
        output: OutputType,
    ) -> Result<Value> {
        let m = Mapping::compile(&cols(names), Some(&[tpl(template, "out", output)]))?;
        Ok(m.apply(row)?.remove(0))
    }

    fn compile_err(names: &[&str], template: &str) -> String {
        Mapping::compile(&cols(names), Some(&[tpl(template, "x", OutputType::Text)]))
            .err()
            .expect("the template should not compile")
            .to_string()
    }

    #[test]
    fn maps_renames_constants_and_templates() {
        let spec = vec![
            ColumnSpec::From {
                from: "email".into(),
                to: "Email".into(),
            },
            ColumnSpec::Constant {
                value: Value::Text("EMEA".into()),
                to: "region".into(),
            },
            ColumnSpec::Template {
                template: "{{ first_name }} {{ last_name }}".into(),
                to: "full_name".into(),
                output: Default::default(),
            },
        ];
        let m = Mapping::compile(
            &cols(&["id", "email", "first_name", "last_name"]),
            Some(&spec),
        )
        .unwrap();
        assert_eq!(m.output(), ["Email", "region", "full_name"]);
        let out = m
            .apply(vec![
                Value::Int(1),
                Value::Text("a@b.c".into()),
                Value::Text("Ada".into()),
                Value::Null,
            ])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Value::Text("a@b.c".into()),
                Value::Text("EMEA".into()),
                Value::Text("Ada ".into())
            ]
        );
    }

    #[test]
    fn missing_columns_are_named() {
        let e = compile_err(&["id"], "{{ nope }}");
        assert!(e.contains("mapping #1") && e.contains("nope"), "{e}");
        let spec = vec![ColumnSpec::From {
            from: "mail".into(),
            to: "x".into(),
        }];
        let e = Mapping::compile(&cols(&["id"]), Some(&spec))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"mail\""), "{e}");
    }

    #[test]
    fn unknown_row_keys_and_attributes_fail_at_compile_time() {
        let e = compile_err(&["id", "first name"], "{{ row.nope }}");
        assert!(
            e.contains("row.nope") && e.contains("\"first name\""),
            "{e}"
        );
        let e = compile_err(&["id", "first name"], "{{ row[\"first  name\"] }}");
        assert!(e.contains("row[\"first  name\"]"), "{e}");
        let e = compile_err(&["id"], "{% if row['x'] %}x{% endif %}");
        assert!(e.contains("row[\"x\"]"), "{e}");
        let e = compile_err(&["id"], "{{ model.owner }}");
        assert!(e.contains("model.owner") && e.contains("id, name"), "{e}");
        // Known names, functions and loop variables pass.
        for ok in [
            "{{ row.id }}{{ row['first name'] }}{{ model.id }}{{ sync.id }}{{ run.started_at }}",
            "{% for i in range(2) %}{{ i }}{% endfor %}",
            "{% for k, v in row | items %}{{ k }}{% endfor %}",
            "{% set x = id %}{{ x }} row[\"literal text outside tags\"]",
        ] {
            Mapping::compile(
                &cols(&["id", "first name"]),
                Some(&[tpl(ok, "x", OutputType::Text)]),
            )
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn row_reads_names_with_spaces_and_serializes_in_order() {
        let names = ["id", "first name", "last-name"];
        let row = || vec![Value::Int(7), text("Ada"), text("Lovelace")];
        assert_eq!(
            render(
                &names,
                row(),
                "{{ row[\"first name\"] }} {{ row['last-name'] }} #{{ row.id }}",
                OutputType::Text
            )
            .unwrap(),
            text("Ada Lovelace #7")
        );
        assert_eq!(
            render(&names, row(), "{{ row | tojson }}", OutputType::Text).unwrap(),
            text(r#"{"id":7,"first name":"Ada","last-name":"Lovelace"}"#)
        );
    }

    #[test]
    fn model_sync_and_run_come_from_the_context() {
        let ctx = MappingContext {
            model_id: "m-1".into(),
            model_name: "orders".into(),
            sync_id: "daily".into(),
            run_id: 42,
            started_at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 7, 5).unwrap(),
        };
        let spec = [
            tpl(
                "{{ model.id }}/{{ model.name }}/{{ sync.id }}/{{ run.id }}/{{ run.started_at }}",
                "a",
                OutputType::Text,
            ),
            tpl("{{ run.id + 1 }}", "b", OutputType::Integer),
        ];
        let m = Mapping::compile_with(&cols(&["id"]), Some(&spec), &ctx).unwrap();
        assert_eq!(
            m.apply(vec![Value::Int(1)]).unwrap(),
            vec![
                text("m-1/orders/daily/42/2026-03-01T10:07:05Z"),
                Value::Int(43)
            ]
        );
        // A column named like a variable wins: existing templates keep working.
        assert_eq!(
            render(
                &["model"],
                vec![text("T-800")],
                "{{ model }}",
                OutputType::Text
            )
            .unwrap(),
            text("T-800")
        );
    }

    #[test]
    fn integer_float_boolean_and_json_types_convert() {
        let n = ["n", "s"];
        let row = || vec![Value::Int(21), text("x")];
        assert_eq!(
            render(&n, row(), "{{ n * 2 }}", OutputType::Integer).unwrap(),
            Value::Int(42)
        );
        assert_eq!(
            render(&n, row(), " -7 ", OutputType::Integer).unwrap(),
            Value::Int(-7)
        );
        assert_eq!(
            render(&n, row(), "{{ n * 1.0 }}", OutputType::Integer).unwrap(),
            Value::Int(21)
        );
        assert_eq!(
            render(&n, row(), "{{ n / 2 }}", OutputType::Float).unwrap(),
            Value::Float(10.5)
        );
        assert_eq!(
            render(&n, row(), "{{ n > 20 }}", OutputType::Boolean).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            render(&n, row(), "FALSE", OutputType::Boolean).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            render(&n, row(), "0", OutputType::Boolean).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            render(
                &n,
                row(),
                "{\n  \"n\": {{ n }},\n  \"tags\": [{{ s | tojson }}, \"a b\"]\n}",
                OutputType::Json
            )
            .unwrap(),
            Value::Json(r#"{"n":21,"tags":["x","a b"]}"#.into())
        );
        assert_eq!(
            render(&n, row(), "{{ s | tojson }}", OutputType::Json).unwrap(),
            Value::Json("\"x\"".into())
        );
        assert_eq!(
            render(&n, row(), "12345678901234567890.5", OutputType::Json).unwrap(),
            Value::Json("12345678901234567890.5".into()),
            "numbers keep their digits"
        );
        assert_eq!(
            render(&n, row(), "{{ s }}", OutputType::Text).unwrap(),
            text("x")
        );
        // Empty output is NULL for every type but text.
        for t in [
            OutputType::Integer,
            OutputType::Float,
            OutputType::Boolean,
            OutputType::Json,
        ] {
            assert_eq!(render(&n, row(), "  ", t).unwrap(), Value::Null, "{t:?}");
        }
        assert_eq!(render(&n, row(), "", OutputType::Text).unwrap(), text(""));
        // And what does not convert fails.
        for (t, bad) in [
            (OutputType::Integer, "1.5"),
            (OutputType::Float, "NaN"),
            (OutputType::Boolean, "maybe"),
            (OutputType::Json, "{\"a\": }"),
        ] {
            assert!(render(&n, row(), bad, t).is_err(), "{t:?} {bad}");
        }
    }

    #[test]
    fn a_value_that_does_not_convert_names_the_row_column_and_value() {
        let spec = [
            ColumnSpec::From {
                from: "id".into(),
                to: "id".into(),
            },
            tpl("{{ qty }}", "qty", OutputType::Integer),
            tpl("{{ price }}", "total", OutputType::Integer),
        ];
        let mut m = Mapping::compile(&cols(&["id", "qty", "price"]), Some(&spec)).unwrap();
        m.name_rows_by(&[0]);
        let e = m
            .apply(vec![Value::Int(42), Value::Int(1), text("abc")])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "row id=42: column \"total\": mapping #3 rendered \"abc\", which is not an integer; fix the template or set type = \"text\""
        );
        assert_eq!(e.code(), crate::error::ErrorCode::Mapping);
        // A composite key, and a template that fails while rendering.
        let spec = [tpl(
            "{{ created | dateformat('%Y') }}",
            "year",
            OutputType::Integer,
        )];
        let mut m = Mapping::compile(&cols(&["a", "b", "created"]), Some(&spec)).unwrap();
        m.name_rows_by(&[0, 1]);
        let e = m
            .apply(vec![text("x"), Value::Int(2), text("soon")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("column mapping #1: row (a, b)=(\"x\", 2): the template failed:")
                && e.contains("\"soon\" is not a date"),
            "{e}"
        );
        // Without a key (previews), the message still names column and value.
        let m = Mapping::compile(
            &cols(&["v"]),
            Some(&[tpl("{{ v }}", "flag", OutputType::Boolean)]),
        )
        .unwrap();
        let e = m.apply(vec![text("perhaps")]).unwrap_err().to_string();
        assert!(
            e.starts_with("column \"flag\": mapping #1 rendered \"perhaps\""),
            "{e}"
        );
    }

    #[test]
    fn default_replaces_null_and_null_prints_as_nothing() {
        let names = ["email", "n"];
        let row = || vec![Value::Null, Value::Int(0)];
        assert_eq!(
            render(
                &names,
                row(),
                "{{ email | default('n/a') }}",
                OutputType::Text
            )
            .unwrap(),
            text("n/a")
        );
        assert_eq!(
            render(&names, row(), "{{ email | d('n/a') }}", OutputType::Text).unwrap(),
            text("n/a")
        );
        assert_eq!(
            render(
                &names,
                row(),
                "{{ row.email | default('-') }}",
                OutputType::Text
            )
            .unwrap(),
            text("-")
        );
        assert_eq!(
            render(&names, row(), "[{{ email }}]", OutputType::Text).unwrap(),
            text("[]")
        );
        assert_eq!(
            render(&names, row(), "{{ email is none }}", OutputType::Text).unwrap(),
            text("true")
        );
        // Zero is a value: only the boolean form replaces falsy ones.
        assert_eq!(
            render(&names, row(), "{{ n | default(5) }}", OutputType::Integer).unwrap(),
            Value::Int(0)
        );
        assert_eq!(
            render(
                &names,
                row(),
                "{{ n | default(5, true) }}",
                OutputType::Integer
            )
            .unwrap(),
            Value::Int(5)
        );
        // NULL into a typed column is NULL.
        assert_eq!(
            render(&names, row(), "{{ email }}", OutputType::Integer).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn tojson_and_fromjson() {
        let names = ["name", "payload"];
        let row = || {
            vec![
                text("Ada \"the first\""),
                text(r#"{"plan":"pro","seats":3}"#),
            ]
        };
        assert_eq!(
            render(&names, row(), "{{ name | tojson }}", OutputType::Text).unwrap(),
            text(r#""Ada \"the first\"""#)
        );
        assert_eq!(
            render(&names, row(), "{\"who\": {{ name | tojson }}, \"plan\": {{ (payload | fromjson).plan | tojson }}, \"seats\": {{ (payload | fromjson).seats }}}", OutputType::Json).unwrap(),
            Value::Json(r#"{"who":"Ada \"the first\"","plan":"pro","seats":3}"#.into())
        );
    }

    #[test]
    fn dateformat_reads_dates_and_timestamps() {
        let f = |v: Value, fmt: &str| {
            render(
                &["at"],
                vec![v],
                &format!("{{{{ at | dateformat({fmt:?}) }}}}"),
                OutputType::Text,
            )
            .unwrap()
        };
        assert_eq!(f(text("2024-05-01"), "%Y-%m-%d"), text("2024-05-01"));
        assert_eq!(
            f(text("2024-05-01"), "%d/%m/%Y %H:%M"),
            text("01/05/2024 00:00")
        );
        assert_eq!(f(text("2024-05-01 13:45:09"), "%H:%M:%S"), text("13:45:09"));
        assert_eq!(
            f(text("2024-05-01T13:45:09.123456"), "%Y %S%.3f"),
            text("2024 09.123")
        );
        assert_eq!(
            f(text("2024-05-01T13:45:09Z"), "%Y-%m-%dT%H:%M:%S%:z"),
            text("2024-05-01T13:45:09+00:00")
        );
        assert_eq!(f(text("2024-05-01 13:45:09+02"), "%H %z"), text("13 +0200"));
        assert_eq!(
            f(text("2024-05-01T13:45:09.5-05:00"), "%B %-d, %Y"),
            text("May 1, 2024")
        );
        assert_eq!(f(Value::Int(0), "%Y-%m-%d"), text("1970-01-01"));
        assert_eq!(f(Value::Null, "%Y"), text(""));
        let g = |v: Value, tpl: &str| render(&["at"], vec![v], tpl, OutputType::Text);
        assert_eq!(
            g(
                text("2024-05-01 08:00:00"),
                "{{ at | datetimeformat('%H') }}"
            )
            .unwrap(),
            text("08")
        );
        assert_eq!(
            g(text("2024-05-01 08:00:00"), "{{ at | dateformat }}").unwrap(),
            text("2024-05-01")
        );
        assert_eq!(
            g(
                Value::Null,
                "{{ at | dateformat('%Y') | default('never') }}"
            )
            .unwrap(),
            text("never")
        );
        let e = g(text("yesterday"), "{{ at | dateformat('%Y') }}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"yesterday\" is not a date"), "{e}");
        let e = g(text("2024-05-01"), "{{ at | dateformat('%Q') }}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid strftime format"), "{e}");
    }

    #[test]
    fn builtin_filters_and_no_html_escaping() {
        let names = ["s"];
        let row = || vec![text("  <Ada & Bob>  ")];
        assert_eq!(
            render(&names, row(), "{{ s | trim | upper }}", OutputType::Text).unwrap(),
            text("<ADA & BOB>")
        );
        assert_eq!(
            render(
                &names,
                row(),
                "{{ s | trim | lower | replace('&', 'and') }}",
                OutputType::Text
            )
            .unwrap(),
            text("<ada and bob>")
        );
    }

    #[test]
    fn mappings_without_templates_take_the_plain_path() {
        let spec = [ColumnSpec::From {
            from: "b".into(),
            to: "B".into(),
        }];
        let m = Mapping::compile(&cols(&["a", "b"]), Some(&spec)).unwrap();
        assert!(!m.has_templates());
        assert_eq!(
            m.apply(vec![Value::Int(1), text("x")]).unwrap(),
            vec![text("x")]
        );
        let m = Mapping::compile(&cols(&["a", "b"]), None).unwrap();
        assert!(m.is_identity() && !m.has_templates());
    }

    #[test]
    fn typed_template_columns_declare_their_type() {
        let spec = [
            tpl("1", "a", OutputType::Integer),
            tpl("{}", "b", OutputType::Json),
            tpl("x", "c", OutputType::Text),
        ];
        let m = Mapping::compile(&cols(&["id"]), Some(&spec)).unwrap();
        assert_eq!(
            m.output_types(),
            [
                Some("bigint".to_string()),
                Some("json".to_string()),
                Some("text".to_string())
            ]
        );
    }
}
