//! Upload throughput to the Dropbox emulator on loopback, against curl.
//!
//! `cargo bench --bench upload -- [MiB]` (default 1024): starts the release
//! `dropbox-emulator`, writes a file of that size, uploads it with curl
//! (`files/upload`, streamed with `-T`) and with `dropsync dropbox put`
//! (concurrent upload session + batch commit, hashed while sending), three times each,
//! alternating, and prints both throughputs and dropsync's peak RSS (wait4).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let mib: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1024);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let release = support::release_build(&[
        "--bin",
        "dropsync",
        "-p",
        "dropsync",
        "--bin",
        "dropbox-emulator",
        "-p",
        "dropbox-emulator",
    ]);
    let dir = root.join("bench/data/upload");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("emu")).expect("mkdir");
    let file = dir.join("payload.bin");
    write_payload(&file, mib);

    let mut emulator = Command::new(release.join("dropbox-emulator"))
        .args([
            "--root",
            &dir.join("emu").to_string_lossy(),
            "--access-token",
            "bench-token",
        ])
        .args(["--max-request-bytes", &(4u64 << 30).to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the emulator");
    let mut line = String::new();
    BufReader::new(emulator.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("emulator address");
    let base = line.trim().rsplit(' ').next().expect("url").to_string();
    println!("emulator at {base}; payload {mib} MiB");

    let bytes = mib << 20;
    let mut curl_best: f64 = 0.0;
    let mut ours_best: f64 = 0.0;
    let mut ours_rss = 0;
    for round in 0..3 {
        let t = curl(&base, &file);
        curl_best = curl_best.max(bytes as f64 / t);
        let (t, rss) = dropsync_put(&release.join("dropsync"), &base, &file, round);
        ours_best = ours_best.max(bytes as f64 / t);
        ours_rss = ours_rss.max(rss);
        let _ = Command::new("sync").status();
    }
    let _ = emulator.kill();
    let _ = emulator.wait();
    let mibs = |b: f64| b / 1048576.0;
    println!("curl      {:>8.1} MiB/s", mibs(curl_best));
    println!(
        "dropsync  {:>8.1} MiB/s  ({:.0}% of curl), peak RSS {:.1} MB",
        mibs(ours_best),
        100.0 * ours_best / curl_best,
        ours_rss as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_payload(path: &Path, mib: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create payload"));
    let mut rng = fastrand::Rng::with_seed(1);
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        rng.fill(&mut block);
        f.write_all(&block).expect("write payload");
    }
    f.flush().expect("flush payload");
}

fn curl(base: &str, file: &Path) -> f64 {
    let start = Instant::now();
    let out = Command::new("curl")
        .args(["-s", "-S", "-f", "-o", "/dev/null", "-X", "POST"])
        .args(["-H", "Authorization: Bearer bench-token"])
        .args(["-H", "Content-Type: application/octet-stream"])
        .args([
            "-H",
            r#"Dropbox-API-Arg: {"path":"/curl.bin","mode":"overwrite"}"#,
        ])
        .args(["-H", "Expect:"])
        .arg("-T")
        .arg(file)
        .arg(format!("{base}/2/files/upload"))
        .status()
        .expect("curl");
    assert!(out.success(), "curl failed");
    start.elapsed().as_secs_f64()
}

fn dropsync_put(bin: &Path, base: &str, file: &Path, round: u32) -> (f64, i64) {
    let m = support::measure(
        Command::new(bin)
            .args(["dropbox", "put"])
            .arg(file)
            .arg(format!("/dropsync-{round}.bin"))
            .env("DROPSYNC_DROPBOX_API_URL", base)
            .env("DROPSYNC_DROPBOX_CONTENT_URL", base)
            .env("DROPSYNC_DROPBOX_ACCESS_TOKEN", "bench-token"),
    );
    (m.seconds, m.max_rss_kb)
}
