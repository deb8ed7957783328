//! Concurrent upload sessions over plain HTTP, the way a client talks to
//! Dropbox: parts that arrive in any order (or at once) assemble into the
//! right file with the right content hash, and every rule Dropbox enforces on
//! concurrent sessions is answered with the error the API spec gives it
//! (`files.stone`: UploadSessionStartError, UploadSessionLookupError,
//! UploadSessionFinishError).

use dropbox_emulator::{Config, Running};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const TOKEN: &str = "concurrent-sessions-token";
const MIB: usize = 1024 * 1024;
/// Dropbox's content-hash block, and the unit of concurrent appends.
const BLOCK: usize = 4 * MIB;

struct Emu {
    _dir: tempfile::TempDir,
    emu: Running,
    root: PathBuf,
    http: reqwest::blocking::Client,
}

/// One HTTP answer, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    api_result: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {}", self.describe()))
    }

    fn describe(&self) -> String {
        let mut text = self.text();
        text.truncate(500);
        format!("HTTP {} ({}) {text}", self.status, self.content_type)
    }

    /// A 200 answer (its JSON body).
    fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "expected success: {}", self.describe());
        assert_eq!(self.content_type, "application/json", "{}", self.describe());
        self.json()
    }

    /// The `error` of a 409 route error, checked for Dropbox's exact shape.
    fn route_error(&self) -> Value {
        assert_eq!(
            self.status,
            409,
            "expected a 409 route error: {}",
            self.describe()
        );
        assert_eq!(self.content_type, "application/json", "{}", self.describe());
        let v = self.json();
        let summary = v["error_summary"].as_str().unwrap_or_default();
        let first = tag(&v["error"]);
        assert!(
            summary.starts_with(&format!("{first}/")),
            "error_summary {summary:?} does not start with the error's tag {first:?}: {v}"
        );
        v["error"].clone()
    }
}

/// A union value's `.tag`.
fn tag(v: &Value) -> &str {
    v[".tag"].as_str().unwrap_or_default()
}

/// Deterministic bytes that differ block to block (xorshift64*).
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Dropbox's content hash, computed here independently of the emulator
/// (dropbox-api.md B5): SHA-256 of the concatenated raw SHA-256 digests of
/// each 4,194,304-byte block, as lowercase hex.
fn content_hash(data: &[u8]) -> String {
    let mut overall = Sha256::new();
    for block in data.chunks(BLOCK) {
        overall.update(Sha256::digest(block));
    }
    overall
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn start(tweak: impl FnOnce(&mut Config)) -> Emu {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("dropbox");
    let mut config = Config::new(&root);
    config.static_tokens = vec![TOKEN.into()];
    tweak(&mut config);
    let emu = dropbox_emulator::start(config).expect("start the emulator");
    Emu {
        _dir: dir,
        emu,
        root,
        http: reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .expect("http client"),
    }
}

impl Emu {
    fn url(&self, route: &str) -> String {
        format!("{}/2/{route}", self.emu.base_url)
    }

    fn answer(resp: reqwest::blocking::Response) -> Answer {
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = resp.status().as_u16();
        let content_type = header("content-type").unwrap_or_default();
        let api_result = header("dropbox-api-result");
        let body = resp.bytes().expect("read the answer").to_vec();
        Answer {
            status,
            content_type,
            api_result,
            body,
        }
    }

    /// A content-host call: args in `Dropbox-API-Arg`, raw bytes as the body.
    fn content(&self, route: &str, arg: &Value, body: Vec<u8>) -> Answer {
        let resp = self
            .http
            .post(self.url(route))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/octet-stream")
            .header("Dropbox-API-Arg", arg.to_string())
            .body(body)
            .send()
            .unwrap_or_else(|e| panic!("{route}: {e}"));
        Self::answer(resp)
    }

    /// An RPC call: a JSON body.
    fn rpc(&self, route: &str, arg: &Value) -> Answer {
        let resp = self
            .http
            .post(self.url(route))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/json")
            .body(arg.to_string())
            .send()
            .unwrap_or_else(|e| panic!("{route}: {e}"));
        Self::answer(resp)
    }

    fn start_concurrent(&self) -> String {
        let v = self
            .content(
                "files/upload_session/start",
                &json!({ "session_type": { ".tag": "concurrent" } }),
                Vec::new(),
            )
            .ok();
        v["session_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no session_id in {v}"))
            .to_string()
    }

    fn append(&self, id: &str, offset: usize, part: &[u8], close: bool) -> Answer {
        self.content(
            "files/upload_session/append_v2",
            &json!({ "cursor": { "session_id": id, "offset": offset }, "close": close }),
            part.to_vec(),
        )
    }

    fn append_ok(&self, id: &str, offset: usize, part: &[u8], close: bool) {
        let a = self.append(id, offset, part, close);
        assert_eq!(
            a.status,
            200,
            "append of {} bytes at {offset} (close {close}) failed: {}",
            part.len(),
            a.describe()
        );
        assert_eq!(a.json(), Value::Null, "append_v2 returns null");
    }

    /// `finish_batch_v2` with one entry per (session, offset, path); the
    /// per-entry results.
    fn finish_batch(&self, entries: &[(&str, usize, &str)]) -> Vec<Value> {
        let entries: Vec<Value> = entries
            .iter()
            .map(|(id, offset, path)| {
                json!({
                    "cursor": { "session_id": id, "offset": offset },
                    "commit": { "path": path, "mode": "overwrite" },
                })
            })
            .collect();
        let v = self
            .rpc(
                "files/upload_session/finish_batch_v2",
                &json!({ "entries": entries }),
            )
            .ok();
        let results = v["entries"]
            .as_array()
            .unwrap_or_else(|| panic!("no entries in {v}"))
            .clone();
        assert_eq!(results.len(), entries.len(), "one result per entry: {v}");
        results
    }

    /// Downloads a file: its metadata (`Dropbox-API-Result`) and bytes.
    fn download(&self, path: &str) -> (Value, Vec<u8>) {
        let a = self.content("files/download", &json!({ "path": path }), Vec::new());
        assert_eq!(a.status, 200, "download {path}: {}", a.describe());
        let meta = a
            .api_result
            .as_deref()
            .map(|r| serde_json::from_str(r).expect("Dropbox-API-Result is JSON"))
            .unwrap_or_else(|| panic!("no Dropbox-API-Result for {path}"));
        (meta, a.body)
    }

    /// Whether `path` exists (get_metadata).
    fn exists(&self, path: &str) -> bool {
        let a = self.rpc("files/get_metadata", &json!({ "path": path }));
        match a.status {
            200 => true,
            _ => {
                let e = a.route_error();
                assert_eq!(tag(&e["path"]), "not_found", "{}", a.describe());
                false
            }
        }
    }

    fn add_fault(&self, fault: Value) {
        let resp = self
            .http
            .post(format!("{}/__emulator/faults", self.emu.base_url))
            .body(fault.to_string())
            .send()
            .expect("add a fault");
        assert!(resp.status().is_success(), "the fault was refused");
    }
}

/// The whole file, its size and content hash as Dropbox reports and serves it.
fn assert_delivered(emu: &Emu, path: &str, meta: &Value, file: &[u8]) {
    let expected = content_hash(file);
    assert_eq!(meta["size"].as_u64(), Some(file.len() as u64), "{meta}");
    assert_eq!(meta["content_hash"], expected, "{meta}");
    let (downloaded_meta, bytes) = emu.download(path);
    assert_eq!(downloaded_meta["content_hash"], expected);
    assert_eq!(
        downloaded_meta["size"].as_u64(),
        Some(file.len() as u64),
        "{downloaded_meta}"
    );
    assert!(
        bytes == file,
        "{path}: the downloaded bytes differ from the uploaded ones ({} bytes, expected {}; first difference at {:?})",
        bytes.len(),
        file.len(),
        bytes.iter().zip(file).position(|(a, b)| a != b)
    );
    // And on disk under --root, as the emulator keeps it.
    let disk = std::fs::read(emu.root.join(path.trim_start_matches('/'))).expect("on disk");
    assert!(disk == file, "{path}: the file on disk differs");
}

#[test]
fn the_test_content_hash_matches_the_documented_vectors() {
    // The empty file hashes to SHA-256 of nothing.
    assert_eq!(
        content_hash(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // A file of several blocks is not the plain SHA-256 of its bytes, and the
    // emulator's simple upload agrees with the test's hash.
    let file = data(2 * BLOCK + 17, 9);
    let plain: String = Sha256::digest(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_ne!(content_hash(&file), plain);
    let emu = start(|_| {});
    let meta = emu
        .content(
            "files/upload",
            &json!({ "path": "/plain.bin", "mode": "add" }),
            file.clone(),
        )
        .ok();
    assert_delivered(&emu, "/plain.bin", &meta, &file);
}

#[test]
fn parts_arriving_out_of_order_assemble_the_file_and_its_content_hash() {
    let emu = start(|_| {});
    // Parts of 8 MiB and 4 MiB (multiples of 4 MiB) and a short closing part.
    let file = data(2 * BLOCK + BLOCK + 1_234_567, 1);
    let (a, b) = (2 * BLOCK, 3 * BLOCK);
    let id = emu.start_concurrent();
    // The middle part first, then the first; the closing part comes last
    // (after a close no append is taken, see an_append_after_close_gets_closed).
    emu.append_ok(&id, a, &file[a..b], false);
    emu.append_ok(&id, 0, &file[..a], false);
    emu.append_ok(&id, b, &file[b..], true);

    let path = "/Concurrent/out of order.bin";
    let results = emu.finish_batch(&[(&id, file.len(), path)]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_eq!(results[0]["path_display"], path);
    assert_delivered(&emu, path, &results[0], &file);

    // The session is used up: committing it again finds nothing.
    let again = emu.finish_batch(&[(&id, file.len(), "/Concurrent/again.bin")]);
    assert_eq!(tag(&again[0]), "failure", "{}", again[0]);
    assert_eq!(tag(&again[0]["failure"]), "lookup_failed", "{}", again[0]);
    assert_eq!(
        tag(&again[0]["failure"]["lookup_failed"]),
        "not_found",
        "{}",
        again[0]
    );
    assert!(!emu.exists("/Concurrent/again.bin"));
}

#[test]
fn parts_sent_at_once_from_several_threads_assemble_and_finish_commits_them() {
    let emu = start(|_| {});
    let parts = 6;
    let file = data(parts * BLOCK + 100, 2);
    let expected = content_hash(&file);
    let id = emu.start_concurrent();
    std::thread::scope(|s| {
        for i in (0..parts).rev() {
            let (emu, id, file) = (&emu, &id, &file);
            s.spawn(move || emu.append_ok(id, i * BLOCK, &file[i * BLOCK..(i + 1) * BLOCK], false));
        }
    });
    emu.append_ok(&id, parts * BLOCK, &file[parts * BLOCK..], true);

    // The single-file finish, with no data. Its content_hash covers the data
    // of this call (files.stone: "the file content uploaded in this call"),
    // so the whole file's hash is refused and the hash of nothing accepted.
    let wrong = emu
        .content(
            "files/upload_session/finish",
            &json!({
                "cursor": { "session_id": id, "offset": file.len() },
                "commit": { "path": "/parallel.bin" },
                "content_hash": expected,
            }),
            Vec::new(),
        )
        .route_error();
    assert_eq!(tag(&wrong), "content_hash_mismatch", "{wrong}");
    assert!(!emu.exists("/parallel.bin"));

    let meta = emu
        .content(
            "files/upload_session/finish",
            &json!({
                "cursor": { "session_id": id, "offset": file.len() },
                "commit": { "path": "/parallel.bin" },
                "content_hash": content_hash(b""),
            }),
            Vec::new(),
        )
        .ok();
    assert_delivered(&emu, "/parallel.bin", &meta, &file);
}

#[test]
fn an_append_that_is_not_a_multiple_of_4_mib_must_close_the_session() {
    let emu = start(|_| {});
    let id = emu.start_concurrent();
    for len in [BLOCK + 1, BLOCK - 1, 100] {
        let e = emu.append(&id, 0, &data(len, 3), false).route_error();
        // files.stone, UploadSessionLookupError: "For concurrent upload
        // sessions, only chunks with size multiple of 4194304 bytes can be
        // uploaded." (concurrent_session_data_not_allowed is a start/finish
        // error: data where none may be sent).
        assert_eq!(
            tag(&e),
            "concurrent_session_invalid_data_size",
            "a {len}-byte part without close: {e}"
        );
    }
    // Only the closing part may be short.
    let file = data(BLOCK + 100, 4);
    emu.append_ok(&id, 0, &file[..BLOCK], false);
    emu.append_ok(&id, BLOCK, &file[BLOCK..], true);
    let results = emu.finish_batch(&[(&id, file.len(), "/short-last.bin")]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/short-last.bin", &results[0], &file);
}

#[test]
fn a_refused_part_leaves_no_bytes_in_the_committed_file() {
    let emu = start(|_| {});
    let id = emu.start_concurrent();
    // Refused (not a multiple of 4 MiB, not closing): nothing of it may stay.
    let refused = emu.append(&id, BLOCK, &data(BLOCK + 1, 5), false);
    assert_eq!(refused.status, 409, "{}", refused.describe());
    let file = data(100, 6);
    emu.append_ok(&id, 0, &file, true);
    let results = emu.finish_batch(&[(&id, file.len(), "/small.bin")]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/small.bin", &results[0], &file);
}

#[test]
fn an_offset_that_is_not_a_multiple_of_4_mib_is_refused() {
    let emu = start(|_| {});
    let id = emu.start_concurrent();
    for (offset, len, close) in [
        (1_000, BLOCK, false),
        (BLOCK / 2, BLOCK, false),
        (BLOCK + 7, 3, true),
    ] {
        let e = emu.append(&id, offset, &data(len, 7), close).route_error();
        assert_eq!(
            tag(&e),
            "concurrent_session_invalid_offset",
            "{len} bytes at {offset} (close {close}): {e}"
        );
    }
    // The session is unharmed: aligned parts still make the file.
    let file = data(BLOCK + 10, 8);
    emu.append_ok(&id, 0, &file[..BLOCK], false);
    emu.append_ok(&id, BLOCK, &file[BLOCK..], true);
    let results = emu.finish_batch(&[(&id, file.len(), "/aligned.bin")]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/aligned.bin", &results[0], &file);
}

#[test]
fn finish_batch_with_a_gap_reports_missing_data_and_commits_nothing() {
    let emu = start(|_| {});
    let file = data(3 * BLOCK + 5, 10);
    // A complete session and one whose middle part never arrived.
    let whole = emu.start_concurrent();
    emu.append_ok(&whole, 0, &file[..3 * BLOCK], false);
    emu.append_ok(&whole, 3 * BLOCK, &file[3 * BLOCK..], true);
    let gap = emu.start_concurrent();
    emu.append_ok(&gap, 0, &file[..BLOCK], false);
    emu.append_ok(&gap, 2 * BLOCK, &file[2 * BLOCK..3 * BLOCK], false);
    emu.append_ok(&gap, 3 * BLOCK, &file[3 * BLOCK..], true);

    let results = emu.finish_batch(&[
        (&whole, file.len(), "/batch/whole.bin"),
        (&gap, file.len(), "/batch/gap.bin"),
    ]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/batch/whole.bin", &results[0], &file);
    assert_eq!(tag(&results[1]), "failure", "{}", results[1]);
    assert_eq!(
        tag(&results[1]["failure"]),
        "concurrent_session_missing_data",
        "{}",
        results[1]
    );
    assert!(!emu.exists("/batch/gap.bin"));
}

#[test]
fn finishing_before_the_session_is_closed_reports_not_closed() {
    let emu = start(|_| {});
    let file = data(2 * BLOCK, 11);
    let id = emu.start_concurrent();
    emu.append_ok(&id, 0, &file[..BLOCK], false);
    emu.append_ok(&id, BLOCK, &file[BLOCK..], false);

    // files.stone: concurrent_session_not_closed is a member of
    // UploadSessionFinishError itself, not of the lookup_failed lookup error.
    let results = emu.finish_batch(&[(&id, file.len(), "/open.bin")]);
    assert_eq!(tag(&results[0]), "failure", "{}", results[0]);
    assert_eq!(
        tag(&results[0]["failure"]),
        "concurrent_session_not_closed",
        "{}",
        results[0]
    );
    // The single finish too: it does not close the session itself.
    let e = emu
        .content(
            "files/upload_session/finish",
            &json!({
                "cursor": { "session_id": id, "offset": file.len() },
                "commit": { "path": "/open.bin" },
            }),
            Vec::new(),
        )
        .route_error();
    assert_eq!(tag(&e), "concurrent_session_not_closed", "{e}");
    assert!(!emu.exists("/open.bin"));
}

#[test]
fn data_in_the_start_of_a_concurrent_session_is_refused() {
    let emu = start(|_| {});
    let a = emu.content(
        "files/upload_session/start",
        &json!({ "session_type": "concurrent" }),
        data(BLOCK, 12),
    );
    // UploadSessionStartError: a 409 route error, like every other route error.
    let e = a.route_error();
    assert_eq!(tag(&e), "concurrent_session_data_not_allowed", "{e}");
    // A sequential session takes data in start as usual.
    let v = emu
        .content(
            "files/upload_session/start",
            &json!({ "session_type": "sequential" }),
            data(10, 12),
        )
        .ok();
    assert!(v["session_id"].is_string(), "{v}");
}

#[test]
fn a_concurrent_session_cannot_start_closed() {
    let emu = start(|_| {});
    let e = emu
        .content(
            "files/upload_session/start",
            &json!({ "session_type": "concurrent", "close": true }),
            Vec::new(),
        )
        .route_error();
    assert_eq!(tag(&e), "concurrent_session_close_not_allowed", "{e}");
}

#[test]
fn data_in_the_finish_of_a_concurrent_session_is_refused() {
    let emu = start(|_| {});
    let file = data(BLOCK, 13);
    let id = emu.start_concurrent();
    emu.append_ok(&id, 0, &file, true);
    let e = emu
        .content(
            "files/upload_session/finish",
            &json!({
                "cursor": { "session_id": id, "offset": file.len() },
                "commit": { "path": "/finish-data.bin" },
            }),
            data(10, 14),
        )
        .route_error();
    // A member of UploadSessionFinishError itself.
    assert_eq!(tag(&e), "concurrent_session_data_not_allowed", "{e}");
    assert!(!emu.exists("/finish-data.bin"));
}

#[test]
fn an_append_after_close_gets_closed() {
    let emu = start(|_| {});
    let file = data(BLOCK + 10, 15);
    let id = emu.start_concurrent();
    emu.append_ok(&id, 0, &file[..BLOCK], false);
    emu.append_ok(&id, BLOCK, &file[BLOCK..], true);
    for (offset, len, close) in [(2 * BLOCK, BLOCK, false), (0, BLOCK, false), (0, 0, true)] {
        let a = emu.append(&id, offset, &data(len, 16), close);
        let e = a.route_error();
        assert_eq!(tag(&e), "closed", "{len} bytes at {offset}: {e}");
        assert!(
            a.json()["error_summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("closed/")),
            "{}",
            a.describe()
        );
    }
    // What was sent before the close is intact.
    let results = emu.finish_batch(&[(&id, file.len(), "/closed.bin")]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/closed.bin", &results[0], &file);
}

#[test]
fn the_session_lost_fault_makes_the_next_append_not_found() {
    let emu = start(|_| {});
    let file = data(2 * BLOCK + 1, 17);
    let id = emu.start_concurrent();
    emu.append_ok(&id, 0, &file[..BLOCK], false);
    emu.add_fault(json!({ "route": "files/upload_session/append_v2", "kind": "session_lost" }));

    let a = emu.append(&id, BLOCK, &file[BLOCK..2 * BLOCK], false);
    assert_eq!(tag(&a.route_error()), "not_found", "{}", a.describe());
    // The session is gone for good, not just for that one answer.
    let a = emu.append(&id, 2 * BLOCK, &file[2 * BLOCK..], true);
    assert_eq!(tag(&a.route_error()), "not_found", "{}", a.describe());
    let results = emu.finish_batch(&[(&id, file.len(), "/lost.bin")]);
    assert_eq!(tag(&results[0]), "failure", "{}", results[0]);
    assert_eq!(tag(&results[0]["failure"]), "lookup_failed");
    assert_eq!(tag(&results[0]["failure"]["lookup_failed"]), "not_found");
    assert!(!emu.exists("/lost.bin"));

    // The fault hit once: sending the file again in a new session works.
    let id = emu.start_concurrent();
    emu.append_ok(&id, BLOCK, &file[BLOCK..2 * BLOCK], false);
    emu.append_ok(&id, 0, &file[..BLOCK], false);
    emu.append_ok(&id, 2 * BLOCK, &file[2 * BLOCK..], true);
    let results = emu.finish_batch(&[(&id, file.len(), "/lost.bin")]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/lost.bin", &results[0], &file);
}

#[test]
fn a_part_over_the_request_limit_is_refused_and_not_recorded() {
    let emu = start(|c| c.max_request_bytes = (6 * MIB) as u64);
    let file = data(3 * BLOCK + 3, 18);
    let id = emu.start_concurrent();
    let a = emu.append(&id, 0, &file[..2 * BLOCK], false);
    assert_eq!(
        tag(&a.route_error()),
        "payload_too_large",
        "{}",
        a.describe()
    );
    // Without that part the session has a gap, so nothing is committed.
    emu.append_ok(&id, 2 * BLOCK, &file[2 * BLOCK..3 * BLOCK], false);
    emu.append_ok(&id, 3 * BLOCK, &file[3 * BLOCK..], true);
    let results = emu.finish_batch(&[(&id, file.len(), "/limit.bin")]);
    assert_eq!(tag(&results[0]), "failure", "{}", results[0]);
    assert_eq!(
        tag(&results[0]["failure"]),
        "concurrent_session_missing_data",
        "{}",
        results[0]
    );
    assert!(!emu.exists("/limit.bin"));
    // Parts within the limit make the file.
    let id = emu.start_concurrent();
    for i in [1, 0, 2] {
        emu.append_ok(&id, i * BLOCK, &file[i * BLOCK..(i + 1) * BLOCK], false);
    }
    emu.append_ok(&id, 3 * BLOCK, &file[3 * BLOCK..], true);
    let results = emu.finish_batch(&[(&id, file.len(), "/limit.bin")]);
    assert_eq!(tag(&results[0]), "success", "{}", results[0]);
    assert_delivered(&emu, "/limit.bin", &results[0], &file);
}
