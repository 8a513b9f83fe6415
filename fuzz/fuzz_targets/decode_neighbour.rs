#![no_main]
//! Fuzz target `decode_neighbour`: see `nslink::fuzzing::decode_neighbour`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_neighbour(data));
