//! Docker's detach keys (`--detach-keys`, the API's `detachKeys`): a sequence that, typed
//! into an attached stdin, detaches the client and is never passed on. Shared by the API's
//! attach and `wharf attach`.

use std::io::{Read, Write};

/// Docker's default: ctrl-p, ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

#[derive(Debug, Clone)]
pub struct DetachKeys {
    keys: Vec<u8>,
    /// How many of `keys` the input has matched so far (held back until it goes on or not).
    matched: usize,
}

impl DetachKeys {
    /// `ctrl-p,ctrl-q`, `a,b`...: each key one character, or `ctrl-` and one of a-z, @, [,
    /// \, ], ^, _ (as moby's `term.ToBytes`); an empty text detaches on nothing.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for key in text.split(',').filter(|k| !k.is_empty()) {
            let lower = key.to_ascii_lowercase();
            let byte = match lower.strip_prefix("ctrl-") {
                Some(rest) if rest.len() == 1 => match rest.as_bytes()[0] {
                    c @ b'a'..=b'z' => c - b'a' + 1,
                    b'@' => 0,
                    c @ (b'[' | b'\\' | b']' | b'^' | b'_') => c - b'[' + 27,
                    _ => return Err(format!("unknown character: {rest:?}")),
                },
                _ if key.len() == 1 => key.as_bytes()[0],
                _ => return Err(format!("invalid detach key {key:?}")),
            };
            keys.push(byte);
        }
        Ok(Self { keys, matched: 0 })
    }

    /// Copies `input` to `to` until its end (or a failed read or write) or the sequence;
    /// true when the sequence ended it.
    pub fn relay(&mut self, input: &mut impl Read, to: &mut impl Write) -> bool {
        let mut buf = [0u8; 16 * 1024];
        let mut pass = Vec::new();
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            pass.clear();
            let detached = self.scan(&buf[..n], &mut pass);
            if to.write_all(&pass).is_err() {
                return false;
            }
            if detached {
                return true;
            }
        }
    }

    /// Appends to `out` what of `input` goes on to the container; true when the input
    /// completed the sequence (what follows it is dropped).
    pub fn scan(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return false;
        }
        for &byte in input {
            if byte == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return true;
                }
                continue;
            }
            // Not the sequence after all: what was held back goes on.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if byte == self.keys[0] {
                self.matched = 1;
            } else {
                out.push(byte);
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(keys: &str, chunks: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut keys = DetachKeys::parse(keys).unwrap();
        let mut out = Vec::new();
        for chunk in chunks {
            if keys.scan(chunk, &mut out) {
                return (out, true);
            }
        }
        (out, false)
    }

    #[test]
    fn relay_copies_until_the_end_or_the_sequence() {
        let mut keys = DetachKeys::parse(DEFAULT_DETACH_KEYS).unwrap();
        let mut to = Vec::new();
        assert!(keys.relay(&mut &b"echo hi\n\x10\x11after"[..], &mut to));
        assert_eq!(to, b"echo hi\n");
        let mut keys = DetachKeys::parse(DEFAULT_DETACH_KEYS).unwrap();
        let mut to = Vec::new();
        assert!(!keys.relay(&mut &b"a\x10b"[..], &mut to));
        assert_eq!(to, b"a\x10b");
    }

    #[test]
    fn the_default_sequence_detaches_even_split_across_reads() {
        assert_eq!(
            scanned(DEFAULT_DETACH_KEYS, &[b"ls\n\x10", b"\x11rest"]),
            (b"ls\n".to_vec(), true)
        );
    }

    #[test]
    fn a_broken_sequence_is_passed_on() {
        assert_eq!(
            scanned(DEFAULT_DETACH_KEYS, &[b"a\x10b\x10\x10c"]),
            (b"a\x10b\x10\x10c".to_vec(), false)
        );
        assert_eq!(scanned("x,y", &[b"xxy"]), (b"x".to_vec(), true));
    }

    #[test]
    fn keys_read_as_dockers() {
        assert_eq!(
            DetachKeys::parse("ctrl-a,ctrl-@,ctrl-_,z").unwrap().keys,
            [1, 0, 31, b'z']
        );
        assert!(DetachKeys::parse("ctrl-1").is_err());
        assert!(DetachKeys::parse("ab").is_err());
        assert_eq!(scanned("", &[b"\x10\x11"]), (b"\x10\x11".to_vec(), false));
    }
}
