//! The image store. It owns everything an image is made of on disk and never touches the
//! network.
//!
//! Layout under the store root (`WHARF_ROOT`, default `/var/lib/wharf`):
//!
//! ```text
//! version                      the layout's version (2: layers kept as tree + tar-split record)
//! lock                         flock: shared while content is added or read, exclusive for gc
//! blobs/sha256/<hex>           content-addressed blobs: manifests and configs (layer blobs
//!                              only while being unpacked, or in a store of layout 1)
//! blobs/tmp/                   blobs being written (temp file, fsync, rename into sha256/)
//! layers/<chain-id hex>/diff/  a layer unpacked once, in overlayfs form (an overlay lowerdir)
//! layers/<chain-id hex>/layer.json   what the layer is: diff id, parent chain id, size, and
//!                              the blobs (compressed forms) it is known as
//! layers/<chain-id hex>/tar-split.zst  what gives the layer's exact tar back from diff/
//!                              (headers, padding, content the tree lacks; see `tar_split`)
//! layers/tmp/                  layers being unpacked (`chattr +T`; renamed into place once on disk)
//! images/index.json            every image (id -> manifest) and every tag (ref -> id)
//! images/index.lock            flock held while index.json is read, changed and replaced
//! build-cache/records/<key>.json   what a build step produced (its layer), by cache key
//! build-cache/mounts/<id>/     `RUN --mount=type=cache` folders, kept across builds
//! ```
//!
//! Every change becomes visible through one atomic rename, so a crash at any point leaves a
//! readable store; what a crash leaves in the `tmp/` folders is removed by [`Store::gc`] or
//! [`Store::check`] under the exclusive lock, when no other process can be using it.

mod atomic;
mod blobs;
mod build_cache;
mod check;
mod diff;
mod error;
mod extract;
mod file_writers;
mod gc;
mod image;
mod index;
mod layer_tar;
mod layers;
mod lock;
mod migrate;
mod mounts;
mod read_ahead;
mod tar_split;
mod usage;

pub use atomic::{sync_dir, write_file_durably};
pub use blobs::{sniff_compression, BlobStore, Compression, Encoder, LayerCompression};
pub use build_cache::{unmount_step_dir, BuildLayer, BuildRecord};
pub use check::{CheckReport, Problem};
pub use diff::NewLayer;
pub use error::{IoResultExt, StoreError};
pub use gc::GcReport;
pub use image::{parse_manifest, Committed, Image, ImageLayer};
pub use index::{ImageRecord, Index};
pub use layers::{chain_id, chain_ids, LayerForm, LayerInfo, LayerToUnpack, UnpackStep};
pub use lock::{lock_file, ExclusiveLock, SharedLock};
pub use mounts::mount_points;
pub use usage::disk_bytes;

use std::path::{Path, PathBuf};

use error::Result;

/// An open store. Cheap to clone: it is only the root path.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the store at `root`, creating its folders if they do not exist yet.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let store = Self { root: root.into() };
        for dir in [
            store.root.join("blobs/sha256"),
            store.root.join("blobs/tmp"),
            store.root.join("layers/tmp"),
            store.root.join("images"),
        ] {
            std::fs::create_dir_all(&dir).at("create directory", &dir)?;
        }
        mark_top_of_trees(&store.layers_dir().join("tmp"));
        store.migrate_if_needed()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blobs(&self) -> BlobStore {
        BlobStore::new(self.root.join("blobs"))
    }

    /// Held by every process that adds or reads content, so that gc never removes what an
    /// unfinished operation is about to reference.
    pub fn shared_lock(&self) -> Result<SharedLock> {
        SharedLock::acquire(&self.root.join("lock"))
    }

    /// Held by gc and deletes: no other process adds or reads content meanwhile.
    pub fn exclusive_lock(&self) -> Result<ExclusiveLock> {
        ExclusiveLock::acquire(&self.root.join("lock"))
    }

    /// The exclusive lock if it is free right now: for cleanup that may as well wait for the
    /// next gc when other processes are busy.
    pub fn try_exclusive_lock(&self) -> Result<Option<ExclusiveLock>> {
        ExclusiveLock::try_acquire(&self.root.join("lock"))
    }

    fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("images/index.json")
    }

    fn index_lock_path(&self) -> PathBuf {
        self.root.join("images/index.lock")
    }
}

/// Tells ext4 that each folder made in `dir` is the top of a tree of its own (`chattr +T`),
/// so it places each unpacked layer in a block group of its own choosing instead of next to
/// the previous one. Besides spreading layers over the disk, this keeps new layers away from
/// the inodes of layers just deleted: on ext4 without a journal, the search for each new
/// inode otherwise steps over every inode of its group freed in the last minute (five while
/// not written back), which made unpacking a large layer right after removing one several
/// times slower. A hint only: filesystems without the flag refuse it, and nothing changes.
fn mark_top_of_trees(dir: &Path) {
    use rustix::fs::{ioctl_getflags, ioctl_setflags, IFlags};
    let Ok(folder) = std::fs::File::open(dir) else {
        return;
    };
    if let Ok(flags) = ioctl_getflags(&folder) {
        if !flags.contains(IFlags::TOPDIR) {
            let _ = ioctl_setflags(&folder, flags | IFlags::TOPDIR);
        }
    }
}
