#![no_main]
//! Fuzz target `decode_route`: see `nslink::fuzzing::decode_route_msg`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_route_msg(data));
