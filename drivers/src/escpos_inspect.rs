//! Reads an ESC/POS byte stream back: the QR payloads it stores and the
//! text it prints. For tests and the printer simulator; it knows the
//! commands our receipts use and the usual lengths of the rest.

use encoding_rs::GB18030;

const ESC: u8 = 0x1B;
const FS: u8 = 0x1C;
const GS: u8 = 0x1D;
const DLE: u8 = 0x10;

/// Payloads of `GS ( k pL pH 31 50 30 d1..dk` (QR code: store data).
pub fn qr_payloads(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= bytes.len() {
        if bytes[i..i + 3] == [GS, b'(', b'k'] {
            let len = usize::from(bytes[i + 3]) + 256 * usize::from(bytes[i + 4]);
            let (cn, func) = (bytes[i + 5], bytes[i + 6]);
            let end = i + 5 + len;
            if cn == 0x31 && func == 0x50 && len >= 3 && end <= bytes.len() {
                out.push(bytes[i + 8..end].to_vec());
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Offset of the first NUL at or after `from`, relative to `from`.
fn nul_terminated(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?.iter().position(|&c| c == 0)
}

/// Length of the command starting at `at` (a control byte), and how many
/// line feeds it prints.
fn command_len(b: &[u8], at: usize) -> (usize, usize) {
    let get = |k: usize| b.get(at + k).copied().map(usize::from).unwrap_or(0);
    match b[at] {
        ESC => match get(1) as u8 {
            b'@' | b'2' | b'<' => (2, 0),
            b'd' => (3, get(2)),
            b'$' | b'\\' => (4, 0),
            b'p' => (5, 0),
            b'*' => {
                let dots = get(3) + 256 * get(4);
                let per = if get(2) <= 1 { 1 } else { 3 };
                (5 + per * dots, 0)
            }
            b'D' => (nul_terminated(b, at + 2).map_or(b.len() - at, |p| 2 + p + 1), 0),
            _ => (3, 0),
        },
        FS => match get(1) as u8 {
            b'&' | b'.' => (2, 0),
            b'p' => (4, 0),
            _ => (3, 0),
        },
        GS => match get(1) as u8 {
            b'(' => (5 + get(3) + 256 * get(4), 0),
            b'V' => (if matches!(get(2), 65 | 66 | 97 | 98 | 103 | 104) { 4 } else { 3 }, 0),
            b'L' | b'W' | b'$' | b'\\' => (4, 0),
            b'v' => (8 + (get(4) + 256 * get(5)) * (get(6) + 256 * get(7)), 0),
            // Old-style barcode: data runs to a NUL.
            b'k' if get(2) <= 6 => (nul_terminated(b, at + 3).map_or(b.len() - at, |p| 3 + p + 1), 0),
            b'k' => (4 + get(3), 0),
            _ => (3, 0),
        },
        DLE => (3, 0),
        b'\n' => (1, 1),
        _ => (1, 0),
    }
}

/// The printed text, GB18030-decoded, with commands removed and feeds as
/// newlines.
pub fn text_gb18030(bytes: &[u8]) -> String {
    let mut text = String::new();
    let mut run: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] >= 0x20 {
            run.push(bytes[i]);
            i += 1;
            continue;
        }
        // Control bytes never occur inside GB18030 multi-byte characters.
        text.push_str(&GB18030.decode_without_bom_handling(&run).0);
        run.clear();
        let (len, feeds) = command_len(bytes, i);
        text.extend(std::iter::repeat_n('\n', feeds));
        i = i.saturating_add(len.max(1));
    }
    text.push_str(&GB18030.decode_without_bom_handling(&run).0);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_qr_store_commands_only() {
        // GS ( k for QR size (fn 0x43) must not count; store data must.
        let mut b = vec![0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06];
        b.extend([0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, b'a', b'b', b'c']);
        b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        assert_eq!(qr_payloads(&b), [b"abc".to_vec()]);
        // Truncated store command: no payload, no panic.
        assert!(qr_payloads(&b[8..14]).is_empty());
    }

    #[test]
    fn text_skips_commands_and_decodes_gb18030() {
        let mut b = vec![0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1D, 0x21, 0x11];
        b.extend(GB18030.encode("村办").0.iter());
        b.extend([0x1B, 0x64, 0x01]);
        b.extend([0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'Z', b'Z']);
        b.extend(b"OK\n");
        b.extend([0x1D, 0x56, 0x41, 0x00]);
        assert_eq!(text_gb18030(&b), "村办\nOK\n");
    }
}
