//! The Engine API's hijacked connections (`POST /exec/{id}/start`, `/containers/{id}/attach`,
//! with or without `Upgrade: tcp`, a body by length or in chunks) and the frames attach and
//! exec send. The request is written from a description (the HTTP reader itself is the
//! api_request target's), so where it ends is known: every byte the client sent after it
//! must come out of the hijacked input, in order. Frames must read back as Docker's
//! clients read them (8-byte header, stream, big-endian length), raw streams as they are.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wharf_api::fuzzing::{frame, hijack};

#[derive(Arbitrary, Debug)]
struct Input {
    attach: bool,
    upgrade: bool,
    /// Chunk sizes of a chunked body; a `Content-Length` body when `None`.
    chunks: Option<Vec<u8>>,
    body: Vec<u8>,
    /// What the client sends once the connection is hijacked (its stdin).
    stream: Vec<u8>,
    frames: Vec<(bool, u8, Vec<u8>)>,
}

fn request(input: &Input) -> Vec<u8> {
    let path = if input.attach {
        "/v1.44/containers/web/attach?stream=1&stdin=1&stdout=1"
    } else {
        "/v1.44/exec/0123abcd/start"
    };
    let mut out =
        format!("POST {path} HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n");
    if input.upgrade {
        out.push_str("Connection: Upgrade\r\nUpgrade: tcp\r\n");
    }
    let mut out = out.into_bytes();
    match &input.chunks {
        None => {
            out.extend_from_slice(
                format!("Content-Length: {}\r\n\r\n", input.body.len()).as_bytes(),
            );
            out.extend_from_slice(&input.body);
        }
        Some(sizes) => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut rest = &input.body[..];
            for size in sizes.iter().map(|&s| usize::from(s).max(1)) {
                if rest.is_empty() {
                    break;
                }
                let (chunk, after) = rest.split_at(size.min(rest.len()));
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
                rest = after;
            }
            if !rest.is_empty() {
                out.extend_from_slice(format!("{:x}\r\n", rest.len()).as_bytes());
                out.extend_from_slice(rest);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
    }
    out
}

fuzz_target!(|input: Input| {
    let mut bytes = request(&input);
    bytes.extend_from_slice(&input.stream);
    let (decoded, stream) = hijack(&bytes).expect("a well-formed request is hijacked");
    assert_eq!(decoded.body, input.body, "the body");
    assert!(decoded.route.is_some(), "{} has a route", decoded.path);
    assert_eq!(
        stream.len(),
        input.stream.len(),
        "the hijacked input lost or added bytes"
    );
    assert_eq!(stream, input.stream, "the hijacked input changed the bytes");

    for (raw, kind, data) in &input.frames {
        let kind = 1 + kind % 2;
        let written = frame(*raw, kind, data);
        if *raw {
            assert_eq!(&written, data, "a raw stream is sent as it is");
            continue;
        }
        let (header, payload) = written.split_at(8);
        assert_eq!(&header[..4], &[kind, 0, 0, 0], "the header's stream");
        let length = u32::from_be_bytes(header[4..].try_into().expect("4 bytes"));
        assert_eq!(length as usize, data.len(), "the header's length");
        assert_eq!(payload, &data[..], "the payload");
    }
});
