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

/// A Garage whose test process died without dropping it is killed by the next start.
#[test]
fn a_garage_left_by_a_dead_test_process_is_killed_by_the_next_start() {
    let left = Garage::start().unwrap();
    let (port, dir) = (port_of(&left.endpoint()), left.dir().to_owned());
    let pid: u32 = std::fs::read_to_string(dir.join("testkit-server.pid")).unwrap().trim().parse().unwrap();
    super::orphan(&dir);
    std::mem::forget(left);
    let _next = Garage::start().unwrap();
    assert!(super::exits(pid), "the left Garage {pid} still runs");
    assert!(!listening(port));
    assert!(!dir.exists());
}
