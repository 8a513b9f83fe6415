#![no_main]
//! Fuzz target `names`: see `nslink::fuzzing::names`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::names(data));
