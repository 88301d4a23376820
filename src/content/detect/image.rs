//! Images (`.png`, `.jpg`/`.jpeg`, `.gif`).
//!
//! Reads: the first KiB (the signature) and the last 4 KiB, where each format's end
//! marker shows whether the copy is whole. Pixels are never decoded.
//!
//! JPEG needs care: phones append data after the end marker (a Motion Photo's video,
//! Samsung's trailer), so a missing end marker alone proves nothing. Inside compressed
//! image data every 0xFF byte is followed by 0x00 (stuffing), a restart marker or more
//! fill, so a tail that keeps that rule and has no end marker is image data cut off;
//! a tail that breaks it is something appended after a whole image.

use std::io::{Read, Seek};

use memchr::memmem;

use super::{found, head, sniff, wrong_type, Bounded, Check, Judged};

const TAIL: usize = 4 << 10;
const PNG_END: &[u8] = b"IEND\xAE\x42\x60\x82";
const JPEG_END: &[u8] = b"\xFF\xD9";
const GIF_TRAILER: u8 = 0x3B;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Png,
    Jpeg,
    Gif,
}

impl Image {
    pub fn of(ext: &str) -> Option<Image> {
        match ext {
            "png" => Some(Image::Png),
            "jpg" | "jpeg" | "jpe" | "jfif" => Some(Image::Jpeg),
            "gif" => Some(Image::Gif),
            _ => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Image::Png => "a PNG image",
            Image::Jpeg => "a JPEG image",
            Image::Gif => "a GIF image",
        }
    }

    fn has_signature(self, head: &[u8]) -> bool {
        match self {
            Image::Png => head.starts_with(sniff::PNG),
            Image::Jpeg => head.starts_with(sniff::JPEG),
            Image::Gif => sniff::is_gif(head),
        }
    }

    fn is_whole(self, tail: &[u8]) -> bool {
        match self {
            // Trailing bytes after IEND are tolerated by every viewer.
            Image::Png => memmem::find(tail, PNG_END).is_some(),
            Image::Jpeg => memmem::find(tail, JPEG_END).is_some() || !is_scan_data(tail),
            // Some old writers stop after the last block's terminator, without the trailer.
            Image::Gif => matches!(tail.last(), Some(&GIF_TRAILER | &0)),
        }
    }
}

pub fn check<R: Read + Seek>(r: &mut Bounded<R>, size: u64, image: Image) -> Judged {
    let head = head(r)?;
    if !image.has_signature(&head) {
        return Err(wrong_type(sniff::describe(&head), image.noun()));
    }
    let (_, tail) = r.read_tail(size, TAIL)?;
    if !image.is_whole(&tail) {
        return Err(found(
            Check::Corrupt,
            "no end marker: the image looks cut short",
        ));
    }
    Ok(())
}

/// Whether every 0xFF in `tail` is followed as in entropy-coded JPEG data.
fn is_scan_data(tail: &[u8]) -> bool {
    tail.windows(2)
        .filter(|w| w[0] == 0xFF)
        .all(|w| matches!(w[1], 0x00 | 0xD0..=0xD7 | 0xFF))
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::*;

    fn png() -> Vec<u8> {
        let mut b = sniff::PNG.to_vec();
        b.extend_from_slice(b"\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1F\x15\xC4\x89");
        b.extend_from_slice(
            b"\0\0\0\x0DIDAT\x78\x9C\x63\x00\x01\x00\x00\x05\x00\x01\x0D\x0A\x2D\xB4",
        );
        b.extend_from_slice(b"\0\0\0\0");
        b.extend_from_slice(PNG_END);
        b
    }

    fn jpeg() -> Vec<u8> {
        let mut b =
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
        b.extend_from_slice(b"\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00");
        b.extend(
            (0..6000u32)
                .map(|i| if i % 97 == 0 { 0xFF } else { (i % 251) as u8 })
                .flat_map(|x| if x == 0xFF { vec![0xFF, 0x00] } else { vec![x] }),
        );
        b.extend_from_slice(JPEG_END);
        b
    }

    fn gif() -> Vec<u8> {
        let mut b = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xFF\xFF\xFF\x00\x00\x00".to_vec();
        b.extend_from_slice(b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;");
        b
    }

    #[test]
    fn whole_images_are_ok() {
        assert_eq!(run(&png(), "a.png").check, Check::Ok);
        assert_eq!(run(&jpeg(), "b.JPG").check, Check::Ok);
        assert_eq!(run(&gif(), "c.gif").check, Check::Ok);
    }

    #[test]
    fn images_cut_short_are_corrupt() {
        for (bytes, name) in [(png(), "a.png"), (jpeg(), "b.jpeg"), (gif(), "c.gif")] {
            let got = run(&bytes[..bytes.len() - 5], name);
            assert_eq!(got.check, Check::Corrupt, "{name}");
        }
        // A download that stopped and was padded with zeros.
        let mut padded = jpeg();
        padded.truncate(3000);
        padded.resize(8000, 0);
        assert_eq!(run(&padded, "b.jpg").check, Check::Corrupt);
    }

    #[test]
    fn data_appended_after_a_whole_jpeg_is_not_damage() {
        let mut motion = jpeg();
        motion.extend((0..20_000u32).map(|i| (i * 7919 % 256) as u8));
        assert_eq!(run(&motion, "PXL_0001.MP.jpg").check, Check::Ok);
    }

    #[test]
    fn another_format_is_the_wrong_type() {
        let got = run(&jpeg(), "photo.png");
        assert_eq!(got.detail.as_deref(), Some("a JPEG image, not a PNG image"));
        assert_eq!(run(b"GIF87a\x01\x00", "x.jpg").check, Check::WrongType);
    }
}
