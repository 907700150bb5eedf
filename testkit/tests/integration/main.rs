//! testkit's tests, one binary: each launcher starts its real server,
//! which serves, and is gone after its handle is dropped (also when the
//! test holding it panics); a missing tool is an error naming the package.

mod garage;
mod missing;
mod nginx;
mod pg;
mod ports;

/// Whether something accepts connections on the loopback `port`.
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Whether process `pid` exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
}

/// Runs `body` on a thread that panics after it: what `body` returned,
/// once the panic has unwound (and so dropped what the thread held).
pub fn after_panic<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        tx.send(body()).unwrap();
        panic!("a test failing while its server runs");
    });
    assert!(thread.join().is_err(), "the thread panicked");
    rx.recv().unwrap()
}

/// Makes the temporary directory `dir` look as if its owner process died
/// (a test binary killed with its servers running): it names a process
/// that has exited.
pub fn orphan(dir: &std::path::Path) {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(dir.join("testkit-owner"), format!("{dead} 1")).unwrap();
}

/// Waits up to 10 s for `pid` to exit.
pub fn exits(pid: u32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    !alive(pid)
}
