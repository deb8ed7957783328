//! A TCP forwarder from 127.0.0.2 to a server on 127.0.0.1: the same
//! server under an address its test certificate does not name (it names
//! localhost and 127.0.0.1), to tell verify-ca from verify-full.

use std::io::copy;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

/// Listens on 127.0.0.2 (any free port, returned) for as long as the test
/// process lives, and forwards each connection to 127.0.0.1:`port`.
pub fn from_127_0_0_2(port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.2:0")
        .expect("listen on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to the loopback)");
    let local = listener.local_addr().expect("address").port();
    thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                continue;
            };
            pipe(&client, &server);
            pipe(&server, &client);
        }
    });
    local
}

fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let _ = copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}
