//! Writes a seed corpus for the `frame_decoder` fuzz target: a valid read
//! frame of every card type, fed in several read sizes, plus status-only
//! answers. Without seeds libFuzzer rarely gets a frame past its checksum,
//! let alone a 256-byte text block to the card decoders.
//!
//!     FUZZ_SEEDS=drivers/fuzz/corpus/frame_decoder cargo test -p drivers --test fuzz_seeds -- --ignored
//!
//! The seed format is the target's: one byte of read size, then the bytes.

use drivers::idcard::frame::encode_response;
use drivers::idcard::text::encode_read_data;
use drivers::idcard::CardBlock;
use drivers::SimCard;

#[test]
#[ignore = "writes files; run by hand before fuzzing"]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("FUZZ_SEEDS") else {
        panic!("set FUZZ_SEEDS to the corpus directory");
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut frames = Vec::new();
    for card in [SimCard::sample(), SimCard::hmt_permit(), SimCard::foreign_2017(), SimCard::foreign_2023(), SimCard::expired()] {
        let block = match &card.foreign {
            Some(f) => CardBlock::Foreign(f.clone()),
            None => CardBlock::Citizen(card.text.clone()),
        };
        let data = encode_read_data(&block.encode().unwrap(), &card.photo_wlt).unwrap();
        frames.push(encode_response(0x90, &data).unwrap());
    }
    for status in [0x80u8, 0x9F, 0x41, 0x10] {
        frames.push(encode_response(status, &[]).unwrap());
    }
    let mut n = 0;
    for frame in &frames {
        for chunk in [255u8, 7, 1] {
            let mut seed = vec![chunk];
            seed.extend_from_slice(frame);
            std::fs::write(dir.join(format!("seed-{n:02}")), seed).unwrap();
            n += 1;
        }
    }
    println!("{n} seeds in {}", dir.display());
}
