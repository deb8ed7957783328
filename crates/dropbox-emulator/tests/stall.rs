//! The `stall` fault: the request is accepted and never answered, so only a
//! client's own timeout ends it; later requests are answered as usual.

use dropbox_emulator::Config;
use std::time::{Duration, Instant};

#[test]
fn a_stalled_route_never_answers_and_the_next_request_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(dir.path().join("root"));
    config.static_tokens = vec!["t".into()];
    let emu = dropbox_emulator::start(config).expect("start");
    let http = reqwest::blocking::Client::new();
    let fault = r#"{"route":"users/get_current_account","kind":"stall"}"#;
    let added = http
        .post(format!("{}/__emulator/faults", emu.base_url))
        .body(fault)
        .send()
        .expect("add fault");
    assert!(added.status().is_success());
    let call = || {
        http.post(format!("{}/2/users/get_current_account", emu.base_url))
            .bearer_auth("t")
            .header("Content-Type", "application/json")
            .body("null")
            .timeout(Duration::from_millis(800))
            .send()
    };
    let started = Instant::now();
    let stalled = call().expect_err("a stalled request must not be answered");
    assert!(stalled.is_timeout(), "{stalled:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let next = call().expect("the fault hit once");
    assert_eq!(next.status(), 200);
    let log = http
        .get(format!("{}/__emulator/log", emu.base_url))
        .send()
        .expect("log")
        .text()
        .expect("text");
    assert!(log.contains("users/get_current_account#stall"), "{log}");
}
