//! Writing a record while a tar passes by: every byte goes through a [`Recorder`], which
//! keeps it unless the code that handles the entry said it is a file's content that the
//! tree will hold ([`Recorder::file`]). The unpacker says so after the tar crate has read an
//! entry's header and before it reads its content; the layer writer from the first read of
//! a file's content. The tar crate reads and writes exactly (no read-ahead), so positions
//! line up.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use flate2::Crc;

use super::{Item, Record};

/// A record being written. Shared (`Rc<RefCell<_>>`) by the tar stream and the code that
/// handles its entries, on one thread.
#[derive(Default)]
pub(crate) struct Recorder {
    items: Vec<Item>,
    /// Kept bytes not yet closed into an item.
    pending: Vec<u8>,
    /// The file whose content is passing: its item, the bytes still to come, their CRC.
    passing: Option<(usize, u64, Crc)>,
    /// The item of each path whose content the tree holds, to take back when it goes.
    in_tree: BTreeMap<PathBuf, usize>,
    total: u64,
}

impl Recorder {
    pub fn shared() -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Self::default()))
    }

    fn pass(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        while !bytes.is_empty() {
            let Some((index, left, crc)) = &mut self.passing else {
                self.pending.extend_from_slice(bytes);
                return;
            };
            let n = (*left).min(bytes.len() as u64) as usize;
            crc.update(&bytes[..n]);
            *left -= n as u64;
            bytes = &bytes[n..];
            if *left == 0 {
                if let Item::File { crc: sum, .. } = &mut self.items[*index] {
                    *sum = crc.sum();
                }
                self.passing = None;
            }
        }
    }

    /// The next `size` bytes of the tar are the content of the tree's file at `path`.
    pub fn file(&mut self, path: &Path, size: u64) {
        if size == 0 {
            return;
        }
        self.close_pending();
        self.items.push(Item::File {
            path: path.to_path_buf(),
            size,
            crc: 0,
        });
        let index = self.items.len() - 1;
        self.in_tree.insert(path.to_path_buf(), index);
        self.passing = Some((index, size, Crc::new()));
    }

    /// What is at `rel` in the tree under `root` (a file, or a folder and all below it) is
    /// about to be replaced: the content recorded as held there is read into the record.
    pub fn displace(&mut self, root: &Path, rel: &Path) -> io::Result<()> {
        let gone: Vec<(PathBuf, usize)> = self
            .in_tree
            .range(rel.to_path_buf()..)
            .take_while(|(path, _)| path.starts_with(rel))
            .map(|(path, index)| (path.clone(), *index))
            .collect();
        for (path, index) in gone {
            self.in_tree.remove(&path);
            let Item::File { size, crc, .. } = &self.items[index] else {
                continue;
            };
            let full = root.join(&path);
            let mut content = Vec::new();
            File::open(&full)?.read_to_end(&mut content)?;
            let mut check = Crc::new();
            check.update(&content);
            if content.len() as u64 != *size || check.sum() != *crc {
                return Err(io::Error::other(format!(
                    "{} changed while its layer was unpacked",
                    full.display()
                )));
            }
            self.items[index] = Item::Bytes(content);
        }
        Ok(())
    }

    /// The file announced last by [`Self::file`], whose content passed, is not in the
    /// tree after all: `content` goes into the record instead.
    pub fn keep_last_file(&mut self, content: Vec<u8>) {
        if let Some(index) = self.items.len().checked_sub(1) {
            if let Item::File { path, .. } = &self.items[index] {
                self.in_tree.remove(path);
                self.items[index] = Item::Bytes(content);
            }
        }
    }

    /// The record of everything that passed. Fails when a file's content was cut short.
    pub fn finish(&mut self) -> io::Result<Record> {
        if self.passing.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the tar ends inside a file's content",
            ));
        }
        self.close_pending();
        // Neighbours kept as bytes (a file taken back) become one item.
        let mut items: Vec<Item> = Vec::with_capacity(self.items.len());
        for item in std::mem::take(&mut self.items) {
            match (items.last_mut(), item) {
                (Some(Item::Bytes(last)), Item::Bytes(bytes)) => last.extend_from_slice(&bytes),
                (_, item) => items.push(item),
            }
        }
        Ok(Record {
            items,
            tar_size: self.total,
        })
    }

    fn close_pending(&mut self) {
        if !self.pending.is_empty() {
            self.items
                .push(Item::Bytes(std::mem::take(&mut self.pending)));
        }
    }
}

/// A tar being read, passing every byte it reads to its recorder.
pub(crate) struct RecordingReader<R> {
    inner: R,
    recorder: Rc<RefCell<Recorder>>,
}

impl<R: Read> RecordingReader<R> {
    pub fn new(inner: R, recorder: Rc<RefCell<Recorder>>) -> Self {
        Self { inner, recorder }
    }

    /// Reads (and records) what follows the archive's end: the stream's last zero blocks.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(drop)
    }
}

impl<R: Read> Read for RecordingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.recorder.borrow_mut().pass(&buf[..n]);
        Ok(n)
    }
}

/// A tar being written, passing every byte written to its recorder.
pub(crate) struct RecordingWriter<W> {
    inner: W,
    recorder: Rc<RefCell<Recorder>>,
}

impl<W: Write> RecordingWriter<W> {
    pub fn new(inner: W, recorder: Rc<RefCell<Recorder>>) -> Self {
        Self { inner, recorder }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for RecordingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.recorder.borrow_mut().pass(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A file's content handed to `tar::Builder::append_data`: its first read comes after the
/// entry's headers are written, and tells the recorder that the content starts.
pub(crate) struct ContentReader<R> {
    inner: R,
    announce: Option<(Rc<RefCell<Recorder>>, PathBuf, u64)>,
}

impl<R: Read> ContentReader<R> {
    pub fn new(inner: R, recorder: Rc<RefCell<Recorder>>, path: PathBuf, size: u64) -> Self {
        Self {
            inner,
            announce: Some((recorder, path, size)),
        }
    }
}

impl<R: Read> Read for ContentReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((recorder, path, size)) = self.announce.take() {
            recorder.borrow_mut().file(&path, size);
        }
        self.inner.read(buf)
    }
}
