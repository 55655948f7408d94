//! Content-addressed blobs under `blobs/sha256/<hex>`, verified as they are written.

use std::fs::File;
use std::io::{self, BufReader, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use wharf_oci::{Digest, Sha256Writer};

use crate::atomic::sync_dir;
use crate::error::{IoResultExt, Result, StoreError};
use crate::lock::ExclusiveLock;

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// How a layer blob is compressed, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Self {
        match head {
            [0x1f, 0x8b, ..] => Self::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Self::Zstd,
            _ => Self::None,
        }
    }

    /// Wraps `reader` so that it yields the uncompressed bytes.
    pub fn decoder<'a, R: io::BufRead + 'a>(self, reader: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Self::None => Box::new(reader),
            Self::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
        })
    }

    /// The compression an (OCI or Docker) layer media type names.
    pub fn from_media_type(media_type: &str) -> Self {
        if media_type.ends_with("gzip") {
            Self::Gzip
        } else if media_type.ends_with("zstd") {
            Self::Zstd
        } else {
            Self::None
        }
    }

    /// The OCI media type of a layer compressed this way.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Self::None => wharf_oci::media_type::OCI_LAYER_TAR,
            Self::Gzip => wharf_oci::media_type::OCI_LAYER_GZIP,
            Self::Zstd => wharf_oci::media_type::OCI_LAYER_ZSTD,
        }
    }
}

/// How new layers are compressed: `--output type=image,compression=...,compression-level=N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerCompression {
    pub kind: Compression,
    /// The encoder's level; `None` for wharf's default (gzip's fastest, zstd's 3).
    pub level: Option<i32>,
}

impl Default for LayerCompression {
    fn default() -> Self {
        Self {
            kind: Compression::Gzip,
            level: None,
        }
    }
}

impl LayerCompression {
    /// The level the encoder runs at (wharf's default when none was asked for).
    pub fn effective_level(self) -> i32 {
        match (self.kind, self.level) {
            (Compression::None, _) => 0,
            (Compression::Gzip, level) => level.map_or(1, |l| l.clamp(0, 9)),
            (Compression::Zstd, level) => level.unwrap_or(3),
        }
    }

    /// An encoder writing into `writer`; [`Encoder::finish`] ends the stream.
    pub fn encoder<W: Write>(self, writer: W) -> io::Result<Encoder<W>> {
        Ok(match self.kind {
            Compression::None => Encoder::None(writer),
            // The fastest level by default: a build waits for it, and a layer is compressed
            // once.
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                writer,
                flate2::Compression::new(self.effective_level() as u32),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(
                writer,
                self.effective_level(),
            )?),
        })
    }
}

/// A compressing writer of any [`Compression`].
pub enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Writes the end of the compressed stream and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Self::None(writer) => Ok(writer),
            Self::Gzip(encoder) => encoder.finish(),
            Self::Zstd(encoder) => encoder.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::None(writer) => writer.write(buf),
            Self::Gzip(encoder) => encoder.write(buf),
            Self::Zstd(encoder) => encoder.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::None(writer) => writer.flush(),
            Self::Gzip(encoder) => encoder.flush(),
            Self::Zstd(encoder) => encoder.flush(),
        }
    }
}

/// Peeks at the first bytes of a buffered reader to tell its compression.
pub fn sniff_compression(reader: &mut impl io::BufRead) -> io::Result<Compression> {
    Ok(Compression::detect(reader.fill_buf()?))
}

impl BlobStore {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("sha256").join(digest.hex())
    }

    pub fn exists(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub fn size(&self, digest: &Digest) -> Result<u64> {
        let path = self.path(digest);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(StoreError::BlobNotFound(digest.clone()))
            }
            Err(e) => Err(e).at("stat blob", &path),
        }
    }

    pub fn open(&self, digest: &Digest) -> Result<File> {
        let path = self.path(digest);
        match File::open(&path) {
            Ok(file) => Ok(file),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(StoreError::BlobNotFound(digest.clone()))
            }
            Err(e) => Err(e).at("open blob", &path),
        }
    }

    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let path = self.path(digest);
        self.open(digest)?
            .read_to_end(&mut bytes)
            .at("read blob", &path)?;
        Ok(bytes)
    }

    /// Stores `bytes`, returning their digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        self.put(bytes, None).map(|(digest, _)| digest)
    }

    /// Streams `reader` into the store. With `expected`, content that hashes to anything else
    /// is rejected and nothing is stored. Returns the digest and the size.
    pub fn put(&self, reader: impl Read, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        if let Some(expected) = expected {
            if self.exists(expected) {
                // Same digest, same content: read the input through so a streaming caller
                // stays in step, but skip the write.
                let (actual, size, _) =
                    copy_hashed(reader, io::sink()).at("read blob input", &self.dir)?;
                return verified(expected, actual).map(|digest| (digest, size));
            }
        }
        let tmp_dir = self.dir.join("tmp");
        let temp = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(&tmp_dir)
            .at("create a temp file in", &tmp_dir)?;
        let (actual, size, file) = copy_hashed(
            reader,
            io::BufWriter::with_capacity(1 << 20, temp.as_file()),
        )
        .at("write", temp.path())?;
        file.into_inner()
            .map_err(|e| e.into_error())
            .at("write", temp.path())?;
        let digest = match expected {
            Some(expected) => verified(expected, actual)?,
            None => actual,
        };
        temp.as_file().sync_all().at("fsync", temp.path())?;
        let target = self.path(&digest);
        temp.persist(&target)
            .map_err(|e| e.error)
            .at("rename blob into place", &target)?;
        sync_dir(&self.dir.join("sha256"))?;
        Ok((digest, size))
    }

    /// Moves a temp file of [`Self::tmp_dir`] that this process wrote while hashing it into
    /// the store as `digest`, without reading it again.
    pub fn adopt_written(&self, temp: tempfile::NamedTempFile, digest: &Digest) -> Result<()> {
        temp.as_file().sync_all().at("fsync", temp.path())?;
        let target = self.path(digest);
        temp.persist(&target)
            .map_err(|e| e.error)
            .at("rename blob into place", &target)?;
        sync_dir(&self.dir.join("sha256"))
    }

    /// Moves a complete file (on the store's filesystem, e.g. in [`Self::tmp_dir`]) into the
    /// store once it hashes to `expected`; a file that does not is deleted.
    pub fn adopt(&self, path: &Path, expected: &Digest) -> Result<()> {
        let (actual, _, _) = copy_hashed(
            BufReader::new(File::open(path).at("open", path)?),
            io::sink(),
        )
        .at("read", path)?;
        if let Err(error) = verified(expected, actual) {
            let _ = std::fs::remove_file(path);
            return Err(error);
        }
        File::open(path)
            .and_then(|f| f.sync_all())
            .at("fsync", path)?;
        let target = self.path(expected);
        std::fs::rename(path, &target).at("rename blob into place", &target)?;
        sync_dir(&self.dir.join("sha256"))
    }

    /// Re-reads a blob and checks that it still hashes to its name.
    pub fn verify(&self, digest: &Digest) -> Result<()> {
        let path = self.path(digest);
        let (actual, _, _) =
            copy_hashed(BufReader::new(self.open(digest)?), io::sink()).at("read blob", &path)?;
        verified(digest, actual).map(drop)
    }

    /// Every blob digest in the store (names that are not digests are skipped).
    pub fn list(&self) -> Result<Vec<Digest>> {
        let dir = self.dir.join("sha256");
        let mut digests = Vec::new();
        for entry in std::fs::read_dir(&dir).at("list", &dir)? {
            let entry = entry.at("list", &dir)?;
            if let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                digests.push(digest);
            }
        }
        Ok(digests)
    }

    pub fn remove(&self, digest: &Digest) -> Result<()> {
        let path = self.path(digest);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e).at("remove blob", &path),
            _ => Ok(()),
        }
    }

    /// Where a download of `digest` is written (a stable name, so an interrupted pull
    /// resumes it), locked for this process alone: of two pulls of images sharing a layer,
    /// the second waits here and then finds the blob in the store. Lock digests in sorted
    /// order, each once (a second lock of the same file waits for the first forever).
    pub fn lock_download(&self, digest: &Digest) -> Result<(PathBuf, ExclusiveLock)> {
        let path = self.tmp_dir().join(format!("pull-{}", digest.hex()));
        let lock = ExclusiveLock::acquire(&path)?;
        if self.exists(digest) {
            // Fetched by whoever held it, or left by a pull killed after its rename: the
            // partial is no use now. Only a holder whose blob exists removes it, so nobody
            // downloads into a removed file.
            // It may be gone already: the lock was taken on the file just renamed into place.
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(e).at("remove", &path)?,
                _ => {}
            }
        }
        Ok((path, lock))
    }

    /// Where in-flight writes live; on the store's filesystem, so [`Self::adopt`] renames.
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn copy_hashed<W: Write>(mut reader: impl Read, writer: W) -> io::Result<(Digest, u64, W)> {
    let mut hashing = Sha256Writer::new(writer);
    io::copy(&mut reader, &mut hashing)?;
    Ok(hashing.finish())
}

fn verified(expected: &Digest, actual: Digest) -> Result<Digest> {
    if &actual == expected {
        Ok(actual)
    } else {
        Err(StoreError::DigestMismatch {
            expected: expected.clone(),
            actual,
        })
    }
}
