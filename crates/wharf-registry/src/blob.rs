//! Blobs: download to a file the caller names, resuming with HTTP Range and verifying the
//! sha256 of the whole file; push with existence check, cross-repository mount, monolithic
//! or chunked upload. Several blobs move at once on a bounded set of threads.
//!
//! Each transfer takes a [`TransferObserver`] that hears, for a blob, how many of its bytes
//! have moved so far and when it is verified (for progress bars).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use ureq::http::{Method, Response};
use ureq::Body;
use wharf_oci::{Digest, Reference, Sha256Writer};

use crate::auth::{percent_encode, repository_scope};
use crate::client::{Client, Endpoint, Object, Target};
use crate::error::{IoResultExt, RegistryError, Result};
use crate::transport::{transport_error, Payload, Progress, Request};

/// Blobs above this size are uploaded in PATCH chunks of this size.
pub const CHUNK_SIZE: u64 = 16 * 1024 * 1024;
/// Attempts of one download: a broken connection resumes where it stopped.
const ATTEMPTS: u32 = 3;

/// A blob to download into `path`. A file already there is taken as the start of the blob.
#[derive(Debug, Clone)]
pub struct BlobDownload {
    pub digest: Digest,
    /// From the manifest's descriptor; bounds what the registry may send.
    pub size: Option<u64>,
    pub path: PathBuf,
}

/// A blob to push from the file at `path`.
#[derive(Debug, Clone)]
pub struct BlobUpload {
    pub digest: Digest,
    pub size: u64,
    pub path: PathBuf,
}

/// Hears how blob transfers go. Any `Fn(&Digest, u64) + Sync` is one that hears bytes only.
pub trait TransferObserver: Sync {
    /// `bytes` of `blob` have moved so far (it starts again at the resume point).
    fn moved(&self, blob: &Digest, bytes: u64);
    /// Every byte of a downloaded `blob` is on disk; its digest is being checked.
    fn verifying(&self, _blob: &Digest) {}
    /// A downloaded `blob` is whole and verified.
    fn verified(&self, _blob: &Digest) {}
}

impl<F: Fn(&Digest, u64) + Sync> TransferObserver for F {
    fn moved(&self, blob: &Digest, bytes: u64) {
        self(blob, bytes)
    }
}

/// How a pushed blob got to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPushed {
    /// The repository had it already.
    Existed,
    /// Mounted from another repository of the same registry, without moving bytes.
    Mounted,
    Uploaded,
}

impl Client {
    /// Downloads one blob of `repository` (its domain and path; tag and digest are ignored)
    /// into `blob.path`. On a digest mismatch the file is deleted.
    pub fn download_blob(
        &self,
        repository: &Reference,
        blob: &BlobDownload,
        progress: &dyn TransferObserver,
    ) -> Result<()> {
        self.on_pull_endpoints(repository.domain(), |endpoint| {
            let target = Target {
                endpoint,
                repository: repository.path(),
            };
            let mut attempt = 1;
            loop {
                let existing = file_len(&blob.path)?;
                match self.download_once(&target, blob, existing, progress) {
                    // A broken transfer resumes; a bad resumed file was deleted, so the
                    // next attempt starts afresh.
                    Err(e)
                        if attempt < ATTEMPTS
                            && (e.is_transport()
                                || (existing > 0
                                    && matches!(e, RegistryError::DigestMismatch { .. }))) =>
                    {
                        attempt += 1;
                    }
                    Ok(()) => {
                        progress.verified(&blob.digest);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
        })
    }

    /// Downloads blobs in parallel (up to the settings' `max_concurrent_transfers`). The
    /// first error stops the rest; files already complete stay.
    pub fn download_blobs(
        &self,
        repository: &Reference,
        blobs: &[BlobDownload],
        progress: &dyn TransferObserver,
    ) -> Result<()> {
        self.in_parallel(blobs, |blob| self.download_blob(repository, blob, progress))
            .map(drop)
    }

    /// Pushes one blob to `repository`, unless it is there already. `mount_from` names a
    /// repository of the same registry that holds it, to mount instead of uploading.
    pub fn push_blob(
        &self,
        repository: &Reference,
        blob: &BlobUpload,
        mount_from: Option<&Reference>,
        progress: &dyn TransferObserver,
    ) -> Result<BlobPushed> {
        let endpoint = self.push_endpoint(repository.domain())?;
        let target = Target {
            endpoint: &endpoint,
            repository: repository.path(),
        };
        let (mount_from, scopes) = push_scopes(repository, mount_from);
        let mut location = match self.start_push(&target, &scopes, &blob.digest, mount_from)? {
            Start::There(how) => return Ok(how),
            Start::Upload(location) => location,
        };
        let report = |done: u64| progress.moved(&blob.digest, done);
        let finish = if blob.size > CHUNK_SIZE {
            location = self.upload_chunks(&target, &scopes, blob, location, &report)?;
            Payload::Bytes(&[])
        } else {
            Payload::File {
                path: &blob.path,
                offset: 0,
                len: blob.size,
                progress: &report,
            }
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!(
            "{location}{separator}digest={}",
            percent_encode(&blob.digest.to_string())
        );
        let request = Request::new(Method::PUT, url)
            .header("Content-Type", "application/octet-stream")
            .body(finish);
        let response = self.send(&target, &scopes, &request)?;
        if !response.status().is_success() {
            return Err(target.error_from(
                response,
                "finish upload",
                Some(Object::Blob(&blob.digest)),
            ));
        }
        Ok(BlobPushed::Uploaded)
    }

    /// Whether `repository` has blob `digest` already, or has it now, mounted from
    /// `mount_from` (another repository of the same registry) without moving bytes; `None`
    /// when it would have to be uploaded (an upload the mount attempt opened is cancelled).
    pub fn find_blob(
        &self,
        repository: &Reference,
        digest: &Digest,
        mount_from: Option<&Reference>,
    ) -> Result<Option<BlobPushed>> {
        let endpoint = self.push_endpoint(repository.domain())?;
        let target = Target {
            endpoint: &endpoint,
            repository: repository.path(),
        };
        let (mount_from, scopes) = push_scopes(repository, mount_from);
        if mount_from.is_none() {
            let there = self.has_blob(&target, &scopes, digest)?;
            return Ok(there.then_some(BlobPushed::Existed));
        }
        match self.start_push(&target, &scopes, digest, mount_from)? {
            Start::There(how) => Ok(Some(how)),
            Start::Upload(location) => {
                // Registries drop abandoned uploads in time; a failed cancel does no harm.
                let _ = self.send(&target, &scopes, &Request::new(Method::DELETE, location));
                Ok(None)
            }
        }
    }

    /// Whether the repository has blob `digest` (HEAD).
    fn has_blob(&self, target: &Target, scopes: &[String], digest: &Digest) -> Result<bool> {
        let url = target.url(&format!("blobs/{digest}"));
        let head = self.send(target, scopes, &Request::new(Method::HEAD, url))?;
        match head.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(target.error_from(head, "check blob", Some(Object::Blob(digest)))),
        }
    }

    /// Checks whether the repository has `digest`, else starts an upload (a mount when
    /// `mount_from` is given, which the registry may answer with an upload instead).
    fn start_push(
        &self,
        target: &Target,
        scopes: &[String],
        digest: &Digest,
        mount_from: Option<&Reference>,
    ) -> Result<Start> {
        if self.has_blob(target, scopes, digest)? {
            return Ok(Start::There(BlobPushed::Existed));
        }
        let mut start = target.url("blobs/uploads/");
        if let Some(from) = mount_from {
            start.push_str(&format!(
                "?mount={}&from={}",
                percent_encode(&digest.to_string()),
                percent_encode(from.path())
            ));
        }
        let request = Request::new(Method::POST, start).body(Payload::Bytes(&[]));
        let response = self.send(target, scopes, &request)?;
        match response.status().as_u16() {
            201 if mount_from.is_some() => Ok(Start::There(BlobPushed::Mounted)),
            // 202 also answers a mount the registry could not do: upload instead.
            202 => Ok(Start::Upload(upload_location(target, &response)?)),
            _ => Err(target.error_from(response, "start upload", None)),
        }
    }

    /// Pushes blobs in parallel; the answer for each blob, in order.
    pub fn push_blobs(
        &self,
        repository: &Reference,
        blobs: &[BlobUpload],
        mount_from: Option<&Reference>,
        progress: &dyn TransferObserver,
    ) -> Result<Vec<BlobPushed>> {
        self.in_parallel(blobs, |blob| {
            self.push_blob(repository, blob, mount_from, progress)
        })
    }

    /// Sends the blob in PATCH chunks of [`CHUNK_SIZE`]; returns where to finish the upload.
    fn upload_chunks(
        &self,
        target: &Target,
        scopes: &[String],
        blob: &BlobUpload,
        mut location: String,
        report: &dyn Fn(u64),
    ) -> Result<String> {
        let mut offset = 0;
        while offset < blob.size {
            let len = CHUNK_SIZE.min(blob.size - offset);
            let sent_before = offset;
            let chunk_progress = |done: u64| report(sent_before + done);
            let request = Request::new(Method::PATCH, location)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", format!("{offset}-{}", offset + len - 1))
                .body(Payload::File {
                    path: &blob.path,
                    offset,
                    len,
                    progress: &chunk_progress,
                });
            let response = self.send(target, scopes, &request)?;
            if response.status().as_u16() != 202 {
                return Err(target.error_from(response, "upload chunk", None));
            }
            location = upload_location(target, &response)?;
            offset += len;
        }
        Ok(location)
    }

    /// One GET of a blob, from `existing` bytes on if the file has some.
    fn download_once(
        &self,
        target: &Target,
        blob: &BlobDownload,
        existing: u64,
        progress: &dyn TransferObserver,
    ) -> Result<()> {
        let report = |done: u64| progress.moved(&blob.digest, done);
        let path = &blob.path;
        // A file longer than the blob cannot be its start.
        let existing = if blob.size.is_some_and(|size| existing > size) {
            0
        } else {
            existing
        };
        let mut request = Request::new(Method::GET, target.url(&format!("blobs/{}", blob.digest)));
        if existing > 0 {
            request = request.header("Range", format!("bytes={existing}-"));
        }
        let response = self.send(
            target,
            &[repository_scope(target.repository, "pull")],
            &request,
        )?;
        let (kept, body) = match response.status().as_u16() {
            206 if existing > 0 => (existing, Some(response)),
            // The file already holds the whole blob.
            416 if existing > 0 => (existing, None),
            // The registry ignored the range: start over.
            200 => (0, Some(response)),
            _ => {
                return Err(target.error_from(
                    response,
                    "get blob",
                    Some(Object::Blob(&blob.digest)),
                ))
            }
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .at("open", path)?;
        file.set_len(kept).at("truncate", path)?;
        // What is on disk goes through the hasher, then what arrives.
        let mut writer = Sha256Writer::new(Appender {
            file: BufWriter::new(file),
            skip: kept,
        });
        let prefix = File::open(path).at("open", path)?;
        io::copy(&mut prefix.take(kept), &mut writer).at("read", path)?;
        if let Some(response) = body {
            // One byte past the expected size shows a registry sending too much.
            let limit = blob.size.map_or(u64::MAX, |size| size - kept + 1);
            receive(
                target.endpoint,
                response,
                limit,
                kept,
                &report,
                &mut writer,
                path,
            )?;
        }
        progress.verifying(&blob.digest);
        let (actual, _, appender) = writer.finish();
        let file = appender
            .file
            .into_inner()
            .map_err(|e| e.into_error())
            .at("write", path)?;
        file.sync_data().at("sync", path)?;
        if actual != blob.digest {
            std::fs::remove_file(path).at("remove", path)?;
            return Err(RegistryError::DigestMismatch {
                registry: target.registry(),
                repository: target.repository.to_string(),
                object: "blob".into(),
                expected: blob.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Runs `work` on each item on at most `max_concurrent_transfers` threads. After an
    /// error no new item starts; the first error is returned.
    fn in_parallel<T: Sync, R: Send>(
        &self,
        items: &[T],
        work: impl Fn(&T) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Mutex<Vec<Option<Result<R>>>> =
            Mutex::new(items.iter().map(|_| None).collect());
        let threads = self
            .settings
            .max_concurrent_transfers
            .clamp(1, items.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let result = work(item);
                        failed.fetch_or(result.is_err(), Ordering::Relaxed);
                        results.lock().expect("results lock")[i] = Some(result);
                    }
                });
            }
        });
        // Without an error every item ran; with one, the first (by index) is the answer.
        let mut done = Vec::with_capacity(items.len());
        for result in results
            .into_inner()
            .expect("results lock")
            .into_iter()
            .flatten()
        {
            done.push(result?);
        }
        Ok(done)
    }
}

/// Copies the response body into `writer`, telling network errors from disk errors.
fn receive(
    endpoint: &Endpoint,
    response: Response<Body>,
    limit: u64,
    start: u64,
    report: &dyn Fn(u64),
    writer: &mut impl Write,
    path: &Path,
) -> Result<()> {
    let mut body = Progress {
        inner: response.into_body().into_reader().take(limit),
        done: start,
        report,
    };
    let mut buffer = vec![0; 256 * 1024];
    let received = loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(transport_error(&endpoint.host.authority, e.into())),
        };
        if let Err(e) = writer.write_all(&buffer[..n]) {
            break Err(e).at("write", path);
        }
    };
    // Keep what arrived before a broken connection: the next attempt resumes after it.
    let flushed = writer.flush().at("write", path);
    received.and(flushed)
}

/// Passes the first `skip` bytes (already on disk) through without writing them again.
struct Appender {
    file: BufWriter<File>,
    skip: u64,
}

impl Write for Appender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.skip > 0 {
            let n = buf
                .len()
                .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
            self.skip -= n as u64;
            return Ok(n);
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn file_len(path: &Path) -> Result<u64> {
    match std::fs::metadata(path) {
        Ok(metadata) => Ok(metadata.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e).at("stat", path),
    }
}

/// The upload URL from a `Location` header, made absolute.
/// Where a push stands after its first requests.
enum Start {
    /// The repository has the blob (it had it, or it was mounted).
    There(BlobPushed),
    /// An upload is open at this location.
    Upload(String),
}

/// The mount source that can serve (same registry, another repository) and the token
/// scopes a push needs.
fn push_scopes<'a>(
    repository: &Reference,
    mount_from: Option<&'a Reference>,
) -> (Option<&'a Reference>, Vec<String>) {
    let mount_from = mount_from
        .filter(|from| from.domain() == repository.domain() && from.path() != repository.path());
    let mut scopes = vec![repository_scope(repository.path(), "pull,push")];
    if let Some(from) = mount_from {
        scopes.push(repository_scope(from.path(), "pull"));
    }
    (mount_from, scopes)
}

fn upload_location(target: &Target, response: &Response<Body>) -> Result<String> {
    let location = response
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| RegistryError::Http {
            registry: target.registry(),
            repository: target.repository.to_string(),
            operation: "upload: the registry gave no Location".into(),
            status: response.status().as_u16(),
            errors: Default::default(),
        })?;
    Ok(if location.starts_with('/') {
        format!("{}{location}", target.endpoint.base)
    } else {
        location.to_string()
    })
}
