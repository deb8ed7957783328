//! The in-database diff against the local engine (issue: bytes received
//! <= 2% of the local engine's, and a faster second run).
//!
//! `cargo bench --bench pushdown -- [ROWS ...]` (default: 10000000)
//!
//! Starts a PostgreSQL server the way the tests do, fills the table of
//! benches/postgres.rs (ROWS x 10 columns), and points two Diff syncs of
//! `SELECT * FROM bench` at it through a counting TCP proxy on 127.0.0.1:
//! one on the local engine, one with `state_schema` (the source engine).
//! Each runs once (the first run: every row is new), then three rounds of
//! 0.1% churn (updates 0.05%, deletes 0.025%, inserts 0.025%) each followed
//! by a run of both, the order alternating. Reported per engine: wall time
//! and peak RSS of the release `dropsync` process (wait4), and the bytes the
//! proxy carried from the server to Dropsync and back; the medians of the
//! three second runs are compared with the targets.

#[path = "support/bench_table.rs"]
mod bench_table;
#[path = "../tests/it/support/servers.rs"]
mod servers;
mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use support::{measure, Measured};

fn main() {
    let sizes = support::sizes(&[10_000_000]);
    let bin = support::release_build(&["--bin", "dropsync"]).join("dropsync");
    let pg = servers::postgres();
    for rows in sizes {
        bench(pg, &bin, rows);
    }
}

/// Counts the bytes that pass between Dropsync and the server.
struct Proxy {
    port: u16,
    /// Server to Dropsync.
    down: Arc<AtomicU64>,
    /// Dropsync to server.
    up: Arc<AtomicU64>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (down, up) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (d, u) = (down.clone(), up.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                pipe(&server, &client, d.clone());
                pipe(&client, &server, u.clone());
            }
        });
        Proxy { port, down, up }
    }

    fn take(&self) -> (u64, u64) {
        (
            self.down.swap(0, Ordering::SeqCst),
            self.up.swap(0, Ordering::SeqCst),
        )
    }
}

/// Copies `from` to `to` on a thread, counting.
fn pipe(from: &TcpStream, to: &TcpStream, count: Arc<AtomicU64>) {
    let (mut from, mut to) = (
        from.try_clone().expect("clone"),
        to.try_clone().expect("clone"),
    );
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    count.fetch_add(n as u64, Ordering::SeqCst);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

struct Run {
    m: Measured,
    down: u64,
    up: u64,
}

fn sync_file(dir: &Path, url: &str, engine: &str) -> std::path::PathBuf {
    let out = dir.join(format!("out-{engine}"));
    std::fs::create_dir_all(&out).expect("mkdir");
    let (schema, diff_engine) = match engine {
        "source" => ("state_schema = \"dropsync_bench\"\n", "source"),
        _ => ("", "local"),
    };
    let path = dir.join(format!("{engine}.toml"));
    std::fs::write(
        &path,
        format!(
            "[source]\ntype = \"postgres\"\nurl = \"{url}\"\npassword = \"env:BENCH_PG_PASSWORD\"\n{schema}\
             [model]\nname = \"bench\"\nsql = \"SELECT * FROM bench\"\nprimary_key = \"id\"\n\
             [destination]\ntype = \"folder\"\npath = \"{}\"\n\
             [sync]\nid = \"bench_{engine}\"\nmode = \"diff\"\ndiff_engine = \"{diff_engine}\"\n\
             format = \"csv\"\nfilename = \"{{sync.run.id}}.csv\"\n",
            out.display()
        ),
    )
    .expect("write the sync");
    path
}

fn run(bin: &Path, state: &Path, sync: &Path, proxy: &Proxy) -> Run {
    proxy.take();
    let _ = Command::new("sync").status();
    let m = measure(
        Command::new(bin)
            .arg("--state-dir")
            .arg(state)
            .arg("run")
            .arg(sync)
            .arg("--json")
            .env("BENCH_PG_PASSWORD", servers::ADMIN_PASSWORD),
    );
    let report: serde_json::Value = serde_json::from_str(&m.stdout).unwrap_or_default();
    assert_eq!(report["status"], "success", "{}", m.stdout);
    // The proxy's threads count the last bytes as the connection closes.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (down, up) = proxy.take();
    Run { m, down, up }
}

fn median(mut v: Vec<Run>) -> Run {
    v.sort_by(|a, b| a.m.seconds.total_cmp(&b.m.seconds));
    v.swap_remove(v.len() / 2)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn bench(pg: &servers::Postgres, bin: &Path, rows: u64) {
    let db = pg.create_database();
    let t0 = std::time::Instant::now();
    bench_table::fill(pg, &db, rows);
    pg.sql(&db, "CREATE SCHEMA dropsync_bench");
    println!("{rows} rows filled in {:.1} s", t0.elapsed().as_secs_f64());
    let proxy = Proxy::start(pg.port);
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
        proxy.port
    );
    let local = sync_file(dir.path(), &url, "local");
    let source = sync_file(dir.path(), &url, "source");

    let first_local = run(bin, &state, &local, &proxy);
    let first_source = run(bin, &state, &source, &proxy);
    let (mut seconds_local, mut seconds_source) = (Vec::new(), Vec::new());
    let churn = (rows / 1000).max(4);
    let mut next_id = rows + 1;
    for round in 0..3u64 {
        // 0.05% updated, 0.025% deleted, 0.025% inserted.
        let every = rows / (churn / 2);
        let gone = rows / (churn / 4);
        pg.sql(
            &db,
            &format!(
                "UPDATE bench SET name = name || '!' WHERE id % {every} = {round};
                 DELETE FROM bench WHERE id % {gone} = {};
                 INSERT INTO bench SELECT g, g, g % 1000, g * 1.5 / 7, round((g / 3.0)::numeric, 2),
                        md5(g::text), 'customer ' || g,
                        timestamptz '2024-01-01 00:00:00+00' + g::int * interval '1 second',
                        g % 2 = 0, NULL
                   FROM generate_series({next_id}::bigint, {}) g;",
                round + 7,
                next_id + churn / 4 - 1
            ),
        );
        next_id += churn / 4;
        let pair = if round % 2 == 0 {
            let l = run(bin, &state, &local, &proxy);
            (l, run(bin, &state, &source, &proxy))
        } else {
            let s = run(bin, &state, &source, &proxy);
            (run(bin, &state, &local, &proxy), s)
        };
        println!(
            "round {}: local {:.2} s {:.1} MB received | source {:.2} s {:.3} MB received",
            round + 1,
            pair.0.m.seconds,
            mb(pair.0.down),
            pair.1.m.seconds,
            mb(pair.1.down)
        );
        seconds_local.push(pair.0);
        seconds_source.push(pair.1);
    }
    let (l, s) = (median(seconds_local), median(seconds_source));
    println!();
    println!(
        "| engine | first run s | second run s (median of 3) | peak RSS MB (second run) | received MB | sent MB | received vs local |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (name, first, second) in [("local", &first_local, &l), ("source", &first_source, &s)] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.1} | {:.3} | {:.3} | {:.3}% |",
            first.m.seconds,
            second.m.seconds,
            second.m.max_rss_kb as f64 / 1024.0,
            mb(second.down),
            mb(second.up),
            100.0 * second.down as f64 / l.down.max(1) as f64
        );
    }
    println!(
        "first run received: local {:.1} MB, source {:.1} MB (sent {:.1} MB: the snapshot written in the database)",
        mb(first_local.down),
        mb(first_source.down),
        mb(first_source.up)
    );
    let share = s.down as f64 / l.down.max(1) as f64;
    println!(
        "target bytes received <= 2% of the local engine's: {} ({:.3}%)",
        if share <= 0.02 { "PASS" } else { "FAIL" },
        100.0 * share
    );
    println!(
        "target second run faster than the local engine's: {} ({:.2} s vs {:.2} s)",
        if s.m.seconds < l.m.seconds {
            "PASS"
        } else {
            "FAIL"
        },
        s.m.seconds,
        l.m.seconds
    );
}
