//! The build executor: runs graph steps on the store's layers. Each step gets a work folder
//! under `build-cache/steps/` with an overlay (the parent's layers below, a fresh upper dir
//! above); what the step leaves in the upper dir becomes its layer. COPY and WORKDIR work on
//! the mounted overlay from this process; RUN runs in a container through a child process
//! (`__build-step`), because libcontainer needs a single-threaded caller.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use wharf_build::context::{self, CopyOptions, SourceTree};
use wharf_build::{
    Cache, CacheRecord, CacheSharing, CopyOp, ExecMount, ExecOp, Executor, FileSource, Layer,
    MkdirOp, Network, Op, RemoteSource, StepError, StepRun,
};
use wharf_oci::Digest;
use wharf_runtime::{Mount, NetworkMode, Process, RunConfig};
use wharf_store::{BuildLayer, BuildRecord, LayerCompression, LayerToUnpack, Store};

use super::downloads::Downloads;
use crate::containers::resolve_user;
use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// The hidden subcommand that runs one RUN step in a container.
pub const BUILD_STEP_COMMAND: &str = "__build-step";
/// In a step's work folder: the run config the child reads, and what it reports.
const STEP_CONFIG: &str = "step.json";
const STEP_OUTCOME: &str = "outcome.json";
/// Where RUN steps find the host's CA bundle when asked for it.
const HOST_CA_TARGET: &str = "/run/wharf-host-ca.crt";
/// The hostname of RUN steps, as BuildKit's.
const BUILD_HOSTNAME: &str = "buildkitsandbox";

/// What the `__build-step` child reports.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StepOutcome {
    Exited(i32),
    Failed(String),
}

/// A secret given with `--secret`.
#[derive(Debug, Clone)]
pub struct Secret {
    pub id: String,
    pub value: Vec<u8>,
}

pub(crate) struct StepExecutor<'a> {
    pub engine: &'a Engine,
    /// `ADD <url>` files of this build.
    pub downloads: Downloads,
    pub context: SourceTree,
    pub secrets: &'a [Secret],
    /// `SOURCE_DATE_EPOCH`: caps layer file times.
    pub epoch: Option<u64>,
    pub compression: LayerCompression,
    /// The host's CA bundle, for steps that ask for it.
    pub host_ca_bundle: Option<PathBuf>,
}

impl Executor for StepExecutor<'_> {
    fn context_digest(&self, sources: &[String], exclude: &[String]) -> Result<String, StepError> {
        let matches = self.context.resolve(sources, exclude)?;
        Ok(self.context.digest(&matches, exclude)?)
    }

    fn remote_digest(&self, source: &RemoteSource) -> Result<String, StepError> {
        let (_, fetched) = self.downloads.get(self.engine, source)?;
        let modified = fetched
            .last_modified
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        Ok(format!("{} modified {modified:?}", fetched.digest))
    }

    fn execute(&self, step: &StepRun<'_>) -> Result<Option<Layer>, StepError> {
        let work = StepDir::new(self.engine.store())?;
        match step.op {
            Op::Copy(copy) => self.copy(&work, step, copy),
            Op::Mkdir(mkdir) => self.mkdir(&work, step.layers, mkdir),
            Op::Exec(exec) => self.exec(&work, step, exec),
        }?;
        let layer = self.commit(&work, step.layers)?;
        work.remove()?;
        Ok(layer)
    }

    fn rebase(&self, layer: &Layer, below: &[Layer]) -> Result<Layer, StepError> {
        let parent = below.last().map(|l| l.chain_id.clone());
        let chain_id = wharf_store::chain_id(parent.as_ref(), &layer.diff_id);
        // The same files under another chain id: unpacked again from the same tar, once.
        self.engine.store().unpack_layer_like(
            &LayerToUnpack {
                blob: layer.blob.clone(),
                diff_id: layer.diff_id.clone(),
                chain_id: chain_id.clone(),
                parent,
            },
            &layer.chain_id,
        )?;
        Ok(Layer {
            chain_id,
            ..layer.clone()
        })
    }
}

impl Cache for StepExecutor<'_> {
    fn load(&self, key: &Digest) -> Option<CacheRecord> {
        let record = self.engine.store().build_record(key).ok()??;
        Some(CacheRecord {
            layer: record.layer.map(|l| Layer {
                diff_id: l.diff_id,
                blob: l.blob,
                media_type: l.media_type,
                size: l.size,
                chain_id: l.chain_id,
            }),
            created: record.created,
        })
    }

    fn save(&self, key: &Digest, record: &CacheRecord) -> Result<(), StepError> {
        let layer = record.layer.as_ref().map(|layer| BuildLayer {
            diff_id: layer.diff_id.clone(),
            blob: layer.blob.clone(),
            media_type: layer.media_type.clone(),
            size: layer.size,
            chain_id: layer.chain_id.clone(),
        });
        self.engine.store().save_build_record(
            key,
            &BuildRecord {
                layer,
                created: record.created.clone(),
            },
        )?;
        Ok(())
    }
}

impl StepExecutor<'_> {
    /// The lower dirs of an overlay of `layers` (bottom first), top first as overlayfs wants.
    fn lower_dirs(&self, layers: &[Layer], work: &StepDir) -> Result<Vec<PathBuf>> {
        let store = self.engine.store();
        let mut dirs: Vec<PathBuf> = layers
            .iter()
            .rev()
            .map(|layer| store.layer_diff_dir(&layer.chain_id))
            .collect();
        if dirs.is_empty() {
            // FROM scratch: overlayfs needs a lower dir, an empty one will do.
            let empty = work.path.join("empty");
            fs::create_dir_all(&empty).at("create directory", &empty)?;
            dirs.push(empty);
        }
        Ok(dirs)
    }

    /// Mounts the step's overlay on `merged`; unmounted by [`StepDir`].
    fn mount_rootfs(&self, work: &StepDir, layers: &[Layer]) -> Result<PathBuf> {
        let overlay = wharf_runtime::Overlay {
            lower: self.lower_dirs(layers, work)?,
            upper: work.path.join("upper"),
            work: work.path.join("work"),
            merged: work.path.join("merged"),
            volatile: false,
        };
        overlay.mount()?;
        Ok(overlay.merged)
    }

    /// A read-only view of other layers (a stage or image that COPY --from reads).
    fn mount_source(&self, work: &StepDir, layers: &[Layer], n: usize) -> Result<PathBuf> {
        let lower = self.lower_dirs(layers, work)?;
        if lower.len() == 1 {
            return Ok(lower.into_iter().next().expect("one lower dir"));
        }
        let target = work.path.join(format!("source-{n}"));
        fs::create_dir_all(&target).at("create directory", &target)?;
        let options = format!(
            "lowerdir={}",
            lower
                .iter()
                .map(|p| p.to_string_lossy())
                .collect::<Vec<_>>()
                .join(":")
        );
        rustix::mount::mount(
            "overlay",
            &target,
            "overlay",
            rustix::mount::MountFlags::RDONLY,
            Some(
                std::ffi::CString::new(options)
                    .expect("paths have no NUL")
                    .as_c_str(),
            ),
        )
        .map_err(|e| EngineError::Io {
            op: "mount a read-only overlay on",
            path: target.clone(),
            source: e.into(),
        })?;
        Ok(target)
    }

    fn source_tree(
        &self,
        work: &StepDir,
        step: &StepRun<'_>,
        from: &FileSource,
        n: usize,
    ) -> Result<SourceTree> {
        Ok(match from {
            FileSource::Context => self.context.clone(),
            FileSource::Stage(stage) => {
                SourceTree::rootfs(self.mount_source(work, &step.stage_layers[*stage], n)?)
            }
            FileSource::Image { layers, .. } => {
                SourceTree::rootfs(self.mount_source(work, layers, n)?)
            }
        })
    }

    fn copy(&self, work: &StepDir, step: &StepRun<'_>, op: &CopyOp) -> Result<(), StepError> {
        let merged = self.mount_rootfs(work, step.layers)?;
        let chown = match &op.chown {
            Some(spec) => {
                // COPY --link copies onto nothing; names come from the stage's files.
                let users_root = if op.link {
                    self.mount_source(work, step.user_layers, 1)?
                } else {
                    merged.clone()
                };
                let user = resolve_user(spec, std::slice::from_ref(&users_root))?;
                Some((user.uid, user.gid))
            }
            None => None,
        };
        let options = CopyOptions {
            chown,
            chmod: op.chmod,
            excludes: op.exclude.clone(),
            extract_archives: op.extract_archives,
            ..CopyOptions::default()
        };
        let copy_from = |tree: &SourceTree, sources: &[String], options: &CopyOptions| {
            let matches = tree.resolve(sources, &op.exclude)?;
            context::copy(
                tree,
                &matches,
                &merged,
                &op.destination,
                &op.workdir,
                options,
            )
        };
        if !op.sources.is_empty() {
            copy_from(
                &self.source_tree(work, step, &op.from, 0)?,
                &op.sources,
                &options,
            )?;
        }
        // Heredocs and downloads are staged as files, then copied like sources (never
        // extracted).
        if !op.inline.is_empty() || !op.remote.is_empty() {
            let staged = work.path.join("staged");
            fs::create_dir_all(&staged).at("create directory", &staged)?;
            let mut names = Vec::new();
            for (name, content) in &op.inline {
                let path = staged.join(name);
                fs::write(&path, content).at("write", &path)?;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).at("chmod", &path)?;
                names.push(name.clone());
            }
            for remote in &op.remote {
                let (download, _) = self.downloads.get(self.engine, remote)?;
                let name = remote.file_name();
                let path = staged.join(&name);
                fs::hard_link(&download, &path).at("link", &path)?;
                names.push(name);
            }
            let options = CopyOptions {
                extract_archives: false,
                ..options
            };
            copy_from(&SourceTree::context(&staged, None), &names, &options)?;
        }
        Ok(())
    }

    fn mkdir(&self, work: &StepDir, layers: &[Layer], op: &MkdirOp) -> Result<(), StepError> {
        let merged = self.mount_rootfs(work, layers)?;
        let user = resolve_user(&op.user, std::slice::from_ref(&merged))?;
        let mut path = merged.clone();
        for part in op.path.split('/').filter(|p| !p.is_empty()) {
            path.push(part);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => continue,
                // A symlink or file in the way: BuildKit resolves symlinks in scope; keep it
                // simple and refuse rather than write through it.
                Ok(_) => {
                    return Err(format!(
                        "WORKDIR {}: {} exists and is not a directory",
                        op.path,
                        path.strip_prefix(&merged).unwrap_or(&path).display()
                    )
                    .into())
                }
                Err(_) => {
                    fs::create_dir(&path).at("create directory", &path)?;
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                        .at("chmod", &path)?;
                    chown(&path, user.uid, user.gid)?;
                }
            }
        }
        Ok(())
    }

    fn exec(&self, work: &StepDir, step: &StepRun<'_>, op: &ExecOp) -> Result<(), StepError> {
        let lower_dirs = self.lower_dirs(step.layers, work)?;
        let user = resolve_user(&op.user, &lower_dirs)?;
        let mut env = op.env.clone();
        let mut mounts = Vec::new();
        let mut locks = Vec::new();
        for (n, mount) in op.mounts.iter().enumerate() {
            match mount {
                ExecMount::Cache {
                    target, read_only, ..
                } => {
                    let (dir, lock) = self.cache_mount(work, step, n + 1, mount)?;
                    locks.extend(lock);
                    mounts.push(Mount::Bind {
                        source: dir,
                        destination: target.into(),
                        read_only: *read_only,
                        propagation: Default::default(),
                    });
                }
                ExecMount::Bind {
                    target,
                    from,
                    source,
                    read_write,
                } => {
                    let tree = self.source_tree(work, step, from, n + 1)?;
                    let matches = tree.resolve(std::slice::from_ref(source), &[])?;
                    let resolved = tree.root.join(&matches[0].resolved);
                    // A read-write bind must not change the context or a layer: BuildKit
                    // gives the step a copy whose changes are dropped.
                    let source = if *read_write {
                        let copy = work.path.join(format!("bind-{n}"));
                        private_copy(&resolved, &copy)?;
                        copy
                    } else {
                        resolved
                    };
                    mounts.push(Mount::Bind {
                        source,
                        destination: target.into(),
                        read_only: !read_write,
                        propagation: Default::default(),
                    });
                }
                ExecMount::Secret {
                    id,
                    target,
                    env: env_name,
                    required,
                    mode,
                    uid,
                    gid,
                } => {
                    let Some(secret) = self.secrets.iter().find(|s| &s.id == id) else {
                        if *required {
                            return Err(format!("secret {id} is required but was not given").into());
                        }
                        continue;
                    };
                    if let Some(name) = env_name {
                        env.push(format!("{name}={}", String::from_utf8_lossy(&secret.value)));
                    }
                    if let Some(target) = target {
                        let dir = work.path.join("secrets");
                        fs::create_dir_all(&dir).at("create directory", &dir)?;
                        let path = dir.join(format!("{n}"));
                        fs::write(&path, &secret.value).at("write", &path)?;
                        fs::set_permissions(&path, fs::Permissions::from_mode(*mode))
                            .at("chmod", &path)?;
                        chown(&path, *uid, *gid)?;
                        mounts.push(Mount::Bind {
                            source: path,
                            destination: target.into(),
                            read_only: true,
                            propagation: Default::default(),
                        });
                    }
                }
                ExecMount::Tmpfs { target, size } => mounts.push(Mount::Tmpfs {
                    destination: target.into(),
                    size_bytes: *size,
                    mode: None,
                    read_only: false,
                    exec: true,
                }),
            }
        }
        if op.host_ca_certs {
            if let Some(bundle) = &self.host_ca_bundle {
                mounts.push(Mount::Bind {
                    source: bundle.clone(),
                    destination: HOST_CA_TARGET.into(),
                    read_only: true,
                    propagation: Default::default(),
                });
                for name in [
                    "SSL_CERT_FILE",
                    "REQUESTS_CA_BUNDLE",
                    "PIP_CERT",
                    "CURL_CA_BUNDLE",
                ] {
                    env.push(format!("{name}={HOST_CA_TARGET}"));
                }
            }
        }
        let config = RunConfig {
            id: format!("build-{}", random_hex()?),
            container_dir: work.path.clone(),
            lower_dirs,
            process: Process {
                args: op.args.clone(),
                env,
                cwd: op.cwd.clone().into(),
                user: user.ids(),
                tty: false,
                no_new_privileges: false,
            },
            hostname: BUILD_HOSTNAME.into(),
            mounts,
            read_only_rootfs: false,
            resources: Default::default(),
            ulimits: Vec::new(),
            devices: Vec::new(),
            capabilities: Default::default(),
            privileged: false,
            network: match op.network {
                Network::Default | Network::Host => NetworkMode::Host,
                Network::None => NetworkMode::New,
            },
            network_namespace: None,
            init: None,
            // Kept: the step's writable layer becomes the image's next layer.
            ephemeral: false,
            sysctls: Default::default(),
            shm_size: None,
        };
        config
            .validate()
            .map_err(|e| format!("cannot run this step: {e}"))?;
        write_etc_files(&config, op)?;
        let config_path = work.path.join(STEP_CONFIG);
        fs::write(&config_path, serde_json::to_vec(&config)?).at("write", &config_path)?;

        let outcome = self.run_child(&work.path, step.output)?;
        drop(locks);
        remove_mount_points(&config, &work.path.join("upper"));
        match outcome {
            StepOutcome::Exited(0) => Ok(()),
            StepOutcome::Exited(code) => Err(format!(
                "process \"{}\" did not complete successfully: exit code: {code}",
                op.args.join(" ")
            )
            .into()),
            StepOutcome::Failed(message) => Err(message.into()),
        }
    }

    /// Runs `__build-step` on the work folder, streaming its output.
    fn run_child(&self, dir: &Path, output: &(dyn Fn(&[u8]) + Sync)) -> Result<StepOutcome> {
        let exe = std::env::current_exe().at("find", "the wharf executable")?;
        let (reader, writer) = std::io::pipe().at("create a pipe for", dir)?;
        let mut child = Command::new(&exe)
            .arg("--root")
            .arg(self.engine.root())
            .arg("--run-root")
            .arg(&self.engine.run_root)
            .arg(BUILD_STEP_COMMAND)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(writer.try_clone().at("create a pipe for", dir)?)
            .stderr(writer)
            .spawn()
            .at("start", &exe)?;
        let mut reader = reader;
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => output(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).at("read the output of", dir),
            }
        }
        child.wait().at("wait for", &exe)?;
        let path = dir.join(STEP_OUTCOME);
        let bytes = fs::read(&path).at("read", &path)?;
        serde_json::from_slice(&bytes).map_err(|e| EngineError::Io {
            op: "parse",
            path,
            source: e.into(),
        })
    }

    /// `RUN --mount=type=cache` folders persist in the store, one per id (and per `from`
    /// content). Returns the folder and, for locked and private sharing, the lock that the
    /// step holds while it runs.
    fn cache_mount(
        &self,
        work: &StepDir,
        step: &StepRun<'_>,
        n: usize,
        mount: &ExecMount,
    ) -> Result<(PathBuf, Option<fs::File>), StepError> {
        let ExecMount::Cache {
            id,
            sharing,
            from,
            source,
            ..
        } = mount
        else {
            unreachable!("called for cache mounts")
        };
        let key = match from {
            None => id.clone(),
            Some(from) => {
                let base = match from {
                    FileSource::Context => "context".to_owned(),
                    FileSource::Stage(i) => format!("{:?}", step.stage_layers[*i].last()),
                    FileSource::Image { id, .. } => id.to_string(),
                };
                format!("{id}\0{base}\0{source}")
            }
        };
        let name = Digest::of(key.as_bytes()).hex().to_owned();
        let mounts = self.engine.store().build_cache_dir().join("mounts");
        let mut instance = 0;
        loop {
            let dir = match instance {
                0 => mounts.join(&name),
                _ => mounts.join(format!("{name}-{instance}")),
            };
            if !dir.exists() {
                self.create_cache_dir(work, step, n, mount, &dir)?;
            }
            match sharing {
                CacheSharing::Shared => return Ok((dir, None)),
                CacheSharing::Locked => {
                    let lock = lock_dir(&dir, true)?;
                    return Ok((dir, lock));
                }
                // In use: the next instance, made when missing.
                CacheSharing::Private => match lock_dir(&dir, false)? {
                    Some(lock) => return Ok((dir, Some(lock))),
                    None => instance += 1,
                },
            }
        }
    }

    /// A new cache folder: empty with the mount's owner and mode, or a copy of its `from`.
    /// Made aside and renamed into place, so a crash or a concurrent step never sees it half
    /// made.
    fn create_cache_dir(
        &self,
        work: &StepDir,
        step: &StepRun<'_>,
        n: usize,
        mount: &ExecMount,
        dir: &Path,
    ) -> Result<(), StepError> {
        let ExecMount::Cache {
            mode,
            uid,
            gid,
            from,
            source,
            ..
        } = mount
        else {
            unreachable!("called for cache mounts")
        };
        let new = work.path.join(format!("cache-{n}"));
        match from {
            Some(from) => {
                let tree = self.source_tree(work, step, from, n)?;
                let matches = tree.resolve(std::slice::from_ref(source), &[])?;
                private_copy(&tree.root.join(&matches[0].resolved), &new)?;
            }
            None => {
                fs::create_dir(&new).at("create directory", &new)?;
                fs::set_permissions(&new, fs::Permissions::from_mode(*mode)).at("chmod", &new)?;
                chown(&new, *uid, *gid)?;
            }
        }
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent).at("create directory", parent)?;
        }
        match fs::rename(&new, dir) {
            Ok(()) => Ok(()),
            // Another step made it first: use theirs.
            Err(_) if dir.exists() => Ok(fs::remove_dir_all(&new).at("remove", &new)?),
            Err(e) => Err(e).at("rename into place", dir)?,
        }
    }

    /// Unmounts, then stores what the step changed as a layer.
    fn commit(&self, work: &StepDir, layers: &[Layer]) -> Result<Option<Layer>> {
        work.unmount();
        let upper = work.path.join("upper");
        if !upper.exists() {
            return Ok(None);
        }
        let parent = layers.last().map(|l| &l.chain_id);
        let Some(new) =
            self.engine
                .store()
                .add_layer_from_dir(&upper, parent, self.epoch, self.compression)?
        else {
            return Ok(None);
        };
        Ok(Some(Layer {
            diff_id: new.info.diff_id,
            blob: new.info.blob,
            media_type: new.media_type.into(),
            size: new.blob_size,
            chain_id: new.info.chain_id,
        }))
    }
}

/// A step's work folder; dropping it unmounts and removes everything in it.
pub(super) struct StepDir {
    pub path: PathBuf,
}

impl StepDir {
    pub fn new(store: &Store) -> Result<Self> {
        let parent = store.build_steps_dir();
        fs::create_dir_all(&parent).at("create directory", &parent)?;
        let path = parent.join(random_hex()?);
        fs::create_dir(&path).at("create directory", &path)?;
        Ok(Self { path })
    }

    fn unmount(&self) {
        wharf_store::unmount_step_dir(&self.path);
    }

    fn remove(self) -> Result<()> {
        self.unmount();
        let result = fs::remove_dir_all(&self.path).at("remove", &self.path);
        std::mem::forget(self);
        result
    }
}

impl Drop for StepDir {
    fn drop(&mut self) {
        self.unmount();
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 8];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .at("read", "/dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    rustix::fs::chown(
        path,
        Some(rustix::process::Uid::from_raw(uid)),
        Some(rustix::process::Gid::from_raw(gid)),
    )
    .map_err(|e| EngineError::Io {
        op: "chown",
        path: path.to_owned(),
        source: e.into(),
    })
}

/// `sharing=locked`: an exclusive flock on the cache folder for the step's duration.
/// Locks `dir` for this process (released when the file closes). Without `wait`, a lock
/// held elsewhere gives `None`.
fn lock_dir(dir: &Path, wait: bool) -> Result<Option<fs::File>> {
    use rustix::fs::FlockOperation;
    let file = fs::File::open(dir).at("open", dir)?;
    let operation = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    match rustix::fs::flock(&file, operation) {
        Ok(()) => Ok(Some(file)),
        Err(rustix::io::Errno::WOULDBLOCK) if !wait => Ok(None),
        Err(e) => Err(EngineError::Io {
            op: "lock",
            path: dir.to_owned(),
            source: e.into(),
        }),
    }
}

/// A read-write bind mount's private copy, owners and modes kept.
fn private_copy(from: &Path, to: &Path) -> Result<(), StepError> {
    if !from.is_dir() {
        fs::copy(from, to).at("copy", from)?;
        return Ok(());
    }
    fs::create_dir(to).at("create directory", to)?;
    let tree = SourceTree::rootfs(from);
    let matches = tree.resolve(&["/".to_owned()], &[])?;
    context::copy(&tree, &matches, to, "/", "/", &CopyOptions::default())?;
    Ok(())
}

/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` of a RUN step.
fn write_etc_files(config: &RunConfig, op: &ExecOp) -> Result<()> {
    let hostname = config.hostname_path();
    fs::write(&hostname, format!("{BUILD_HOSTNAME}\n")).at("write", &hostname)?;
    let mut hosts = format!(
        "127.0.0.1\tlocalhost {BUILD_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    );
    for entry in &op.extra_hosts {
        if let Some((name, address)) = entry.split_once(':') {
            hosts.push_str(&format!("{address}\t{name}\n"));
        }
    }
    let hosts_path = config.hosts_path();
    fs::write(&hosts_path, hosts).at("write", &hosts_path)?;
    let resolv = config.resolv_conf_path();
    let host_resolv = fs::read("/etc/resolv.conf").unwrap_or_default();
    fs::write(&resolv, host_resolv).at("write", &resolv)?;
    Ok(())
}

/// Mount points the runtime had to create for the step (a secret's file, a cache's
/// folder, `/etc/hosts` in an image without one) are not the step's changes, and neither are
/// the folders overlayfs copied up on the way to them: remove them from the upper dir while
/// they are empty and the layers below have the same folder.
fn remove_mount_points(config: &RunConfig, upper: &Path) {
    let mut targets: Vec<PathBuf> = config
        .mounts
        .iter()
        .map(|m| m.destination().to_owned())
        .collect();
    targets.extend(
        [
            "/etc/hostname",
            "/etc/hosts",
            "/etc/resolv.conf",
            "/proc",
            "/sys",
            "/dev",
            HOST_CA_TARGET,
        ]
        .map(PathBuf::from),
    );
    for target in targets {
        let mut rel = target.strip_prefix("/").unwrap_or(&target).to_owned();
        while !rel.as_os_str().is_empty() {
            if !remove_if_unchanged(upper, &rel, &config.lower_dirs) {
                break;
            }
            rel.pop();
        }
    }
}

/// Removes `upper/rel` if it is an empty folder or empty file that the layers below lack,
/// or an empty folder they have with the same owner and mode. Returns whether it is gone.
fn remove_if_unchanged(upper: &Path, rel: &Path, lower_dirs: &[PathBuf]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let path = upper.join(rel);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return true;
    };
    let below = lower_dirs
        .iter()
        .find_map(|lower| fs::symlink_metadata(lower.join(rel)).ok());
    let opaque = rustix::fs::lgetxattr(&path, "trusted.overlay.opaque", &mut [0u8; 4]).is_ok();
    match below {
        None if meta.is_file() && meta.len() == 0 => fs::remove_file(&path).is_ok(),
        None if meta.is_dir() => fs::remove_dir(&path).is_ok(),
        Some(below)
            if meta.is_dir()
                && below.is_dir()
                && !opaque
                && below.mode() == meta.mode()
                && (below.uid(), below.gid()) == (meta.uid(), meta.gid()) =>
        {
            fs::remove_dir(&path).is_ok()
        }
        _ => false,
    }
}

impl Engine {
    /// The `__build-step` child: runs the step's container to its end and records how it
    /// ended in the work folder. Its stdout and stderr are the step's output.
    pub fn run_build_step(&self, dir: &Path) -> Result<()> {
        let config_path = dir.join(STEP_CONFIG);
        let outcome = match fs::read(&config_path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<RunConfig>(&bytes).map_err(|e| e.to_string())
            }) {
            Err(error) => StepOutcome::Failed(format!("{}: {error}", config_path.display())),
            Ok(config) => match run_step_container(&config, &self.runtime_state_root()) {
                Ok(code) => StepOutcome::Exited(code),
                Err(error) => StepOutcome::Failed(error),
            },
        };
        let path = dir.join(STEP_OUTCOME);
        fs::write(
            &path,
            serde_json::to_vec(&outcome).expect("outcomes serialize"),
        )
        .at("write", &path)
    }
}

/// Runs the step's container to its end; its exit code. The build that started this
/// process may die without a word (`kill -9`, a crash): the kernel then sends this process
/// SIGTERM (its parent-death signal), and it kills the container and cleans up as after a
/// normal end, so that no process or mount of the step outlives the build.
fn run_step_container(config: &RunConfig, state_root: &Path) -> std::result::Result<i32, String> {
    let parent = rustix::process::getppid();
    let mut container =
        wharf_runtime::run::Container::create(config, state_root, Default::default())
            .map_err(|e| wharf_oci::error_chain(&e))?;
    let ended = run_while_parent_lives(&mut container, parent);
    let deleted = container.delete().map_err(|e| wharf_oci::error_chain(&e));
    let code = ended?;
    deleted?;
    Ok(code)
}

/// Starts the created container and waits for its end, killing it if this process's parent
/// ends first.
fn run_while_parent_lives(
    container: &mut wharf_runtime::run::Container,
    parent: Option<rustix::process::Pid>,
) -> std::result::Result<i32, String> {
    fn io(what: &'static str) -> impl Fn(std::io::Error) -> String {
        move |e| format!("{what}: {e}")
    }
    // After the container's init was made: it must not inherit the blocked signal.
    let signals = crate::signals::Signals::block(&[nix::sys::signal::Signal::SIGTERM])
        .map_err(io("block SIGTERM"))?;
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
        .map_err(|e| format!("set the parent-death signal: {e}"))?;
    if rustix::process::getppid() != parent {
        return Err("the build that started this step has ended".into());
    }
    container.start().map_err(|e| wharf_oci::error_chain(&e))?;
    let init = rustix::process::Pid::from_raw(container.pid())
        .ok_or("the step's container has no process")?;
    let ended = rustix::process::pidfd_open(init, rustix::process::PidfdFlags::empty())
        .map_err(|e| format!("watch the step's process: {e}"))?;
    while signals
        .wait_readable(std::os::fd::AsFd::as_fd(&ended))
        .map_err(io("wait for the step"))?
        .is_some()
    {
        let _ = container.kill(nix::sys::signal::Signal::SIGKILL as i32);
    }
    let status = container.wait().map_err(|e| wharf_oci::error_chain(&e))?;
    Ok(status.code())
}

/// Secrets from `--secret id=ID[,src=FILE|,env=VAR]`.
pub fn read_secret(spec: &str) -> Result<Secret> {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for field in spec.split(',') {
        let (key, value) = field.split_once('=').unwrap_or((field, ""));
        fields.insert(key, value);
    }
    let bad = |message: &str| EngineError::BadOption {
        flag: "--secret",
        value: spec.to_owned(),
        message: message.to_owned(),
    };
    let id = fields
        .get("id")
        .copied()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("id= is required"))?;
    let value = match (
        fields.get("src").or(fields.get("source")),
        fields.get("env"),
    ) {
        (Some(src), _) => fs::read(src).at("read secret file", *src)?,
        (None, Some(var)) => std::env::var(var)
            .map_err(|_| bad(&format!("environment variable {var} is not set")))?
            .into_bytes(),
        (None, None) => match std::env::var(id) {
            Ok(value) => value.into_bytes(),
            Err(_) => return Err(bad("give src=FILE or env=VAR")),
        },
    };
    Ok(Secret {
        id: id.to_owned(),
        value,
    })
}
