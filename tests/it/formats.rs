//! Output formats and filename templates, end to end through the `dropsync` CLI:
//! a SQLite model full of tricky values is delivered as CSV (every delimiter,
//! header and BOM combination), JSON and NDJSON, then parsed back with
//! independent readers (`csv`, `serde_json`) and compared value by value.
//! Filename templates are resolved at fixed instants given with `--at`.

use crate::support::{toml_str, Workspace};
use rusqlite::params;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A sync file over the workspace database and `out/`; `sync_extra` goes at the end of `[sync]`.
fn sync_toml(
    sql: &str,
    key: &str,
    mode: &str,
    format: &str,
    filename: &str,
    extra: &str,
) -> String {
    format!(
        "[source]\ntype = \"sqlite\"\npath = \"source.db\"\n\n\
         [model]\nid = \"m-1\"\nname = \"tricky\"\nsql = {sql}\nprimary_key = {key}\n\n\
         [destination]\ntype = \"folder\"\npath = \"out\"\n\n\
         [sync]\nmode = \"{mode}\"\nformat = \"{format}\"\nfilename = {filename}\n{extra}\n",
        sql = toml_str(sql),
        key = toml_str(key),
        filename = toml_str(filename),
    )
}

fn report_file(report: &Json, i: usize) -> (String, u64, u64, bool) {
    let f = &report["files"][i];
    (
        f["path"].as_str().expect("files[].path").to_string(),
        f["rows"].as_u64().expect("files[].rows"),
        f["bytes"].as_u64().expect("files[].bytes"),
        f["skipped"].as_bool().expect("files[].skipped"),
    )
}

// ---------------------------------------------------------------------------
// The tricky model
// ---------------------------------------------------------------------------

/// One row of the tricky table, with what each value must look like in CSV.
struct Row {
    id: i64,
    txt: Option<&'static str>,
    num: Option<i64>,
    /// The float and its expected text (shortest exact form, `.0` when integral).
    flt: Option<(f64, &'static str)>,
    /// The bytes and their expected standard base64.
    blob: Option<(&'static [u8], &'static str)>,
}

/// The sixth column's name: the delimiters, a quote and a tab, so headers need quoting.
const ODD: &str = "odd \"name\",;|~\tend";

/// The model's columns, deliberately not in alphabetical order.
fn columns() -> Vec<&'static str> {
    vec!["id", "txt", "num", "flt", "blob", ODD]
}

fn tricky_rows() -> Vec<Row> {
    vec![
        Row {
            id: 1,
            txt: Some("comma,semi;pipe|tilde~tab\tend"),
            num: Some(0),
            flt: Some((0.1, "0.1")),
            blob: Some((&[0, 255, 16, 128, 97, 0], "AP8QgGEA")),
        },
        Row {
            id: 2,
            txt: Some("say \"hi\" and \"\"twice\"\""),
            num: Some(i64::MIN),
            flt: Some((1e300, "1e300")),
            blob: Some((b"", "")),
        },
        Row {
            id: 3,
            txt: Some("cr\ronly"),
            num: Some(i64::MAX),
            flt: Some((-0.0, "-0.0")),
            blob: None,
        },
        Row {
            id: 4,
            txt: Some("lf\nonly"),
            num: Some(-1),
            flt: Some((2.0, "2.0")),
            blob: Some((b"hello", "aGVsbG8=")),
        },
        Row {
            id: 5,
            txt: Some("crlf\r\nboth\r\n"),
            num: Some(42),
            flt: Some((-1.5, "-1.5")),
            blob: None,
        },
        Row {
            id: 6,
            txt: Some("  leading and trailing  "),
            num: Some(1),
            flt: Some((1e-7, "1e-7")),
            blob: None,
        },
        Row {
            id: 7,
            txt: Some("é 漢字 🎉"),
            num: Some(2),
            flt: Some((123456789.125, "123456789.125")),
            blob: None,
        },
        Row {
            id: 8,
            txt: Some(""),
            num: None,
            flt: None,
            blob: None,
        },
        Row {
            id: 9,
            txt: None,
            num: None,
            flt: None,
            blob: None,
        },
        Row {
            id: 10,
            txt: Some("\""),
            num: Some(3),
            flt: Some((0.30000000000000004, "0.30000000000000004")),
            blob: None,
        },
        Row {
            id: 11,
            txt: Some(" "),
            num: Some(-9007199254740993),
            flt: Some((-2.5e-300, "-2.5e-300")),
            blob: None,
        },
        Row {
            id: 12,
            txt: Some("007"),
            num: Some(9007199254740993),
            flt: Some((100.0, "100.0")),
            blob: None,
        },
    ]
}

/// The sixth column: `txt || '!'` (NULL stays NULL).
fn odd_value(r: &Row) -> Option<String> {
    r.txt.map(|t| format!("{t}!"))
}

/// The CSV text of each field of `r`, in column order (NULL is empty).
fn csv_fields(r: &Row) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.txt.unwrap_or("").to_string(),
        r.num.map(|n| n.to_string()).unwrap_or_default(),
        r.flt.map(|f| f.1.to_string()).unwrap_or_default(),
        r.blob.map(|b| b.1.to_string()).unwrap_or_default(),
        odd_value(r).unwrap_or_default(),
    ]
}

/// Fills the workspace database with the tricky rows. `flt` has no declared type: a REAL
/// column would let SQLite store -0.0 as the integer 0 and lose its sign.
fn tricky_db(ws: &Workspace) {
    let conn = ws.conn();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, txt TEXT, num INTEGER, flt, blob BLOB);",
    )
    .unwrap();
    for r in tricky_rows() {
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.id, r.txt, r.num, r.flt.map(|f| f.0), r.blob.map(|b| b.0)],
        )
        .unwrap();
    }
    // The database really holds what the test expects (types included).
    let (neg_zero, kind): (f64, String) = conn
        .query_row("SELECT flt, typeof(flt) FROM t WHERE id = 3", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(neg_zero == 0.0 && neg_zero.is_sign_negative() && kind == "real");
}

fn tricky_sql() -> String {
    format!(
        "SELECT id, txt, num, flt, blob, txt || '!' AS \"{}\" FROM t ORDER BY id",
        ODD.replace('"', "\"\"")
    )
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// Splits raw CSV bytes into records the RFC 4180 way (quotes protect CR and
/// LF) and asserts every record ends in CRLF: no bare CR or LF outside quotes.
fn assert_crlf_records(body: &[u8], expected_records: usize, what: &str) {
    let mut in_quotes = false;
    let mut records = 0;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && b == b'\r' {
            assert_eq!(
                body.get(i + 1),
                Some(&b'\n'),
                "{what}: bare CR outside quotes at byte {i}"
            );
            records += 1;
            i += 1;
        } else if !in_quotes && b == b'\n' {
            panic!("{what}: bare LF outside quotes at byte {i}");
        }
        i += 1;
    }
    assert!(!in_quotes, "{what}: unbalanced quotes");
    assert!(
        body.ends_with(b"\r\n") || body.is_empty(),
        "{what}: the last record does not end in CRLF"
    );
    assert_eq!(records, expected_records, "{what}: record count");
}

fn csv_case(ws: &Workspace, delimiter: &str, delim_byte: u8, header: bool, bom: bool) {
    let tag = match delim_byte {
        b',' => "comma",
        b';' => "semicolon",
        b'|' => "pipe",
        b'~' => "tilde",
        b'\t' => "tab",
        _ => unreachable!(),
    };
    let name = format!("csv-{tag}-h{}-b{}", header as u8, bom as u8);
    let extra = format!(
        "\n[sync.csv]\ndelimiter = {}\nheader = {header}\nbom = {bom}\n",
        toml_str(delimiter)
    );
    let sync = ws.write_sync(
        &format!("{name}.toml"),
        &sync_toml(
            &tricky_sql(),
            "id",
            "all",
            "csv",
            &format!("{name}/{{model.name}}.csv"),
            &extra,
        ),
    );
    let report = ws.run_ok(&sync, "2024-05-06T07:08:09Z");
    let rows = tricky_rows();
    let (path, nrows, bytes, skipped) = report_file(&report, 0);
    assert_eq!(path, format!("{name}/tricky.csv"));
    assert_eq!(nrows, rows.len() as u64, "{name}");
    assert!(!skipped);
    let raw = ws.out_bytes(&path);
    assert_eq!(raw.len() as u64, bytes, "{name}: reported bytes");

    // The BOM is there exactly when asked for, once, at the very start.
    let bom_bytes = "\u{feff}".as_bytes();
    let body: &[u8] = if bom {
        assert!(raw.starts_with(bom_bytes), "{name}: BOM missing");
        &raw[bom_bytes.len()..]
    } else {
        assert!(!raw.starts_with(bom_bytes), "{name}: unexpected BOM");
        &raw
    };
    assert!(!body.starts_with(bom_bytes), "{name}: BOM written twice");
    std::str::from_utf8(body).unwrap_or_else(|e| panic!("{name}: not UTF-8: {e}"));
    assert_crlf_records(body, rows.len() + header as usize, &name);

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delim_byte)
        .has_headers(header)
        .flexible(false)
        .from_reader(body);
    if header {
        let h: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(h, columns(), "{name}: header");
    }
    let got: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{name}: unreadable record: {e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    assert_eq!(got.len(), rows.len(), "{name}: record count");
    for (r, g) in rows.iter().zip(&got) {
        assert_eq!(g, &csv_fields(r), "{name}: row id {}", r.id);
    }
}

fn csv_round_trip(delimiter: &str, delim_byte: u8) {
    let ws = Workspace::new();
    tricky_db(&ws);
    for header in [true, false] {
        for bom in [true, false] {
            csv_case(&ws, delimiter, delim_byte, header, bom);
        }
    }
}

#[test]
fn csv_round_trips_with_comma() {
    csv_round_trip(",", b',');
}

#[test]
fn csv_round_trips_with_semicolon() {
    csv_round_trip(";", b';');
}

#[test]
fn csv_round_trips_with_pipe() {
    csv_round_trip("|", b'|');
}

#[test]
fn csv_round_trips_with_tilde() {
    csv_round_trip("~", b'~');
}

#[test]
fn csv_round_trips_with_tab() {
    csv_round_trip("\t", b'\t');
}

#[test]
fn csv_quotes_exactly_as_rfc_4180_requires() {
    // A byte-exact check of a small file: quotes doubled, fields with the
    // delimiter, quotes, CR or LF quoted, NULL and "" both empty, CRLF endings.
    let ws = Workspace::new();
    let conn = ws.conn();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1, 'a;b'), (2, 'x\"y'), (3, 'l1' || char(10) || 'l2'),
                              (4, NULL), (5, ''), (6, 'plain, with comma');",
    )
    .unwrap();
    let sync = ws.write_sync(
        "exact.toml",
        &sync_toml(
            "SELECT id, v FROM t ORDER BY id",
            "id",
            "all",
            "csv",
            "exact.csv",
            "\n[sync.csv]\ndelimiter = \";\"\nheader = true\nbom = true\n",
        ),
    );
    ws.run_now_ok(&sync);
    let text = ws.out_text("exact.csv");
    assert_eq!(
        text,
        "\u{feff}id;v\r\n1;\"a;b\"\r\n2;\"x\"\"y\"\r\n3;\"l1\nl2\"\r\n4;\r\n5;\r\n6;plain, with comma\r\n"
    );
}

#[test]
fn empty_csv_has_just_its_header_and_bom() {
    let ws = Workspace::new();
    tricky_db(&ws);
    let sql = "SELECT id, txt FROM t WHERE id < 0";
    let sync = ws.write_sync(
        "empty-csv.toml",
        &sync_toml(
            sql,
            "id",
            "all",
            "csv",
            "empty.csv",
            "\n[sync.csv]\ndelimiter = \"|\"\nbom = true\n",
        ),
    );
    let report = ws.run_now_ok(&sync);
    assert_eq!(report_file(&report, 0).1, 0);
    let text = ws.out_text("empty.csv");
    assert_eq!(text, "\u{feff}id|txt\r\n");

    let sync = ws.write_sync(
        "empty-csv-nohead.toml",
        &sync_toml(
            sql,
            "id",
            "all",
            "csv",
            "empty-nohead.csv",
            "\n[sync.csv]\nheader = false\n",
        ),
    );
    ws.run_now_ok(&sync);
    assert_eq!(ws.out_bytes("empty-nohead.csv"), b"");
}

// ---------------------------------------------------------------------------
// JSON and NDJSON
// ---------------------------------------------------------------------------

/// Asserts one delivered object against the row it came from: key order,
/// types and values.
fn assert_json_row(obj: &Json, r: &Row, what: &str) {
    let map = obj
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {obj}"));
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(keys, columns(), "{what}: key order");

    let id = &map["id"];
    assert!(id.is_i64() && !id.is_f64(), "{what}: id {id}");
    assert_eq!(id.as_i64(), Some(r.id), "{what}");

    match r.txt {
        Some(t) => assert_eq!(map["txt"], Json::String(t.into()), "{what}: txt"),
        None => assert!(map["txt"].is_null(), "{what}: txt {}", map["txt"]),
    }
    match odd_value(r) {
        Some(t) => assert_eq!(map[ODD], Json::String(t), "{what}: odd"),
        None => assert!(map[ODD].is_null(), "{what}: odd {}", map[ODD]),
    }

    let num = &map["num"];
    match r.num {
        Some(n) => {
            assert!(
                (num.is_i64() || num.is_u64()) && !num.is_f64(),
                "{what}: num must be a JSON integer, got {num}"
            );
            assert_eq!(num.as_i64(), Some(n), "{what}: num");
        }
        None => assert!(num.is_null(), "{what}: num {num}"),
    }

    let flt = &map["flt"];
    match r.flt {
        Some((f, _)) => {
            assert!(flt.is_f64(), "{what}: flt must be a JSON float, got {flt}");
            let g = flt.as_f64().unwrap();
            // Bit equality: -0.0 keeps its sign, 0.1 is not rounded.
            assert_eq!(g.to_bits(), f.to_bits(), "{what}: flt {g} != {f}");
        }
        None => assert!(flt.is_null(), "{what}: flt {flt}"),
    }

    match r.blob {
        Some((_, b64)) => assert_eq!(map["blob"], Json::String(b64.into()), "{what}: blob"),
        None => assert!(map["blob"].is_null(), "{what}: blob {}", map["blob"]),
    }
}

#[test]
fn json_keeps_types_order_and_values() {
    let ws = Workspace::new();
    tricky_db(&ws);
    let sync = ws.write_sync(
        "json.toml",
        &sync_toml(&tricky_sql(), "id", "all", "json", "tricky.json", ""),
    );
    let report = ws.run_now_ok(&sync);
    let rows = tricky_rows();
    let (path, n, bytes, _) = report_file(&report, 0);
    assert_eq!(path, "tricky.json");
    assert_eq!(n, rows.len() as u64);
    let raw = ws.out_bytes(&path);
    assert_eq!(raw.len() as u64, bytes);
    assert!(
        !raw.starts_with("\u{feff}".as_bytes()),
        "JSON must not carry a BOM"
    );
    let doc: Json = serde_json::from_slice(&raw).expect("one JSON document");
    let arr = doc.as_array().expect("a JSON array");
    assert_eq!(arr.len(), rows.len());
    for (r, obj) in rows.iter().zip(arr) {
        assert_json_row(obj, r, &format!("json row id {}", r.id));
    }
    // The key order is the file's, not a map's: check the raw text too.
    let text = String::from_utf8(raw).unwrap();
    let first_obj = text.find('{').unwrap();
    let cols = columns();
    let mut pos = first_obj;
    for c in &cols {
        let key = format!("{}:", serde_json::to_string(c).unwrap());
        let at = text[pos..]
            .find(&key)
            .unwrap_or_else(|| panic!("key {key} not after byte {pos}"));
        pos += at + key.len();
    }
}

#[test]
fn ndjson_is_one_typed_object_per_line() {
    let ws = Workspace::new();
    tricky_db(&ws);
    let sync = ws.write_sync(
        "ndjson.toml",
        &sync_toml(&tricky_sql(), "id", "all", "ndjson", "tricky.ndjson", ""),
    );
    let report = ws.run_now_ok(&sync);
    let rows = tricky_rows();
    let (path, n, bytes, _) = report_file(&report, 0);
    assert_eq!(path, "tricky.ndjson");
    assert_eq!(n, rows.len() as u64);
    let text = ws.out_text(&path);
    assert_eq!(text.len() as u64, bytes);
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), rows.len(), "one line per row, no blank lines");
    for (r, line) in rows.iter().zip(&lines) {
        let obj: Json = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line for id {} is not JSON ({e}): {line:?}", r.id));
        assert_json_row(&obj, r, &format!("ndjson row id {}", r.id));
    }
}

#[test]
fn empty_results_give_an_empty_array_and_an_empty_file() {
    let ws = Workspace::new();
    tricky_db(&ws);
    let sql = "SELECT id, txt FROM t WHERE id < 0";
    let json = ws.write_sync(
        "empty-json.toml",
        &sync_toml(sql, "id", "all", "json", "empty.json", ""),
    );
    let report = ws.run_now_ok(&json);
    let (_, n, bytes, skipped) = report_file(&report, 0);
    assert_eq!((n, skipped), (0, false));
    let text = ws.out_text("empty.json");
    assert_eq!(text.len() as u64, bytes);
    assert_eq!(text.trim(), "[]");
    assert_eq!(
        serde_json::from_str::<Json>(&text).unwrap(),
        Json::Array(vec![])
    );

    let nd = ws.write_sync(
        "empty-ndjson.toml",
        &sync_toml(sql, "id", "all", "ndjson", "empty.ndjson", ""),
    );
    let report = ws.run_now_ok(&nd);
    assert_eq!(report_file(&report, 0).1, 0);
    let meta = std::fs::metadata(ws.out.join("empty.ndjson")).expect("written");
    assert_eq!(meta.len(), 0);
}

#[test]
fn json_diff_files_keep_types_in_every_file() {
    // The changed and removed files are written from the snapshot's records:
    // they must keep types just like the first run's file.
    let ws = Workspace::new();
    tricky_db(&ws);
    let sync = ws.write_sync(
        "json-diff.toml",
        &sync_toml(
            &tricky_sql(),
            "id",
            "diff",
            "json",
            "run{sync.run.id}/tricky.json",
            "",
        ),
    );
    ws.run_now_ok(&sync);
    let conn = ws.conn();
    conn.execute("UPDATE t SET txt = 'changed' WHERE id = 1", [])
        .unwrap();
    conn.execute("DELETE FROM t WHERE id IN (2, 3)", [])
        .unwrap();
    let report = ws.run_now_ok(&sync);
    assert_eq!(report["rows"]["changed"], 1);
    assert_eq!(report["rows"]["removed"], 2);
    let rows = tricky_rows();

    let changed: Json = serde_json::from_slice(&ws.out_bytes("run2/tricky_changed.json")).unwrap();
    let changed_row = Row {
        txt: Some("changed"),
        ..rows.into_iter().next().unwrap()
    };
    assert_eq!(changed.as_array().unwrap().len(), 1);
    assert_json_row(&changed[0], &changed_row, "changed");

    let removed: Json = serde_json::from_slice(&ws.out_bytes("run2/tricky_removed.json")).unwrap();
    let removed = removed.as_array().unwrap();
    assert_eq!(removed.len(), 2);
    let rows = tricky_rows();
    for (obj, r) in removed.iter().zip(&rows[1..3]) {
        assert_json_row(obj, r, &format!("removed id {}", r.id));
    }
    let added: Json = serde_json::from_slice(&ws.out_bytes("run2/tricky_added.json")).unwrap();
    assert_eq!(added, Json::Array(vec![]));
}

// ---------------------------------------------------------------------------
// Filename templates
// ---------------------------------------------------------------------------

fn simple_db(ws: &Workspace) {
    ws.conn()
        .execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO t VALUES (1, 'one'), (2, 'two');",
        )
        .unwrap();
}

/// A sync with the given filename template and offset, in `all` mode.
fn template_sync(
    ws: &Workspace,
    name: &str,
    filename: &str,
    offset: i64,
    sync_id: &str,
) -> PathBuf {
    let text = format!(
        "[source]\ntype = \"sqlite\"\npath = \"source.db\"\n\n\
         [model]\nid = \"m-1\"\nname = \"people\"\nsql = \"SELECT id, v FROM t ORDER BY id\"\nprimary_key = \"id\"\n\n\
         [destination]\ntype = \"folder\"\npath = \"out\"\n\n\
         [sync]\nid = \"{sync_id}\"\nmode = \"all\"\nformat = \"csv\"\nfilename = {}\nfilename_offset = {offset}\n",
        toml_str(filename)
    );
    ws.write_sync(&format!("{name}.toml"), &text)
}

/// Runs at `at` and asserts the single file landed at `expected` with the model's rows.
fn assert_resolves(ws: &Workspace, sync: &Path, at: &str, expected: &str) -> Json {
    let report = ws.run_ok(sync, at);
    let (path, rows, _, _) = report_file(&report, 0);
    assert_eq!(path, expected, "--at {at}");
    assert_eq!(rows, 2);
    let text = ws.out_text(expected);
    assert_eq!(text, "id,v\r\n1,one\r\n2,two\r\n");
    report
}

#[test]
fn every_template_variable_resolves() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "vars",
        "{YYYY}/{MM}/{DD}/{YY}-{HH}{mm}{ss}-{ms}-{X}-{x}-{model.id}-{model.name}-{sync.id}-{sync.run.id}.csv",
        0,
        "s_9",
    );
    // A leap day, one and a bit seconds before midnight.
    assert_resolves(
        &ws,
        &sync,
        "2024-02-29T23:59:58.123Z",
        "2024/02/29/24-235958-123-1709251198-1709251198123-m-1-people-s_9-1.csv",
    );
    // Zero padding: year 2000, {YY} 00, {ms} 007, and run 2.
    assert_resolves(
        &ws,
        &sync,
        "2000-01-02T03:04:05.007Z",
        "2000/01/02/00-030405-007-946782245-946782245007-m-1-people-s_9-2.csv",
    );
}

#[test]
fn at_with_a_zone_offset_resolves_in_utc() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(&ws, "utc", "{YYYY}-{MM}-{DD}T{HH}{mm}.csv", 0, "utc");
    // 01:30 at +02:00 is 23:30 UTC the day (and year) before.
    assert_resolves(
        &ws,
        &sync,
        "2025-01-01T01:30:00+02:00",
        "2024-12-31T2330.csv",
    );
    assert_resolves(
        &ws,
        &sync,
        "2024-06-30T20:15:00-05:00",
        "2024-07-01T0115.csv",
    );
}

#[test]
fn negative_offset_crosses_the_year() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "neg-year",
        "{YYYY}-{MM}-{DD}T{HH}{mm}{ss}-{YY}-{X}.csv",
        -3600,
        "neg-year",
    );
    // 2025-01-01T00:30:00Z is 1735691400; minus an hour.
    assert_resolves(
        &ws,
        &sync,
        "2025-01-01T00:30:00Z",
        "2024-12-31T233000-24-1735687800.csv",
    );
}

#[test]
fn negative_offset_crosses_the_day_into_a_leap_day() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "neg-day",
        "{YYYY}-{MM}-{DD}/{HH}{mm}{ss}.csv",
        -1,
        "neg-day",
    );
    assert_resolves(&ws, &sync, "2024-03-01T00:00:00Z", "2024-02-29/235959.csv");
    // A whole day back from the first of March in a non-leap year.
    let sync = template_sync(&ws, "neg-day2", "{YYYY}-{MM}-{DD}.csv", -86400, "neg-day2");
    assert_resolves(&ws, &sync, "2023-03-01T12:00:00Z", "2023-02-28.csv");
}

#[test]
fn positive_offset_crosses_the_year_and_keeps_milliseconds() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "pos-year",
        "{YYYY}-{MM}-{DD}T{HH}{mm}{ss}.{ms}-{x}.csv",
        3600,
        "pos-year",
    );
    // 2024-12-31T23:30:00.250Z + 1h = 2025-01-01T00:30:00.250Z (1735691400250 ms).
    assert_resolves(
        &ws,
        &sync,
        "2024-12-31T23:30:00.250Z",
        "2025-01-01T003000.250-1735691400250.csv",
    );
}

#[test]
fn positive_offset_crosses_the_day_and_month() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "pos-day",
        "{YYYY}{MM}{DD}-{HH}{mm}{ss}-{ms}-{X}.csv",
        1,
        "pos-day",
    );
    // 2023-02-28T23:59:59.999Z + 1s = 2023-03-01T00:00:00.999Z (1677628800).
    assert_resolves(
        &ws,
        &sync,
        "2023-02-28T23:59:59.999Z",
        "20230301-000000-999-1677628800.csv",
    );
}

#[test]
fn run_id_counts_up_per_run() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(&ws, "runs", "run-{sync.run.id}.csv", 0, "runs");
    for i in 1..=3 {
        let report = assert_resolves(&ws, &sync, "2024-01-19T08:00:00Z", &format!("run-{i}.csv"));
        assert_eq!(report["run_id"], i);
    }
    assert_eq!(ws.out_files(), vec!["run-1.csv", "run-2.csv", "run-3.csv"]);
    // Another sync counts from 1 on its own.
    let other = template_sync(&ws, "runs-b", "b-{sync.run.id}.csv", 0, "runs-b");
    assert_resolves(&ws, &other, "2024-01-19T08:00:00Z", "b-1.csv");
}

#[test]
fn folders_in_the_template_are_created() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "nested",
        "exports/{model.name}/{YYYY}/{MM}/deep er/{DD}.csv",
        0,
        "nested",
    );
    assert!(!ws.out.join("exports").exists());
    assert_resolves(
        &ws,
        &sync,
        "2024-07-04T10:00:00Z",
        "exports/people/2024/07/deep er/04.csv",
    );
    assert!(ws.out.join("exports/people/2024/07/deep er").is_dir());
    // Nothing else (no temporary files) is left behind.
    assert_eq!(
        ws.out_files(),
        vec!["exports/people/2024/07/deep er/04.csv"]
    );
}

#[test]
fn an_existing_file_is_overwritten() {
    let ws = Workspace::new();
    let conn = ws.conn();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1, 'first run, a long value'), (2, 'b'), (3, 'c');",
    )
    .unwrap();
    let sync = template_sync(&ws, "same", "same/{YYYY}-{MM}-{DD}.csv", 0, "same");
    ws.run_ok(&sync, "2024-01-19T08:00:00Z");
    let first = ws.out_text("same/2024-01-19.csv");
    assert_eq!(
        first,
        "id,v\r\n1,\"first run, a long value\"\r\n2,b\r\n3,c\r\n"
    );

    conn.execute_batch("DELETE FROM t WHERE id > 1; UPDATE t SET v = 'second' WHERE id = 1;")
        .unwrap();
    // Later the same day: the same name.
    let report = ws.run_ok(&sync, "2024-01-19T20:00:00Z");
    let (path, rows, bytes, _) = report_file(&report, 0);
    assert_eq!((path.as_str(), rows), ("same/2024-01-19.csv", 1));
    let second = ws.out_text("same/2024-01-19.csv");
    assert_eq!(second, "id,v\r\n1,second\r\n");
    assert_eq!(second.len() as u64, bytes);
    assert_eq!(ws.out_files(), vec!["same/2024-01-19.csv"]);
}

#[test]
fn x_and_ms_before_the_epoch() {
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(
        &ws,
        "epoch",
        "{YYYY}-{MM}-{DD}T{HH}{mm}{ss}.{ms}_{X}_{x}.csv",
        -1,
        "epoch",
    );
    // 1970-01-01T00:00:00.250Z - 1s = 1969-12-31T23:59:59.250Z: -1 s (floor), -750 ms.
    assert_resolves(
        &ws,
        &sync,
        "1970-01-01T00:00:00.250Z",
        "1969-12-31T235959.250_-1_-750.csv",
    );
}

/// Splits `{ss}.{ms}_{X}_{x}.csv` as resolved into its four numbers (as text).
fn split_time_name(path: &str) -> (String, String, i64, i64) {
    let stem = path.strip_suffix(".csv").unwrap();
    let parts: Vec<&str> = stem.split('_').collect();
    let (ss, ms) = parts[0].split_once('.').unwrap();
    (
        ss.to_string(),
        ms.to_string(),
        parts[1].parse().unwrap(),
        parts[2].parse().unwrap(),
    )
}

#[test]
fn a_leap_second_at_still_gives_three_digit_ms_consistent_with_x() {
    // RFC 3339 allows a leap second (ss = 60). Whatever second it is filed
    // under, {ms} must stay a 3-digit millisecond (000-999) and {x} must be
    // the same instant as {X} and {ms}: {x} = {X} * 1000 + {ms}.
    let ws = Workspace::new();
    simple_db(&ws);
    let sync = template_sync(&ws, "leap", "{ss}.{ms}_{X}_{x}.csv", 0, "leap");
    let report = ws.run_ok(&sync, "2016-12-31T23:59:60.500Z");
    let (path, ..) = report_file(&report, 0);
    let (ss, ms, x_s, x_ms) = split_time_name(&path);
    assert!(ss == "59" || ss == "60" || ss == "00", "{{ss}} in {path}");
    assert_eq!(ms.len(), 3, "{{ms}} must be 3 digits: {path}");
    let ms: i64 = ms.parse().unwrap();
    assert_eq!(
        x_ms,
        x_s * 1000 + ms,
        "{{x}} disagrees with {{X}} and {{ms}}: {path}"
    );
    assert!(ws.out.join(&path).is_file());
}

#[test]
fn an_offset_beyond_ten_years_is_a_clear_setup_error() {
    let ws = Workspace::new();
    simple_db(&ws);
    // One second more than the limit either way, and the extremes of a TOML integer.
    for offset in [
        10 * 366 * 86400 + 1,
        -(10 * 366 * 86400 + 1),
        i64::MAX,
        i64::MIN,
    ] {
        let sync = template_sync(&ws, "far", "{YYYY}.csv", offset, "far");
        for cmd in ["check", "run"] {
            let out = ws.exec([cmd.as_ref(), sync.as_os_str()]);
            let stderr = &out.stderr;
            assert_eq!(
                out.code, 1,
                "{cmd} with filename_offset = {offset} must fail cleanly (not panic): {stderr}"
            );
            assert!(
                stderr.contains("[sync] filename_offset") && stderr.contains("ten years"),
                "{cmd} with filename_offset = {offset}: {stderr}"
            );
        }
    }
    assert!(ws.out_files().is_empty());
}
