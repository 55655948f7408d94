//! HTTP/1.1 as Docker's clients speak it on a unix socket: one request at a time per
//! connection (keep-alive), bodies by `Content-Length` or chunked, replies with a length,
//! chunked streams, and hijacked connections (`101 UPGRADED`) that become raw byte streams.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

use crate::error::ApiError;

/// The API version this server speaks, and the oldest it accepts in a path.
pub const API_VERSION: &str = "1.44";
pub const MIN_API_VERSION: &str = "1.24";
/// Request heads longer than this are refused (Docker's clients send a few hundred bytes).
const MAX_HEAD: usize = 64 * 1024;
/// Bodies longer than this are refused: create bodies are a few KiB.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// A build context (`POST /build`), an archive (`PUT .../archive`) or an image tar (`POST
/// /images/load`) is read whole into memory: at most this.
pub const MAX_BUILD_CONTEXT: usize = 512 * 1024 * 1024;
const MAX_HEADERS: usize = 64;

#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// Percent-decoded, without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The client asked for a hijacked connection (`Upgrade: tcp`, as the docker CLI and
    /// docker-py do for attach and exec).
    pub fn wants_upgrade(&self) -> bool {
        self.header("upgrade").is_some()
    }

    fn keeps_alive(&self) -> bool {
        !self
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection between requests.
    Closed,
    Io(io::Error),
    /// Answerable: the connection is closed after the answer.
    Bad(ApiError),
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

/// One client's connection.
pub struct Connection {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Whether the connection may carry another request after this reply.
    pub keep_alive: bool,
    /// The request being answered is a HEAD: replies carry no body.
    head_only: bool,
}

impl Connection {
    pub fn new(stream: UnixStream) -> io::Result<Self> {
        Ok(Self {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
            keep_alive: true,
            head_only: false,
        })
    }

    /// Tells, without reading, whether the client has closed the connection (for replies
    /// that wait long before they send anything).
    pub fn watch_peer(&self) -> io::Result<PeerWatch> {
        Ok(PeerWatch(self.reader.get_ref().try_clone()?))
    }

    /// The next request, its body read whole.
    pub fn read_request(&mut self) -> Result<Request, ReadError> {
        let head = self.read_head()?;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let bad = |why: String| ReadError::Bad(ApiError::BadRequest(why));
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(bad("incomplete request head".into())),
            Err(e) => return Err(bad(format!("malformed request: {e}"))),
        }
        let target = parsed.path.unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let mut request = Request {
            method: parsed.method.unwrap_or("GET").to_string(),
            path: percent_decode(path, false),
            query: parse_query(query),
            headers,
            body: Vec::new(),
        };
        request.body = self.read_body(&request)?;
        self.keep_alive = request.keeps_alive();
        self.head_only = request.method == "HEAD";
        Ok(request)
    }

    fn read_head(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut head = Vec::new();
        loop {
            let start = head.len();
            let read = (&mut self.reader)
                .take((MAX_HEAD - start) as u64 + 1)
                .read_until(b'\n', &mut head)?;
            if read == 0 {
                return Err(if head.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Io(io::ErrorKind::UnexpectedEof.into())
                });
            }
            if head.len() > MAX_HEAD {
                return Err(ReadError::Bad(ApiError::BadRequest(format!(
                    "request head longer than {MAX_HEAD} bytes"
                ))));
            }
            // Blank lines before a request are allowed (RFC 9112 2.2).
            if head[start..] == *b"\r\n" || head[start..] == *b"\n" {
                if start == 0 {
                    head.clear();
                    continue;
                }
                return Ok(head);
            }
        }
    }

    fn read_body(&mut self, request: &Request) -> Result<Vec<u8>, ReadError> {
        let whole = ["/build", "/archive", "/images/load"];
        let limit = if whole.iter().any(|end| request.path.ends_with(end)) {
            MAX_BUILD_CONTEXT
        } else {
            MAX_BODY
        };
        let too_large = || ReadError::Bad(ApiError::BodyTooLarge { limit });
        if request
            .header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
        {
            return self.read_chunked(limit, too_large);
        }
        let length = match request.header("content-length") {
            None => 0,
            Some(text) => text.trim().parse::<usize>().map_err(|_| {
                ReadError::Bad(ApiError::BadRequest(format!(
                    "Content-Length {text:?} is not a number"
                )))
            })?,
        };
        if length > limit {
            return Err(too_large());
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(body)
    }

    fn read_chunked(
        &mut self,
        limit: usize,
        too_large: impl Fn() -> ReadError,
    ) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let mut line = String::new();
            (&mut self.reader).take(1024).read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).map_err(|_| {
                ReadError::Bad(ApiError::BadRequest(format!(
                    "bad chunk size {:?}",
                    line.trim()
                )))
            })?;
            if body.len().saturating_add(size) > limit {
                return Err(too_large());
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..])?;
            let mut end = String::new();
            (&mut self.reader).take(1024).read_line(&mut end)?;
            if size == 0 {
                // Trailers, if any, end with an empty line; `end` was the first of them.
                while !end.trim().is_empty() {
                    end.clear();
                    if (&mut self.reader).take(8192).read_line(&mut end)? == 0 {
                        break;
                    }
                }
                return Ok(body);
            }
        }
    }

    fn write_head(&mut self, status: u16, extra: &[(&str, &str)]) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nApi-Version: {API_VERSION}\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: wharf/{} (linux)\r\n",
            reason(status),
            env!("CARGO_PKG_VERSION"),
        );
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        self.writer.write_all(head.as_bytes())
    }

    /// A whole reply. `content_type` is ignored for an empty body of 204 and 304.
    pub fn reply(&mut self, status: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
        self.reply_with(status, content_type, &[], body)
    }

    /// A whole reply with `extra` headers. A reply to HEAD has the length of the body GET
    /// would have, and no body.
    pub fn reply_with(
        &mut self,
        status: u16,
        content_type: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<()> {
        let length = body.len().to_string();
        let mut headers = extra.to_vec();
        if !matches!(status, 204 | 304) {
            headers.extend([("Content-Type", content_type), ("Content-Length", &length)]);
        }
        self.write_head(status, &headers)?;
        if !matches!(status, 204 | 304) && !self.head_only {
            self.writer.write_all(body)?;
        }
        self.writer.flush()
    }

    pub fn reply_json(&mut self, status: u16, value: &serde_json::Value) -> io::Result<()> {
        let mut body = serde_json::to_vec(value).expect("JSON values serialize");
        body.push(b'\n');
        self.reply(status, "application/json", &body)
    }

    /// Starts a chunked reply; write it through the returned stream, then `finish` it.
    pub fn stream(&mut self, status: u16, content_type: &str) -> io::Result<Chunked> {
        self.write_head(
            status,
            &[
                ("Content-Type", content_type),
                ("Transfer-Encoding", "chunked"),
            ],
        )?;
        Ok(Chunked {
            writer: self.writer.try_clone()?,
        })
    }

    /// Hands the connection over as a raw stream: `101 UPGRADED` when the client asked for an
    /// upgrade, else `200 OK` and a body that ends when the connection closes (Docker's
    /// attach and exec without `Upgrade`). Either way the connection carries nothing else.
    pub fn hijack(&mut self, request: &Request) -> io::Result<Hijacked> {
        self.keep_alive = false;
        let content_type = ("Content-Type", "application/vnd.docker.raw-stream");
        if request.wants_upgrade() {
            self.write_head(
                101,
                &[content_type, ("Connection", "Upgrade"), ("Upgrade", "tcp")],
            )?;
        } else {
            self.write_head(200, &[content_type])?;
        }
        self.writer.flush()?;
        // What the client sent after the request (stdin written without waiting for the
        // reply) may sit in the reader's buffer already: the stream starts with it.
        let buffered = self.reader.buffer().to_vec();
        self.reader.consume(buffered.len());
        Ok(Hijacked {
            input: io::Cursor::new(buffered).chain(self.reader.get_ref().try_clone()?),
            output: self.writer.try_clone()?,
        })
    }
}

/// A chunked reply under way (on a clone of the connection's socket, so that it can live
/// in a callback). Nothing else may be written to the connection until it is finished.
pub struct Chunked {
    writer: UnixStream,
}

impl Chunked {
    /// One JSON message and its newline, in one chunk: docker-py parses chunk by chunk, and
    /// fails on a chunk of whitespace alone at the end.
    pub fn json_line(&mut self, message: &serde_json::Value) -> io::Result<()> {
        self.write_all(format!("{message}\n").as_bytes())
    }

    /// The last chunk: the connection may carry the next request.
    pub fn finish(mut self) -> io::Result<()> {
        self.writer.write_all(b"0\r\n\r\n")?;
        self.writer.flush()
    }
}

impl Write for Chunked {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(b"\r\n");
        // One write per chunk, and no buffering: a follower sees each line as it comes.
        self.writer.write_all(&chunk)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// See [`Connection::watch_peer`].
pub struct PeerWatch(UnixStream);

impl PeerWatch {
    /// The client has shut its side (or the connection broke).
    pub fn closed(&self) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&self.0, PollFlags::RDHUP)];
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        match poll(&mut fds, Some(&now)) {
            Ok(0) => false,
            Ok(_) => fds[0]
                .revents()
                .intersects(PollFlags::RDHUP | PollFlags::HUP | PollFlags::ERR),
            Err(_) => true,
        }
    }
}

/// A hijacked connection: the client's input, and the output to it.
pub struct Hijacked {
    pub input: io::Chain<io::Cursor<Vec<u8>>, UnixStream>,
    pub output: UnixStream,
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "UPGRADED",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// `a=1&b=x%20y`, as Go's `url.ParseQuery` reads it (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key, true), percent_decode(value, true))
        })
        .collect()
}

/// `%XX` escapes (invalid ones are kept as they are); with `plus`, `+` is a space.
fn percent_decode(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_as_go_does() {
        assert_eq!(
            parse_query("all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&x=a+b&bad=%zz&end=%4"),
            vec![
                ("all".into(), "1".into()),
                ("filters".into(), r#"{"label":["a=b"]}"#.into()),
                ("x".into(), "a b".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into()),
            ]
        );
    }

    /// Stdin sent right behind the request (before the `101`) was in the reader's buffer
    /// and lost when the connection was hijacked: found by the api_hijack fuzz target.
    #[test]
    fn a_hijacked_stream_starts_with_what_followed_the_request() {
        let (mut client, server) = UnixStream::pair().unwrap();
        let mut bytes =
            b"POST /exec/a/start HTTP/1.1\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}".to_vec();
        bytes.extend_from_slice(b"stdin line 1\nline 2\n");
        client.write_all(&bytes).unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut connection = Connection::new(server).unwrap();
        let request = connection.read_request().unwrap();
        assert_eq!(request.body, b"{}");
        let mut hijacked = connection.hijack(&request).unwrap();
        let mut stream = Vec::new();
        hijacked.input.read_to_end(&mut stream).unwrap();
        assert_eq!(stream, b"stdin line 1\nline 2\n");
    }

    /// Reads `bytes` as a client's request on a fresh connection.
    fn read(bytes: &[u8]) -> Result<Request, ReadError> {
        let (mut client, server) = UnixStream::pair().unwrap();
        let bytes = bytes.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut client, &bytes);
        });
        let result = Connection::new(server).unwrap().read_request();
        writer.join().unwrap();
        result
    }

    #[test]
    fn requests_with_bodies_by_length_and_by_chunks() {
        let request = read(b"POST /v1.44/containers/create?name=a%20b HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/v1.44/containers/create")
        );
        assert_eq!(request.query, vec![("name".into(), "a b".into())]);
        assert_eq!(request.body, b"{}");
        let request = read(b"POST /build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: t\r\n\r\n").unwrap();
        assert_eq!(request.body, b"abcde");
    }

    #[test]
    fn bad_heads_and_bodies_are_answerable_errors() {
        let bad = |bytes: &[u8]| match read(bytes) {
            Err(ReadError::Bad(error)) => error.status(),
            other => panic!(
                "{:?} for {:?}",
                other.map(|r| r.path),
                String::from_utf8_lossy(bytes)
            ),
        };
        assert_eq!(bad(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400);
        assert_eq!(
            bad(b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"),
            413
        );
        assert_eq!(
            bad(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n"),
            413
        );
        assert_eq!(bad(b"\x16\x03\x01 tls hello\r\n\r\n"), 400);
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert_eq!(bad(&long), 400);
    }

    /// Random bytes, and valid requests cut or corrupted at random: never a panic.
    #[test]
    fn fuzzed_requests_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid = b"POST /v1.41/containers/create?name=x HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n1\r\n1\r\n0\r\n\r\n";
        for round in 0..3000 {
            let mut bytes = valid.to_vec();
            match round % 3 {
                0 => bytes.truncate(next() as usize % bytes.len()),
                1 => {
                    for _ in 0..1 + next() % 4 {
                        let at = next() as usize % bytes.len();
                        bytes[at] = next() as u8;
                    }
                }
                _ => bytes = (0..next() % 200).map(|_| next() as u8).collect(),
            }
            let _ = read(&bytes);
        }
    }

    #[test]
    fn paths_keep_plus_signs() {
        assert_eq!(
            percent_decode("/images/a%2Fb+c/json", false),
            "/images/a/b+c/json"
        );
    }
}
