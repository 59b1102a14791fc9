//! Byte-level mutations of a seed input, the way a broken upload, a bad disk or an
//! attacker would change a file.

use docliveness_synth::Rng;

/// Values that sit on the edges of length and size fields.
const INTERESTING_16: [u16; 9] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF];
const INTERESTING_32: [u32; 7] = [
    0,
    1,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x1_0000,
    0xFFFF,
];

/// `seed` changed by one to four stacked mutations (rarely up to sixteen); `other` is a
/// second input to splice from.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    let rounds = if rng.chance(0.1) {
        rng.int(5, 16)
    } else {
        rng.int(1, 4)
    };
    for _ in 0..rounds {
        mutate_once(rng, &mut bytes, other);
    }
    // PNG chunks carry a CRC the decoder checks; most mutants get valid CRCs so that
    // they reach the chunk parsers and the inflater instead of stopping at the checksum.
    if bytes.starts_with(b"\x89PNG") && rng.chance(0.7) {
        fix_png_crcs(&mut bytes);
    }
    bytes
}

fn mutate_once(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    if bytes.is_empty() {
        bytes.extend((0..rng.int(1, 16)).map(|_| rng.next_u64() as u8));
        return;
    }
    let len = bytes.len();
    match rng.int(0, 11) {
        // Bit flips.
        0 | 1 => {
            for _ in 0..rng.int(1, 8) {
                let p = position(rng, len);
                bytes[p] ^= 1 << rng.int(0, 7);
            }
        }
        // Byte changes, random or on an edge.
        2 => {
            for _ in 0..rng.int(1, 4) {
                let p = position(rng, len);
                bytes[p] = if rng.chance(0.5) {
                    rng.next_u64() as u8
                } else {
                    *rng.pick(&[0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF])
                };
            }
        }
        // A length or size field set to an edge value, often right after a JPEG marker
        // or at a PNG chunk's length.
        3 => {
            let p = field_position(rng, bytes);
            let big_endian = rng.chance(0.8);
            let value: Vec<u8> = if rng.chance(0.6) {
                let v = *rng.pick(&INTERESTING_16);
                let v = if rng.chance(0.3) {
                    v.wrapping_add(rng.int(-2, 2) as u16)
                } else {
                    v
                };
                if big_endian {
                    v.to_be_bytes().to_vec()
                } else {
                    v.to_le_bytes().to_vec()
                }
            } else {
                let v = *rng.pick(&INTERESTING_32);
                if big_endian {
                    v.to_be_bytes().to_vec()
                } else {
                    v.to_le_bytes().to_vec()
                }
            };
            for (i, b) in value.into_iter().enumerate() {
                if let Some(slot) = bytes.get_mut(p + i) {
                    *slot = b;
                }
            }
        }
        // Truncation: a cut upload.
        4 => {
            let keep = if rng.chance(0.5) {
                len.saturating_sub(rng.int(1, 64) as usize)
            } else {
                rng.int(0, len as i64 - 1) as usize
            };
            bytes.truncate(keep);
        }
        // Splice: the head of one file and the tail of another.
        5 => {
            let cut = rng.int(0, len as i64) as usize;
            bytes.truncate(cut);
            if !other.is_empty() {
                let from = rng.int(0, other.len() as i64 - 1) as usize;
                bytes.extend_from_slice(&other[from..]);
            }
        }
        // A chunk duplicated somewhere else (repeated segments, doubled headers).
        6 => {
            let (start, end) = chunk(rng, len);
            let piece = bytes[start..end].to_vec();
            let at = rng.int(0, len as i64) as usize;
            bytes.splice(at..at, piece);
        }
        // A chunk deleted.
        7 => {
            let (start, end) = chunk(rng, len);
            bytes.drain(start..end);
        }
        // Random bytes inserted.
        8 => {
            let at = position(rng, len + 1).min(len);
            let n = rng.int(1, 64) as usize;
            let junk: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            bytes.splice(at..at, junk);
        }
        // Two chunks swapped.
        9 => {
            let (a0, a1) = chunk(rng, len);
            let (b0, b1) = chunk(rng, len);
            if a1 <= b0 {
                let second = bytes[b0..b1].to_vec();
                let first = bytes[a0..a1].to_vec();
                bytes.splice(b0..b1, first);
                bytes.splice(a0..a1, second);
            }
        }
        // Bytes appended after the end (trailers, a second image).
        10 => {
            let n = rng.int(1, 256) as usize;
            if rng.chance(0.5) && !other.is_empty() {
                let from = rng.int(0, other.len() as i64 - 1) as usize;
                bytes.extend_from_slice(&other[from..(from + n).min(other.len())]);
            } else {
                bytes.extend((0..n).map(|_| rng.next_u64() as u8));
            }
        }
        // A run of one byte overwritten (zeroed or 0xFF-filled scan data).
        _ => {
            let (start, end) = chunk(rng, len);
            let random = rng.next_u64() as u8;
            let fill = *rng.pick(&[0x00, 0xFF, random]);
            bytes[start..end].fill(fill);
        }
    }
}

/// A position biased to the first 2 KB, where headers, tables and segment lengths are.
fn position(rng: &mut Rng, len: usize) -> usize {
    let span = if rng.chance(0.5) { len.min(2048) } else { len };
    rng.int(0, span as i64 - 1) as usize
}

/// The position of a length-like field: after a JPEG marker, at a PNG chunk's length
/// or dimensions, or anywhere near the start.
fn field_position(rng: &mut Rng, bytes: &[u8]) -> usize {
    let head = &bytes[..bytes.len().min(4096)];
    let markers: Vec<usize> = if bytes.starts_with(b"\x89PNG") {
        png_chunks(bytes).into_iter().map(|(at, _)| at).collect()
    } else {
        head.windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] == 0xFF && w[1] != 0 && w[1] != 0xFF)
            .map(|(i, _)| i + 2)
            .collect()
    };
    if !markers.is_empty() && rng.chance(0.7) {
        // Past the marker or chunk start by a few bytes: the length, then the fields
        // (precision, height, width, component counts) that follow it.
        let base = *rng.pick(&markers);
        (base + rng.int(0, 12) as usize).min(bytes.len() - 1)
    } else {
        position(rng, bytes.len())
    }
}

fn chunk(rng: &mut Rng, len: usize) -> (usize, usize) {
    let start = position(rng, len);
    let max = (len - start).min(if rng.chance(0.8) { 64 } else { 4096 });
    let end = start + rng.int(1, max.max(1) as i64) as usize;
    (start, end.min(len))
}

/// Start and data length of each PNG chunk, as far as the lengths can be followed.
fn png_chunks(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let n =
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        if at + 12 + n > bytes.len() {
            break;
        }
        out.push((at, n));
        at += 12 + n;
    }
    out
}

/// Rewrites every followable chunk's CRC.
pub fn fix_png_crcs(bytes: &mut [u8]) {
    for (at, n) in png_chunks(bytes) {
        let crc = crc32(&bytes[at + 4..at + 8 + n]);
        bytes[at + 8 + n..at + 12 + n].copy_from_slice(&crc.to_be_bytes());
    }
}

/// CRC-32 as PNG uses it, table-driven because mutants of large PNGs are rechecked often.
pub fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}
