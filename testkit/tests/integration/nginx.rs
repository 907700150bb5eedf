use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use testkit::nginx::Nginx;

use super::{after_panic, alive, listening};

/// An HTTP upstream answering every request with `name`, until `stop`.
fn upstream(name: &'static str) -> (SocketAddr, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    conn.set_nonblocking(false).unwrap();
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}", name.len());
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (addr, stop, thread)
}

/// One GET through nginx: the body.
fn get(port: u16) -> String {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.rsplit("\r\n\r\n").next().unwrap().to_owned()
}

/// Both upstreams serve; with one gone the other answers every request;
/// killed on drop.
#[test]
fn nginx_spreads_requests_over_its_upstreams_and_skips_a_dead_one() {
    let (a, stop_a, thread_a) = upstream("A");
    let (b, _stop_b, _thread_b) = upstream("B");
    let nginx = Nginx::start(&[a, b]).unwrap();
    let answers: Vec<String> = (0..10).map(|_| get(nginx.port())).collect();
    assert!(answers.iter().any(|x| x == "A") && answers.iter().any(|x| x == "B"), "{answers:?}");
    stop_a.store(true, Ordering::Relaxed);
    thread_a.join().unwrap(); // A's listener closed
    for _ in 0..10 {
        assert_eq!(get(nginx.port()), "B");
    }
    let (port, pid) = (nginx.port(), nginx.pid());
    drop(nginx);
    assert!(!listening(port) && !alive(pid));
}

#[test]
fn nginx_stops_when_its_test_panics() {
    let (a, _stop, _thread) = upstream("A");
    let (port, pid) = after_panic(move || {
        let nginx = Nginx::start(&[a]).unwrap();
        assert_eq!(get(nginx.port()), "A");
        (nginx.port(), nginx.pid())
    });
    assert!(!listening(port) && !alive(pid));
}

/// An nginx whose test process died without dropping it is killed by the next start.
#[test]
fn an_nginx_left_by_a_dead_test_process_is_killed_by_the_next_start() {
    let (a, _stop, _thread) = upstream("A");
    let left = Nginx::start(&[a]).unwrap();
    let (pid, dir) = (left.pid(), left.dir().to_owned());
    super::orphan(&dir);
    std::mem::forget(left);
    let next = Nginx::start(&[a]).unwrap();
    assert!(super::exits(pid), "the left nginx {pid} still runs");
    assert!(!dir.exists());
    assert_eq!(get(next.port()), "A");
}
