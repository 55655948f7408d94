//! Runs one container: [`RunConfig`] → OCI spec ([`spec::build`]) → overlay rootfs
//! ([`Overlay`]) → libcontainer create, start, wait, delete ([`mod@run`]).
//!
//! Creating a container clones the calling process, which must be single-threaded: see
//! [`mod@run`]. A monitor process drives [`Container`] (create, set up the network, start,
//! wait, read OOM, delete); [`run()`] is the whole cycle in one call; [`run::kill`] and
//! [`run::delete`] act on a container by id from any process; [`exec()`] runs another process
//! in a running container; [`ConsoleSocket`] receives a container's pty master.

pub mod caps;
pub mod cgroup;
pub mod config;
pub mod console;
pub mod devices;
pub mod exec;
pub mod filter;
pub mod host;
pub mod resident;
pub mod rootfs;
pub mod run;
pub mod seccomp;
pub mod spec;
pub mod start_error;
mod sys;

pub use cgroup::CgroupUsage;
pub use config::{
    validate_sysctl, CapabilityChanges, CapabilityName, ConfigError, DeviceRequest, MemorySwap,
    Mount, NetworkMode, Process, Propagation, Resources, RunConfig, Ulimit, User, INIT_PATH,
};
pub use console::{copy_window_size, ConsoleSocket};
pub use exec::{exec, prepare_exec, ExecConfig, ExecProcess, PreparedExec};
pub use filter::FilterError;
pub use host::{Host, HostError};
pub use rootfs::{Overlay, RootfsError};
pub use run::{run, Container, ExitStatus, Outcome, RunError, Stdio};
pub use seccomp::{KernelVersion, SeccompError};
pub use spec::SpecError;
pub use start_error::StartError;
pub use sys::{fork_detached, take_activation_socket};
