//! `dropbox-emulator --root DIR --port N`: a local Dropbox API v2 for tests.

use clap::Parser;
use dropbox_emulator::{faults::Fault, Config};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "dropbox-emulator",
    about = "A strict local emulator of the Dropbox HTTP API v2, for tests"
)]
struct Args {
    /// Folder holding the emulated Dropbox's files
    #[arg(long)]
    root: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve HTTPS with a self-signed certificate, written as PEM to this file
    #[arg(long)]
    tls_cert_out: Option<PathBuf>,
    /// Largest request body accepted (Dropbox: 150 MiB)
    #[arg(long, default_value_t = 150 * 1024 * 1024)]
    max_request_bytes: u64,
    /// The app key (client id) OAuth accepts
    #[arg(long, default_value = dropbox_emulator::DEFAULT_APP_KEY)]
    app_key: String,
    /// A registered redirect URI (repeat for more; none: any loopback URI)
    #[arg(long)]
    redirect_uri: Vec<String>,
    /// Access-token lifetime in seconds
    #[arg(long, default_value_t = 14400)]
    token_ttl: u64,
    /// Account space in bytes
    #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024 * 1024)]
    space_bytes: u64,
    /// Cap list_folder pages at this many entries
    #[arg(long)]
    list_page_size: Option<usize>,
    /// An access token valid from the start (repeatable)
    #[arg(long)]
    access_token: Vec<String>,
    /// Faults to inject, as a JSON array (see faults.rs); more via POST /__emulator/faults
    #[arg(long)]
    faults: Option<String>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let faults: Vec<Fault> = match &args.faults {
        Some(f) => serde_json::from_str(f)?,
        None => Vec::new(),
    };
    let config = Config {
        root: args.root,
        port: args.port,
        tls_cert_out: args.tls_cert_out,
        max_request_bytes: args.max_request_bytes,
        app_key: args.app_key,
        redirect_uris: args.redirect_uri,
        token_ttl: Duration::from_secs(args.token_ttl),
        space_bytes: args.space_bytes,
        list_page_size: args.list_page_size,
        static_tokens: args.access_token,
        faults,
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let (_, base_url, server) = dropbox_emulator::bind(config).await?;
        println!("dropbox-emulator listening on {base_url}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tokio::select! {
            _ = server => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    })
}
