//! The vendor WLT decoder path, against a stand-in library built here with
//! the system C compiler (no vendor library may ship with Cunban).

use std::path::Path;
use std::process::Command;

use drivers::idcard::photo::{load_decoder, PhotoDecoderConfig, PhotoError, BMP_LEN, WLT_LEN};
use drivers::idcard::PhotoDecoder;

/// Same ABI as vendors' `unpack`: writes a BMP, returns 1; refuses a photo
/// starting with 0xFF by returning -2.
const FAKE_VENDOR: &str = r#"
int unpack(const char *src, char *dst, int with_header) {
    if ((unsigned char)src[0] == 0xFF) return -2;
    dst[0] = 'B'; dst[1] = 'M';
    for (int i = 2; i < 38862; i++) dst[i] = src[i % 1024];
    return with_header == 1 ? 1 : -1;
}
"#;

fn build_fake(dir: &Path) -> Option<std::path::PathBuf> {
    let src = dir.join("fake_wlt.c");
    let lib = dir.join("libfakewlt.so");
    std::fs::write(&src, FAKE_VENDOR).ok()?;
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src).status().ok()?;
    status.success().then_some(lib)
}

#[test]
fn a_configured_vendor_library_decodes_photos_and_its_refusals_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let Some(lib) = build_fake(dir.path()) else {
        eprintln!("SKIPPED: no C compiler (cc) to build the stand-in vendor library");
        return;
    };
    let config = PhotoDecoderConfig { library: Some(lib), symbol: "unpack".into() };
    let decoder = load_decoder(&config).unwrap().expect("configured");
    let wlt: Vec<u8> = (0..WLT_LEN).map(|i| (i % 251) as u8).collect();
    let bmp = decoder.decode_wlt(&wlt).unwrap();
    assert_eq!(bmp.len(), BMP_LEN);
    assert_eq!(&bmp[..2], b"BM");
    assert_eq!(bmp[5], wlt[5]);
    let mut refused = wlt.clone();
    refused[0] = 0xFF;
    assert!(matches!(decoder.decode_wlt(&refused), Err(PhotoError::Decode(-2))));
    assert!(matches!(decoder.decode_wlt(&wlt[..100]), Err(PhotoError::WltLength(100))));
    // A wrong entry point name is caught at load, not at the first card.
    let config = PhotoDecoderConfig { symbol: "GetBmp".into(), ..config };
    assert!(matches!(load_decoder(&config), Err(PhotoError::Symbol { .. })));
}
