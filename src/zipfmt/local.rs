//! Local file headers: what each entry says of itself just before its data.

use std::io;

use super::{
    extra_fields, le16, le32, le64, read_exact_at, ReadAt, RecordProblem, EXTRA_ZIP64, LOCAL_LEN,
    SATURATED_32, SIG_LOCAL,
};

/// The fixed part of a local header.
#[derive(Debug, Clone, Copy)]
pub struct LocalHeader {
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub name_len: u16,
    pub extra_len: u16,
}

impl LocalHeader {
    /// `None` when `h` is shorter than the fixed part or does not start with its signature.
    pub fn parse(h: &[u8]) -> Option<LocalHeader> {
        if h.len() < LOCAL_LEN as usize || le32(h, 0) != SIG_LOCAL {
            return None;
        }
        Some(LocalHeader {
            flags: le16(h, 6),
            method: le16(h, 8),
            crc32: le32(h, 14),
            compressed_size: u64::from(le32(h, 18)),
            size: u64::from(le32(h, 22)),
            name_len: le16(h, 26),
            extra_len: le16(h, 28),
        })
    }

    /// The name and extra field that follow the fixed part, in bytes.
    pub fn var_len(&self) -> usize {
        usize::from(self.name_len) + usize::from(self.extra_len)
    }

    /// Where the entry's (compressed) data starts, for a header at `offset`.
    pub fn data_start(&self, offset: u64) -> u64 {
        offset.saturating_add(LOCAL_LEN + self.var_len() as u64)
    }

    /// The sizes from the Zip64 extra field in place of saturated ones. A local Zip64
    /// field too short for a size leaves it saturated: the comparison with the central
    /// record then says so.
    pub fn apply_zip64(&mut self, extra: &[u8]) -> Result<(), RecordProblem> {
        let saturated = u64::from(SATURATED_32);
        if self.size != saturated && self.compressed_size != saturated {
            return Ok(());
        }
        for field in extra_fields(extra) {
            let (id, data) = field?;
            if id != EXTRA_ZIP64 {
                continue;
            }
            let mut at = 0;
            if self.size == saturated && data.len() >= at + 8 {
                self.size = le64(data, at);
                at += 8;
            }
            if self.compressed_size == saturated && data.len() >= at + 8 {
                self.compressed_size = le64(data, at);
            }
        }
        Ok(())
    }
}

/// The fixed part of the local header at `offset`; `None` when its signature is not there.
/// A header cut short by the end of the file is an `UnexpectedEof` error.
pub fn read_local_header(src: &dyn ReadAt, offset: u64) -> io::Result<Option<LocalHeader>> {
    let mut h = [0u8; LOCAL_LEN as usize];
    read_exact_at(src, &mut h, offset)?;
    Ok(LocalHeader::parse(&h))
}
