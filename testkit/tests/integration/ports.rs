use std::os::linux::net::SocketAddrExt;

/// Distinct, bindable, outside the kernel's ephemeral range, and reserved
/// machine-wide (another process cannot take the reservation).
#[test]
fn ports_are_distinct_free_outside_the_ephemeral_range_and_reserved() {
    let (lo, hi) = testkit::ports::ephemeral_range();
    let ports: Vec<u16> = (0..40).map(|_| testkit::ports::free_port().unwrap()).collect();
    let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
    assert_eq!(distinct.len(), ports.len(), "{ports:?}");
    for &p in &ports {
        assert!(!(lo..=hi).contains(&p), "{p} is in the ephemeral range {lo}-{hi}");
        assert!(p >= 10_000);
        drop(std::net::TcpListener::bind(("127.0.0.1", p)).unwrap_or_else(|e| panic!("port {p} is not free: {e}")));
        let name = std::os::unix::net::SocketAddr::from_abstract_name(format!("cunban-testkit-port-{p}")).unwrap();
        assert!(std::os::unix::net::UnixListener::bind_addr(&name).is_err(), "port {p} is not reserved");
    }
}
