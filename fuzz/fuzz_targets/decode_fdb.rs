#![no_main]
//! Fuzz target `decode_fdb`: see `nslink::fuzzing::decode_fdb`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::decode_fdb(data));
