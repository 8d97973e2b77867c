#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| banyan_fuzz::credential(data));
