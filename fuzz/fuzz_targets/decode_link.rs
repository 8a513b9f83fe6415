#![no_main]
//! Fuzz target `decode_link`: see `nslink::fuzzing::decode_link`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_link(data));
