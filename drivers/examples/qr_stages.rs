//! Where the time of one 640×480 frame → code goes (issue 16): grayscale
//! conversion, rqrr's prepare (thresholding), grid detection, decoding.
//! `cargo run --release -p drivers --example qr_stages`. Figures only.

use std::time::{Duration, Instant};

use drivers::camera::{FrameSource, SyntheticSource};

fn main() {
    for half in [false, true] {
        println!("{}:", if half { "half resolution (to_luma_half)" } else { "full resolution (to_luma)" });
        stages(half);
    }
}

fn stages(half: bool) {
    const N: usize = 200;
    let mut decoded = 0;
    let mut cam = SyntheticSource::new(640, 480);
    cam.show_qr(b"62202611210000001", 4).expect("fits");
    let mut t = [Duration::ZERO; 4];
    for _ in 0..N {
        let frame = cam.next_frame().expect("frame");
        let a = Instant::now();
        let luma = if half { frame.to_luma_half() } else { frame.to_luma() };
        let b = Instant::now();
        let (w, h) = (luma.width() as usize, luma.height() as usize);
        let raw = luma.as_raw();
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]);
        let c = Instant::now();
        let grids = prepared.detect_grids();
        let d = Instant::now();
        for g in grids {
            let mut out = Vec::new();
            decoded += usize::from(g.decode_to(&mut out).is_ok());
        }
        let e = Instant::now();
        t[0] += b - a;
        t[1] += c - b;
        t[2] += d - c;
        t[3] += e - d;
    }
    for (name, d) in ["grey", "prepare", "detect_grids", "decode"].iter().zip(t) {
        println!("{name:>13}: {:.3} ms a frame", d.as_secs_f64() * 1000.0 / N as f64);
    }
    println!("{decoded} of {N} frames decoded");
}
