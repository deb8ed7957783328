//! A peer that accepts connections and never says a word (nor reads): what
//! a hung server, proxy or firewall looks like to a client.

/// A port on 127.0.0.1 whose listener accepts and holds every connection.
pub fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}
