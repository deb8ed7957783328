//! A run of an Insert or Diff sync on the source engine: the database
//! finds the changes, Dropsync writes and delivers them as the local engine
//! would (same files, same mapping, same delivery and commit).

use super::session::{DiffRow, Kind, NextGeneration, Param, Session, SyncRow};
use super::spool;
use super::sql::{self, Tables};
use super::{Plan, META_GENERATION, META_OWNER};
use crate::config::Mode;
use crate::error::{Error, Result};
use crate::history::RunReport;
use crate::mapping::Mapping;
use crate::recovery::{self, SourceCommit};
use crate::run::{Ctx, Pass, Progress};
use crate::run_files::OutFile;
use crate::source::{decode_record, encode_record, Column};
use crate::store::SyncStore;

/// Which snapshot the diff compares with.
enum View {
    /// Nothing delivered yet (or reset): every row is added.
    Empty,
    Base,
    /// The base with a delivered generation laid over it, for a preview
    /// (which writes nothing, so does not fold it in).
    Overlay(i64),
}

/// What [`execute`] takes from the local run.
pub(crate) struct Local<'a> {
    pub store: &'a SyncStore,
    pub dest: &'a dyn crate::destination::Destination,
    pub names: &'a crate::filename::NameContext<'a>,
    pub mapping: &'a Mapping,
    pub columns: &'a [Column],
    pub old_columns: Option<&'a [String]>,
}

pub(crate) fn execute(
    p: &Pass<'_>,
    ctx: &Ctx<'_>,
    local: Local<'_>,
    mut files: Vec<OutFile>,
    plan: &Plan,
) -> Result<RunReport> {
    let spec = p.spec;
    let store = local.store;
    let commits = ctx.purpose.commits();
    let t = &plan.tables;
    let key = &spec.model.primary_key;
    let keys = key.len();
    // Marking as delivered makes the model's result the snapshot, whatever
    // the database held: it starts from none, which also makes it the way
    // out of a snapshot out of step (dropped, or kept another way).
    let generation: i64 = if ctx.purpose == crate::run::Purpose::MarkDelivered {
        0
    } else {
        meta_number(store, META_GENERATION)?
    };
    let old_rows: u64 = if generation == 0 {
        0
    } else {
        meta_number(store, "row_count")? as u64
    };
    let owner = owner(store, commits)?;

    let t_start = std::time::Instant::now();
    let mut s = Session::open(&plan.db)?;
    let hashing = s.hashing();
    let declared: Vec<Option<&str>> = key
        .iter()
        .map(|k| {
            local
                .columns
                .iter()
                .find(|c| &c.name == k)
                .and_then(|c| c.declared_type.as_deref())
        })
        .collect();
    let layout = sql::Layout::new(hashing, &declared);
    if commits {
        s.ensure_tables(t, &layout)?;
    }
    let row = s.sync_row(t, &spec.sync.id)?;
    let view = settle(
        &mut s,
        t,
        &spec.sync.id,
        row,
        Settle {
            generation,
            owner: &owner,
            writes: commits,
            rows: old_rows,
            layout: &layout,
        },
    )?;
    tracing::debug!(elapsed = ?t_start.elapsed(), canon = layout.canon(), "state schema settled");
    p.control.report(Progress::Reading { rows: 0 })?;
    let (snapshot, record) = match view {
        View::Empty => (sql::empty_snapshot(&layout), "o._rec".to_string()),
        View::Base => (
            sql::current_snapshot(t, &layout, None),
            sql::removed_record(t, keys, None),
        ),
        View::Overlay(g) => (
            sql::current_snapshot(t, &layout, Some(g)),
            sql::removed_record(t, keys, Some(g)),
        ),
    };
    let model_sql = spec.model.sql.as_deref().unwrap_or_default();
    let names: Vec<String> = local.columns.iter().map(|c| c.name.clone()).collect();
    let hash = sql::hash_expr(&plan.parts, hashing);
    let diff = sql::Diff {
        model_sql,
        key,
        layout: &layout,
        columns: &names,
        hash: &hash,
        snapshot: &snapshot,
        record: &record,
    };
    let diff_sql = diff.sql(false);
    // Only a base can be walked in key order: its primary key is an index.
    let walk_sql = (layout.typed() && matches!(view, View::Base)).then(|| diff.sql(true));
    tracing::debug!(sql = %diff_sql, "in-database diff");

    let find = |kind| files.iter().position(|f: &OutFile| f.kind == kind);
    let added_file = find(crate::run::FileKind::Added);
    let changed_file = find(crate::run::FileKind::Changed).filter(|_| p.mode == Mode::Diff);
    let removed_file = find(crate::run::FileKind::Removed).filter(|_| p.mode == Mode::Diff);
    let projection = crate::run::projection(local.old_columns, &ctx.columns);
    let spool_path = p.staging.join("source-delta.bin");
    let mut spool = if commits {
        Some(spool::Writer::create(&spool_path)?)
    } else {
        None
    };
    let mut c = Counts::default();
    let mut rec_buf = Vec::with_capacity(1024);
    let t0 = std::time::Instant::now();
    let queried = s.diff(
        sql::count_model(model_sql),
        diff_sql,
        walk_sql,
        keys,
        &mut |rows: Vec<DiffRow>| {
            for r in rows {
                c.seen += 1;
                match r.kind {
                    Kind::Added | Kind::Changed => {
                        if r.keys.iter().any(Option::is_none) {
                            c.null_keys += 1;
                            continue;
                        }
                        if c.null_keys > 0 {
                            continue;
                        }
                        let mapped = local.mapping.apply(r.values)?;
                        encode_record(&mapped, &mut rec_buf)?;
                        let file = if r.kind == Kind::Added {
                            c.added += 1;
                            added_file
                        } else {
                            c.changed += 1;
                            changed_file
                        };
                        if let Some(i) = file {
                            files[i].write_encoded(&ctx.writing, &rec_buf)?;
                        }
                        if let Some(sp) = &mut spool {
                            sp.upsert(&r.keys, r.hash.as_deref().unwrap_or_default(), &rec_buf)?;
                        }
                    }
                    Kind::Removed => {
                        c.removed += 1;
                        if let Some(i) = removed_file {
                            let values = crate::run::project(
                                decode_record(r.rec.as_deref().unwrap_or_default())?,
                                projection.as_deref(),
                            );
                            files[i].write(&ctx.writing, &values)?;
                        }
                        if let Some(sp) = &mut spool {
                            sp.delete(&r.keys)?;
                        }
                    }
                }
            }
            p.control.report(Progress::Reading { rows: c.seen })
        },
    )?;
    tracing::debug!(elapsed = ?t0.elapsed(), changes = c.seen, rows = queried, "in-database diff done");
    if c.null_keys > 0 {
        return Err(Error::NullKey {
            columns: crate::run::key_label(key),
            count: c.null_keys,
            rows: format!(
                "not known: the database compared them; find them with WHERE {} IS NULL",
                key.iter()
                    .map(|k| sql::quote(k))
                    .collect::<Vec<_>>()
                    .join(" IS NULL OR ")
            ),
        });
    }
    // Each old key still there matches one model row, each new key is
    // added: any other count means a key appears more than once.
    if queried + c.removed != old_rows + c.added {
        return Err(duplicates(&mut s, model_sql, key)?);
    }
    let next = generation + 1;
    let written = spool.map(|sp| sp.finish()).transpose()?;
    let rows = crate::run::row_counts(p.mode, queried, c.added, c.changed, c.removed, 0);
    let report =
        crate::run::finish_run(p, ctx, store, local.dest, local.names, files, rows, || {
            let path = written.ok_or_else(|| Error::Internal("no delta was kept".into()))?;
            let generation = NextGeneration {
                tables: t,
                sync_id: &spec.sync.id,
                generation: next,
                spool: &path,
                keys,
            };
            if !s.write_next(&generation, hashing)? {
                return Err(duplicates(&mut s, model_sql, key)?);
            }
            tracing::debug!(elapsed = ?t_start.elapsed(), generation = next, "generation written");
            crate::run::killed_here_in_tests("generation-written");
            Ok(recovery::Sealed {
                fresh: false,
                snapshot: None,
                source: Some(SourceCommit {
                    generation: next,
                    row_count: queried,
                    columns: ctx.columns.clone(),
                }),
            })
        })?;
    if commits {
        // Fold the delivered generation in now; the next run does it if
        // this fails.
        match roll_forward(&mut s, t, &spec.sync.id, &layout, next, queried) {
            Ok(()) => tracing::debug!(elapsed = ?t_start.elapsed(), "generation folded in"),
            Err(e) => {
                tracing::info!(error = %e, "the delivered generation is folded in by the next run")
            }
        }
    }
    Ok(report)
}

/// What the run counted.
#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    added: u64,
    changed: u64,
    removed: u64,
    seen: u64,
    null_keys: u64,
}

fn duplicates(s: &mut Session, model_sql: &str, key: &[String]) -> Result<Error> {
    let (count, keys) = s.duplicate_keys(model_sql, key)?;
    Ok(Error::DuplicateKey {
        columns: crate::run::key_label(key),
        count,
        keys: keys.join(", "),
    })
}

fn meta_number(store: &SyncStore, key: &str) -> Result<i64> {
    Ok(store.meta(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// This state folder's id in the state schema, made on its first run.
fn owner(store: &SyncStore, create: bool) -> Result<String> {
    if let Some(o) = store.meta(META_OWNER)? {
        return Ok(o);
    }
    let o = uuid::Uuid::new_v4().simple().to_string();
    if create {
        crate::store::write_meta(&store.conn, META_OWNER, &o).map_err(|e| store.err(e))?;
    }
    Ok(o)
}

struct Settle<'a> {
    /// The generation the local state says was delivered (0: none).
    generation: i64,
    owner: &'a str,
    writes: bool,
    /// Rows of that generation.
    rows: u64,
    layout: &'a sql::Layout,
}

/// Brings the state schema to the generation the local state names.
fn settle(
    s: &mut Session,
    t: &Tables,
    sync_id: &str,
    row: Option<SyncRow>,
    w: Settle<'_>,
) -> Result<View> {
    let id = || Param::Text(Some(sync_id.to_string()));
    let keys = w.layout.keys.len();
    let canon = w.layout.canon();
    let source_name = s.db().describe();
    let out_of_step = |what: String| Error::OutOfStep {
        what: format!("source {source_name}: {what}"),
    };
    let Some(row) = row else {
        if w.generation > 0 {
            return Err(out_of_step(format!(
                "the snapshot of generation {} is missing from {} (the schema or its tables were dropped)",
                w.generation, t.syncs
            )));
        }
        if w.writes {
            s.write(
                t,
                vec![
                    (format!("TRUNCATE {}", t.base), vec![]),
                    (format!("TRUNCATE {}", t.next), vec![]),
                    (
                        format!(
                            "INSERT INTO {} (sync_id, owner, generation, pending, row_count, keys, canon, updated_at) \
                             VALUES ($1, $2, 0, NULL, 0, $3, $4, now())",
                            t.syncs
                        ),
                        vec![
                            id(),
                            Param::Text(Some(w.owner.to_string())),
                            Param::Int4(keys as i32),
                            Param::Text(Some(canon.clone())),
                        ],
                    ),
                ],
            )?;
        }
        return Ok(View::Empty);
    };
    if row.owner != w.owner {
        return Err(Error::Source {
            source_name,
            message: format!(
                "the snapshot of sync {sync_id:?} in {} belongs to another Dropsync state folder (owner {}): two copies of a sync must not share one snapshot. Give this sync its own [sync] id or [source] state_schema; if that other copy is gone for good, delete its row: DELETE FROM {} WHERE sync_id = '{}';",
                t.schema,
                row.owner,
                t.syncs,
                sync_id.replace('\'', "''")
            ),
        });
    }
    if w.generation == 0 {
        // Nothing delivered as far as this state folder knows (a first
        // run, or after `dropsync reset`): start from an empty snapshot.
        if w.writes {
            let mut statements = Vec::new();
            if row.keys as usize != keys || row.canon != canon {
                // Other key columns, or another hash: new tables.
                statements.push((format!("DROP TABLE {}", t.base), vec![]));
                statements.push((format!("DROP TABLE {}", t.next), vec![]));
                for c in sql::create_tables(t, w.layout).into_iter().skip(1) {
                    statements.push((c, vec![]));
                }
            } else {
                statements.push((format!("TRUNCATE {}", t.base), vec![]));
                statements.push((format!("TRUNCATE {}", t.next), vec![]));
            }
            statements.push((
                format!(
                    "UPDATE {} SET generation = 0, pending = NULL, row_count = 0, keys = $2, canon = $3, updated_at = now() WHERE sync_id = $1",
                    t.syncs
                ),
                vec![
                    id(),
                    Param::Int4(keys as i32),
                    Param::Text(Some(canon.clone())),
                ],
            ));
            s.write(t, statements)?;
        }
        return Ok(View::Empty);
    }
    if row.keys as usize != keys || row.canon != canon {
        let describe = |canon: &str| match canon.split_once(':') {
            Some((hashing, keys)) => format!("key type(s) {keys} and hashing {hashing}"),
            None => format!("hashing {canon}"),
        };
        return Err(out_of_step(format!(
            "the snapshot in {} was kept with {}, this run needs {}: the key's columns or their types, or the server, changed since",
            t.base,
            describe(&row.canon),
            describe(&canon)
        )));
    }
    if row.generation == w.generation {
        if w.writes && row.pending.is_some() {
            // A generation written by a run that was killed or failed
            // before its files were delivered.
            s.write(
                t,
                vec![
                    (format!("TRUNCATE {}", t.next), vec![]),
                    (
                        format!("UPDATE {} SET pending = NULL WHERE sync_id = $1", t.syncs),
                        vec![id()],
                    ),
                ],
            )?;
        }
        return Ok(View::Base);
    }
    if row.pending == Some(w.generation) && row.generation < w.generation {
        // Delivered and committed locally, not yet folded in.
        if !w.writes {
            return Ok(View::Overlay(w.generation));
        }
        roll_forward(s, t, sync_id, w.layout, w.generation, w.rows)?;
        return Ok(View::Base);
    }
    Err(out_of_step(format!(
        "the snapshot in {} is at generation {} (pending {:?}), but this state folder last delivered generation {}",
        t.base, row.generation, row.pending, w.generation
    )))
}

/// Folds generation `g` of `_next` into the base, if it is still pending
/// (the guard on `pending` makes a second attempt change nothing).
fn roll_forward(
    s: &mut Session,
    t: &Tables,
    sync_id: &str,
    layout: &sql::Layout,
    g: i64,
    rows: u64,
) -> Result<()> {
    let mut statements: Vec<(String, Vec<Param>)> = sql::roll_forward(t, layout, g)
        .into_iter()
        .map(|s| (s, vec![]))
        .collect();
    statements.push((
        format!(
            "UPDATE {} SET generation = $2, pending = NULL, row_count = $3, updated_at = now() WHERE sync_id = $1 AND pending = $2",
            t.syncs
        ),
        vec![
            Param::Text(Some(sync_id.to_string())),
            Param::Int(g),
            Param::Int(rows as i64),
        ],
    ));
    s.write(t, statements)
}
