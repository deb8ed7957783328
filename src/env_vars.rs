//! Every `DROPSYNC_*` environment variable Dropsync reads, declared once
//! (as uv's `EnvVars`): the code reads them by these names, and
//! `docs/environment.md` is generated from [`ALL`] (a test fails when it is
//! stale; `DROPSYNC_UPDATE_DOCS=1 cargo test --lib env_vars` rewrites it).

/// One variable: its name, what it does, and who it is for.
pub struct EnvVar {
    pub name: &'static str,
    pub doc: &'static str,
    pub audience: Audience,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone running Dropsync.
    Users,
    /// Tests and local emulators: where hosts are, how long to wait.
    Testing,
    /// Debug builds only: fault injection for the fault tests.
    DebugBuilds,
}

macro_rules! vars {
    ($($(#[doc = $doc:literal])+ $audience:ident $konst:ident = $name:literal;)+) => {
        $(
            $(#[doc = $doc])+
            pub const $konst: &str = $name;
        )+
        /// Every variable, in the order of the docs.
        pub const ALL: &[EnvVar] = &[$(EnvVar {
            name: $name,
            doc: concat!($($doc, "\n"),+),
            audience: Audience::$audience,
        }),+];
    };
}

vars! {
    /// The state folder (snapshots, run history, locks, connected accounts);
    /// the same as `--state-dir`. Default: the OS data folder + `dropsync`.
    Users STATE_DIR = "DROPSYNC_STATE_DIR";
    /// The desktop app's workspace folder (its sync files), over the one
    /// chosen in the app.
    Users WORKSPACE = "DROPSYNC_WORKSPACE";
    /// Log filter (`error`, `info`, `debug`, or tracing directives such as
    /// `dropsync=debug`). Default: `error` for commands, `info` for the
    /// daemon and the app.
    Users LOG = "DROPSYNC_LOG";
    /// `file` keeps Dropsync's own secrets (Dropbox refresh tokens) in
    /// private files under the state folder instead of the OS credential
    /// store (servers without one).
    Users CREDENTIAL_STORE = "DROPSYNC_CREDENTIAL_STORE";
    /// The App key of your Dropbox app, over the one remembered with
    /// `dropsync auth dropbox --app-key` and the one built in.
    Users DROPBOX_APP_KEY = "DROPSYNC_DROPBOX_APP_KEY";
    /// A Dropbox access token to use instead of a connected account
    /// (short-lived; for CI and one-off runs).
    Users DROPBOX_ACCESS_TOKEN = "DROPSYNC_DROPBOX_ACCESS_TOKEN";
    /// A Dropbox refresh token to use instead of a connected account (with
    /// `DROPSYNC_DROPBOX_APP_KEY`), for headless machines.
    Users DROPBOX_REFRESH_TOKEN = "DROPSYNC_DROPBOX_REFRESH_TOKEN";
    /// The port of the OAuth redirect listener on 127.0.0.1 (default 53682;
    /// it must match the redirect URI registered for your Dropbox app).
    Users OAUTH_PORT = "DROPSYNC_OAUTH_PORT";
    /// How long a Dropbox call may wait for the whole answer, in seconds
    /// (default 30); a call that sends data gets that much plus the time to
    /// send it at `DROPSYNC_DROPBOX_MIN_BYTES_PER_SEC`.
    Users DROPBOX_TIMEOUT_SECS = "DROPSYNC_DROPBOX_TIMEOUT_SECS";
    /// The slowest upload tolerated, in bytes per second (default 1048576),
    /// which scales the timeout to the chunk size.
    Users DROPBOX_MIN_BYTES_PER_SEC = "DROPSYNC_DROPBOX_MIN_BYTES_PER_SEC";
    /// How long opening a connection to Dropbox (TCP and TLS) may take, in
    /// seconds (default 10).
    Users DROPBOX_CONNECT_TIMEOUT_SECS = "DROPSYNC_DROPBOX_CONNECT_TIMEOUT_SECS";
    /// Upload session chunk size in bytes (rounded to 4 MiB, at most
    /// 148 MiB; default 8 MiB).
    Users DROPBOX_CHUNK_BYTES = "DROPSYNC_DROPBOX_CHUNK_BYTES";
    /// Files above this many bytes go through upload sessions (default
    /// 8 MiB).
    Users DROPBOX_CHUNK_THRESHOLD = "DROPSYNC_DROPBOX_CHUNK_THRESHOLD";
    /// Chunks of one file in flight at once (default 3; `1` uses a
    /// sequential session).
    Users DROPBOX_UPLOAD_STREAMS = "DROPSYNC_DROPBOX_UPLOAD_STREAMS";
    /// The Dropbox API host (default `https://api.dropboxapi.com`).
    Testing DROPBOX_API_URL = "DROPSYNC_DROPBOX_API_URL";
    /// The Dropbox content host (default `https://content.dropboxapi.com`).
    Testing DROPBOX_CONTENT_URL = "DROPSYNC_DROPBOX_CONTENT_URL";
    /// The Dropbox OAuth host (default `https://www.dropbox.com`).
    Testing DROPBOX_OAUTH_URL = "DROPSYNC_DROPBOX_OAUTH_URL";
    /// An extra trusted certificate (PEM) for Dropbox, e.g. the emulator's
    /// self-signed one.
    Testing DROPBOX_CA_CERT = "DROPSYNC_DROPBOX_CA_CERT";
    /// The first backoff delay of Dropbox retries, in milliseconds (default
    /// 500).
    Testing DROPBOX_RETRY_BASE_MS = "DROPSYNC_DROPBOX_RETRY_BASE_MS";
    /// An extra trusted certificate (PEM) for alert receivers (webhooks,
    /// SMTP), e.g. a local test server's.
    Testing ALERT_CA_CERT = "DROPSYNC_ALERT_CA_CERT";
    /// The first backoff delay of alert retries, in milliseconds (default
    /// 500).
    Testing ALERT_RETRY_BASE_MS = "DROPSYNC_ALERT_RETRY_BASE_MS";
    /// Debug builds: fail putting this relative path in place in a folder
    /// destination.
    DebugBuilds TEST_FAIL_PLACING = "DROPSYNC_TEST_FAIL_PLACING";
    /// Debug builds: the run SIGKILLs itself at this point (`intent`,
    /// `delivered`).
    DebugBuilds TEST_KILL_AT = "DROPSYNC_TEST_KILL_AT";
    /// Debug builds: cancel the run at its first progress report of this
    /// stage (`reading`, `comparing`, `writing`, `delivering`, `uploading`,
    /// `committing`).
    DebugBuilds TEST_CANCEL_AT = "DROPSYNC_TEST_CANCEL_AT";
    /// Debug builds: the commit after delivery fails.
    DebugBuilds TEST_FAIL_COMMIT = "DROPSYNC_TEST_FAIL_COMMIT";
    /// Debug builds: the in-database diff hashes with md5 of canonical
    /// text, as on servers other than PostgreSQL 14+, to test that SQL on
    /// the suite's PostgreSQL.
    DebugBuilds TEST_PORTABLE_SQL = "DROPSYNC_TEST_PORTABLE_SQL";
}

/// A variable's value, `None` when unset or empty.
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `docs/environment.md`, from [`ALL`].
pub fn markdown() -> String {
    let mut out = String::from(
        "# Environment variables\n\n\
         Every variable Dropsync reads. Generated from `src/env_vars.rs` (a test fails when this file is stale;\n\
         `DROPSYNC_UPDATE_DOCS=1 cargo test --lib env_vars` rewrites it).\n",
    );
    for (audience, title) in [
        (Audience::Users, "For everyone"),
        (Audience::Testing, "For tests and local emulators"),
        (Audience::DebugBuilds, "Fault injection (debug builds only)"),
    ] {
        out.push_str(&format!(
            "\n## {title}\n\n| variable | meaning |\n| --- | --- |\n"
        ));
        for v in ALL.iter().filter(|v| v.audience == audience) {
            let doc = v.doc.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&format!("| `{}` | {doc} |\n", v.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_list_every_variable() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/environment.md");
        let want = markdown();
        if std::env::var_os("DROPSYNC_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/environment.md is stale: run DROPSYNC_UPDATE_DOCS=1 cargo test --lib env_vars"
        );
    }

    #[test]
    fn names_are_unique_and_prefixed() {
        let mut names: Vec<&str> = ALL.iter().map(|v| v.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(names.iter().all(|n| n.starts_with("DROPSYNC_")));
    }

    /// Every `"DROPSYNC_…"` string in the code's own sources is declared
    /// here: a variable read somewhere else would be undocumented.
    #[test]
    fn the_code_reads_no_undeclared_variable() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut undeclared = Vec::new();
        for dir in ["src", "src-tauri/src"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                        continue;
                    }
                    if p.extension().is_none_or(|x| x != "rs") || p.ends_with("env_vars.rs") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&p).unwrap();
                    for (i, _) in text.match_indices("\"DROPSYNC_") {
                        let name: String = text[i + 1..]
                            .chars()
                            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                            .collect();
                        let test_only = name.starts_with("DROPSYNC_TEST_SECRET")
                            || name == "DROPSYNC_"
                            || name == "DROPSYNC_UPDATE_DOCS";
                        if !test_only && !ALL.iter().any(|v| v.name == name) {
                            undeclared.push(format!("{}: {name}", p.display()));
                        }
                    }
                }
            }
        }
        assert!(undeclared.is_empty(), "{undeclared:#?}");
    }
}
