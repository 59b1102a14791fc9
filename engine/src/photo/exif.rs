//! The few EXIF text tags a reviewer wants to see: camera make and model, and the
//! software that last wrote the file (editing tools name themselves there).

/// Camera and software named in an EXIF (TIFF) block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExifText {
    /// "Make Model" of the camera.
    pub camera: Option<String>,
    /// Software tag.
    pub software: Option<String>,
}

/// Reads Make (0x010F), Model (0x0110) and Software (0x0131) from IFD0 of an EXIF block
/// (with or without the `Exif\0\0` prefix). Anything malformed is simply absent.
pub fn read_text_tags(block: &[u8]) -> ExifText {
    let tiff = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    let little = match tiff.get(..4) {
        Some([b'I', b'I', 42, 0]) => true,
        Some([b'M', b'M', 0, 42]) => false,
        _ => return ExifText::default(),
    };
    let u16_at = |o: usize| {
        tiff.get(o..o + 2).map(|b| {
            if little {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |o: usize| {
        tiff.get(o..o + 4).map(|b| {
            if little {
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            } else {
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            }
        })
    };
    let Some(ifd) = u32_at(4).map(|v| v as usize) else {
        return ExifText::default();
    };
    let Some(count) = u16_at(ifd) else {
        return ExifText::default();
    };
    let (mut make, mut model, mut software) = (None, None, None);
    for i in 0..usize::from(count.min(512)) {
        let entry = ifd + 2 + i * 12;
        let (Some(tag), Some(kind), Some(n)) =
            (u16_at(entry), u16_at(entry + 2), u32_at(entry + 4))
        else {
            break;
        };
        if kind != 2 || n == 0 || n > 256 {
            continue;
        }
        let start = if n <= 4 {
            entry + 8
        } else {
            u32_at(entry + 8).unwrap_or(u32::MAX) as usize
        };
        let Some(raw) = tiff.get(start..start.saturating_add(n as usize)) else {
            continue;
        };
        let text = String::from_utf8_lossy(raw)
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string();
        if text.is_empty() {
            continue;
        }
        match tag {
            0x010F => make = Some(text),
            0x0110 => model = Some(text),
            0x0131 => software = Some(text),
            _ => {}
        }
    }
    let camera = match (make, model) {
        (Some(a), Some(b)) if b.starts_with(&a) => Some(b),
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    };
    ExifText { camera, software }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_make_model_software() {
        // Little-endian TIFF, IFD0 with three ASCII entries stored after the IFD.
        let strings: [(u16, &[u8]); 3] = [
            (0x010F, b"Acme\0"),
            (0x0110, b"Phone 12\0"),
            (0x0131, b"EditorPro 3.1\0"),
        ];
        let mut t = b"II*\0".to_vec();
        t.extend_from_slice(&8u32.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes());
        let mut data_off = 8 + 2 + 3 * 12 + 4;
        let mut data = Vec::new();
        for (tag, s) in strings {
            t.extend_from_slice(&tag.to_le_bytes());
            t.extend_from_slice(&2u16.to_le_bytes());
            t.extend_from_slice(&(s.len() as u32).to_le_bytes());
            t.extend_from_slice(&(data_off as u32).to_le_bytes());
            data.extend_from_slice(s);
            data_off += s.len();
        }
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(&data);
        let e = read_text_tags(&t);
        assert_eq!(e.camera.as_deref(), Some("Acme Phone 12"));
        assert_eq!(e.software.as_deref(), Some("EditorPro 3.1"));
        assert_eq!(read_text_tags(b"garbage"), ExifText::default());
        assert_eq!(read_text_tags(&t[..20]), ExifText::default());
    }
}
