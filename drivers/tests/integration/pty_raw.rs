//! The simulators' ptys must pass every byte unchanged in both directions,
//! or simulated devices would pass tests real ones fail (and vice versa).

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use drivers::pty::Pty;
use drivers::serial::{SerialTransport, Transport};
use serialport::SerialPort;

fn read_exactly(r: &mut impl Read, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    r.read_exact(&mut out).expect("bytes arrive");
    out
}

#[test]
fn every_byte_value_passes_both_ways_without_echo() {
    let Pty { mut master, slave: _slave, path } = Pty::open().unwrap();
    master.set_timeout(Duration::from_millis(500)).unwrap();
    // Opened the way the drivers open their ports.
    let mut port = SerialTransport::open(path.to_str().unwrap(), 115_200, Duration::from_millis(500)).unwrap();
    let all: Vec<u8> = (0..=255u8).collect();

    master.write_all(&all).unwrap();
    assert_eq!(read_exactly(&mut port, 256), all, "master → port");

    port.write_all(&all).unwrap();
    assert_eq!(read_exactly(&mut master, 256), all, "port → master (no CR/LF translation, no echo before it)");

    // Nothing more: no echo of what the master sent.
    master.set_timeout(Duration::from_millis(100)).unwrap();
    let mut extra = [0u8; 16];
    match master.read(&mut extra) {
        Err(e) if e.kind() == ErrorKind::TimedOut => {}
        other => panic!("unexpected extra bytes or error: {other:?}"),
    }
    port.set_timeout(Duration::from_millis(100)).unwrap();
    match port.read(&mut extra) {
        Err(e) if e.kind() == ErrorKind::TimedOut => {}
        other => panic!("unexpected extra bytes or error: {other:?}"),
    }
}
