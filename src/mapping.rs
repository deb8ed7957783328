//! Column mapping: every model column as is, or selected / renamed / constant /
//! templated output columns. Change detection runs on the mapped record, so a
//! column that is not synced never makes a row "changed".

use crate::config::ColumnSpec;
use crate::error::{Error, Result};
use crate::source::Column;
use crate::value::Value;
use std::collections::BTreeMap;

enum Op {
    Column(usize),
    Constant(Value),
    /// A template name in `env` and the model columns it reads.
    Template {
        name: String,
        inputs: Vec<(String, usize)>,
    },
}

pub struct Mapping {
    output: Vec<String>,
    /// Each output column's type name, as a source would declare it: what
    /// typed formats (Parquet) write. A model column keeps its source's.
    types: Vec<Option<String>>,
    ops: Vec<Op>,
    identity: bool,
    env: minijinja::Environment<'static>,
}

impl Mapping {
    /// Checks the mapping against the model's columns; errors name the mapping
    /// and the missing column.
    pub fn compile(columns: &[Column], spec: Option<&[ColumnSpec]>) -> Result<Mapping> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // NULL renders as nothing, like an empty CSV field.
        env.set_formatter(|out, state, value| {
            if value.is_none() {
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
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
                output: names.iter().map(|s| s.to_string()).collect(),
                types: columns.iter().map(|c| c.declared_type.clone()).collect(),
                ops: (0..columns.len()).map(Op::Column).collect(),
                identity: true,
                env,
            });
        };
        let mut ops = Vec::with_capacity(spec.len());
        for (i, c) in spec.iter().enumerate() {
            let index = i + 1;
            ops.push(match c {
                ColumnSpec::From { from, .. } => {
                    let pos = names.iter().position(|n| n == from).ok_or_else(|| Error::Mapping {
                        index,
                        message: format!(
                            "column {from:?} is not among the model's columns ({}); fix `from`",
                            available()
                        ),
                    })?;
                    Op::Column(pos)
                }
                ColumnSpec::Constant { value, .. } => Op::Constant(value.clone()),
                ColumnSpec::Template { template, .. } => {
                    let name = format!("column_{index}");
                    env.add_template_owned(name.clone(), template.clone())
                        .map_err(|e| Error::Mapping {
                            index,
                            message: format!("the template does not parse: {e}"),
                        })?;
                    let tmpl = env.get_template(&name).map_err(|e| Error::Internal(e.to_string()))?;
                    let mut inputs = Vec::new();
                    let mut vars: Vec<String> = tmpl.undeclared_variables(false).into_iter().collect();
                    vars.sort();
                    for var in vars {
                        let pos = names.iter().position(|n| *n == var).ok_or_else(|| Error::Mapping {
                            index,
                            message: format!(
                                "the template uses {{{{ {var} }}}}, which is not among the model's columns ({})",
                                available()
                            ),
                        })?;
                        inputs.push((var, pos));
                    }
                    Op::Template { name, inputs }
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
            ops,
            identity: false,
            env,
        })
    }

    /// True when every model column is synced as is.
    pub fn is_identity(&self) -> bool {
        self.identity
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
        let mut out = Vec::with_capacity(self.ops.len());
        for (i, op) in self.ops.iter().enumerate() {
            out.push(match op {
                Op::Column(pos) => row[*pos].clone(),
                Op::Constant(v) => v.clone(),
                Op::Template { name, inputs } => {
                    let ctx: BTreeMap<&str, minijinja::Value> = inputs
                        .iter()
                        .map(|(n, pos)| (n.as_str(), to_jinja(&row[*pos])))
                        .collect();
                    let tmpl = self
                        .env
                        .get_template(name)
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    Value::Text(tmpl.render(ctx).map_err(|e| Error::Mapping {
                        index: i + 1,
                        message: format!("the template failed: {e}"),
                    })?)
                }
            });
        }
        Ok(out)
    }
}

fn to_jinja(v: &Value) -> minijinja::Value {
    match v {
        Value::Null => minijinja::Value::from(()),
        Value::Bool(b) => minijinja::Value::from(*b),
        Value::Int(i) => minijinja::Value::from(*i),
        Value::Float(f) => minijinja::Value::from(*f),
        other => minijinja::Value::from(other.to_text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let spec = vec![ColumnSpec::Template {
            template: "{{ nope }}".into(),
            to: "x".into(),
            output: Default::default(),
        }];
        let e = Mapping::compile(&cols(&["id"]), Some(&spec))
            .err()
            .unwrap()
            .to_string();
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
    use crate::config::OutputType;
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
