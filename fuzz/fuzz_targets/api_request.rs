//! A client's bytes on the Engine API socket: HTTP requests read as the server reads them
//! (heads, bodies by length or chunks, keep-alive), routed, and their bodies decoded into
//! Docker's types as the handlers decode them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_api::fuzzing::decode;
use wharf_api::types::{
    ContainerCreate, ExecCreate, ExecStart, NetworkConnect, NetworkCreate, VolumeCreate,
};

fuzz_target!(|bytes: &[u8]| {
    for request in decode(bytes) {
        assert!(
            request.body.len() <= wharf_api::MAX_BODY
                || request.path.ends_with("/build")
                || request.path.ends_with("/archive")
        );
        let _ = (request.method.len(), request.query.len(), request.route);
        let body = &request.body[..];
        let _ = serde_json::from_slice::<ContainerCreate>(body);
        let _ = serde_json::from_slice::<ExecCreate>(body);
        let _ = serde_json::from_slice::<ExecStart>(body);
        let _ = serde_json::from_slice::<NetworkCreate>(body);
        let _ = serde_json::from_slice::<NetworkConnect>(body);
        let _ = serde_json::from_slice::<VolumeCreate>(body);
    }
});
