//! One module per kind of object; each handler decodes, makes one backend call, encodes.

pub mod archive;
pub mod build;
pub mod containers;
pub mod events;
pub mod exec;
pub mod images;
pub mod networks;
pub mod prune;
pub mod stats;
pub mod system;
pub mod volumes;
