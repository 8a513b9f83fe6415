#![no_main]
//! Fuzz target `decode_nsid`: see `nslink::fuzzing::decode_nsid`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_nsid(data));
