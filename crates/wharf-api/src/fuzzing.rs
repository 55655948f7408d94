//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, off in every build of
//! wharf): what the server makes of a client's bytes before a handler runs.

use std::io::Write;
use std::os::unix::net::UnixStream;

use crate::http::Connection;
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
            let route = routes::find(&request.method, &request.path)
                .ok()
                .map(|(route, params)| (route.pattern, params));
            let _ = request.wants_upgrade();
            decoded.push(Decoded {
                method: request.method,
                path: request.path,
                query: request.query,
                body: request.body,
                route,
            });
            if !connection.keep_alive {
                break;
            }
        }
    }
    writer.join().expect("the writer thread");
    decoded
}
