//! A registry's `WWW-Authenticate` challenges and a token server's reply, as the client
//! reads them after a 401 and a token request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_registry::fuzzing::{token_reply, www_authenticate};

fuzz_target!(|bytes: &[u8]| {
    token_reply(bytes);
    if let Ok(header) = std::str::from_utf8(bytes) {
        for (scheme, params) in www_authenticate(header) {
            assert!(!scheme.is_empty(), "{header:?} gave an empty scheme");
            assert!(
                params
                    .iter()
                    .all(|(name, _)| *name == name.to_ascii_lowercase()),
                "{header:?}: parameter names are lower case"
            );
        }
    }
});
