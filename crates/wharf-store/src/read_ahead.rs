//! A stream read on one thread and consumed on another, so that producing it (decompressing
//! and hashing a layer) and consuming it (parsing the tar and creating files) run on
//! different cores.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes sent at once.
const CHUNK: usize = 256 << 10;
/// Chunks read ahead at most.
const AHEAD: usize = 16;

/// The producing side: see [`ChunkSender::send_all`].
pub(crate) struct ChunkSender(SyncSender<io::Result<Vec<u8>>>);

/// The consuming side: reads what the sender sends, then the end of the stream.
pub(crate) struct ChunkReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

pub(crate) fn channel() -> (ChunkSender, ChunkReader) {
    let (sender, receiver) = sync_channel(AHEAD);
    let reader = ChunkReader {
        chunks: receiver,
        current: Vec::new(),
        at: 0,
    };
    (ChunkSender(sender), reader)
}

impl ChunkSender {
    /// Reads `source` to its end and sends it on. A read error goes to the reader too (as
    /// its kind and message). Fails when the reader is dropped before the end.
    pub(crate) fn send_all(self, mut source: impl Read) -> io::Result<()> {
        loop {
            let mut chunk = vec![0; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                match source.read(&mut chunk[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = self.0.send(Err(io::Error::new(e.kind(), e.to_string())));
                        return Err(e);
                    }
                }
            }
            if filled == 0 {
                return Ok(());
            }
            chunk.truncate(filled);
            if self.0.send(Ok(chunk)).is_err() {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the reader stopped before the end",
                ));
            }
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.at = 0;
                }
                // The sender is done (or gone after an error it sent).
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_gets_every_byte_then_the_end() {
        let data: Vec<u8> = (0..(3 * CHUNK + 123)).map(|i| (i % 251) as u8).collect();
        let (sender, mut reader) = channel();
        let mut received = Vec::new();
        std::thread::scope(|scope| {
            let producer = scope.spawn(|| sender.send_all(data.as_slice()));
            reader.read_to_end(&mut received).unwrap();
            producer.join().unwrap().unwrap();
        });
        assert_eq!(received, data);
    }

    #[test]
    fn a_read_error_reaches_the_reader_and_a_dropped_reader_stops_the_sender() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "corrupt deflate stream",
                ))
            }
        }
        let (sender, mut reader) = channel();
        let sent = std::thread::spawn(move || sender.send_all(Failing));
        let error = reader.read(&mut [0; 8]).unwrap_err();
        assert_eq!(error.to_string(), "corrupt deflate stream");
        assert!(sent.join().unwrap().is_err());

        let (sender, reader) = channel();
        drop(reader);
        let endless = io::repeat(1);
        assert_eq!(
            sender.send_all(endless).unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
