//! Real database servers for the tests: a PostgreSQL and a MariaDB instance,
//! each started once per test binary from the Debian packages' binaries
//! (`scripts/setup.sh` installs them), in a temporary folder, on a free
//! port of 127.0.0.1, with password authentication over TCP.
//!
//! Neither server runs as root: when the tests do (CI containers), the
//! server runs as the `postgres` / `mysql` user the packages create, through
//! `runuser`. A watchdog shell stops the server and removes its folder when
//! the test process exits. Each test makes its own database, so tests run in
//! parallel against one server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The superuser's password on both servers.
pub const ADMIN_PASSWORD: &str = "admin-secret";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command run as `user` when the tests run as root, else as ourselves.
fn as_server_user(user: &str, program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.arg("-u").arg(user).arg("--").arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A folder the server user can write, removed by the watchdog.
fn server_dir(prefix: &str, user: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("create the server's folder")
        .keep();
    if is_root() {
        let ok = Command::new("chown")
            .arg(format!("{user}:"))
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "cannot give {} to user {user:?}; does the user exist? Run scripts/setup.sh",
            dir.display()
        );
    }
    dir
}

fn run(mut cmd: Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}; run scripts/setup.sh"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stops the server (`stop` is a shell command) and removes `dir` once this
/// test process has exited.
fn watchdog(stop: &str, dir: &Path) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; sleep 1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    // Started in the background by a shell that exits at once, so it
    // outlives this process and nothing is left to wait for.
    let started = Command::new("sh")
        .arg("-c")
        .arg("setsid sh -c \"$DROPSYNC_WATCHDOG\" </dev/null >/dev/null 2>&1 &")
        .env("DROPSYNC_WATCHDOG", script)
        .status()
        .expect("start the server's watchdog");
    assert!(started.success(), "the server's watchdog did not start");
}

/// Waits until `ready` succeeds, failing with the server's log if it exits
/// or takes longer than a minute.
fn wait_ready(child: &mut Child, log: &Path, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if ready() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before accepting connections:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not accept connections within a minute:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fresh, unique name for a test's database or user.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

// ---------------------------------------------------------------- PostgreSQL

pub struct Postgres {
    pub port: u16,
    pub dir: PathBuf,
    /// The CA (PEM) that signed the server's certificate, for 127.0.0.1 and localhost.
    pub ca: PathBuf,
    /// Another CA, which signed nothing the server holds.
    pub other_ca: PathBuf,
}

/// A CA and a server certificate it signs for localhost and 127.0.0.1,
/// plus an unrelated CA; returns (ca, other_ca). Made with the openssl CLI.
fn make_certs(dir: &Path) -> (PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let mut c = Command::new("openssl");
        c.args(args).current_dir(dir);
        run(c, "openssl (run scripts/setup.sh)");
    };
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=dropsync test {ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
        ]);
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write the certificate extensions");
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    (dir.join("ca.pem"), dir.join("other-ca.pem"))
}

/// PostgreSQL's server binaries: the newest /usr/lib/postgresql/N/bin.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).unwrap_or_else(|| {
        panic!(
            "the PostgreSQL server (initdb, postgres under /usr/lib/postgresql/*/bin) is not installed; run scripts/setup.sh"
        )
    })
}

/// A port on 127.0.0.1 that nothing listens on (free when asked).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port on 127.0.0.1")
}

/// The test binary's PostgreSQL server, started on first use.
pub fn postgres() -> &'static Postgres {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    SERVER.get_or_init(start_postgres)
}

/// A PostgreSQL server of its own, for tests that crash or freeze it (a
/// backend killed makes the server restart every session, which would break
/// the other tests on a shared one).
pub fn postgres_private() -> &'static Postgres {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    SERVER.get_or_init(start_postgres)
}

fn start_postgres() -> Postgres {
    let bin = postgres_bin();
    let dir = server_dir("dropsync-pg-", "postgres");
    let data = dir.join("data");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, ADMIN_PASSWORD).expect("write the password file");
    let (ca, other_ca) = make_certs(&dir);
    // PostgreSQL insists that only its own user can read its key.
    std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("restrict the server key");
    if is_root() {
        let _ = Command::new("chown")
            .arg("postgres:")
            .arg(&pwfile)
            .arg(dir.join("server.key"))
            .arg(dir.join("server.crt"))
            .status();
    }
    let mut initdb = as_server_user("postgres", &bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=scram-sha-256", "--encoding=UTF8"])
        .args(["--locale=C", "--no-sync"])
        .arg(format!("--pwfile={}", pwfile.display()));
    run(initdb, "initdb");
    let port = free_port();
    let log = dir.join("server.log");
    let log_file = std::fs::File::create(&log).expect("create the server log");
    let mut server = as_server_user("postgres", &bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .args(["-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.display()))
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
        .args(["-c", "ssl=on"])
        .arg("-c")
        .arg(format!(
            "ssl_cert_file={}",
            dir.join("server.crt").display()
        ))
        .arg("-c")
        .arg(format!("ssl_key_file={}", dir.join("server.key").display()))
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log file"))
        .stderr(log_file);
    let mut child = server
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start postgres: {e}; run scripts/setup.sh"));
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- {} -D '{}' stop -m immediate",
            bin.join("pg_ctl").display(),
            data.display()
        )
    } else {
        format!(
            "{} -D '{}' stop -m immediate",
            bin.join("pg_ctl").display(),
            data.display()
        )
    };
    watchdog(&stop, &dir);
    let pg = Postgres {
        port,
        dir,
        ca,
        other_ca,
    };
    wait_ready(&mut child, &log, "postgres", || {
        postgres::Client::connect(&pg.admin_conn("postgres"), postgres::NoTls).is_ok()
    });
    pg
}

impl Postgres {
    fn admin_conn(&self, db: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres password={ADMIN_PASSWORD} dbname={db}",
            self.port
        )
    }

    /// The superuser's client on `db`.
    pub fn admin(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.admin_conn(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to postgres as the superuser: {e}"))
    }

    /// A new, empty database; returns its name.
    pub fn create_database(&self) -> String {
        let name = unique("t");
        self.admin("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a database");
        name
    }

    /// Runs SQL statements as the superuser on `db`.
    pub fn sql(&self, db: &str, sql: &str) {
        self.admin(db).batch_execute(sql).unwrap_or_else(|e| {
            let detail = e.as_db_error().map(|d| d.message().to_string());
            panic!("SQL failed: {e} {detail:?}\n{sql}")
        });
    }

    /// `postgres://user@127.0.0.1:port/db` (no password).
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{db}", self.port)
    }
}

// ------------------------------------------------------------------- MariaDB

pub struct Mariadb {
    pub port: u16,
    pub dir: PathBuf,
    /// The CA (PEM) that signed the server's certificate, for 127.0.0.1 and localhost.
    pub ca: PathBuf,
    /// Another CA, which signed nothing the server holds.
    pub other_ca: PathBuf,
}

fn mariadb_program(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("the MariaDB server ({name}) is not installed; run scripts/setup.sh")
        })
}

/// The test binary's MariaDB server, started on first use.
pub fn mariadb() -> &'static Mariadb {
    static SERVER: OnceLock<Mariadb> = OnceLock::new();
    SERVER.get_or_init(start_mariadb)
}

fn start_mariadb() -> Mariadb {
    let install = mariadb_program("mariadb-install-db");
    let mariadbd = mariadb_program("mariadbd");
    let dir = server_dir("dropsync-mariadb-", "mysql");
    let data = dir.join("data");
    let mut init = as_server_user("mysql", &install);
    init.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .arg("--skip-name-resolve");
    run(init, "mariadb-install-db");
    let (ca, other_ca) = make_certs(&dir);
    if is_root() {
        let _ = Command::new("chown")
            .arg("mysql:")
            .arg(dir.join("server.key"))
            .arg(dir.join("server.crt"))
            .status();
    }
    // The superuser the tests log in as, over TCP with a password.
    let init_sql = dir.join("init.sql");
    std::fs::write(
        &init_sql,
        format!(
            "CREATE USER IF NOT EXISTS 'admin'@'%' IDENTIFIED BY '{ADMIN_PASSWORD}';\n\
             GRANT ALL ON *.* TO 'admin'@'%' WITH GRANT OPTION;\n"
        ),
    )
    .expect("write the init file");
    let port = free_port();
    let log = dir.join("server.log");
    let pid_file = dir.join("server.pid");
    let mut server = as_server_user("mysql", &mariadbd);
    server
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", dir.join("server.sock").display()))
        .arg(format!("--pid-file={}", pid_file.display()))
        .arg(format!("--init-file={}", init_sql.display()))
        .arg(format!("--log-error={}", log.display()))
        .args(["--skip-name-resolve", "--innodb-buffer-pool-size=64M"])
        .arg(format!("--ssl-cert={}", dir.join("server.crt").display()))
        .arg(format!("--ssl-key={}", dir.join("server.key").display()))
        .args([
            "--innodb-flush-log-at-trx-commit=0",
            "--max-connections=200",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = server
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start mariadbd: {e}; run scripts/setup.sh"));
    watchdog(
        &format!(
            "kill $(cat '{}') 2>/dev/null || kill {}",
            pid_file.display(),
            child.id()
        ),
        &dir,
    );
    let m = Mariadb {
        port,
        dir,
        ca,
        other_ca,
    };
    wait_ready(&mut child, &log, "mariadbd", || {
        mysql::Conn::new(m.admin_opts(None)).is_ok()
    });
    m
}

impl Mariadb {
    fn admin_opts(&self, db: Option<&str>) -> mysql::Opts {
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some("admin"))
            .pass(Some(ADMIN_PASSWORD))
            .db_name(db)
            .prefer_socket(false)
            .into()
    }

    /// A new, empty database; returns its name.
    pub fn create_database(&self) -> String {
        let name = unique("t");
        self.sql_on(None, &format!("CREATE DATABASE {name}"));
        name
    }

    /// Runs SQL statements as the superuser on `db`.
    pub fn sql(&self, db: &str, sql: &str) {
        self.sql_on(Some(db), sql)
    }

    fn sql_on(&self, db: Option<&str>, sql: &str) {
        use mysql::prelude::Queryable;
        let mut conn = mysql::Conn::new(self.admin_opts(db))
            .unwrap_or_else(|e| panic!("connect to mariadb as admin: {e}"));
        conn.query_drop(sql)
            .unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"));
    }

    /// `mysql://user@127.0.0.1:port/db` (no password).
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("mysql://{user}@127.0.0.1:{}/{db}", self.port)
    }
}
