//! What the benchmarks share: the sizes asked on the command line, release
//! builds of the binaries they time, and timing a child process with its
//! own peak memory.
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The numbers given after `--`, else `default`.
pub fn sizes(default: &[u64]) -> Vec<u64> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if args.is_empty() {
        default.to_vec()
    } else {
        args
    }
}

/// Runs `cargo build --release` with `args` (e.g. `--bin dropsync`) and
/// returns the folder the release binaries are in.
pub fn release_build(args: &[&str]) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("cargo")
        .args(["build", "--release"])
        .args(args)
        .current_dir(&root)
        .status()
        .expect("cargo build");
    assert!(status.success(), "cargo build --release {args:?} failed");
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"))
        .join("release")
}

pub struct Measured {
    pub seconds: f64,
    pub max_rss_kb: i64,
    pub stdout: String,
}

/// Runs `cmd` to its end: wall time, the child's own peak RSS (wait4) and
/// its standard output. Panics if it fails.
pub fn measure(cmd: &mut Command) -> Measured {
    let start = Instant::now();
    // Reaped by wait4 below, which also reports the child's own peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd.stdout(Stdio::piped()).spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; status and usage are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4");
    let stdout = reader.join().unwrap_or_default();
    assert!(
        std::process::ExitStatus::from_raw(status).success(),
        "{cmd:?} failed: {stdout}"
    );
    Measured {
        seconds,
        max_rss_kb: usage.ru_maxrss,
        stdout,
    }
}
