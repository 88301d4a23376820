//! The end of central directory record and the Zip64 end record: where the central
//! directory is, how large, and how many records it declares.

use std::io;

use super::{
    le16, le32, le64, read_exact_at, ReadAt, EOCD_LEN, SATURATED_16, SATURATED_32, SIG_EOCD,
    SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR, ZIP64_EOCD_LEN, ZIP64_LOCATOR_LEN,
};

/// The end record sits within a 64 KiB comment of the end; most files have none, so a
/// first short look usually finds it.
const FIRST_LOOK: u64 = 1024;
const FULL_LOOK: u64 = EOCD_LEN + 0xFFFF;

/// What the end record declares about the central directory, with the Zip64 end record's
/// values once [`EndRecord::apply_zip64`] has put them in.
#[derive(Debug, Clone)]
pub struct EndRecord {
    /// Where the end record starts.
    pub pos: u64,
    pub disk: u16,
    pub cd_disk: u16,
    pub count: u64,
    pub cd_size: u64,
    pub cd_offset: u64,
    /// The central directory must end by here: the (Zip64) end record.
    pub cd_end_limit: u64,
}

impl EndRecord {
    fn parse(rec: &[u8], pos: u64) -> EndRecord {
        EndRecord {
            pos,
            disk: le16(rec, 4),
            cd_disk: le16(rec, 6),
            count: u64::from(le16(rec, 10)),
            cd_size: u64::from(le32(rec, 12)),
            cd_offset: u64::from(le32(rec, 16)),
            cd_end_limit: pos,
        }
    }

    /// Whether a field holds its largest value, which says the Zip64 end record has it.
    pub fn wants_zip64(&self) -> bool {
        self.count == u64::from(SATURATED_16)
            || self.cd_size == u64::from(SATURATED_32)
            || self.cd_offset == u64::from(SATURATED_32)
    }

    /// The Zip64 end record's 64-bit values in place of the 16/32-bit ones.
    pub fn apply_zip64(&mut self, z64: &Zip64End) {
        self.count = z64.count;
        self.cd_size = z64.cd_size;
        self.cd_offset = z64.cd_offset;
        self.cd_end_limit = z64.pos;
    }
}

/// What a Zip64 end record declares.
#[derive(Debug, Clone)]
pub struct Zip64End {
    /// Where it starts.
    pub pos: u64,
    pub disk: u32,
    pub cd_disk: u32,
    pub count: u64,
    pub cd_size: u64,
    pub cd_offset: u64,
}

/// Finds the end record: 22 bytes plus a comment of at most 65,535, so the tail is
/// searched from the end for a signature whose comment fits in what follows it. `None`
/// when there is none.
pub fn find_end_record(src: &dyn ReadAt) -> io::Result<Option<EndRecord>> {
    let len = src.len();
    if len < EOCD_LEN {
        return Ok(None);
    }
    for look in [FIRST_LOOK, FULL_LOOK] {
        let start = len - len.min(look);
        let mut tail = vec![0u8; (len - start) as usize];
        read_exact_at(src, &mut tail, start)?;
        if let Some(at) = end_in(&tail) {
            return Ok(Some(EndRecord::parse(&tail[at..], start + at as u64)));
        }
        if start == 0 {
            break;
        }
    }
    Ok(None)
}

/// The last end-record signature whose comment length fits what follows it.
fn end_in(tail: &[u8]) -> Option<usize> {
    memchr::memmem::rfind_iter(tail, &SIG_EOCD.to_le_bytes()).find(|&at| {
        tail.get(at + 20..at + 22)
            .is_some_and(|c| at + EOCD_LEN as usize + usize::from(le16(c, 0)) <= tail.len())
    })
}

/// Where the Zip64 end record is, from the locator just before the end record; `None`
/// when no locator is there.
pub fn read_zip64_locator(src: &dyn ReadAt, end: &EndRecord) -> io::Result<Option<u64>> {
    let Some(at) = end.pos.checked_sub(ZIP64_LOCATOR_LEN) else {
        return Ok(None);
    };
    let mut loc = [0u8; ZIP64_LOCATOR_LEN as usize];
    match read_exact_at(src, &mut loc, at) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        read => read?,
    }
    Ok((le32(&loc, 0) == SIG_ZIP64_LOCATOR).then(|| le64(&loc, 8)))
}

/// The Zip64 end record at `at`; `None` when its signature is not there. A record cut
/// short by the end of the file is an `UnexpectedEof` error.
pub fn read_zip64_end(src: &dyn ReadAt, at: u64) -> io::Result<Option<Zip64End>> {
    let mut rec = [0u8; ZIP64_EOCD_LEN as usize];
    read_exact_at(src, &mut rec, at)?;
    if le32(&rec, 0) != SIG_ZIP64_EOCD {
        return Ok(None);
    }
    Ok(Some(Zip64End {
        pos: at,
        disk: le32(&rec, 16),
        cd_disk: le32(&rec, 20),
        count: le64(&rec, 32),
        cd_size: le64(&rec, 40),
        cd_offset: le64(&rec, 48),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_signature_whose_comment_fits_is_the_end_record() {
        let mut tail = SIG_EOCD.to_le_bytes().to_vec();
        tail.extend_from_slice(&[0; 16]);
        tail.extend_from_slice(&4u16.to_le_bytes());
        // A comment holding a signature whose own comment would run past the end.
        tail.extend_from_slice(&SIG_EOCD.to_le_bytes());
        assert_eq!(end_in(&tail), Some(0));
        assert_eq!(end_in(&tail[1..]), None);
    }
}
