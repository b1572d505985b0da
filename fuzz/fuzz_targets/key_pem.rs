#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| acme_proto_fuzz::key_pem(data));
