#![no_main]
//! Fuzz target `decode_rule`: see `nslink::fuzzing::decode_rule`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_rule(data));
