//! End-to-end Diff benchmark (issue: second 1M-row Diff run < 1.2 s, peak RSS < 150 MB).
//!
//! `cargo bench --bench diff -- [ROWS ...]` (default: 1000000 10000000)
//!
//! For each size: generate a SQLite model of ROWS x 10 columns (ints, floats,
//! short and long text, NULLs), run a first Diff sync with the release
//! `dropsync` binary, apply 1% updates, 0.5% deletes and 0.5% inserts, and time
//! the second Diff run end to end. Then the same with a CSV-file source of the
//! same data. Wall time and peak RSS are measured per child process (wait4).
//!
//! Then the file formats: the same SQLite model delivered whole (All mode)
//! as plain CSV, gzip CSV, NDJSON and Parquet (snappy and zstd): rows/s,
//! peak RSS and the file's size, so the cost of each format shows next to
//! plain CSV.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::Measured;

fn main() {
    let sizes = support::sizes(&[1_000_000, 10_000_000]);
    let bin = support::release_build(&["--bin", "dropsync"]).join("dropsync");
    println!(
        "{:<10} {:<7} {:>14} {:>12} {:>14} {:>12}  changes(a/c/r)",
        "rows", "source", "first run s", "second s", "rows/s", "peak RSS MB"
    );
    for &rows in &sizes {
        for source in ["sqlite", "csv"] {
            bench(&bin, rows, source);
        }
    }
    println!(
        "\n{:<10} {:<16} {:>8} {:>12} {:>12} {:>10}",
        "rows", "format", "s", "rows/s", "peak RSS MB", "file MB"
    );
    for rows in sizes {
        formats(&bin, rows);
    }
}

/// All mode over the SQLite model in each format (the first run writes
/// every row, so it measures the writers).
fn formats(bin: &Path, rows: u64) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("bench/data")
        .join(rows.to_string());
    generate(&dir.join("bench.db"), rows);
    for (label, format, extra) in [
        ("csv", "csv", ""),
        ("csv + gzip", "csv", "compression = \"gzip\"\n"),
        ("ndjson", "ndjson", ""),
        ("parquet snappy", "parquet", ""),
        (
            "parquet zstd",
            "parquet",
            "parquet_compression = \"zstd\"\n",
        ),
    ] {
        let name = format!("all-{}", label.replace([' ', '+'], ""));
        let out = dir.join(format!("out-{name}"));
        let state = dir.join(format!("state-{name}"));
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&out).expect("mkdir");
        let sync = write_sync(&dir, &name, "sqlite", "all", format, &out.to_string_lossy());
        let toml = std::fs::read_to_string(&sync).expect("read sync") + extra;
        std::fs::write(&sync, toml).expect("write sync");
        let _ = Command::new("sync").status();
        let m = measure(
            bin,
            &[
                "--state-dir",
                &state.to_string_lossy(),
                "run",
                "--json",
                &sync.to_string_lossy(),
            ],
        );
        let report: serde_json::Value = serde_json::from_str(&m.stdout).expect("json");
        let bytes = report["files"][0]["bytes"].as_f64().unwrap_or(0.0);
        println!(
            "{:<10} {:<16} {:>8.2} {:>12.0} {:>12.1} {:>10.1}",
            rows,
            label,
            m.seconds,
            rows as f64 / m.seconds,
            m.max_rss_kb as f64 / 1024.0,
            bytes / 1e6
        );
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&state);
    }
}

/// `dropsync ARGS`, measured.
fn measure(bin: &Path, args: &[&str]) -> Measured {
    support::measure(Command::new(bin).args(args))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn generate(db: &Path, rows: u64) {
    if db.exists() {
        let _ = std::fs::remove_file(db);
    }
    let mut conn = rusqlite::Connection::open(db).expect("open bench db");
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c REAL, d REAL,
                         e TEXT, f TEXT, g TEXT, h TEXT, i REAL);",
    )
    .expect("schema");
    let tx = conn.transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO t VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")
            .expect("prepare");
        let mut rng = fastrand::Rng::with_seed(42);
        let long: String = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore".into();
        for id in 1..=rows as i64 {
            let e = format!("user{}", rng.u32(..1_000_000));
            let f = ["DE", "FR", "US", "JP", "BR"][rng.usize(..5)];
            let g = &long[..rng.usize(60..long.len())];
            let h: Option<String> = rng.bool().then(|| format!("note {}", rng.u16(..)));
            let i: Option<f64> = (rng.u8(..4) != 0).then(|| rng.f64() * 1000.0);
            ins.execute(rusqlite::params![
                id,
                rng.i64(..),
                rng.i32(0..1000),
                rng.f64(),
                rng.f64() * 1e6,
                e,
                f,
                g,
                h,
                i
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn change(db: &Path, rows: u64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch(&format!(
        "UPDATE t SET b = b + 1 WHERE id % 100 = 0;
         DELETE FROM t WHERE id % 200 = 1;
         INSERT INTO t (id, a, b, c, d, e, f, g, h, i)
           SELECT id + {rows}, a, b, c, d, e, f, g, h, i FROM t WHERE id % 200 = 2;"
    ))
    .expect("change");
}

fn write_sync(
    dir: &Path,
    name: &str,
    source: &str,
    mode: &str,
    format: &str,
    out: &str,
) -> PathBuf {
    let src = match source {
        "sqlite" => "type = \"sqlite\"\npath = \"bench.db\"".to_string(),
        _ => "type = \"csv\"\npath = \"bench.csv\"".to_string(),
    };
    let sql = if source == "sqlite" {
        "sql = \"SELECT * FROM t\"\n"
    } else {
        ""
    };
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[source]\n{src}\n[model]\nname = \"t\"\n{sql}primary_key = \"id\"\n[destination]\ntype = \"folder\"\npath = \"{out}\"\n[sync]\nid = \"{name}\"\nmode = \"{mode}\"\nformat = \"{format}\"\nfilename = \"t-{{sync.run.id}}.{format}\"\n"
        ),
    )
    .expect("write sync");
    path
}

fn bench(bin: &Path, rows: u64, source: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("bench/data")
        .join(rows.to_string());
    let _ = std::fs::remove_dir_all(dir.join("out"));
    let _ = std::fs::remove_dir_all(dir.join("state"));
    std::fs::create_dir_all(dir.join("out")).expect("mkdir");
    let db = dir.join("bench.db");
    generate(&db, rows);
    let state = dir.join("state");
    let state_s = state.to_string_lossy().to_string();
    let csv_path = dir.join("bench.csv");
    let export = |tag: &str| {
        // Our own All mode exports the table as the CSV source's input.
        let sync = write_sync(
            &dir,
            &format!("export-{tag}"),
            "sqlite",
            "all",
            "csv",
            "export",
        );
        std::fs::create_dir_all(dir.join("export")).expect("mkdir");
        measure(
            bin,
            &["--state-dir", &state_s, "run", &sync.to_string_lossy()],
        );
        let produced = std::fs::read_dir(dir.join("export"))
            .expect("export dir")
            .filter_map(|e| e.ok())
            .next()
            .expect("export file")
            .path();
        std::fs::rename(produced, &csv_path).expect("move export");
    };
    if source == "csv" {
        export("before");
    }
    let sync = write_sync(
        &dir,
        &format!("diff-{source}"),
        source,
        "diff",
        "csv",
        "out",
    );
    let sync_s = sync.to_string_lossy().to_string();
    let _ = Command::new("sync").status();
    let first = measure(bin, &["--state-dir", &state_s, "run", "--json", &sync_s]);
    change(&db, rows);
    if source == "csv" {
        export("after");
    }
    // The same second run three times from the same state: report the median.
    let saved = dir.join("state-after-first");
    let _ = std::fs::remove_dir_all(&saved);
    copy_dir(&state, &saved);
    let mut seconds = Vec::new();
    let mut second = None;
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(&state);
        copy_dir(&saved, &state);
        let _ = std::fs::remove_dir_all(dir.join("out"));
        std::fs::create_dir_all(dir.join("out")).expect("mkdir");
        // Write back dirty pages first so earlier I/O does not land on this run.
        let _ = Command::new("sync").status();
        let m = measure(bin, &["--state-dir", &state_s, "run", "--json", &sync_s]);
        seconds.push(m.seconds);
        second = Some(m);
    }
    let _ = std::fs::remove_dir_all(&saved);
    let mut second = second.expect("three runs");
    seconds.sort_by(f64::total_cmp);
    second.seconds = seconds[1];
    println!(
        "{:<10} {:<7} second-run times: {}",
        "",
        "",
        seconds
            .iter()
            .map(|s| format!("{s:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let report: serde_json::Value = serde_json::from_str(&second.stdout).expect("json");
    let r = &report["rows"];
    println!(
        "{:<10} {:<7} {:>14.2} {:>12.3} {:>14.0} {:>12.1}  {}/{}/{}",
        rows,
        source,
        first.seconds,
        second.seconds,
        rows as f64 / second.seconds,
        second.max_rss_kb as f64 / 1024.0,
        r["added"],
        r["changed"],
        r["removed"]
    );
    println!(
        "{:<10} {:<7} first-run peak RSS {:.1} MB",
        "",
        "",
        first.max_rss_kb as f64 / 1024.0
    );
}
