//! Files as exporters make them, end to end through the CLI: parts (by
//! rows and by bytes), gzip, Parquet and the manifest, alone and combined
//! with Diff, on a folder and on the Dropbox emulator. Every delivered file
//! is read back by an independent reader (flate2, csv, serde_json, the
//! parquet crate) and the manifest's sizes and hashes are checked against
//! the files themselves.

use crate::support::{emulator, Workspace};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

fn sync_toml(mode: &str, sync_extra: &str, destination: &str) -> String {
    format!(
        "[source]\ntype = \"sqlite\"\npath = \"source.db\"\n\n\
         [model]\nid = \"people\"\nname = \"people\"\nsql = \"SELECT id, name, score, born FROM people ORDER BY id\"\nprimary_key = \"id\"\n\n\
         {destination}\n\
         [sync]\nid = \"people\"\nmode = \"{mode}\"\n{sync_extra}\n"
    )
}

const FOLDER: &str = "[destination]\ntype = \"folder\"\npath = \"out\"\n";

fn seed(ws: &Workspace, n: i64) {
    ws.sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, born DATE);");
    let conn = ws.conn();
    for i in 1..=n {
        conn.execute(
            "INSERT INTO people VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                i,
                format!("person {i}"),
                i as f64 / 4.0,
                format!("19{:02}-01-{:02}", i % 100, 1 + i % 28)
            ],
        )
        .expect("insert");
    }
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("open"))
        .read_to_string(&mut s)
        .unwrap_or_else(|e| panic!("{} is not gzip: {e}", path.display()));
    s
}

/// A CSV text's header and rows.
fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).expect("read");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The report's files of `kind`, in order.
fn files_of<'a>(report: &'a Json, kind: &str) -> Vec<&'a Json> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// The manifest lists exactly the run's data files, with their sizes and
/// hashes (`hash(path)` of each), and is the report's last file.
fn check_manifest(report: &Json, manifest: &Json, hash: &str, of: impl Fn(&str) -> (u64, String)) {
    let files = report["files"].as_array().expect("files");
    assert_eq!(files.last().expect("a file")["kind"], "manifest");
    assert_eq!(manifest["run_id"], report["run_id"]);
    assert_eq!(manifest["sync_id"], "people");
    assert_eq!(manifest["started_at"], report["started_at"]);
    let listed = manifest["files"].as_array().expect("manifest files");
    let data: Vec<&Json> = files
        .iter()
        .filter(|f| f["kind"] != "manifest" && f["skipped"] == false)
        .collect();
    assert_eq!(listed.len(), data.len(), "{manifest:#}");
    for (m, f) in listed.iter().zip(data) {
        assert_eq!(m["path"], f["path"]);
        assert_eq!(m["kind"], f["kind"]);
        assert_eq!(m["part"], f["part"]);
        assert_eq!(m["rows"], f["rows"]);
        let (bytes, digest) = of(m["path"].as_str().expect("path"));
        assert_eq!(m["bytes"].as_u64(), Some(bytes), "{m:#}");
        assert_eq!(m[hash].as_str(), Some(digest.as_str()), "{m:#}");
    }
}

#[test]
fn diff_files_are_cut_into_gzip_parts_listed_by_a_manifest() {
    let ws = Workspace::new();
    seed(&ws, 7);
    let sync = ws.write_sync(
        "people.toml",
        &sync_toml(
            "diff",
            "format = \"csv\"\ncompression = \"gzip\"\nmax_rows_per_file = 3\n\
             filename = \"r{sync.run.id}/people.csv\"\n\
             manifest = \"r{sync.run.id}/manifest.json\"\n",
            FOLDER,
        ),
    );
    let first = ws.run_ok(&sync, "2026-03-01T10:00:00Z");
    let added = files_of(&first, "added");
    let names: Vec<&str> = added.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "r1/people_added_1.csv.gz",
            "r1/people_added_2.csv.gz",
            "r1/people_added_3.csv.gz"
        ]
    );
    let mut seen = Vec::new();
    for (i, f) in added.iter().enumerate() {
        assert_eq!(f["part"], i as u64 + 1);
        let (header, rows) = csv_rows(&gunzip(&ws.path("out").join(f["path"].as_str().unwrap())));
        assert_eq!(
            header,
            ["id", "name", "score", "born"],
            "every part has the header"
        );
        assert!(rows.len() <= 3);
        assert_eq!(f["rows"], rows.len() as u64);
        seen.extend(rows.into_iter().map(|r| r[0].clone()));
    }
    assert_eq!(seen, ["1", "2", "3", "4", "5", "6", "7"]);
    // Empty files are one empty part each, with the header.
    let changed = files_of(&first, "changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["path"], "r1/people_changed_1.csv.gz");
    let (header, rows) = csv_rows(&gunzip(&ws.path("out/r1/people_changed_1.csv.gz")));
    assert_eq!((header.len(), rows.len()), (4, 0));

    let manifest: Json =
        serde_json::from_str(&ws.out_text("r1/manifest.json")).expect("manifest is JSON");
    check_manifest(&first, &manifest, "sha256", |p| {
        let path = ws.path("out").join(p);
        (std::fs::metadata(&path).unwrap().len(), sha256_hex(&path))
    });

    // Second run: 4 added (two parts), 1 changed, 2 removed.
    ws.sql(
        "INSERT INTO people VALUES (8, 'p8', 1, '2000-01-01'), (9, 'p9', 1, '2000-01-01'),
                                   (10, 'p10', 1, '2000-01-01'), (11, 'p11', 1, '2000-01-01');
         UPDATE people SET name = 'renamed' WHERE id = 2;
         DELETE FROM people WHERE id IN (5, 6);",
    );
    let second = ws.run_ok(&sync, "2026-03-01T11:00:00Z");
    let by_kind = |kind: &str| -> BTreeMap<String, Vec<String>> {
        files_of(&second, kind)
            .iter()
            .map(|f| {
                let p = f["path"].as_str().unwrap().to_string();
                let (_, rows) = csv_rows(&gunzip(&ws.path("out").join(&p)));
                (p, rows.into_iter().map(|r| r[0].clone()).collect())
            })
            .collect()
    };
    assert_eq!(
        by_kind("added"),
        BTreeMap::from([
            (
                "r2/people_added_1.csv.gz".into(),
                vec!["8".into(), "9".into(), "10".into()]
            ),
            ("r2/people_added_2.csv.gz".into(), vec!["11".into()]),
        ])
    );
    assert_eq!(
        by_kind("changed"),
        BTreeMap::from([("r2/people_changed_1.csv.gz".into(), vec!["2".into()])])
    );
    assert_eq!(
        by_kind("removed"),
        BTreeMap::from([(
            "r2/people_removed_1.csv.gz".into(),
            vec!["5".into(), "6".into()]
        )])
    );
    let manifest: Json = serde_json::from_str(&ws.out_text("r2/manifest.json")).unwrap();
    check_manifest(&second, &manifest, "sha256", |p| {
        let path = ws.path("out").join(p);
        (std::fs::metadata(&path).unwrap().len(), sha256_hex(&path))
    });
}

#[test]
fn parts_by_bytes_never_pass_the_limit_and_each_json_part_is_an_array() {
    let ws = Workspace::new();
    seed(&ws, 300);
    for (format, ext) in [("csv", "csv"), ("json", "json"), ("ndjson", "ndjson")] {
        let sync = ws.write_sync(
            &format!("{format}.toml"),
            &sync_toml(
                "all",
                &format!(
                    "format = \"{format}\"\nmax_bytes_per_file = 2048\n\
                     filename = \"{format}/people-{{part}}.{ext}\"\n"
                ),
                FOLDER,
            )
            .replace("id = \"people\"\nmode", &format!("id = \"{format}\"\nmode")),
        );
        let report = ws.run_ok(&sync, "2026-03-01T10:00:00Z");
        let parts = files_of(&report, "all");
        assert!(parts.len() >= 4, "{format}: {} parts", parts.len());
        let mut ids = Vec::new();
        for (i, f) in parts.iter().enumerate() {
            let path = f["path"].as_str().unwrap();
            assert_eq!(path, format!("{format}/people-{}.{ext}", i + 1));
            let bytes = std::fs::metadata(ws.path("out").join(path)).unwrap().len();
            assert!(bytes <= 2048, "{path} holds {bytes} bytes");
            assert_eq!(f["bytes"], bytes);
            let text = ws.out_text(path);
            match format {
                "csv" => ids.extend(csv_rows(&text).1.into_iter().map(|r| r[0].clone())),
                "json" => {
                    let rows: Vec<Json> = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("{path} is not a JSON array: {e}"));
                    ids.extend(rows.iter().map(|r| r["id"].to_string()));
                }
                _ => ids.extend(text.lines().map(|l| {
                    serde_json::from_str::<Json>(l).expect("a JSON line")["id"].to_string()
                })),
            }
        }
        let expected: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected, "{format}: every row once, in order");
    }
}

#[test]
fn parquet_files_keep_their_types_and_read_back() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let ws = Workspace::new();
    seed(&ws, 10);
    let sync = ws.write_sync(
        "pq.toml",
        &sync_toml(
            "all",
            "format = \"parquet\"\nparquet_compression = \"zstd\"\nmax_rows_per_file = 4\nfilename = \"people.parquet\"\n",
            FOLDER,
        ),
    );
    let report = ws.run_ok(&sync, "2026-03-01T10:00:00Z");
    let parts = files_of(&report, "all");
    assert_eq!(parts.len(), 3);
    let mut total = 0;
    for f in parts {
        let path = ws.path("out").join(f["path"].as_str().unwrap());
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
            .unwrap_or_else(|e| panic!("{} is not Parquet: {e}", path.display()));
        let schema = reader.metadata().file_metadata().schema_descr();
        let types: Vec<String> = schema
            .columns()
            .iter()
            .map(|c| format!("{}:{:?}", c.name(), c.physical_type()))
            .collect();
        assert_eq!(
            types,
            ["id:INT64", "name:BYTE_ARRAY", "score:DOUBLE", "born:INT32"]
        );
        total += reader.metadata().file_metadata().num_rows();
        assert_eq!(
            f["rows"].as_i64(),
            Some(reader.metadata().file_metadata().num_rows())
        );
    }
    assert_eq!(total, 10);
    // A preview shows a Parquet sync's rows as text.
    let preview = ws.exec_ok(["preview", sync.to_str().unwrap(), "--rows", "2"]);
    assert!(preview.contains("\"name\":\"person 1\""), "{preview}");
}

#[test]
fn bad_file_options_name_their_key() {
    let ws = Workspace::new();
    seed(&ws, 1);
    for (extra, needles) in [
        (
            "format = \"parquet\"\ncompression = \"gzip\"\n",
            &["[sync] compression", "parquet_compression"][..],
        ),
        (
            "format = \"csv\"\nparquet_compression = \"zstd\"\n",
            &["[sync] parquet_compression"],
        ),
        (
            "compression = \"zip\"\n",
            &["[sync] compression", "\"gzip\""],
        ),
        ("max_rows_per_file = 0\n", &["[sync] max_rows_per_file"]),
        (
            "max_bytes_per_file = 10\n",
            &["[sync] max_bytes_per_file", "1024"],
        ),
        (
            "filename = \"a-{part}.csv\"\n",
            &["[sync] filename", "max_rows_per_file"],
        ),
        (
            "max_rows_per_file = 5\nmanifest = \"m-{part}.json\"\n",
            &["[sync] manifest"],
        ),
        (
            "[sync.retention]\nkeep_runs = 0\n",
            &["[sync.retention] keep_runs"],
        ),
    ] {
        let sync = ws.write_sync("bad.toml", &sync_toml("all", extra, FOLDER));
        let r = ws.check(&sync);
        assert_ne!(r.code, 0, "{extra}");
        for n in needles {
            assert!(r.stderr.contains(n), "{extra}: {n:?} not in {}", r.stderr);
        }
    }
}

#[test]
fn on_dropbox_the_manifest_carries_content_hashes_and_lands_last() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dropbox");
    let mut config = dropbox_emulator::Config::new(&root);
    config.static_tokens = vec!["t".into()];
    std::fs::create_dir_all(root.join("exports")).unwrap();
    let emu = dropbox_emulator::start(config).expect("emulator");
    let ws = Workspace::new();
    seed(&ws, 5);
    let sync = ws.write_sync(
        "dbx.toml",
        &sync_toml(
            "all",
            "compression = \"gzip\"\nmax_rows_per_file = 2\nfilename = \"people.csv\"\nmanifest = \"people.manifest.json\"\n",
            "[destination]\ntype = \"dropbox\"\npath = \"/exports\"\n",
        ),
    );
    let r = ws
        .cli()
        .envs(emulator::cli_env(&emu))
        .env("DROPSYNC_DROPBOX_ACCESS_TOKEN", "t")
        .args(["run", sync.to_str().unwrap(), "--json"])
        .output()
        .expect("run");
    assert!(
        r.status.success(),
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    let report: Json = serde_json::from_slice(&r.stdout).unwrap();
    let manifest: Json =
        serde_json::from_str(&emulator::remote(&root, "/exports/people.manifest.json")).unwrap();
    check_manifest(&report, &manifest, "content_hash", |p| {
        let path = root.join("exports").join(p);
        (
            std::fs::metadata(&path).unwrap().len(),
            dropsync::dropbox::content_hash::file_content_hash(&path).unwrap(),
        )
    });
    assert_eq!(files_of(&report, "all").len(), 3);
    // One batch: the data files and the manifest land together.
    let batches: Vec<Json> = emulator::log(&emu)
        .into_iter()
        .filter(|e| e["route"] == "files/upload_session/finish_batch_v2")
        .collect();
    assert_eq!(batches.len(), 1, "{batches:#?}");
    // The batch commits the staged files in order, and the manifest was
    // staged last (check_manifest: it is the report's last file).
}

#[test]
fn reset_mark_delivered_takes_the_current_rows_as_sent_without_a_file() {
    let ws = Workspace::new();
    seed(&ws, 5);
    let sync = ws.write_sync(
        "people.toml",
        &sync_toml("diff", "filename = \"r{sync.run.id}.csv\"\n", FOLDER),
    );
    // Never run: the current rows are taken as delivered, nothing written.
    let out = ws.exec_ok(["reset", sync.to_str().unwrap(), "--mark-delivered"]);
    assert!(
        out.contains("took the current 5 row(s) as delivered"),
        "{out}"
    );
    assert!(ws.out_files().is_empty(), "{:?}", ws.out_files());
    // Nothing changed since: the next run sends nothing.
    let r = ws.run_ok(&sync, "2026-03-01T10:00:00Z");
    assert_eq!(
        (r["rows"]["added"].as_u64(), r["rows"]["changed"].as_u64()),
        (Some(0), Some(0))
    );
    // Changes after the mark are sent as usual, and only they.
    ws.sql("UPDATE people SET name = 'x' WHERE id = 3; INSERT INTO people VALUES (6, 'new', 1, '2000-01-01');");
    ws.exec_ok(["reset", sync.to_str().unwrap(), "--mark-delivered"]);
    ws.sql("UPDATE people SET name = 'y' WHERE id = 4;");
    let r = ws.run_ok(&sync, "2026-03-01T11:00:00Z");
    assert_eq!(r["rows"]["added"], 0);
    assert_eq!(r["rows"]["changed"], 1);
    let changed = files_of(&r, "changed");
    let (_, rows) = csv_rows(&ws.out_text(changed[0]["path"].as_str().unwrap()));
    assert_eq!(
        rows,
        [vec![
            "4".to_string(),
            "y".into(),
            "1.0".into(),
            "1904-01-05".into()
        ]]
    );
    // History records the marks as runs without files.
    let runs = ws.history(&sync);
    assert!(
        runs.iter()
            .filter(|r| r["files"].as_array().is_some_and(|f| f.is_empty()))
            .count()
            >= 2
    );
}

#[test]
fn a_value_parquet_cannot_hold_fails_the_run_naming_its_row_and_column() {
    let ws = Workspace::new();
    seed(&ws, 3);
    ws.sql("UPDATE people SET born = 'yesterday' WHERE id = 2;");
    let sync = ws.write_sync(
        "pq.toml",
        &sync_toml(
            "diff",
            "format = \"parquet\"\nfilename = \"people.parquet\"\n",
            FOLDER,
        ),
    );
    let r = ws.run_failing(&sync, "2026-03-01T10:00:00Z");
    let all = r.all_output();
    assert!(all.contains("row id=2"), "{all}");
    assert!(all.contains("born"), "{all}");
    assert!(
        all.contains("yesterday") && all.contains("is not a date"),
        "{all}"
    );
    assert!(ws.out_files().is_empty(), "{:?}", ws.out_files());
    // Nothing advanced: fixed, the next run delivers every row.
    ws.sql("UPDATE people SET born = '1990-01-01' WHERE id = 2;");
    let r = ws.run_ok(&sync, "2026-03-01T11:00:00Z");
    assert_eq!(r["rows"]["added"], 3);
}

#[test]
fn mark_delivered_is_refused_in_all_mode_which_keeps_no_snapshot() {
    let ws = Workspace::new();
    seed(&ws, 2);
    let sync = ws.write_sync("all.toml", &sync_toml("all", "", FOLDER));
    let r = ws.exec(["reset", sync.to_str().unwrap(), "--mark-delivered"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("[sync] mode = \"all\" keeps no snapshot"),
        "{}",
        r.stderr
    );
    assert!(ws.history(&sync).is_empty(), "no run recorded");
}
