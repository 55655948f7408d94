//! Docker's multiplexed stream: each frame is a header of 8 bytes (stream: 0 stdin, 1 stdout,
//! 2 stderr; three zeros; the length, big-endian u32) and the payload. A container with a
//! tty has one stream, sent raw.

use std::io::{self, Write};

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;

/// Writes `data` as one frame of `stream`, or raw when `raw`.
pub fn write_frame(out: &mut impl Write, raw: bool, stream: u8, data: &[u8]) -> io::Result<()> {
    if raw {
        return out.write_all(data);
    }
    let mut frame = Vec::with_capacity(8 + data.len());
    frame.extend_from_slice(&[stream, 0, 0, 0]);
    frame.extend_from_slice(&(data.len() as u32).to_be_bytes());
    frame.extend_from_slice(data);
    out.write_all(&frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_docker_headers() {
        let mut out = Vec::new();
        write_frame(&mut out, false, STDERR, b"hi\n").unwrap();
        assert_eq!(out, b"\x02\0\0\0\0\0\0\x03hi\n");
        out.clear();
        write_frame(&mut out, true, STDERR, b"hi\n").unwrap();
        assert_eq!(out, b"hi\n");
    }
}
