#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| acme_proto_fuzz::problem(data));
