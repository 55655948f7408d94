//! Regular files of a layer created on worker threads while the unpacker keeps reading the
//! archive: on this kind of disk most of an unpack's time is the kernel creating inodes, and
//! that work runs in parallel, while decompressing and parsing the tar stream cannot.
//!
//! The unpacker stays the only one to decide what exists where: it creates every folder,
//! symlink, device and hard link itself, and hands a worker only a new file at a path whose
//! parents it has made. Anything that needs a queued file to exist, or to be gone (a hard link
//! to it, a later entry at its path or at a folder above it), first waits with
//! [`FileWriters::drain`] until every queued file is written.

use std::collections::HashSet;
use std::fs::{FileTimes, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Condvar, Mutex};
use std::thread::Scope;
use std::time::SystemTime;

use rustix::fs::XattrFlags;

use crate::error::{IoResultExt, Result, StoreError};

/// Files queued at most at once: bounds the memory of contents read ahead.
const QUEUE_LEN: usize = 64;
/// Larger files are written by the unpacker itself, so no more than `QUEUE_LEN` times this
/// is ever held in memory.
pub(crate) const MAX_QUEUED_FILE: u64 = 1 << 20;

/// What a regular file gets besides its content.
pub(crate) struct FileMeta {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub mtime: SystemTime,
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// Creates the regular file `full` (which must not exist; never through a symlink) with
/// `content` and `meta`. Returns the content's size.
pub(crate) fn create_file(full: &Path, mut content: impl Read, meta: &FileMeta) -> Result<u64> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(full)
        .at("create file", full)?;
    let size = io::copy(&mut content, &mut file).at("write", full)?;
    std::os::unix::fs::fchown(&file, Some(meta.uid), Some(meta.gid)).at("chown", full)?;
    // After chown, which clears set-id bits.
    file.set_permissions(Permissions::from_mode(meta.mode))
        .at("chmod", full)?;
    for (name, value) in &meta.xattrs {
        rustix::fs::fsetxattr(&file, name.as_str(), value, XattrFlags::empty())
            .map_err(io::Error::from)
            .at("set xattr on", full)?;
    }
    file.set_times(
        FileTimes::new()
            .set_modified(meta.mtime)
            .set_accessed(meta.mtime),
    )
    .at("set times on", full)?;
    Ok(size)
}

pub(crate) struct FileJob {
    full: PathBuf,
    content: Vec<u8>,
    meta: FileMeta,
}

/// What the workers and the unpacker share.
pub(crate) struct Shared {
    jobs: Mutex<Receiver<FileJob>>,
    /// Files queued and not yet written (or skipped).
    outstanding: Mutex<usize>,
    idle: Condvar,
    /// The first worker error; later jobs are skipped.
    error: Mutex<Option<StoreError>>,
    /// Set when the unpack stops early: queued files are skipped.
    abandoned: AtomicBool,
}

/// The unpacker's handle on the workers.
pub(crate) struct FileWriters<'a> {
    jobs: SyncSender<FileJob>,
    shared: &'a Shared,
    /// Paths (relative to the layer root) queued since the last drain.
    queued: HashSet<PathBuf>,
}

/// The channel's receiving side, shared by the workers, and the sending side for
/// [`FileWriters::start`].
pub(crate) fn channel() -> (SyncSender<FileJob>, Shared) {
    let (sender, receiver) = sync_channel(QUEUE_LEN);
    let shared = Shared {
        jobs: Mutex::new(receiver),
        outstanding: Mutex::new(0),
        idle: Condvar::new(),
        error: Mutex::new(None),
        abandoned: AtomicBool::new(false),
    };
    (sender, shared)
}

impl<'a> FileWriters<'a> {
    /// Starts `workers` threads in `scope`; they end when the returned handle is dropped.
    pub(crate) fn start<'scope>(
        scope: &'scope Scope<'scope, '_>,
        sender: SyncSender<FileJob>,
        shared: &'a Shared,
        workers: usize,
    ) -> Self
    where
        'a: 'scope,
    {
        for _ in 0..workers.max(1) {
            scope.spawn(move || shared.work());
        }
        Self {
            jobs: sender,
            shared,
            queued: HashSet::new(),
        }
    }

    /// Queues the new file `full` (at `rel` in the layer). Fails with a worker's error if
    /// one has failed.
    pub(crate) fn queue(
        &mut self,
        rel: &Path,
        full: PathBuf,
        content: Vec<u8>,
        meta: FileMeta,
    ) -> Result<()> {
        self.check()?;
        *self.shared.outstanding.lock().expect("writer count lock") += 1;
        self.queued.insert(rel.to_path_buf());
        self.jobs
            .send(FileJob {
                full,
                content,
                meta,
            })
            .expect("file writers live as long as their handle");
        Ok(())
    }

    /// Whether `rel` was queued since the last drain (so it may not exist yet).
    pub(crate) fn is_queued(&self, rel: &Path) -> bool {
        self.queued.contains(rel)
    }

    /// Whether any file is queued since the last drain.
    pub(crate) fn any_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Waits until every queued file is written; fails with a worker's error.
    pub(crate) fn drain(&mut self) -> Result<()> {
        let mut outstanding = self.shared.outstanding.lock().expect("writer count lock");
        while *outstanding > 0 {
            outstanding = self
                .shared
                .idle
                .wait(outstanding)
                .expect("writer count lock");
        }
        drop(outstanding);
        self.queued.clear();
        self.check()
    }

    fn check(&self) -> Result<()> {
        match self.shared.error.lock().expect("writer error lock").take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl Drop for FileWriters<'_> {
    fn drop(&mut self) {
        // After a drain nothing is left; otherwise the unpack failed and its folder goes.
        self.shared.abandoned.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    fn work(&self) {
        loop {
            let job = self.jobs.lock().expect("writer queue lock").recv();
            let Ok(job) = job else { return };
            let failed = self.error.lock().expect("writer error lock").is_some();
            if !failed && !self.abandoned.load(Ordering::Relaxed) {
                if let Err(error) = create_file(&job.full, job.content.as_slice(), &job.meta) {
                    self.error
                        .lock()
                        .expect("writer error lock")
                        .get_or_insert(error);
                }
            }
            let mut outstanding = self.outstanding.lock().expect("writer count lock");
            *outstanding -= 1;
            if *outstanding == 0 {
                self.idle.notify_all();
            }
        }
    }
}
