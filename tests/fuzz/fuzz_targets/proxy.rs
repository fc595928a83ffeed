//! Fuzz target: `shockwave::fuzz::proxy` (see src/fuzz.rs for the invariants it asserts).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shockwave::fuzz::proxy(data));
