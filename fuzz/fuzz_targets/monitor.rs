#![no_main]
//! Fuzz target `monitor`: see `nslink::fuzzing::monitor_datagram`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nslink::fuzzing::monitor_datagram(data));
