#![no_main]
//! Fuzz target `dump_loop`: see `nslink::fuzzing::dump_loop_input`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::dump_loop_input(data));
