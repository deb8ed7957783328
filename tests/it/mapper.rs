//! The column mapper's templates end to end: typed template columns
//! (`type = "json"` for nested output, `type = "integer"`) through a real
//! sync into JSON and NDJSON files, a value that does not convert failing
//! the run by name, and the editor's live template samples.

use crate::support::Workspace;
use chrono::TimeZone;
use dropsync::config::SyncDraft;
use dropsync::inspect::inspect;
use serde_json::{json, Value as Json};

fn orders(ws: &Workspace) {
    ws.sql(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, \"first name\" TEXT, qty TEXT, price REAL, created_at TEXT, note TEXT);
         INSERT INTO orders VALUES
           (1, 'Ada', '2', 9.5, '2024-05-01 13:45:00', NULL),
           (2, 'Grace', '10', 1.25, '2024-12-31T23:59:59Z', 'gift \"wrapped\"');",
    );
}

fn sync_toml(format: &str, filename: &str, qty_template: &str) -> String {
    r#"
[source]
type = "sqlite"
path = "source.db"

[model]
id = "m-orders"
name = "Orders"
sql = "SELECT * FROM orders ORDER BY id"
primary_key = "id"

[destination]
type = "folder"
path = "out"

[sync]
id = "orders-sync"
mode = "all"
format = "FORMAT"
filename = "FILENAME"

[[sync.columns]]
from = "id"

[[sync.columns]]
template = "QTY"
to = "qty"
type = "integer"

[[sync.columns]]
template = "{{ (qty | int) * price }}"
to = "total"
type = "float"

[[sync.columns]]
template = '''
{
  "customer": {{ row["first name"] | tojson }},
  "day": {{ created_at | dateformat("%Y-%m-%d") | tojson }},
  "note": {{ note | default("none") | tojson }},
  "tags": [{{ qty | int }}, {{ (price > 5) | tojson }}]
}'''
to = "detail"
type = "json"

[[sync.columns]]
template = "{{ price > 5 }}"
to = "big"
type = "boolean"

[[sync.columns]]
template = "{{ model.name }}/{{ model.id }}/{{ sync.id }}/run {{ run.id }}"
to = "origin"
"#
    .replace("FORMAT", format)
    .replace("FILENAME", filename)
    .replace("QTY", qty_template)
}

#[test]
fn typed_template_columns_write_nested_json_and_numbers() {
    let ws = Workspace::new();
    orders(&ws);
    let sync = ws.write_sync(
        "orders.toml",
        &sync_toml("json", "orders.json", "{{ qty }}"),
    );
    ws.run_now_ok(&sync);
    let doc: Json = serde_json::from_str(&ws.out_text("orders.json")).expect("one JSON document");
    assert_eq!(
        doc,
        json!([
            {
                "id": 1, "qty": 2, "total": 19.0,
                "detail": {"customer": "Ada", "day": "2024-05-01", "note": "none", "tags": [2, true]},
                "big": true, "origin": "Orders/m-orders/orders-sync/run 1"
            },
            {
                "id": 2, "qty": 10, "total": 12.5,
                "detail": {"customer": "Grace", "day": "2024-12-31", "note": "gift \"wrapped\"", "tags": [10, false]},
                "big": false, "origin": "Orders/m-orders/orders-sync/run 1"
            }
        ])
    );
    // Typed in the text too: the integer is a JSON number, the detail an object.
    let text = ws.out_text("orders.json");
    assert!(
        text.contains(r#""qty":2,"#) || text.contains(r#""qty": 2,"#),
        "{text}"
    );

    // NDJSON: one line per row, the nested object on that line.
    let sync = ws.write_sync(
        "orders2.toml",
        &sync_toml("ndjson", "orders.ndjson", "{{ qty }}").replace("orders-sync", "orders-ndjson"),
    );
    ws.run_now_ok(&sync);
    let text = ws.out_text("orders.ndjson");
    let lines: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["detail"]["tags"], json!([10, false]));
    assert_eq!(lines[1]["qty"], json!(10));
}

#[test]
fn a_value_that_does_not_convert_fails_the_run_naming_column_and_value() {
    let ws = Workspace::new();
    orders(&ws);
    let sync = ws.write_sync(
        "orders.toml",
        &sync_toml("json", "orders.json", "{{ qty }} items"),
    );
    let r = ws.run_failing(&sync, "2026-03-01T10:00:00Z");
    let all = r.all_output();
    assert!(
        all.contains(r#"column \"qty\": mapping #2 rendered \"2 items\", which is not an integer"#)
            || all.contains(
                r#"column "qty": mapping #2 rendered "2 items", which is not an integer"#
            ),
        "{all}"
    );
    // The row is named by its key.
    assert!(all.contains("row id=1"), "{all}");
    assert!(
        ws.out_files().is_empty(),
        "nothing delivered: {:?}",
        ws.out_files()
    );
}

#[test]
fn the_editor_shows_each_template_columns_first_values() {
    let ws = Workspace::new();
    orders(&ws);
    let path = ws.write_sync(
        "orders.toml",
        &sync_toml("json", "orders.json", "{{ qty }}"),
    );
    let mut draft = SyncDraft::load(&path).unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let i = inspect(&draft, &path, &ws.state, now, 7);
    assert_eq!(i.error, None);
    let samples: Vec<(u32, Vec<Option<String>>, Option<String>)> = i
        .template_samples
        .iter()
        .map(|s| (s.index, s.values.clone(), s.error.clone()))
        .collect();
    assert_eq!(samples.len(), 5, "{samples:?}");
    assert_eq!(
        samples[4].1[0].as_deref(),
        Some("Orders/m-orders/orders-sync/run 7")
    );
    assert_eq!(
        samples[0],
        (1, vec![Some("2".into()), Some("10".into())], None)
    );
    assert_eq!(
        samples[2].1[0].as_deref(),
        Some(r#"{"customer":"Ada","day":"2024-05-01","note":"none","tags":[2,true]}"#)
    );

    // The run's variables show the draft's ids and the next run.
    let cols = draft.sync.columns.as_mut().unwrap();
    cols[4].template = Some("{{ sync.id }}#{{ run.id }} {{ run.started_at }}".into());
    cols[4].output_type = None;
    // A template that fails on a row says which, and why.
    cols[1].template = Some("{{ qty }}{% if id == 2 %}x{% endif %}".into());
    let i = inspect(&draft, &path, &ws.state, now, 7);
    let big = i.template_samples.iter().find(|s| s.index == 4).unwrap();
    assert_eq!(
        big.values,
        vec![Some("orders-sync#7 2026-03-01T12:00:00Z".to_string()); 2]
    );
    let qty = i.template_samples.iter().find(|s| s.index == 1).unwrap();
    assert_eq!(qty.values, vec![Some("2".to_string())]);
    let e = qty.error.as_deref().unwrap();
    assert!(
        e.starts_with("row 2: rendered \"10x\", which is not an integer"),
        "{e}"
    );
}
