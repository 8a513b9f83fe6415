#![no_main]
//! Fuzz target `extack`: see `nslink::fuzzing::extack`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::extack(data));
