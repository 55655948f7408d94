//! `system df`: the bytes on disk of images, containers, volumes and the build cache, as
//! `du -sb` counts them ([`wharf_store::disk_bytes`]), so that the four sizes add up to `du`
//! of the state root but for its few small index files.
//!
//! What is counted where:
//! - an image: its manifest and config blobs, its unpacked layers (each folder with its
//!   tar-split record), and layer blobs where a store of the former layout still keeps them
//!   (0 once migrated); a blob or layer several images share is SHARED SIZE in each
//!   and counted once in the total. This is bytes on disk, where `images` SIZE is Docker's
//!   unpacked size.
//! - a container: its whole folder: writable layer (`upper`), overlay `work`, log, config.
//! - a volume: its folder.
//! - the build cache: the blobs and layers only build records keep, the records, the cache
//!   mounts of `RUN --mount=type=cache` and the work folders of running steps.

use std::collections::{HashMap, HashSet};

use wharf_oci::{Digest, Reference};

use crate::error::Result;
use crate::{ContainerInfo, Engine, Volume};

/// `system df`: the four rows, and `-v`'s lists behind them.
#[derive(Debug)]
pub struct DiskUsage {
    pub images: Usage,
    pub containers: Usage,
    pub volumes: Usage,
    pub build_cache: Usage,
    pub image_rows: Vec<ImageUsage>,
    pub container_rows: Vec<ContainerUsage>,
    pub volume_rows: Vec<VolumeUsage>,
    pub cache_rows: Vec<CacheUsage>,
}

/// One row of `system df`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub total: usize,
    /// Images and volumes used by a container (any state), running containers; nothing of
    /// the build cache is in use outside a build.
    pub active: usize,
    /// Bytes on disk (see the module doc for what is counted where).
    pub size: u64,
    /// Bytes that removing what is not active would free.
    pub reclaimable: u64,
}

/// One image of `system df -v`.
#[derive(Debug)]
pub struct ImageUsage {
    pub id: Digest,
    pub tags: Vec<Reference>,
    pub created: Option<String>,
    /// Its blobs and layers on disk.
    pub size: u64,
    /// Of `size`, what other images reference too.
    pub shared_size: u64,
    /// Containers made from it.
    pub containers: usize,
}

/// One container of `system df -v`.
#[derive(Debug)]
pub struct ContainerUsage {
    pub info: ContainerInfo,
    /// Its folder: writable layer, log and config.
    pub size: u64,
}

/// One volume of `system df -v`.
#[derive(Debug)]
pub struct VolumeUsage {
    pub volume: Volume,
    /// Containers that mount it.
    pub links: usize,
    pub size: u64,
}

/// One build record of `system df -v`.
#[derive(Debug)]
pub struct CacheUsage {
    /// Its cache key (hex).
    pub id: String,
    pub created: String,
    /// The bytes of its layer (blob and tree) and record.
    pub size: u64,
    /// Its layer is also an image's: removing the record frees only the record.
    pub shared: bool,
}

/// What an image or build record keeps on disk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Piece {
    Blob(Digest),
    Layer(Digest),
}

impl Engine {
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let index = self.store.index()?;
        let containers = self.list_containers()?;
        let mut sizes: HashMap<Piece, u64> = HashMap::new();
        let mut size_of = |piece: &Piece| {
            *sizes.entry(piece.clone()).or_insert_with(|| match piece {
                Piece::Blob(digest) => self.store.blob_disk_bytes(digest),
                Piece::Layer(chain_id) => self.store.layer_disk_bytes(chain_id),
            })
        };

        // Images, and which pieces each keeps.
        let mut pieces_of: Vec<(Digest, HashSet<Piece>)> = Vec::new();
        for (id, record) in &index.images {
            let mut pieces = HashSet::from([
                Piece::Blob(record.manifest.clone()),
                Piece::Blob(id.clone()),
            ]);
            if let Ok(image) = self.store.image(&index, id) {
                for layer in image.layers().unwrap_or_default() {
                    pieces.insert(Piece::Blob(layer.blob));
                    pieces.insert(Piece::Layer(layer.chain_id));
                }
            }
            pieces_of.push((id.clone(), pieces));
        }
        let mut holders: HashMap<&Piece, usize> = HashMap::new();
        for piece in pieces_of.iter().flat_map(|(_, pieces)| pieces) {
            *holders.entry(piece).or_default() += 1;
        }
        let users = |id: &Digest| {
            containers
                .iter()
                .filter(|c| &c.record.image_id == id)
                .count()
        };
        let mut image_rows = Vec::new();
        let mut active_pieces = HashSet::new();
        for (id, pieces) in &pieces_of {
            let containers = users(id);
            if containers > 0 {
                active_pieces.extend(pieces.iter().cloned());
            }
            let size = pieces.iter().map(&mut size_of).sum();
            let shared_size = pieces
                .iter()
                .filter(|p| holders[p] > 1)
                .map(&mut size_of)
                .sum();
            let created = self
                .store
                .image(&index, id)
                .ok()
                .and_then(|i| i.config.created);
            image_rows.push(ImageUsage {
                id: id.clone(),
                tags: index.tags_of(id),
                created,
                size,
                shared_size,
                containers,
            });
        }
        let images_size: u64 = holders.keys().map(|p| size_of(p)).sum();
        let active_size: u64 = active_pieces.iter().map(&mut size_of).sum();
        let images = Usage {
            total: image_rows.len(),
            active: image_rows.iter().filter(|r| r.containers > 0).count(),
            size: images_size,
            reclaimable: images_size - active_size,
        };

        let mut containers_usage = Usage {
            total: containers.len(),
            ..Usage::default()
        };
        let mut container_rows = Vec::new();
        for info in containers.iter().cloned() {
            let size = self.container_disk_bytes(&info.record.id);
            containers_usage.size += size;
            if info.state.status.is_up() {
                containers_usage.active += 1;
            } else {
                containers_usage.reclaimable += size;
            }
            container_rows.push(ContainerUsage { info, size });
        }

        let mut volumes_usage = Usage::default();
        let mut volume_rows = Vec::new();
        for volume in self.list_volumes()? {
            let size = volume
                .mountpoint
                .parent()
                .map_or(0, wharf_store::disk_bytes);
            let links = containers
                .iter()
                .filter(|c| c.record.volumes.iter().any(|v| v.name == volume.name))
                .count();
            volumes_usage.total += 1;
            volumes_usage.size += size;
            if links > 0 {
                volumes_usage.active += 1;
            } else {
                volumes_usage.reclaimable += size;
            }
            volume_rows.push(VolumeUsage {
                volume,
                links,
                size,
            });
        }

        // The build cache: records, their pieces no image keeps, cache mounts, steps.
        let cache_dir = self.store.build_cache_dir();
        let mut cache_rows = Vec::new();
        let mut cache_pieces = HashSet::new();
        for (key, record) in self.store.keyed_build_records()? {
            let record_size =
                wharf_store::disk_bytes(&cache_dir.join("records").join(format!("{key}.json")));
            let mut row = CacheUsage {
                id: key,
                created: record.created,
                size: record_size,
                shared: false,
            };
            if let Some(layer) = record.layer {
                for piece in [Piece::Blob(layer.blob), Piece::Layer(layer.chain_id)] {
                    row.size += size_of(&piece);
                    row.shared |= holders.contains_key(&piece);
                    if !holders.contains_key(&piece) {
                        cache_pieces.insert(piece);
                    }
                }
            }
            cache_rows.push(row);
        }
        // The folder itself holds the records, mounts and running steps.
        let cache_size = wharf_store::disk_bytes(&cache_dir)
            + cache_pieces.iter().map(&mut size_of).sum::<u64>();
        Ok(DiskUsage {
            images,
            containers: containers_usage,
            volumes: volumes_usage,
            build_cache: Usage {
                total: cache_rows.len(),
                active: 0,
                size: cache_size,
                reclaimable: cache_size,
            },
            image_rows,
            container_rows,
            volume_rows,
            cache_rows,
        })
    }
}
