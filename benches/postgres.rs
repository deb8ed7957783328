//! PostgreSQL All-mode benchmark (issue: within 1.5x of psql's `\copy`, with
//! flat memory).
//!
//! `cargo bench --bench postgres -- [ROWS ...]` (default: 1000000)
//!
//! Starts a PostgreSQL server the way the tests do (tests/it/support/servers.rs),
//! fills a table of ROWS x 10 columns (bigint, integer, double, numeric,
//! text, timestamptz, boolean, a nullable text), then, three times each and
//! alternating, exports `SELECT * FROM bench` to a local folder with
//!   psql -c "\copy (SELECT * FROM bench) TO 'file.csv' CSV HEADER"
//! and with an All-mode CSV sync run by the release `dropsync` binary.
//! Wall time and peak RSS are measured per child process (wait4); the
//! median of each is reported.

#[path = "support/bench_table.rs"]
mod bench_table;
#[path = "../tests/it/support/servers.rs"]
mod servers;
mod support;

use std::path::Path;
use std::process::Command;
use support::{measure, Measured};

const SQL: &str = "SELECT * FROM bench";

fn main() {
    let sizes = support::sizes(&[1_000_000]);
    let bin = support::release_build(&["--bin", "dropsync"]).join("dropsync");
    let pg = servers::postgres();
    println!(
        "{:<10} {:>10} {:>14} {:>10} {:>14} {:>7}",
        "rows", "psql s", "psql RSS MB", "dropsync s", "dropsync RSS MB", "ratio"
    );
    for rows in sizes {
        bench(pg, &bin, rows);
    }
}

fn median(mut v: Vec<Measured>) -> Measured {
    v.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    v.swap_remove(v.len() / 2)
}

fn bench(pg: &servers::Postgres, bin: &Path, rows: u64) {
    let db = pg.create_database();
    bench_table::fill(pg, &db, rows);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&out).expect("mkdir");
    let sync = dir.path().join("bench.toml");
    std::fs::write(
        &sync,
        format!(
            "[source]\ntype = \"postgres\"\nurl = \"{}\"\npassword = \"env:BENCH_PG_PASSWORD\"\n\
             [model]\nname = \"bench\"\nsql = \"{SQL}\"\nprimary_key = \"id\"\n\
             [destination]\ntype = \"folder\"\npath = \"{}\"\n\
             [sync]\nid = \"bench\"\nmode = \"all\"\nformat = \"csv\"\nfilename = \"bench.csv\"\n",
            pg.url("postgres", &db),
            out.display()
        ),
    )
    .expect("write the sync");
    let psql_file = dir.path().join("psql.csv");
    let mut psql = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..3 {
        let _ = Command::new("sync").status();
        psql.push(measure(
            Command::new("psql")
                .arg(format!(
                    "host=127.0.0.1 port={} user=postgres dbname={db}",
                    pg.port
                ))
                .arg("-c")
                .arg(format!(
                    "\\copy ({SQL}) TO '{}' CSV HEADER",
                    psql_file.display()
                ))
                .env("PGPASSWORD", servers::ADMIN_PASSWORD),
        ));
        let _ = Command::new("sync").status();
        ours.push(measure(
            Command::new(bin)
                .arg("--state-dir")
                .arg(&state)
                .arg("run")
                .arg(&sync)
                .env("BENCH_PG_PASSWORD", servers::ADMIN_PASSWORD),
        ));
    }
    let times = |v: &[Measured]| {
        v.iter()
            .map(|m| format!("{:.3}", m.seconds))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "{:<10} runs: psql {} | dropsync {}",
        "",
        times(&psql),
        times(&ours)
    );
    let (p, d) = (median(psql), median(ours));
    let lines = |path: &Path| {
        std::io::BufRead::lines(std::io::BufReader::new(
            std::fs::File::open(path).expect("open the export"),
        ))
        .count()
    };
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{:<10} {:>10.3} {:>14.1} {:>10.3} {:>14.1} {:>7.2}",
        rows,
        p.seconds,
        p.max_rss_kb as f64 / 1024.0,
        d.seconds,
        d.max_rss_kb as f64 / 1024.0,
        d.seconds / p.seconds
    );
    println!(
        "{:<10} files: psql {} lines, {} bytes | dropsync {} lines, {} bytes",
        "",
        lines(&psql_file),
        size(&psql_file),
        lines(&out.join("bench.csv")),
        size(&out.join("bench.csv"))
    );
}
