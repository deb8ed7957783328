//! Where `dropsync auth dropbox` keeps credentials, end to end: the real CLI
//! against the Dropbox emulator (started in-process on 127.0.0.1).
//!
//! - The OS credential store: a private D-Bus session with an unlocked
//!   gnome-keyring (Secret Service), as on a desktop. Needs `dbus-run-session`
//!   (dbus-daemon), `gnome-keyring-daemon` and `secret-tool` (libsecret-tools),
//!   which scripts/setup.sh installs; it fails, naming what is missing, when
//!   they cannot run, unless DROPSYNC_SKIP_KEYRING_TEST=1.
//! - The private file (`DROPSYNC_CREDENTIAL_STORE=file`): mode 0600, and no
//!   token in any output, even with trace logs.
//! - The code-paste fallback when the redirect port is taken.
//! - The app key: none anywhere, given once and remembered, refused by
//!   Dropbox, and a redirect address the app does not list.

use crate::support::emulator;
use crate::support::free_port;
use crate::support::keyring;

use dropbox_emulator::{Config, Running, DEFAULT_APP_KEY};
use keyring::KeyringBus;
use serde_json::Value;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The account the emulator connects (`users/get_current_account`).
const ACCOUNT_ID: &str = dropbox_emulator::ACCOUNT_ID;
const ACCOUNT: &str = "Dana Tester <dana@example.com>";
/// The Secret Service `service` attribute Dropsync stores tokens under.
const KEYRING_SERVICE: &str = "dropsync-dropbox";
/// Every access token the emulator issues starts with this.
const ACCESS_TOKEN_PREFIX: &str = "sl.emu-";
/// How long any one CLI run may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(90);

struct Env {
    dir: tempfile::TempDir,
    emu: Running,
    root: PathBuf,
    state: PathBuf,
    /// Set on every command this test runs (after the defaults).
    vars: Vec<(OsString, OsString)>,
}

/// What one CLI run did.
#[derive(Debug)]
struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Output {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    fn ok(self, what: &str) -> Output {
        assert!(
            self.success,
            "`{what}` failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

fn start() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("dropbox");
    let emu = dropbox_emulator::start(Config::new(&root)).expect("start the emulator");
    let state = dir.path().join("state");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let db = dir.path().join("shop.db");
    rusqlite::Connection::open(&db)
        .expect("db")
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Zoë');",
        )
        .expect("seed");
    Env {
        vars: vec![
            // Nothing of the developer's own session: no real browser opens
            // (`BROWSER=true` runs /bin/true) and no real keyring is touched.
            ("HOME".into(), home.into()),
            ("BROWSER".into(), "true".into()),
        ],
        dir,
        emu,
        root,
        state,
    }
}

impl Env {
    /// Tests of the file store: `DROPSYNC_CREDENTIAL_STORE=file`, and a
    /// session bus that does not exist, so no real keyring can be reached.
    fn with_file_store(mut self) -> Env {
        let no_bus = format!("unix:path={}", self.dir.path().join("no-bus").display());
        self.set("DROPSYNC_CREDENTIAL_STORE", "file");
        self.set("DBUS_SESSION_BUS_ADDRESS", &no_bus);
        self
    }

    fn set(&mut self, name: &str, value: impl Into<OsString>) {
        self.vars.push((name.into(), value.into()));
    }

    /// `dropsync --state-dir STATE ...` against the emulator, with a clean
    /// environment for everything Dropsync reads.
    fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("dropsync"));
        c.arg("--state-dir").arg(&self.state);
        for name in [
            "DROPSYNC_STATE_DIR",
            "DROPSYNC_LOG",
            "DROPSYNC_CREDENTIAL_STORE",
            "DROPSYNC_OAUTH_PORT",
            "DROPSYNC_DROPBOX_ACCESS_TOKEN",
            "DROPSYNC_DROPBOX_REFRESH_TOKEN",
            "DROPSYNC_DROPBOX_CA_CERT",
            "DROPSYNC_DROPBOX_CHUNK_BYTES",
            "DROPSYNC_DROPBOX_CHUNK_THRESHOLD",
            "DROPSYNC_DROPBOX_UPLOAD_STREAMS",
            "DBUS_SESSION_BUS_ADDRESS",
            "XDG_RUNTIME_DIR",
        ] {
            c.env_remove(name);
        }
        c.envs(emulator::cli_env(&self.emu))
            .env("DROPSYNC_DROPBOX_APP_KEY", DEFAULT_APP_KEY);
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// Runs the CLI to the end (no stdin).
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut c = self.command();
        c.args(args).stdin(Stdio::null());
        for (k, v) in extra {
            c.env(k, v);
        }
        let child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dropsync");
        wait_output(child, &args.join(" "))
    }

    /// Starts `dropsync auth dropbox ARGS` with the redirect port `port`.
    fn spawn_auth(&self, port: u16, args: &[&str]) -> AuthRun {
        let mut c = self.command();
        c.args(["auth", "dropbox"])
            .args(args)
            .env("DROPSYNC_OAUTH_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        AuthRun::spawn(c)
    }

    /// The whole loopback flow: the "browser" (this test) follows the
    /// authorize URL to the emulator, which approves and redirects to the
    /// CLI's listener. Returns the CLI's output and the authorization code.
    fn connect_with_redirect(&self) -> (Output, String) {
        let port = free_port();
        let mut auth = self.spawn_auth(port, &["--no-browser"]);
        let url = auth.authorize_url();
        assert!(
            url.contains(&format!(
                "redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fdropsync%2Foauth%2Fcallback"
            )),
            "{url}"
        );
        let (code, page) = approve_with_redirect(&url);
        assert!(page.contains("Dropbox is connected"), "{page}");
        let out = auth.finish().ok("auth dropbox");
        assert!(out.stdout.contains(ACCOUNT), "{}", out.stdout);
        (out, code)
    }

    fn dropbox_dir(&self) -> PathBuf {
        self.state.join("dropbox")
    }

    /// `<state>/dropbox/accounts.json`, or an empty list if there is none.
    fn accounts(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.dropbox_dir().join("accounts.json")) {
            Ok(text) => serde_json::from_str::<Vec<Value>>(&text)
                .unwrap_or_else(|e| panic!("accounts.json is not a JSON list ({e}): {text}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("accounts.json: {e}"),
        }
    }

    /// Files in `<state>/dropbox` whose names end with `ext`.
    fn files_ending(&self, ext: &str) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.dropbox_dir()) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(ext))
            .collect()
    }

    /// Every file below the state folder holding `needle`.
    fn state_files_containing(&self, needle: &str) -> Vec<PathBuf> {
        fn walk(dir: &Path, needle: &[u8], hits: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.filter_map(Result::ok) {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, needle, hits);
                } else if std::fs::read(&p)
                    .map(|b| b.windows(needle.len()).any(|w| w == needle))
                    .unwrap_or(false)
                {
                    hits.push(p);
                }
            }
        }
        let mut hits = Vec::new();
        walk(&self.state, needle.as_bytes(), &mut hits);
        hits
    }

    /// A sync of the customers table into Dropbox folder `folder`.
    fn sync(&self, folder: &str) -> PathBuf {
        emulator::customers_sync(self.dir.path(), "creds", folder, "all", "customers.csv")
    }

    fn remote(&self, path: &str) -> String {
        emulator::remote(&self.root, path)
    }

    /// Routes the emulator answered, with their status and (RPC) grant type.
    fn log(&self) -> Vec<(String, u16, Option<String>)> {
        emulator::routes(&self.emu)
    }

    /// Whether a refresh token still works at the emulator (a headless run
    /// with `DROPSYNC_DROPBOX_REFRESH_TOKEN`).
    fn refresh_token_works(&self, token: &str) -> bool {
        let out = self.run_with(
            &["dropbox", "ls", "/"],
            &[("DROPSYNC_DROPBOX_REFRESH_TOKEN", token)],
        );
        if !out.success {
            assert!(
                out.stderr.contains("connected again"),
                "a refused refresh token must say how to reconnect: {}",
                out.stderr
            );
        }
        out.success
    }
}

/// Waits for a child with a deadline, reading its output as it goes.
fn wait_output(mut child: Child, what: &str) -> Output {
    let stdout = child.stdout.take().map(read_all_in_thread);
    let stderr = child.stderr.take().map(read_all_in_thread);
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`dropsync {what}` did not finish within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let take = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.map(|h| h.join().expect("reader"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Output {
        success: status.success(),
        stdout: take(stdout),
        stderr: take(stderr),
    }
}

fn read_all_in_thread(
    mut r: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// A running `dropsync auth dropbox`: its stderr arrives line by line (the
/// instructions and the authorize URL), its stdin takes a pasted code.
struct AuthRun {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl AuthRun {
    fn spawn(mut c: std::process::Command) -> AuthRun {
        let mut child = c.spawn().expect("start dropsync auth dropbox");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = Vec::new();
            while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                let _ = tx.send(String::from_utf8_lossy(&line).trim_end().to_string());
                line.clear();
            }
        });
        AuthRun {
            stdin: child.stdin.take(),
            stdout: child.stdout.take().map(read_all_in_thread),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The authorize URL the CLI prints (on stderr).
    fn authorize_url(&mut self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with("http") {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "no authorize URL from `dropsync auth dropbox`; stderr so far:\n{}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// The instructions printed before the URL.
    fn instructions(&self) -> String {
        self.seen.join("\n")
    }

    /// Types `text` into the prompt and closes stdin.
    fn paste(&mut self, text: &str) {
        let mut stdin = self.stdin.take().expect("stdin is open");
        stdin.write_all(text.as_bytes()).expect("write the code");
    }

    fn finish(mut self) -> Output {
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`dropsync auth dropbox` did not finish within {PATIENCE:?}; stderr:\n{}",
                    self.instructions()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader ends at EOF, once the process is gone.
        self.seen.extend(self.lines.iter());
        Output {
            success: status.success(),
            stdout: self
                .stdout
                .take()
                .map(|h| String::from_utf8_lossy(&h.join().expect("stdout")).into_owned())
                .unwrap_or_default(),
            stderr: self.seen.join("\n"),
        }
    }
}

fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PATIENCE)
        .build()
        .expect("http client")
}

/// Plays the browser for a URL with a redirect_uri: the emulator approves
/// and redirects; the redirect is delivered to the CLI's listener. Returns
/// the code the redirect carried and the page the CLI answered with.
fn approve_with_redirect(url: &str) -> (String, String) {
    let http = no_redirects();
    let resp = http.get(url).send().expect("authorize");
    assert_eq!(resp.status().as_u16(), 302, "the emulator redirects");
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
        .to_string();
    let code = query_param(&location, "code").expect("a code in the redirect");
    let page = http
        .get(&location)
        .send()
        .expect("the CLI's listener answers")
        .text()
        .expect("page");
    (code, page)
}

/// Plays the browser for a URL without redirect_uri: the emulator shows the
/// code to paste on its page.
fn code_from_page(url: &str) -> String {
    let resp = no_redirects().get(url).send().expect("authorize");
    assert_eq!(
        resp.status().as_u16(),
        200,
        "without redirect_uri Dropbox shows a page"
    );
    let page = resp.text().expect("page");
    let start = page
        .find("<code id=\"auth-code\">")
        .unwrap_or_else(|| panic!("no code on the page: {page}"))
        + "<code id=\"auth-code\">".len();
    let end = start + page[start..].find("</code>").expect("</code>");
    page[start..end].to_string()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// Asserts a secret appears in none of the outputs.
fn assert_never_printed(outputs: &[(&str, &Output)], secret: &str, what: &str) {
    assert!(
        secret.len() >= 16,
        "{what} looks too short to be real: {secret:?}"
    );
    for (command, out) in outputs {
        assert!(
            !out.all().contains(secret),
            "`dropsync {command}` printed the {what}:\n{}",
            out.all()
        );
    }
}

// ---------- the OS credential store ----------

#[test]
fn tokens_go_to_the_os_credential_store_when_there_is_one() {
    if keyring::skipped() {
        return;
    }
    let mut env = start();
    let bus = KeyringBus::start(env.dir.path());
    env.set("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    env.set("HOME", &bus.home);
    env.set("XDG_RUNTIME_DIR", &bus.runtime);
    // Info logs say why the keyring was not used, if it was not.
    env.set("DROPSYNC_LOG", "info");

    let (auth, code) = env.connect_with_redirect();
    assert!(
        auth.stdout.contains("the OS credential store"),
        "the token should be in the keyring\nstdout: {}\nstderr: {}",
        auth.stdout,
        auth.stderr
    );
    let token = bus
        .lookup(KEYRING_SERVICE, ACCOUNT_ID)
        .expect("the refresh token is in the Secret Service");
    assert!(token.starts_with("rt-"), "not a refresh token: {token:?}");

    // The state folder knows the account, but holds no secret.
    let accounts = env.accounts();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["account_id"], ACCOUNT_ID);
    assert_eq!(accounts[0]["email"], "dana@example.com");
    assert_eq!(accounts[0]["store"], "keyring");
    assert!(
        env.files_ending(".token").is_empty() && env.files_ending(".tmp").is_empty(),
        "no token file with the keyring"
    );
    assert!(
        env.state_files_containing(&token).is_empty(),
        "the refresh token is written in {:?}",
        env.state_files_containing(&token)
    );

    let status = env.run(&["auth", "status"]).ok("auth status");
    assert!(
        status.stdout.contains(ACCOUNT) && status.stdout.contains("connected"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("(keyring)"), "{}", status.stdout);

    // Runs use the stored token: Dropsync refreshes it into an access token.
    let mkdir = env.run(&["dropbox", "mkdir", "/from-keyring"]).ok("mkdir");
    let sync = env.sync("/from-keyring");
    let run = env
        .run(&["run", sync.to_str().expect("utf-8 path")])
        .ok("run");
    assert_eq!(
        env.remote("from-keyring/customers.csv"),
        "id,name\r\n1,Ada\r\n2,Grace\r\n3,Zoë\r\n"
    );
    let ls = env.run(&["dropbox", "ls", "/from-keyring"]).ok("ls");
    assert!(
        ls.stdout.contains("/from-keyring/customers.csv"),
        "{}",
        ls.stdout
    );
    assert!(
        env.log().iter().any(|(r, s, grant)| r == "oauth2/token"
            && *s == 200
            && grant.as_deref() == Some("refresh_token")),
        "the stored refresh token was exchanged: {:?}",
        env.log()
    );

    // Without the Secret Service the account cannot be used: the token
    // is nowhere else.
    let no_bus = format!("unix:path={}", env.dir.path().join("no-bus").display());
    let blind = env.run_with(
        &["dropbox", "ls", "/"],
        &[("DBUS_SESSION_BUS_ADDRESS", &no_bus)],
    );
    assert!(!blind.success, "{}", blind.all());
    assert!(
        blind.stderr.contains("OS credential store")
            && blind.stderr.contains("dropsync auth dropbox"),
        "{}",
        blind.stderr
    );

    let disconnect = env.run(&["auth", "disconnect"]).ok("auth disconnect");
    assert!(
        disconnect
            .stdout
            .contains(&format!("Disconnected {ACCOUNT}")),
        "{}",
        disconnect.stdout
    );
    assert_eq!(
        bus.lookup(KEYRING_SERVICE, ACCOUNT_ID),
        None,
        "the keyring item is removed"
    );
    assert!(env.accounts().is_empty(), "{:?}", env.accounts());
    let after = env.run(&["auth", "status"]).ok("auth status");
    assert!(
        after.stdout.contains("No Dropbox account"),
        "{}",
        after.stdout
    );
    // It was revoked at Dropbox too.
    assert!(!env.refresh_token_works(&token));

    for (what, secret) in [
        ("refresh token", token.as_str()),
        ("authorization code", &code),
    ] {
        assert_never_printed(
            &[
                ("auth dropbox", &auth),
                ("auth status", &status),
                ("dropbox mkdir", &mkdir),
                ("run", &run),
                ("dropbox ls", &ls),
                ("auth disconnect", &disconnect),
            ],
            secret,
            what,
        );
    }
}

// ---------- the private file ----------

#[test]
fn the_file_store_is_private_and_no_token_is_ever_printed_even_in_trace_logs() {
    let mut env = start().with_file_store();
    env.set("DROPSYNC_LOG", "trace");

    let (auth, code) = env.connect_with_redirect();
    assert!(
        auth.stdout.contains("a private file in the state folder"),
        "{}",
        auth.stdout
    );
    let tokens = env.files_ending(".token");
    assert_eq!(tokens.len(), 1, "one token file: {tokens:?}");
    let mode = std::fs::metadata(&tokens[0])
        .expect("token file")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "{} is mode {:o}",
        tokens[0].display(),
        mode & 0o777
    );
    let token = std::fs::read_to_string(&tokens[0])
        .expect("token")
        .trim()
        .to_string();
    assert!(token.starts_with("rt-"), "not a refresh token: {token:?}");
    assert!(
        env.files_ending(".tmp").is_empty(),
        "no temporary file is left"
    );
    let accounts = env.accounts();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["store"], "file");
    assert_eq!(
        env.state_files_containing(&token),
        tokens,
        "the refresh token is only in its own file"
    );

    // Every command that handles tokens, with trace logs on.
    let status = env.run(&["auth", "status"]).ok("auth status");
    assert!(status.stdout.contains("connected"), "{}", status.stdout);
    assert!(status.stdout.contains("(file)"), "{}", status.stdout);
    let mkdir = env.run(&["dropbox", "mkdir", "/private"]).ok("mkdir");
    let local = env.dir.path().join("hello.txt");
    std::fs::write(&local, "hello").expect("write");
    let put = env
        .run(&[
            "dropbox",
            "put",
            local.to_str().expect("utf-8 path"),
            "/private/hello.txt",
        ])
        .ok("put");
    assert_eq!(env.remote("private/hello.txt"), "hello");
    let sync = env.sync("/private");
    let run = env
        .run(&["run", sync.to_str().expect("utf-8 path")])
        .ok("run");
    assert_eq!(
        env.remote("private/customers.csv"),
        "id,name\r\n1,Ada\r\n2,Grace\r\n3,Zoë\r\n"
    );
    let ls = env.run(&["dropbox", "ls", "/private"]).ok("ls");
    assert!(ls.stdout.contains("/private/hello.txt"), "{}", ls.stdout);
    // The sync's own files (snapshot, history) hold no token either.
    assert_eq!(env.state_files_containing(&token), tokens);
    let disconnect = env.run(&["auth", "disconnect"]).ok("auth disconnect");

    let outputs = [
        ("auth dropbox", &auth),
        ("auth status", &status),
        ("dropbox mkdir", &mkdir),
        ("dropbox put", &put),
        ("run", &run),
        ("dropbox ls", &ls),
        ("auth disconnect", &disconnect),
    ];
    // The logs really were on, so their silence about tokens means something.
    for (command, out) in &outputs[1..] {
        assert!(
            out.stderr.contains("TRACE") || out.stderr.contains("DEBUG"),
            "`dropsync {command}` wrote no trace logs with DROPSYNC_LOG=trace:\n{}",
            out.stderr
        );
    }
    assert_never_printed(&outputs, &token, "refresh token");
    assert_never_printed(&outputs, &code, "authorization code");
    for (command, out) in &outputs {
        assert!(
            !out.all().contains(ACCESS_TOKEN_PREFIX),
            "`dropsync {command}` printed an access token:\n{}",
            out.all()
        );
        assert!(
            !out.all().contains("Bearer"),
            "`dropsync {command}` printed an Authorization header:\n{}",
            out.all()
        );
    }

    // Disconnecting removed the file and revoked the token.
    assert!(env.files_ending(".token").is_empty());
    assert!(env.accounts().is_empty(), "{:?}", env.accounts());
    assert!(!env.refresh_token_works(&token));
}

#[test]
fn the_token_file_is_private_even_over_a_stale_temporary_file() {
    let env = start().with_file_store();
    // A save interrupted earlier (between writing and renaming) left a
    // world-readable temporary file where the next save writes.
    std::fs::create_dir_all(env.dropbox_dir()).expect("dropbox dir");
    // The token file's name: the account id with ':' made safe.
    let stale = env
        .dropbox_dir()
        .join(format!("{}.tmp", ACCOUNT_ID.replace(':', "_")));
    std::fs::write(&stale, "stale").expect("stale file");
    std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    env.connect_with_redirect();
    let tokens = env.files_ending(".token");
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let mode = std::fs::metadata(&tokens[0])
        .expect("token file")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "{} is mode {:o}: others can read the refresh token",
        tokens[0].display(),
        mode & 0o777
    );
}

// ---------- the code-paste fallback ----------

/// `auth dropbox` with its redirect port taken by another listener: the
/// authorize URL has no redirect_uri, Dropbox shows the code, the user
/// pastes it.
fn connect_by_pasting(args: &[&str]) {
    let env = start().with_file_store();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();

    let mut auth = env.spawn_auth(port, args);
    let url = auth.authorize_url();
    let said = auth.instructions();
    assert!(
        said.contains(&format!("Port {port} on 127.0.0.1 is in use"))
            && said.contains("paste the code"),
        "{said}"
    );
    assert_eq!(query_param(&url, "redirect_uri"), None, "{url}");
    assert_eq!(
        query_param(&url, "client_id").as_deref(),
        Some(DEFAULT_APP_KEY)
    );
    assert_eq!(query_param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(&url, "code_challenge").is_some(), "{url}");
    assert_eq!(
        query_param(&url, "token_access_type").as_deref(),
        Some("offline")
    );

    let code = code_from_page(&url);
    auth.paste(&format!("  {code}  \n"));
    let out = auth.finish().ok("auth dropbox (pasted code)");
    assert!(
        out.stdout
            .contains(&format!("Connected Dropbox account {ACCOUNT}")),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains(&code), "the code is not echoed");

    // The other program's port was left alone.
    taken.set_nonblocking(true).expect("nonblocking");
    assert!(
        taken.accept().is_err(),
        "nothing connected to the taken port"
    );

    let tokens = env.files_ending(".token");
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let token = std::fs::read_to_string(&tokens[0]).expect("token");
    assert!(!out.all().contains(token.trim()));
    let status = env.run(&["auth", "status"]).ok("auth status");
    assert!(
        status.stdout.contains(ACCOUNT) && status.stdout.contains("connected"),
        "{}",
        status.stdout
    );
    env.run(&["dropbox", "ls", "/"])
        .ok("ls with the pasted account");
}

#[test]
fn a_taken_port_falls_back_to_pasting_the_code() {
    connect_by_pasting(&[]);
}

#[test]
fn a_taken_port_falls_back_to_pasting_the_code_with_no_browser() {
    connect_by_pasting(&["--no-browser"]);
}

#[test]
fn a_wrong_pasted_code_is_refused_clearly_and_leaves_no_credentials() {
    let env = start().with_file_store();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let assert_nothing_stored = |case: &str| {
        assert!(
            env.files_ending(".token").is_empty() && env.files_ending(".tmp").is_empty(),
            "{case}: a token file was written"
        );
        assert!(env.accounts().is_empty(), "{case}: {:?}", env.accounts());
        let status = env.run(&["auth", "status"]).ok("auth status");
        assert!(
            status.stdout.contains("No Dropbox account"),
            "{case}: {}",
            status.stdout
        );
    };

    // A typo.
    let mut auth = env.spawn_auth(port, &["--no-browser"]);
    auth.authorize_url();
    auth.paste("not-a-real-code\n");
    let out = auth.finish();
    assert!(!out.success, "{}", out.all());
    assert!(
        out.stderr.contains("refused the authorization code")
            && out.stderr.contains("invalid_grant")
            && out.stderr.contains("dropsync auth dropbox"),
        "{}",
        out.stderr
    );
    assert_nothing_stored("a typo");

    // A real code, but from another authorization (another PKCE verifier),
    // e.g. pasted from an old tab.
    let mut auth = env.spawn_auth(port, &["--no-browser"]);
    let url = auth.authorize_url();
    let mut other = AuthRun::spawn({
        let mut c = env.command();
        c.args(["auth", "dropbox", "--no-browser"])
            .env("DROPSYNC_OAUTH_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    });
    let other_url = other.authorize_url();
    assert_ne!(url, other_url);
    let foreign = code_from_page(&other_url);
    auth.paste(&format!("{foreign}\n"));
    let out = auth.finish();
    assert!(!out.success, "{}", out.all());
    assert!(
        out.stderr.contains("refused the authorization code"),
        "{}",
        out.stderr
    );
    other.paste("\n");
    let other_out = other.finish();
    assert!(!other_out.success);
    assert!(
        other_out.stderr.contains("no code was entered"),
        "{}",
        other_out.stderr
    );
    assert_nothing_stored("a foreign code, and an empty one");

    // Nothing at all (stdin closed).
    let mut auth = env.spawn_auth(port, &[]);
    auth.authorize_url();
    let out = auth.finish();
    assert!(!out.success, "{}", out.all());
    assert!(out.stderr.contains("no code was entered"), "{}", out.stderr);
    assert_nothing_stored("no input");
    drop(taken);
}

// ---------- the app key ----------

impl Env {
    /// `dropsync auth dropbox ARGS` with no app key in the environment, as a
    /// user who launched Dropsync without setting anything.
    fn spawn_auth_without_env_key(&self, port: u16, args: &[&str]) -> AuthRun {
        let mut c = self.command();
        c.env_remove("DROPSYNC_DROPBOX_APP_KEY")
            .args(["auth", "dropbox", "--no-browser"])
            .args(args)
            .env("DROPSYNC_OAUTH_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        AuthRun::spawn(c)
    }

    fn remembered_key(&self) -> Option<String> {
        std::fs::read_to_string(self.dropbox_dir().join("app_key"))
            .ok()
            .map(|s| s.trim().to_string())
    }
}

#[test]
fn with_no_app_key_anywhere_auth_says_how_to_get_one() {
    let env = start().with_file_store();
    let out = env.spawn_auth_without_env_key(free_port(), &[]).finish();
    assert!(!out.success, "{}", out.all());
    for want in [
        "app key",
        "--app-key",
        "Dropbox App Console",
        "files.content.write",
        "/dropsync/oauth/callback",
    ] {
        assert!(out.stderr.contains(want), "{want}: {}", out.stderr);
    }
    assert!(env.accounts().is_empty());
}

#[test]
fn an_app_key_given_once_is_remembered_for_later_connections() {
    let env = start().with_file_store();
    let port = free_port();
    let mut auth = env.spawn_auth_without_env_key(port, &["--app-key", DEFAULT_APP_KEY]);
    let url = auth.authorize_url();
    assert_eq!(
        query_param(&url, "client_id").as_deref(),
        Some(DEFAULT_APP_KEY)
    );
    approve_with_redirect(&url);
    auth.finish().ok("auth dropbox --app-key");
    assert_eq!(env.remembered_key().as_deref(), Some(DEFAULT_APP_KEY));

    // Later, with no key given and none in the environment, the remembered
    // key is used: connecting again works.
    let mut again = env.spawn_auth_without_env_key(port, &[]);
    let url = again.authorize_url();
    assert_eq!(
        query_param(&url, "client_id").as_deref(),
        Some(DEFAULT_APP_KEY)
    );
    approve_with_redirect(&url);
    again.finish().ok("auth dropbox with the remembered key");
    assert_eq!(env.accounts().len(), 1);

    // The environment's key wins over the remembered one.
    let mut c = env.command();
    c.args(["auth", "dropbox", "--no-browser"])
        .env("DROPSYNC_DROPBOX_APP_KEY", "otherkey123")
        .env("DROPSYNC_OAUTH_PORT", port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = AuthRun::spawn(c).finish();
    assert!(!out.success, "{}", out.all());
    assert!(
        out.stderr.contains("refused the app key \"otherkey123\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_wrong_app_key_is_refused_by_name_and_never_remembered() {
    let env = start().with_file_store();
    let out = env
        .spawn_auth_without_env_key(free_port(), &["--app-key", "wrongkey42"])
        .finish();
    assert!(!out.success, "{}", out.all());
    assert!(
        out.stderr
            .contains("Dropbox refused the app key \"wrongkey42\"")
            && out.stderr.contains("App key (not the App secret)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        env.remembered_key(),
        None,
        "a refused key is not remembered"
    );
    assert!(env.accounts().is_empty());

    // Not even the shape of a key: refused before Dropbox is asked.
    let out = env
        .spawn_auth_without_env_key(free_port(), &["--app-key", "https://www.dropbox.com/x"])
        .finish();
    assert!(!out.success);
    assert!(
        out.stderr.contains("is not a Dropbox app key"),
        "{}",
        out.stderr
    );
    assert_eq!(env.remembered_key(), None);
}

#[test]
fn a_redirect_address_the_app_does_not_list_is_named_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(dir.path().join("dropbox"));
    config.redirect_uris = vec!["http://127.0.0.1:1/elsewhere".into()];
    let emu = dropbox_emulator::start(config).expect("emulator");
    let mut env = start().with_file_store();
    env.emu = emu;
    let port = free_port();
    let out = env
        .spawn_auth_without_env_key(port, &["--app-key", DEFAULT_APP_KEY])
        .finish();
    assert!(!out.success, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "refused the redirect address http://127.0.0.1:{port}/dropsync/oauth/callback"
        )) && out.stderr.contains("Redirect URIs"),
        "{}",
        out.stderr
    );
    assert_eq!(env.remembered_key(), None);
}

/// A broken line in a sync file may hold a secret: `check` and `run` name
/// the line, the column and the key, never the line's text.
#[test]
fn a_broken_sync_file_line_is_never_echoed() {
    let env = start();
    let secret = "pw-Zq9!s3cr3t-never-print";
    let broken = [
        // An unquoted password.
        format!("[source]\ntype = \"postgres\"\nurl = \"postgres://u@h/db\"\npassword = {secret}\n"),
        // A URL whose string is never closed.
        format!("[source]\ntype = \"postgres\"\nurl = \"postgres://u:{secret}@h/db\n"),
        // A value of the wrong type, which serde would quote.
        format!("[source]\ntype = \"sqlite\"\npath = \"shop.db\"\n[sync]\nid = \"x\"\nfilename_offset = \"{secret}\"\n"),
    ];
    for (i, text) in broken.iter().enumerate() {
        let path = env.dir.path().join(format!("broken{i}.toml"));
        std::fs::write(&path, text).expect("write");
        let path = path.to_str().expect("utf-8 path");
        for args in [
            vec!["check", path],
            vec!["check", "--json", path],
            vec!["run", path],
        ] {
            let out = env.run(&args);
            assert!(
                !out.success,
                "`{}` must fail:\n{}",
                args.join(" "),
                out.all()
            );
            assert!(
                !out.all().contains("s3cr3t"),
                "`dropsync {}` echoed the secret:\n{}",
                args.join(" "),
                out.all()
            );
            assert!(out.all().contains("line "), "{}", out.all());
        }
    }
    let out = env.run(&[
        "check",
        env.dir.path().join("broken0.toml").to_str().unwrap(),
    ]);
    assert!(
        out.all().contains("line 4, column 12, [source] password"),
        "{}",
        out.all()
    );
}

/// The refresh token `auth dropbox` just stored (file store).
fn stored_token(env: &Env) -> String {
    let tokens = env.files_ending(".token");
    assert_eq!(tokens.len(), 1, "one token file: {tokens:?}");
    std::fs::read_to_string(&tokens[0])
        .expect("token")
        .trim()
        .to_string()
}

/// `auth disconnect` revokes the stored token of the account it forgets,
/// even when the environment holds another token: that one keeps working.
#[test]
fn disconnect_revokes_the_stored_token_not_the_environments() {
    let env = start().with_file_store();
    env.connect_with_redirect();
    let from_env = stored_token(&env);
    // Connecting again stores a second token; the first stays valid and
    // plays the token a CI job would set in the environment.
    env.connect_with_redirect();
    let stored = stored_token(&env);
    assert_ne!(stored, from_env);
    assert!(env.refresh_token_works(&from_env));

    let out = env
        .run_with(
            &["auth", "disconnect"],
            &[("DROPSYNC_DROPBOX_REFRESH_TOKEN", from_env.as_str())],
        )
        .ok("auth disconnect");
    assert!(!out.all().contains("did not confirm"), "{}", out.all());
    assert!(env.accounts().is_empty(), "{:?}", env.accounts());
    assert!(
        !env.refresh_token_works(&stored),
        "the disconnected account's own token must be revoked"
    );
    assert!(
        env.refresh_token_works(&from_env),
        "the environment's token is not the disconnected account's to revoke"
    );
}

/// A sync naming an account never delivers with the environment's token of
/// another account: the run fails, naming the variable and whose it is.
#[test]
fn a_sync_naming_an_account_refuses_an_environment_token_of_another() {
    let env = start().with_file_store();
    env.connect_with_redirect();
    let token = stored_token(&env);
    env.run(&["dropbox", "mkdir", "/named"]).ok("mkdir");
    let with_account = |account: &str| {
        let path = env.sync("/named");
        let text = std::fs::read_to_string(&path).expect("sync");
        let text = text.replace(
            "path = \"/named\"\n",
            &format!("path = \"/named\"\naccount = \"{account}\"\n"),
        );
        std::fs::write(&path, text).expect("write");
        path
    };

    let other = with_account("someone.else@example.com");
    let out = env.run_with(
        &["run", other.to_str().expect("utf-8 path")],
        &[("DROPSYNC_DROPBOX_REFRESH_TOKEN", token.as_str())],
    );
    assert!(
        !out.success,
        "delivered with another account's token:\n{}",
        out.all()
    );
    assert!(
        out.all()
            .contains("DROPSYNC_DROPBOX_REFRESH_TOKEN belongs to Dana Tester"),
        "{}",
        out.all()
    );
    assert!(
        out.all().contains("someone.else@example.com"),
        "{}",
        out.all()
    );
    assert!(
        !env.root.join("named/customers.csv").exists(),
        "nothing may be delivered"
    );
    assert!(
        !env.log()
            .iter()
            .any(|(route, _, _)| route == "files/upload"),
        "nothing may be uploaded: {:?}",
        env.log()
    );
    assert!(!out.all().contains(&token), "{}", out.all());

    // The token of the named account itself is used.
    let own = with_account("dana@example.com");
    env.run_with(
        &["run", own.to_str().expect("utf-8 path")],
        &[("DROPSYNC_DROPBOX_REFRESH_TOKEN", token.as_str())],
    )
    .ok("run with the named account's token");
    assert_eq!(
        env.remote("named/customers.csv"),
        "id,name\r\n1,Ada\r\n2,Grace\r\n3,Zoë\r\n"
    );
}
