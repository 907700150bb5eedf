use testkit::garage::Garage;

use super::{after_panic, listening};

fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit(':').next().unwrap().parse().unwrap()
}

/// The key writes to and reads from the bucket (through rclone, as the
/// backup procedure does); the node is gone after its test panics.
#[test]
fn garage_serves_its_bucket_and_stops_when_its_test_panics() {
    let port = after_panic(|| {
        let garage = Garage::start().unwrap();
        assert!(garage.base_url().starts_with("s3://cunban?endpoint=http://127.0.0.1:"));
        assert_eq!(testkit::garage::with_prefix(&garage.base_url(), "hub"), garage.url("hub"));
        assert!(garage.url("hub").starts_with("s3://cunban/hub?endpoint="));
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("note.txt"), "收据").unwrap();
        let out = garage.rclone().unwrap().arg("copy").arg(src.path()).arg(garage.rclone_path("x")).output().expect("rclone: install the Debian package `rclone`");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = garage.rclone().unwrap().args(["cat", &garage.rclone_path("x/note.txt")]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "收据", "{}", String::from_utf8_lossy(&out.stderr));
        port_of(&garage.endpoint())
    });
    assert!(!listening(port), "Garage stopped");
}

#[test]
fn with_prefix_puts_the_prefix_after_the_bucket() {
    assert_eq!(testkit::garage::with_prefix("s3://b?endpoint=e", "p"), "s3://b/p?endpoint=e");
    assert_eq!(testkit::garage::with_prefix("s3://b/", "p"), "s3://b/p");
}
