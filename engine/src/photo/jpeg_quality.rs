//! JPEG quality estimated from the quantisation tables in the file header.
//!
//! Encoders derived from the IJG library scale the example tables of the JPEG standard
//! (ITU-T T.81, Annex K) by a quality factor; finding the factor whose scaled table is
//! closest to the stored one recovers the quality the image was saved at. Cameras with
//! their own tables get the quality of the nearest IJG table, which is how image-forensics
//! tools report it too.

/// Luminance example table of T.81 Annex K, in natural (row-major) order.
const STD_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// Chrominance example table of T.81 Annex K, in natural order.
const STD_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Position in natural order of the k-th coefficient in zig-zag (file) order.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Quantisation tables read from a JPEG header, in natural order, indexed by table id.
pub fn read_quant_tables(bytes: &[u8]) -> Vec<(u8, [u16; 64])> {
    let mut tables = Vec::new();
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return tables;
    }
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            break;
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        // Start of scan or end of image: all tables come before the entropy-coded data.
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        let end = (pos + 2 + len).min(bytes.len());
        if marker == 0xDB {
            let mut p = pos + 4;
            while p < end {
                let precision16 = bytes[p] >> 4 != 0;
                let id = bytes[p] & 0x0F;
                p += 1;
                let step = if precision16 { 2 } else { 1 };
                if p + 64 * step > end {
                    break;
                }
                let mut table = [0u16; 64];
                for (k, natural) in ZIGZAG.iter().enumerate() {
                    table[*natural] = if precision16 {
                        u16::from_be_bytes([bytes[p + 2 * k], bytes[p + 2 * k + 1]])
                    } else {
                        u16::from(bytes[p + k])
                    };
                }
                p += 64 * step;
                tables.push((id, table));
            }
        }
        pos = end;
    }
    tables
}

/// The IJG table for `quality` (1..=100) scaled from `base`.
fn scaled_table(base: &[u16; 64], quality: u32) -> [u16; 64] {
    let scale = if quality < 50 {
        5000 / quality
    } else {
        200 - 2 * quality
    };
    base.map(|v| ((u32::from(v) * scale + 50) / 100).clamp(1, 255) as u16)
}

fn table_error(actual: &[u16; 64], reference: &[u16; 64]) -> f64 {
    actual
        .iter()
        .zip(reference)
        .map(|(&a, &r)| {
            let d = f64::from(a).ln() - f64::from(r.max(1)).ln();
            d * d
        })
        .sum()
}

/// Estimated quality (1..=100) of a JPEG file, or `None` when it carries no tables.
pub fn estimate_quality(bytes: &[u8]) -> Option<u8> {
    let tables = read_quant_tables(bytes);
    let luma = tables.iter().find(|(id, _)| *id == 0).map(|(_, t)| t)?;
    let chroma = tables.iter().find(|(id, _)| *id == 1).map(|(_, t)| t);
    // Log-ratio error weights every coefficient alike, so the large high-frequency
    // steps do not drown out the small low-frequency ones that carry most detail.
    (1..=100u32)
        .min_by(|&a, &b| {
            let err = |q: u32| {
                table_error(luma, &scaled_table(&STD_LUMA, q))
                    + chroma.map_or(0.0, |c| table_error(c, &scaled_table(&STD_CHROMA, q)))
            };
            err(a).total_cmp(&err(b))
        })
        .map(|q| q as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_table_matches_known_values() {
        assert_eq!(scaled_table(&STD_LUMA, 50), STD_LUMA);
        assert!(scaled_table(&STD_LUMA, 100).iter().all(|&v| v == 1));
    }

    #[test]
    fn non_jpeg_has_no_quality() {
        assert_eq!(estimate_quality(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(estimate_quality(&[]), None);
    }
}
