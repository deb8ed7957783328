//! How to reach a database server: the `[source] url` taken apart, where the
//! password comes from, TLS and timeouts. Shared by the PostgreSQL and MySQL
//! sources so that both read the same keys the same way.
//!
//! The password is kept apart from everything that is printed: `describe`
//! and `Debug` never show it.

use crate::secret::{SecretError, SecretRef};
use std::path::PathBuf;
use std::time::Duration;

/// The OS credential store's service name for database passwords.
pub const KEYRING_SERVICE: &str = "dropsync-source";

/// Which server protocol the URL speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
        }
    }

    fn schemes(self) -> &'static [&'static str] {
        match self {
            Engine::Postgres => &["postgres", "postgresql"],
            Engine::Mysql => &["mysql", "mariadb"],
        }
    }
}

/// libpq's `sslmode` values; MySQL URLs take the same ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// TLS or fail; the certificate is not checked (as libpq, unless a CA file is given).
    Require,
    /// TLS, the certificate must chain to the CA file (or the public roots).
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host.
    VerifyFull,
}

impl TlsMode {
    fn parse(s: &str) -> Option<TlsMode> {
        Some(match s {
            "disable" => TlsMode::Disable,
            "prefer" | "allow" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A database server and how to log in to it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseSpec {
    pub engine: Engine,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
    /// Where the password comes from (see `crate::secret`): a literal only
    /// when it was written into the url; `env:NAME`; or the OS credential
    /// store (`password = "keyring"`), service [`KEYRING_SERVICE`], account
    /// [`DatabaseSpec::keyring_account`].
    pub password: Option<SecretRef>,
    pub tls: TlsMode,
    /// `sslrootcert`: a PEM file of CA certificates to trust.
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// Queries running longer are cancelled by the server.
    pub statement_timeout: Option<Duration>,
    /// `[source] read_timeout`: the longest silence from the server while a
    /// query runs; `None` for the default (see [`DatabaseSpec::read_timeout`]).
    pub read_timeout: Option<Duration>,
    /// `[source] state_schema`: the schema the in-database diff may write
    /// (PostgreSQL only; see `crate::pushdown`).
    pub state_schema: Option<String>,
}

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a query may go without an answer from the server, unless
/// `statement_timeout` asks for longer or `read_timeout` says otherwise: a
/// server that stops answering mid-query fails the run instead of hanging it.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(90);
/// TCP keepalive: first probe after this long idle, then every
/// `KEEPALIVE_INTERVAL`, `KEEPALIVE_RETRIES` times, so a vanished host or a
/// dropped route is noticed in about a minute.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
pub const KEEPALIVE_RETRIES: u32 = 3;
/// Data sent and not acknowledged for this long breaks the connection (Linux).
pub const TCP_USER_TIMEOUT: Duration = Duration::from_secs(60);

impl DatabaseSpec {
    /// The error of a login that got no answer within `connect_timeout`.
    pub fn no_answer(&self) -> String {
        format!(
            "no answer from {}:{} within {}s; check the host and port in [source] url and that no firewall drops the connection (or raise [source] connect_timeout)",
            self.host,
            self.port,
            self.connect_timeout.as_secs()
        )
    }

    /// The longest silence tolerated while a query runs: `read_timeout`,
    /// else 90 s, or `statement_timeout` + 30 s if that is longer (the
    /// server's own cancel comes first, with the better message).
    pub fn read_timeout(&self) -> Duration {
        match (self.read_timeout, self.statement_timeout) {
            (Some(t), _) => t,
            (None, Some(t)) => DEFAULT_READ_TIMEOUT.max(t + Duration::from_secs(30)),
            (None, None) => DEFAULT_READ_TIMEOUT,
        }
    }

    /// The error of a query the server stopped answering.
    pub fn silent_mid_query(&self) -> String {
        let limit = match self.read_timeout {
            Some(_) => "[source] read_timeout".to_string(),
            None => "[source] read_timeout; by default statement_timeout + 30 s, at least 90 s"
                .to_string(),
        };
        format!(
            "no answer from {}:{} within {}s while the query ran; check that the server is up (the limit is {limit}; a query that needs longer before its first row needs a higher one)",
            self.host,
            self.port,
            self.read_timeout().as_secs()
        )
    }
}

/// Runs `login` (connecting, the handshake and the session setup) on its own
/// thread and gives up after `limit`: a server that accepts the connection
/// and never answers would otherwise hold the run forever, since the
/// drivers' connect timeouts cover the TCP connection only. `None` when the
/// limit passed (the thread is left to end when its socket does).
pub fn within<T: Send + 'static>(
    limit: Duration,
    login: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("dropsync-db-login".into())
        .spawn(move || {
            let _ = tx.send(login());
        });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(limit).ok()
}

impl DatabaseSpec {
    /// Reads `url`; `password` is the `[source] password` key. Errors are
    /// messages for the key they name (`url` or `password`), never holding
    /// the password.
    pub fn parse(
        engine: Engine,
        url: &str,
        password: Option<&str>,
        resolve: impl Fn(&str) -> PathBuf,
    ) -> Result<DatabaseSpec, (&'static str, String)> {
        let example = match engine {
            Engine::Postgres => "postgres://user@host:5432/database",
            Engine::Mysql => "mysql://user@host:3306/database",
        };
        let bad = |m: String| ("url", m);
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| bad(format!("is not a URL ({e}); write it as {example:?}")))?;
        if !engine.schemes().contains(&parsed.scheme()) {
            return Err(bad(format!(
                "starts with {:?}, not {}; write it as {example:?}",
                format!("{}://", parsed.scheme()),
                engine
                    .schemes()
                    .iter()
                    .map(|s| format!("\"{s}://\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("holds percent-escapes that are not UTF-8".into()))
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad(format!("names no host; write it as {example:?}")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let user = decode(parsed.username())?;
        if user.is_empty() {
            return Err(bad(format!("names no user; write it as {example:?}")));
        }
        let database = decode(parsed.path().trim_start_matches('/'))?;
        if database.is_empty() || database.contains('/') {
            return Err(bad(format!(
                "names no database (the part after the last /); write it as {example:?}"
            )));
        }
        let in_url = parsed.password().map(decode).transpose()?;
        let password = match (in_url, password.map(str::trim)) {
            (Some(_), Some(_)) => {
                return Err((
                    "password",
                    "the url already holds a password; keep one of them (better: remove it from the url)".into(),
                ))
            }
            // An empty password in the url is no password.
            (Some(p), None) if p.is_empty() => Pw::None,
            (Some(p), None) => Pw::Literal(p),
            (None, None) => Pw::None,
            (None, Some("keyring")) => Pw::Keyring,
            (None, Some(p)) => match p.strip_prefix("env:") {
                Some(name) if !name.trim().is_empty() => Pw::Env(name.trim().to_string()),
                _ => {
                    return Err((
                        "password",
                        "write \"env:NAME\" to read it from the environment variable NAME, or \"keyring\" for the OS credential store; a password is never written into the file".into(),
                    ))
                }
            },
        };
        let mut tls = TlsMode::Prefer;
        let mut ca_file = None;
        for (k, v) in parsed.query_pairs() {
            match &*k {
                "sslmode" | "ssl-mode" => {
                    tls = TlsMode::parse(&v.to_ascii_lowercase()).ok_or_else(|| {
                        bad(format!(
                            "sslmode={v} is not a mode; use disable, prefer, require, verify-ca or verify-full"
                        ))
                    })?
                }
                "sslrootcert" => ca_file = Some(resolve(&v)),
                other => {
                    return Err(bad(format!(
                        "parameter {other:?} is not supported; the url takes sslmode and sslrootcert, and [source] connect_timeout, statement_timeout and read_timeout are keys of their own"
                    )))
                }
            }
        }
        // As libpq: a CA file given with `require` means the chain is checked.
        if tls == TlsMode::Require && ca_file.is_some() {
            tls = TlsMode::VerifyCa;
        }
        if matches!(tls, TlsMode::Disable) && ca_file.is_some() {
            return Err(bad(
                "sslrootcert is set but sslmode=disable turns TLS off; remove one of them".into(),
            ));
        }
        let mut spec = DatabaseSpec {
            engine,
            host,
            port: parsed.port().unwrap_or(engine.default_port()),
            user,
            database,
            password: None,
            tls,
            ca_file,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: None,
            read_timeout: None,
            state_schema: None,
        };
        spec.password = match password {
            Pw::None => None,
            Pw::Literal(p) => Some(SecretRef::literal(p)),
            Pw::Env(name) => Some(SecretRef::env(name)),
            Pw::Keyring => Some(SecretRef::credential_store(
                KEYRING_SERVICE,
                spec.keyring_account(),
            )),
        };
        Ok(spec)
    }

    /// `postgres user@host:5432/db`: for messages and logs (no password).
    pub fn describe(&self) -> String {
        format!(
            "{} {}@{}:{}/{}",
            self.engine.name(),
            self.user,
            self.host,
            self.port,
            self.database
        )
    }

    /// The account under which `password = "keyring"` looks the password up.
    pub fn keyring_account(&self) -> String {
        format!(
            "{}://{}@{}:{}/{}",
            self.engine.name(),
            self.user,
            self.host,
            self.port,
            self.database
        )
    }

    /// The password to send, read now (environment, credential store).
    /// The error is a message for the user naming where it looked.
    pub fn password(&self) -> Result<Option<String>, String> {
        let Some(source) = &self.password else {
            return Ok(None);
        };
        source
            .resolve()
            .map(|s| Some(s.expose().to_string()))
            .map_err(|e| match e {
                SecretError::MissingEnv(name) => format!(
                    "[source] password reads the environment variable {name}, which is not set; set it"
                ),
                SecretError::NotInStore { message, .. } => format!(
                    "[source] password = \"keyring\", but the OS credential store has no password for service {KEYRING_SERVICE:?}, account {:?} ({message}); store it there",
                    self.keyring_account()
                ),
                other => format!("[source] password {other}"),
            })
    }
}

/// How `[source] password` and the url said the password comes from.
enum Pw {
    None,
    Literal(String),
    Env(String),
    Keyring,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str, pw: Option<&str>) -> Result<DatabaseSpec, (&'static str, String)> {
        DatabaseSpec::parse(Engine::Postgres, url, pw, |p: &str| PathBuf::from(p))
    }

    #[test]
    fn reads_the_parts_and_hides_the_password() {
        let s = parse(
            "postgres://ann:s%3Acret@db.example.com/shop?sslmode=require",
            None,
        )
        .unwrap();
        assert_eq!(
            (
                s.host.as_str(),
                s.port,
                s.user.as_str(),
                s.database.as_str()
            ),
            ("db.example.com", 5432, "ann", "shop")
        );
        assert_eq!(s.password, Some(SecretRef::literal("s:cret")));
        assert_eq!(s.tls, TlsMode::Require);
        assert_eq!(s.describe(), "postgres ann@db.example.com:5432/shop");
        assert!(!format!("{s:?}").contains("s:cret"));
    }

    #[test]
    fn password_sources_and_mistakes() {
        let s = parse("postgres://ann@h:6543/d", Some("env:PW")).unwrap();
        assert_eq!((s.port, s.password), (6543, Some(SecretRef::env("PW"))));
        let s = parse("postgres://ann@h/d", Some("keyring")).unwrap();
        assert_eq!(
            s.password,
            Some(SecretRef::credential_store(
                KEYRING_SERVICE,
                "postgres://ann@h:5432/d"
            ))
        );
        assert_eq!(
            parse("postgres://ann@h/d", Some("hunter2")).unwrap_err().0,
            "password"
        );
        assert_eq!(
            parse("postgres://ann:x@h/d", Some("env:PW")).unwrap_err().0,
            "password"
        );
        for bad in [
            "mysql://ann@h/d",
            "postgres://h/d",
            "postgres://ann@h",
            "postgres://ann@h/d?sslmode=maybe",
            "postgres://ann@h/d?timeout=3",
            "not a url",
        ] {
            assert_eq!(parse(bad, None).unwrap_err().0, "url", "{bad}");
        }
        let s = parse(
            "postgres://ann@h/d?sslmode=require&sslrootcert=ca.pem",
            None,
        )
        .unwrap();
        assert_eq!(s.tls, TlsMode::VerifyCa);
        assert_eq!(s.ca_file, Some(PathBuf::from("ca.pem")));
    }
}
