//! Whatever arrives on the reader's serial line, split into whatever read()
//! sizes, must decode to frames or typed errors: never a panic, never a
//! hang. Each frame found is pushed through the whole card path.
#![no_main]

use drivers::idcard::card::CardBlock;
use drivers::idcard::frame::Decoder;
use drivers::idcard::text::split_read_data;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = Decoder::new();
    for piece in bytes.chunks(chunk) {
        decoder.push(piece);
        while let Some(frame) = decoder.next_frame() {
            let Ok(frame) = frame else { continue };
            let Ok(resp) = frame.into_response() else { continue };
            if let Ok((text, photo)) = split_read_data(&resp.data) {
                if let Ok(block) = CardBlock::decode(text) {
                    let _ = block.to_card(photo.to_vec());
                }
            }
        }
    }
    assert!(decoder.buffered() <= bytes.len());
});
