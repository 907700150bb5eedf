//! The self-test probes: usable with Debian's data, a clear failure without.

use std::path::Path;

use textinput::check::{check_handwriting, check_pinyin};
use textinput::{DEBIAN_MODEL, DEBIAN_RIME_DATA};

#[test]
fn the_probes_pass_with_debian_data_and_fail_without() {
    let _rime = crate::rime_lock();
    let staging = tempfile::tempdir().expect("tempdir");
    let hw = check_handwriting(Path::new(DEBIAN_MODEL));
    assert!(hw.result.as_ref().is_ok_and(|d| d.contains("十")), "{hw:?}");
    let py = check_pinyin(Path::new(DEBIAN_RIME_DATA), staging.path());
    assert!(py.result.as_ref().is_ok_and(|d| d.contains("张")), "{py:?}");

    let hw = check_handwriting(Path::new("/nonexistent/model"));
    assert!(hw.result.is_err());
    let py = check_pinyin(Path::new("/nonexistent/rime"), staging.path());
    assert!(py.result.is_err_and(|e| e.to_string().contains("rime-data-luna-pinyin")));
}
