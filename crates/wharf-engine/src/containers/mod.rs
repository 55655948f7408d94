//! Containers: created from an image and flags, run by one monitor process each.

mod create;
mod lifecycle;
mod monitor;
mod names;
mod record;

pub use create::CreateOptions;
pub use lifecycle::{signal_number, ContainerInfo, LogLine};
pub use monitor::{Attach, MONITOR_COMMAND};
pub use record::{ContainerRecord, ContainerState, Status};
