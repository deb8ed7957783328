//! Starting and stopping the emulator: the router of every route, plain or
//! TLS listening, and [`Running`], which stops the server when dropped so a
//! failing test cannot leave it behind.

use crate::api::api;
use crate::control::{add_faults, clear_faults, clear_log, read_log};
use crate::oauth::{authorize, token, Token};
use crate::state::{Inner, Shared};
use crate::store::Store;
use crate::Config;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Running {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (or https).
    pub base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// Starts the emulator on a thread of its own; returns once it listens.
pub fn start(config: Config) -> anyhow::Result<Running> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(anyhow::anyhow!(e)));
                return;
            }
        };
        rt.block_on(async move {
            match bind(config).await {
                Ok((addr, base_url, server)) => {
                    let _ = ready_tx.send(Ok((addr, base_url)));
                    tokio::select! {
                        _ = server => {}
                        _ = shutdown_rx => {}
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
    });
    let (addr, base_url) = ready_rx.recv()??;
    Ok(Running {
        addr,
        base_url,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

type ServerFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Binds 127.0.0.1:port and returns the address, base URL and the server future.
pub async fn bind(config: Config) -> anyhow::Result<(SocketAddr, String, ServerFuture)> {
    let mut store = Store::open(&config.root, config.space_bytes)?;
    store.space_bytes = config.space_bytes;
    std::fs::create_dir_all(store.temp_dir())?;
    let mut tokens = HashMap::new();
    for t in &config.static_tokens {
        tokens.insert(
            t.clone(),
            Token {
                expires: Instant::now() + Duration::from_secs(10 * 365 * 86400),
                refresh: None,
                revoked: false,
            },
        );
    }
    let tls = config.tls_cert_out.clone();
    let inner = Inner {
        store,
        tokens,
        refresh_tokens: HashMap::new(),
        codes: HashMap::new(),
        sessions: HashMap::new(),
        delete_jobs: HashMap::new(),
        faults: config.faults.clone(),
        log: Vec::new(),
        config: config.clone(),
    };
    let state: Shared = Arc::new(Mutex::new(inner));
    let app = Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route("/oauth2/token", post(token))
        .route("/__emulator/faults", post(add_faults).delete(clear_faults))
        .route("/__emulator/log", get(read_log).delete(clear_log))
        .route("/2/{*route}", any(api))
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let server: ServerFuture = match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            Box::pin(async move {
                let _ = axum::serve(listener, app).await;
            })
        }
        Some(cert_out) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let cert =
                rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
            let cert_pem = cert.cert.pem();
            let key_pem = cert.signing_key.serialize_pem();
            std::fs::write(&cert_out, &cert_pem)?;
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
                cert_pem.into_bytes(),
                key_pem.into_bytes(),
            )
            .await?;
            let server = axum_server::from_tcp_rustls(listener, tls)?;
            Box::pin(async move {
                let _ = server.serve(app.into_make_service()).await;
            })
        }
    };
    let scheme = if config.tls_cert_out.is_some() {
        "https"
    } else {
        "http"
    };
    Ok((
        addr,
        format!("{scheme}://127.0.0.1:{}", addr.port()),
        server,
    ))
}
