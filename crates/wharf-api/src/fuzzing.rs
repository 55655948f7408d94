//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, off in every build of
//! wharf): what the server makes of a client's bytes before a handler runs, what a hijacked
//! connection passes on, and the frames of attach and exec streams.

use std::io::Write;
use std::os::unix::net::UnixStream;

use crate::http::{Connection, Request};
use crate::routes;

/// One request as the server decoded it, with the route it found.
pub struct Decoded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub route: Option<(&'static str, Vec<String>)>,
}

/// Reads `bytes` as one client's connection: every request until the connection closes or
/// a request is refused, each with its route.
pub fn decode(bytes: &[u8]) -> Vec<Decoded> {
    let (mut client, server) = UnixStream::pair().expect("a socket pair");
    let bytes = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = client.write_all(&bytes);
    });
    let mut decoded = Vec::new();
    if let Ok(mut connection) = Connection::new(server) {
        while let Ok(request) = connection.read_request() {
            let _ = request.wants_upgrade();
            decoded.push(self::decoded(request));
            if !connection.keep_alive {
                break;
            }
        }
    }
    writer.join().expect("the writer thread");
    decoded
}

fn decoded(request: Request) -> Decoded {
    let route = routes::find(&request.method, &request.path)
        .ok()
        .map(|(route, params)| (route.pattern, params));
    Decoded {
        method: request.method,
        path: request.path,
        query: request.query,
        body: request.body,
        route,
    }
}

/// Reads the first request of `bytes` as the server reads an attach or exec start, hijacks
/// the connection as those handlers do, and returns the request and every byte the
/// hijacked input then gives until the client's end (what a process's stdin would get).
pub fn hijack(bytes: &[u8]) -> Option<(Decoded, Vec<u8>)> {
    let (mut client, server) = UnixStream::pair().expect("a socket pair");
    let bytes = bytes.to_vec();
    // Writes the client's bytes, then reads the server's replies until it is done.
    let peer = std::thread::spawn(move || {
        let _ = client.write_all(&bytes);
        let _ = client.shutdown(std::net::Shutdown::Write);
        let _ = std::io::copy(&mut client, &mut std::io::sink());
    });
    let mut result = None;
    if let Ok(mut connection) = Connection::new(server) {
        if let Ok(request) = connection.read_request() {
            if let Ok(hijacked) = connection.hijack(&request) {
                let mut input = hijacked.input;
                let mut stream = Vec::new();
                let _ = std::io::Read::read_to_end(&mut input, &mut stream);
                let _ = hijacked.output.shutdown(std::net::Shutdown::Both);
                result = Some((decoded(request), stream));
            }
        }
    }
    peer.join().expect("the peer thread");
    result
}

/// `data` as the attach and exec handlers send it: one frame of `stream`, or raw (a tty).
pub fn frame(raw: bool, stream: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::stream::write_frame(&mut out, raw, stream, data).expect("writes to memory");
    out
}
