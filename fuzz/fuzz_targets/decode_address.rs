#![no_main]
//! Fuzz target `decode_address`: see `nslink::fuzzing::decode_address`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_address(data));
