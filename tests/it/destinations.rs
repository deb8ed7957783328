//! One conformance suite for every destination: the local folder and Dropbox
//! (through the emulator on 127.0.0.1) must behave the same.

use dropbox_emulator::Config;
use dropsync::destination::{Destination, DropboxDestination, FolderDestination, StagedFile};
use dropsync::dropbox::{Client, Credentials, Endpoints, Secret};
use std::path::Path;

/// Reads a delivered file back by its path relative to the destination.
type ReadBack<'a> = dyn Fn(&str) -> Option<Vec<u8>> + 'a;

fn stage(dir: &Path, files: &[(&str, Vec<u8>)]) -> Vec<StagedFile> {
    files
        .iter()
        .enumerate()
        .map(|(i, (relative, data))| {
            let local = dir.join(format!("staged-{i}-{}", fastrand::u64(..)));
            std::fs::write(&local, data).expect("stage");
            StagedFile {
                local,
                relative: relative.to_string(),
                bytes: data.len() as u64,
            }
        })
        .collect()
}

fn conformance(dest: &dyn Destination, read: &ReadBack<'_>) {
    let staging = tempfile::tempdir().expect("staging");
    let deliver = |files: &[(&str, Vec<u8>)]| {
        let staged = stage(staging.path(), files);
        dest.deliver(&staged, &|_, _| {})
    };
    dest.check().expect("the destination is usable");

    // One file, then the same name again: overwritten.
    deliver(&[("one.csv", b"a,b\r\n1,2\r\n".to_vec())]).expect("write");
    assert_eq!(read("one.csv").as_deref(), Some(&b"a,b\r\n1,2\r\n"[..]));
    deliver(&[("one.csv", b"a,b\r\n3,4\r\n".to_vec())]).expect("overwrite");
    assert_eq!(read("one.csv").as_deref(), Some(&b"a,b\r\n3,4\r\n"[..]));

    // Several files of one run, nested folders, non-ASCII names, an empty file,
    // and one large enough to need several requests where that applies.
    let big: Vec<u8> = (0..9_000_000u32).map(|i| (i % 251) as u8).collect();
    deliver(&[
        ("a/b/c/deep.csv", b"x".to_vec()),
        (
            "données 🎉/Ünï file.json",
            "[{\"é\":1}]".as_bytes().to_vec(),
        ),
        ("empty.csv", Vec::new()),
        ("big/big.bin", big.clone()),
    ])
    .expect("write several");
    assert_eq!(read("a/b/c/deep.csv").as_deref(), Some(&b"x"[..]));
    assert_eq!(
        read("données 🎉/Ünï file.json").as_deref(),
        Some("[{\"é\":1}]".as_bytes())
    );
    assert_eq!(read("empty.csv").as_deref(), Some(&b""[..]));
    assert!(read("big/big.bin") == Some(big), "the large file differs");

    // A name that collides with a folder fails, naming the problem.
    let err = deliver(&[("a/b", b"not a folder".to_vec())])
        .expect_err("a file cannot replace a folder")
        .to_string();
    assert!(
        err.contains("folder") || err.contains("conflict"),
        "unclear error: {err}"
    );
    assert!(read("a/b/c/deep.csv").is_some(), "the folder is untouched");
}

#[test]
fn the_folder_destination_conforms() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("out");
    std::fs::create_dir(&root).expect("mkdir");
    let dest = FolderDestination::new(root.clone());
    conformance(&dest, &|rel| std::fs::read(root.join(rel)).ok());
    // No temporary files are left behind.
    let leftovers = walk(&root)
        .into_iter()
        .filter(|p| p.contains(".dropsync-"))
        .count();
    assert_eq!(leftovers, 0);
    assert!(FolderDestination::new(dir.path().join("missing"))
        .check()
        .is_err());
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().to_string_lossy().into_owned());
        }
    }
    out
}

fn dropbox_client(base: &str) -> Client {
    Client::new(
        Endpoints {
            api: base.into(),
            content: base.into(),
            oauth: base.into(),
        },
        Credentials::Access(Secret::new("conformance")),
    )
    .expect("client")
}

#[test]
fn the_dropbox_destination_conforms() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = Config::new(dir.path().join("dropbox"));
    config.static_tokens = vec!["conformance".into()];
    // Small requests: the 9 MB file needs a session of several appends.
    config.max_request_bytes = 5_000_000;
    let emu = dropbox_emulator::start(config).expect("emulator");
    let reader = dropbox_client(&emu.base_url);
    reader.create_folder("/conformance").expect("mkdir");
    let dest = DropboxDestination::with_chunking(
        dropbox_client(&emu.base_url),
        "/conformance",
        1024,
        4 << 20,
    );
    conformance(&dest, &|rel| {
        reader.download(&format!("/conformance/{rel}")).ok()
    });

    // A single small file takes the one-request upload path, same result.
    let single = DropboxDestination::with_chunking(
        dropbox_client(&emu.base_url),
        "/conformance",
        8 << 20,
        4 << 20,
    );
    let staging = tempfile::tempdir().expect("staging");
    single
        .deliver(
            &stage(staging.path(), &[("single.txt", b"hello".to_vec())]),
            &|_, _| {},
        )
        .expect("upload");
    assert_eq!(
        reader
            .download("/conformance/single.txt")
            .expect("download"),
        b"hello"
    );

    let missing = DropboxDestination::new(dropbox_client(&emu.base_url), "/missing");
    let err = missing.check().expect_err("missing folder").to_string();
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn dropbox_over_https_trusts_only_the_given_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("emulator.pem");
    let mut config = Config::new(dir.path().join("dropbox"));
    config.static_tokens = vec!["tls".into()];
    config.tls_cert_out = Some(cert.clone());
    let emu = dropbox_emulator::start(config).expect("emulator");
    assert!(emu.base_url.starts_with("https://"));
    let cli = |with_ca: bool| {
        let mut c = assert_cmd::Command::cargo_bin("dropsync").expect("bin");
        c.arg("--state-dir")
            .arg(dir.path().join("state"))
            .env("DROPSYNC_DROPBOX_API_URL", &emu.base_url)
            .env("DROPSYNC_DROPBOX_CONTENT_URL", &emu.base_url)
            .env("DROPSYNC_DROPBOX_ACCESS_TOKEN", "tls")
            .env("DROPSYNC_DROPBOX_RETRY_BASE_MS", "1")
            .args(["dropbox", "mkdir", "/secure"]);
        if with_ca {
            c.env("DROPSYNC_DROPBOX_CA_CERT", &cert);
        } else {
            c.env_remove("DROPSYNC_DROPBOX_CA_CERT");
        }
        c
    };
    let out = cli(false).output().expect("run");
    assert!(
        !out.status.success(),
        "an unknown certificate must be refused"
    );
    cli(true).assert().success();
    assert!(dir.path().join("dropbox/secure").is_dir());
}
