//! SAM frame codec: `AA AA AA 96 69 | LEN(2, BE) | body | CHK`.
//!
//! LEN counts the body plus CHK; CHK is the XOR of both LEN bytes and the
//! body. A request body is `CMD PARA [DATA]`, a response body is
//! `SW1 SW2 SW3 [DATA]`. The same codec serves the reader and the simulator,
//! so the simulator exercises exactly the bytes the reader parses.

use thiserror::Error;

/// Frame preamble sent before every request and response.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Largest LEN we accept. The biggest real response (text + photo +
/// fingerprint) is ~2.3 KB; anything above this is line noise that would
/// otherwise make us wait for bytes that never come.
pub const MAX_LEN: usize = 4096;

/// Smallest LEN: a request's CMD PARA plus CHK.
const MIN_LEN: usize = 3;

/// Bytes before the body: preamble and LEN.
const HEADER: usize = PREAMBLE.len() + 2;

/// A frame that cannot be decoded or encoded; the decoder skips it and goes on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The XOR check byte does not match the frame.
    #[error("frame checksum mismatch: computed {computed:#04x}, frame says {received:#04x}")]
    Checksum {
        /// What the received bytes add up to.
        computed: u8,
        /// The frame's own check byte.
        received: u8,
    },
    /// The LEN field is outside what a SAM sends.
    #[error("frame length {0} is impossible (allowed {MIN_LEN}..={MAX_LEN})")]
    Length(usize),
    /// The body is too short to hold a request or response header.
    #[error("frame body has {0} bytes, too short for its kind")]
    TooShort(usize),
    /// The data is too long to encode.
    #[error("frame data of {0} bytes does not fit the 16-bit length field")]
    TooLong(usize),
}

/// A request as the reader sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Command byte, e.g. `0x30` for read.
    pub cmd: u8,
    /// Parameter byte.
    pub para: u8,
    /// Command data, often empty.
    pub data: Vec<u8>,
}

/// A response as the SAM sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// First status byte; `00` from every SAM.
    pub sw1: u8,
    /// Second status byte; `00` from every SAM.
    pub sw2: u8,
    /// The status proper: see [`super::status`].
    pub sw3: u8,
    /// The answer's data, e.g. the card's text and photo.
    pub data: Vec<u8>,
}

/// A checked frame body (between LEN and CHK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// `CMD PARA [DATA]` or `SW1 SW2 SW3 [DATA]`, without LEN and CHK.
    pub body: Vec<u8>,
}

impl Frame {
    /// Reads the body as a request; errors if it is shorter than `CMD PARA`.
    pub fn into_request(self) -> Result<Request, FrameError> {
        if self.body.len() < 2 {
            return Err(FrameError::TooShort(self.body.len()));
        }
        let mut body = self.body;
        let data = body.split_off(2);
        Ok(Request { cmd: body[0], para: body[1], data })
    }

    /// Reads the body as a response; errors if it is shorter than `SW1 SW2
    /// SW3`.
    pub fn into_response(self) -> Result<Response, FrameError> {
        if self.body.len() < 3 {
            return Err(FrameError::TooShort(self.body.len()));
        }
        let mut body = self.body;
        let data = body.split_off(3);
        Ok(Response { sw1: body[0], sw2: body[1], sw3: body[2], data })
    }
}

fn checksum(len: [u8; 2], body: &[u8]) -> u8 {
    body.iter().fold(len[0] ^ len[1], |acc, b| acc ^ b)
}

fn encode(body: &[u8]) -> Result<Vec<u8>, FrameError> {
    let len = body.len() + 1;
    if len > MAX_LEN {
        return Err(FrameError::TooLong(body.len()));
    }
    // MAX_LEN < 65536, so this cannot truncate.
    let len = (len as u16).to_be_bytes();
    let mut out = Vec::with_capacity(HEADER + body.len() + 1);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&len);
    out.extend_from_slice(body);
    out.push(checksum(len, body));
    Ok(out)
}

/// Encodes a request frame. Fails only if `data` exceeds [`MAX_LEN`].
pub fn encode_request(cmd: u8, para: u8, data: &[u8]) -> Result<Vec<u8>, FrameError> {
    let mut body = Vec::with_capacity(2 + data.len());
    body.extend_from_slice(&[cmd, para]);
    body.extend_from_slice(data);
    encode(&body)
}

/// Encodes a response frame with SW1 SW2 = 00 00 (what every SAM sends).
pub fn encode_response(sw3: u8, data: &[u8]) -> Result<Vec<u8>, FrameError> {
    let mut body = Vec::with_capacity(3 + data.len());
    body.extend_from_slice(&[0x00, 0x00, sw3]);
    body.extend_from_slice(data);
    encode(&body)
}

/// Incremental decoder: feed it whatever the port returned, then take frames.
///
/// Bytes before a preamble are skipped. After a bad frame the decoder drops
/// only the first preamble byte and searches again, so a real frame hiding
/// inside a corrupted one is still found.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends bytes read from the port; take frames with
    /// [`Decoder::next_frame`].
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets everything buffered (stale bytes from an abandoned exchange).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Bytes held but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, an error for a bad one, or `None` if more
    /// bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        self.skip_to_preamble();
        if self.buf.len() < HEADER {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[5], self.buf[6]]));
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            self.buf.drain(..1);
            return Some(Err(FrameError::Length(len)));
        }
        if self.buf.len() < HEADER + len {
            return None;
        }
        let body = &self.buf[HEADER..HEADER + len - 1];
        let received = self.buf[HEADER + len - 1];
        let computed = checksum([self.buf[5], self.buf[6]], body);
        if computed != received {
            self.buf.drain(..1);
            return Some(Err(FrameError::Checksum { computed, received }));
        }
        let body = body.to_vec();
        self.buf.drain(..HEADER + len);
        Some(Ok(Frame { body }))
    }

    /// Drops bytes that cannot start a frame, keeping a partial preamble at
    /// the end of the buffer.
    fn skip_to_preamble(&mut self) {
        let mut start = 0;
        while start < self.buf.len() {
            let rest = &self.buf[start..];
            let n = rest.len().min(PREAMBLE.len());
            if rest[..n] == PREAMBLE[..n] {
                break;
            }
            start += 1;
        }
        self.buf.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        let mut d = Decoder::new();
        d.push(bytes);
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    #[test]
    fn find_card_request_has_the_documented_bytes() {
        // LEN = 3 (20 01 + CHK); CHK = 00 ^ 03 ^ 20 ^ 01 = 0x22.
        assert_eq!(
            encode_request(0x20, 0x01, &[]).unwrap(),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]
        );
    }

    #[test]
    fn find_card_success_response_has_the_documented_bytes() {
        // 00 00 9F 00 00 00 00 + CHK; LEN = 8; CHK = 08 ^ 9F = 0x97.
        assert_eq!(
            encode_response(0x9F, &[0, 0, 0, 0]).unwrap(),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x08, 0x00, 0x00, 0x9F, 0, 0, 0, 0, 0x97]
        );
    }

    #[test]
    fn garbage_before_and_between_frames_is_skipped() {
        let mut bytes = vec![0x00, 0xAA, 0x13, 0xAA, 0xAA];
        bytes.extend(encode_response(0x90, b"one").unwrap());
        bytes.extend([0x96, 0x69, 0xAA]);
        bytes.extend(encode_response(0x90, b"two").unwrap());
        let frames: Vec<_> = decode_all(&bytes)
            .into_iter()
            .map(|f| f.unwrap().into_response().unwrap().data)
            .collect();
        assert_eq!(frames, [b"one".to_vec(), b"two".to_vec()]);
    }

    #[test]
    fn waits_for_the_whole_frame_byte_by_byte() {
        let frame = encode_response(0x90, &[7; 300]).unwrap();
        let mut d = Decoder::new();
        for (i, b) in frame.iter().enumerate() {
            assert!(d.next_frame().is_none(), "frame returned early at byte {i}");
            d.push(&[*b]);
        }
        let r = d.next_frame().unwrap().unwrap().into_response().unwrap();
        assert_eq!(r.data, vec![7; 300]);
    }

    #[test]
    fn impossible_lengths_are_refused_without_waiting() {
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend([0xFF, 0xFF]);
        assert_eq!(decode_all(&bytes), [Err(FrameError::Length(0xFFFF))]);
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend([0x00, 0x01, 0x00]);
        assert_eq!(decode_all(&bytes), [Err(FrameError::Length(1))]);
    }

    #[test]
    fn a_frame_inside_a_corrupted_frame_is_still_found() {
        // A bad frame whose LEN swallows a real one: after the checksum error the
        // decoder must rescan from just past the bad preamble.
        let good = encode_response(0x90, b"ok").unwrap();
        let mut bad = PREAMBLE.to_vec();
        bad.extend([0x00, good.len() as u8 + 1]);
        bad.extend(&good);
        bad.push(0x00);
        let got = decode_all(&bad);
        assert!(matches!(got[0], Err(FrameError::Checksum { .. })), "{got:?}");
        assert!(got.iter().any(|f| matches!(f, Ok(f) if f.body.ends_with(b"ok"))), "{got:?}");
    }

    #[test]
    fn oversize_data_cannot_be_encoded() {
        assert_eq!(encode_response(0x90, &[0; MAX_LEN]), Err(FrameError::TooLong(MAX_LEN + 3)));
    }

    #[test]
    fn short_bodies_are_typed_errors() {
        let f = Frame { body: vec![0x00, 0x00] };
        assert_eq!(f.into_response(), Err(FrameError::TooShort(2)));
    }

    proptest! {
        #[test]
        fn request_roundtrip(cmd: u8, para: u8, data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let frames = decode_all(&encode_request(cmd, para, &data).unwrap());
            prop_assert_eq!(frames.len(), 1);
            let req = frames[0].clone().unwrap().into_request().unwrap();
            prop_assert_eq!(req, Request { cmd, para, data });
        }

        #[test]
        fn response_roundtrip_split_anywhere(
            sw3: u8,
            data in proptest::collection::vec(any::<u8>(), 0..1500),
            cut in any::<prop::sample::Index>(),
        ) {
            let bytes = encode_response(sw3, &data).unwrap();
            let cut = cut.index(bytes.len());
            let mut d = Decoder::new();
            d.push(&bytes[..cut]);
            let early = d.next_frame();
            prop_assert!(early.is_none() || cut == bytes.len());
            d.push(&bytes[cut..]);
            let resp = d.next_frame().unwrap().unwrap().into_response().unwrap();
            prop_assert_eq!(resp, Response { sw1: 0, sw2: 0, sw3, data });
            prop_assert_eq!(d.buffered(), 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..5000)) {
            let mut d = Decoder::new();
            d.push(&bytes);
            // Each call either returns a frame/error (consuming bytes) or None.
            let mut guard = 0;
            while d.next_frame().is_some() {
                guard += 1;
                prop_assert!(guard <= bytes.len());
            }
        }

        #[test]
        fn arbitrary_bytes_with_preamble_never_panic(
            len_hi in 0u8..0x20, len_lo: u8,
            rest in proptest::collection::vec(any::<u8>(), 0..5000),
        ) {
            let mut bytes = PREAMBLE.to_vec();
            bytes.extend([len_hi, len_lo]);
            bytes.extend(rest);
            let mut d = Decoder::new();
            d.push(&bytes);
            while d.next_frame().is_some() {}
        }

        #[test]
        fn a_flipped_bit_in_the_body_is_detected(
            sw3: u8,
            data in proptest::collection::vec(any::<u8>(), 0..600),
            pos in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let mut bytes = encode_response(sw3, &data).unwrap();
            // Body and CHK: everything after LEN.
            let i = HEADER + pos.index(bytes.len() - HEADER);
            bytes[i] ^= 1 << bit;
            let frames = decode_all(&bytes);
            prop_assert!(matches!(frames.first(), Some(Err(FrameError::Checksum { .. }))), "{:?}", frames);
            prop_assert!(frames.iter().all(|f| f.is_err()));
        }
    }
}
