//! The in-database diff (`[sync] diff_engine = "source"`): PostgreSQL, and
//! servers speaking its SQL, compare the model with the last delivered
//! snapshot, so only changed rows cross the network.
//!
//! The snapshot lives in `[source] state_schema`: per sync, a base table
//! (per key: a hash of the synced values computed in SQL, and the delivered
//! record for Diff's removed file) and a `_next` table
//! holding at most one generation written but not known to be delivered.
//!
//! One run, and why it is crash-safe:
//! 1. Settle: a generation the local state says was delivered is folded
//!    into the base; any other leftover of `_next` is a killed or failed
//!    run's and is dropped. The local state names the generation in force,
//!    so the database never moves ahead of what was delivered.
//! 2. Diff, read-only: the model's row count and a FULL JOIN of the model
//!    with the base on the key, returning only added, changed and removed
//!    rows. Dropsync maps and writes them as the local engine would.
//! 3. The rows received become generation G+1 in `_next` (its own
//!    transaction), then the files are delivered and the local run record
//!    commits naming G+1: two-phase, the second phase being the local
//!    commit, completed by the next run if the process dies after delivery
//!    (recovery.rs).

mod join_plan;
pub(crate) mod run;
mod session;
mod spool;
pub mod sql;

use crate::config::{DiffEngine, Mode, SourceSpec, SyncSpec};
use crate::error::{Error, Result};
use crate::source::connection::DatabaseSpec;
use crate::store::SyncStore;

/// A template column: the database cannot compute it, so the sync compares
/// on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslatable {
    /// 1-based, as the column mapper numbers mappings.
    pub index: usize,
    pub column: String,
}

impl std::fmt::Display for Untranslatable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column mapping #{} ({:?}) is a template, which the database cannot compute",
            self.index, self.column
        )
    }
}

/// What a source-engine run needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    pub db: DatabaseSpec,
    pub tables: sql::Tables,
    /// How each synced column enters the row's hash (see [`sql::hash_expr`]).
    pub parts: Vec<sql::CanonPart>,
}

/// Which engine compares this sync's rows, and why.
#[derive(Debug, Clone)]
pub enum Engine {
    /// Locally; with the template that kept a source-engine sync here.
    Local(Option<Untranslatable>),
    Source(Box<Plan>),
}

/// The engine a run of `spec` uses, given the model's columns. All mode
/// keeps no snapshot, so it always reads every row.
pub fn choose(spec: &SyncSpec, model_columns: &[crate::source::Column]) -> Engine {
    let SourceSpec::Postgres(db) = &spec.source else {
        return Engine::Local(None);
    };
    let Some(schema) = db.state_schema.as_deref() else {
        return Engine::Local(None);
    };
    if spec.sync.diff_engine != DiffEngine::Source || spec.sync.mode == Mode::All {
        return Engine::Local(None);
    }
    match sql::translate(spec.sync.columns.as_deref(), model_columns) {
        Ok(parts) => Engine::Source(Box::new(Plan {
            db: db.clone(),
            tables: sql::Tables::new(schema, &spec.sync.id),
            parts,
        })),
        Err(why) => Engine::Local(Some(why)),
    }
}

/// `check`'s words on the engine: a line naming it, and what stops the
/// source engine (a template, a missing right), each naming its fix.
pub fn check(
    spec: &SyncSpec,
    model_columns: &[crate::source::Column],
) -> Result<(String, Vec<String>)> {
    let asked = spec.sync.diff_engine == DiffEngine::Source;
    match choose(spec, model_columns) {
        Engine::Source(plan) => {
            let SourceSpec::Postgres(db) = &spec.source else {
                return Ok(("local".into(), vec![]));
            };
            let schema = db.state_schema.clone().unwrap_or_default();
            let mut s = session::Session::open(&plan.db)?;
            let problems = s.missing_rights(&plan.tables, &schema)?;
            if !problems.is_empty() {
                return Err(Error::Source {
                    source_name: db.describe(),
                    message: problems.join("; "),
                });
            }
            Ok((
                format!(
                    "source: PostgreSQL compares the rows, snapshot in {}",
                    plan.tables.base
                ),
                vec![],
            ))
        }
        Engine::Local(Some(why)) if asked => Ok((
            "local".into(),
            vec![format!(
                "{why}: this sync compares on this machine (every row crosses the network). Map that column with from = \"...\" or compute it in the model's SQL to use diff_engine = \"source\""
            )],
        )),
        Engine::Local(_) if asked && spec.sync.mode == Mode::All => Ok((
            "none: mode = \"all\" keeps no snapshot (every run reads every row)".into(),
            vec![],
        )),
        Engine::Local(_) => Ok(("local".into(), vec![])),
    }
}

/// The local state's keys for the source engine.
pub(crate) const META_ENGINE: &str = "engine";
pub(crate) const META_GENERATION: &str = "source_generation";
pub(crate) const META_OWNER: &str = "source_owner";

/// Refuses a run whose engine is not the one holding the snapshot of what
/// was delivered: comparing with an empty snapshot would send every row
/// again (Insert) or report none removed (Diff). Marking as delivered moves
/// the snapshot, so it may switch.
pub(crate) fn check_switch(
    spec: &SyncSpec,
    store: &SyncStore,
    engine: &Engine,
    marking: bool,
) -> Result<()> {
    if marking || spec.sync.mode == Mode::All {
        return Ok(());
    }
    let on_source = store.meta(META_ENGINE)?.as_deref() == Some("source");
    let rows: u64 = store
        .meta("row_count")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if rows == 0 {
        return Ok(());
    }
    match engine {
        Engine::Source(plan) if !on_source => Err(Error::OutOfStep {
            what: format!(
                "the snapshot of what this sync delivered is kept on this machine (the local engine), and [sync] diff_engine = \"source\" compares in {}",
                plan.tables.schema
            ),
        }),
        Engine::Local(why) if on_source => Err(Error::OutOfStep {
            what: format!(
                "the snapshot of what this sync delivered is kept in the database ([source] state_schema), and this run would compare on this machine{}",
                match why {
                    Some(u) => format!(" because {u}"),
                    None => " ([sync] diff_engine = \"local\")".into(),
                }
            ),
        }),
        _ => Ok(()),
    }
}
