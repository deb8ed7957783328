//! A private D-Bus session bus with an unlocked gnome-keyring serving the
//! Secret Service, as on a desktop, for tests of the OS credential store.
//! Needs `dbus-run-session`, `gnome-keyring-daemon` and `secret-tool`
//! (scripts/setup.sh installs them); set DROPSYNC_SKIP_KEYRING_TEST=1 to
//! skip the tests that use it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Whether the keyring tests are skipped (DROPSYNC_SKIP_KEYRING_TEST=1).
pub fn skipped() -> bool {
    let skip = std::env::var("DROPSYNC_SKIP_KEYRING_TEST").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SKIPPED: DROPSYNC_SKIP_KEYRING_TEST=1");
    }
    skip
}

/// A private D-Bus session bus with an unlocked gnome-keyring serving the
/// Secret Service (`dbus-run-session` holds the bus open until this ends).
pub struct KeyringBus {
    child: Child,
    hold: Option<ChildStdin>,
    pub address: String,
    pub home: PathBuf,
    pub runtime: PathBuf,
}

const KEYRING_SCRIPT: &str = r#"
set -eu
exec 2>>"$KEYRING_LOG_DIR/script.err"
for tool in gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not installed" >&2; exit 3; }
done
# An unlocked login keyring (password "pw"): no prompt is ever shown.
printf pw | gnome-keyring-daemon --unlock --components=secrets --daemonize \
    >"$KEYRING_LOG_DIR/daemon.out" 2>"$KEYRING_LOG_DIR/daemon.err"
# The Secret Service works: store, read back and remove an item.
printf probe | secret-tool store --label=dropsync-probe dropsync-probe yes
test "$(secret-tool lookup dropsync-probe yes)" = probe
secret-tool clear dropsync-probe yes
echo "BUS=$DBUS_SESSION_BUS_ADDRESS"
# Hold the session until the test closes stdin.
cat >/dev/null
"#;

impl KeyringBus {
    pub fn start(dir: &Path) -> KeyringBus {
        let home = dir.join("keyring-home");
        let runtime = dir.join("keyring-run");
        let logs = dir.join("keyring-logs");
        for d in [&home, &runtime, &logs] {
            std::fs::create_dir_all(d).expect("keyring folders");
        }
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
            .expect("XDG_RUNTIME_DIR is private");
        let session_log = logs.join("session.err");
        let mut child = match Command::new("dbus-run-session")
            .args(["--", "sh", "-c", KEYRING_SCRIPT])
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("KEYRING_LOG_DIR", &logs)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("GNOME_KEYRING_CONTROL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&session_log)
                    .expect("session log"),
            )
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot start a private D-Bus session for the keyring test: dbus-run-session: {e}. \
                 Install dbus-daemon, gnome-keyring and libsecret-tools (bash scripts/setup.sh), \
                 or set DROPSYNC_SKIP_KEYRING_TEST=1 to skip this test"
            ),
        };
        let hold = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let first = rx.recv_timeout(Duration::from_secs(60));
        let address = match first.as_deref().map(str::trim) {
            Ok(line) if line.starts_with("BUS=unix:") => line["BUS=".len()..].to_string(),
            other => {
                end_session(&mut child, hold);
                let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
                panic!(
                    "the keyring daemon could not be started ({}).\n\
                     script stderr: {}\nsession stderr: {}\ndaemon stderr: {}\n\
                     Install dbus-daemon, gnome-keyring and libsecret-tools (bash scripts/setup.sh), \
                     or set DROPSYNC_SKIP_KEYRING_TEST=1 to skip this test",
                    match other {
                        Ok(l) => format!("first line {l:?}"),
                        Err(_) => "no bus address within 60 s".into(),
                    },
                    read(logs.join("script.err")).trim(),
                    read(session_log).trim(),
                    read(logs.join("daemon.err")).trim(),
                );
            }
        };
        KeyringBus {
            child,
            hold,
            address,
            home,
            runtime,
        }
    }

    /// A `secret-tool` command on this session's keyring.
    fn secret_tool(&self) -> Command {
        let mut c = Command::new("secret-tool");
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.runtime);
        c
    }

    /// The secret stored under `service` for `username` (the attributes the
    /// `keyring` crate uses), read with `secret-tool`.
    pub fn lookup(&self, service: &str, username: &str) -> Option<String> {
        let out = self
            .secret_tool()
            .args(["lookup", "service", service, "username", username])
            .output()
            .expect("secret-tool");
        let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !secret.is_empty()).then_some(secret)
    }

    /// Stores a secret as a user would with `secret-tool store`.
    pub fn store(&self, service: &str, username: &str, secret: &str) {
        let mut child = self
            .secret_tool()
            .args([
                "store",
                "--label=dropsync test",
                "service",
                service,
                "username",
                username,
            ])
            .stdin(Stdio::piped())
            .spawn()
            .expect("secret-tool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(secret.as_bytes())
            .expect("write the secret");
        assert!(
            child.wait().expect("secret-tool").success(),
            "secret-tool store failed"
        );
    }
}

/// Closing stdin ends the script, so dbus-run-session ends the bus and the
/// keyring daemon with it; killed only if it does not end by itself.
fn end_session(child: &mut Child, hold: Option<ChildStdin>) {
    drop(hold);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for KeyringBus {
    fn drop(&mut self) {
        end_session(&mut self.child, self.hold.take());
    }
}
