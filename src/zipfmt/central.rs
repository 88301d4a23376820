//! Central directory records, one at a time: each caller keeps what it needs of each, so a
//! directory that declares many records costs only what the caller keeps.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use super::{
    extra_fields, le16, le32, le64, EndRecord, RangeReader, ReadAt, CENTRAL_LEN,
    EXTRA_UNICODE_PATH, EXTRA_ZIP64, FLAG_ENCRYPTED, FLAG_UTF8, SATURATED_16, SATURATED_32,
    SIG_CENTRAL,
};

/// One central directory record, as declared (with its Zip64 values in place).
#[derive(Debug, Clone)]
pub struct CentralRecord {
    pub name_raw: Vec<u8>,
    /// The name, when the stored bytes are not UTF-8 and something else gives it; `None`
    /// when they are UTF-8 (then they are the name) or nothing does.
    pub decoded_name: Option<DecodedName>,
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub header_offset: u64,
    pub made_by: u16,
    pub external_attr: u32,
    /// A problem with this record itself (malformed extra field, Unicode path field that
    /// names a different file); the entry is then never read.
    pub problem: Option<RecordProblem>,
    /// The record's comment runs past the end of the directory. The comment is never used,
    /// so whether that is damage is the caller's call.
    pub comment_short: bool,
}

impl CentralRecord {
    fn from_fixed(h: &[u8], name_raw: Vec<u8>) -> CentralRecord {
        CentralRecord {
            name_raw,
            decoded_name: None,
            made_by: le16(h, 4),
            flags: le16(h, 8),
            method: le16(h, 10),
            crc32: le32(h, 16),
            compressed_size: u64::from(le32(h, 20)),
            size: u64::from(le32(h, 24)),
            external_attr: le32(h, 38),
            header_offset: u64::from(le32(h, 42)),
            problem: None,
            comment_short: false,
        }
    }

    /// The name as UTF-8: the stored bytes when they are UTF-8, else the decoded name;
    /// `None` when neither gives one (bytes flagged UTF-8 that are not, with no Unicode path
    /// field).
    pub fn name(&self) -> Option<&str> {
        std::str::from_utf8(&self.name_raw)
            .ok()
            .or(self.decoded_name.as_ref().map(DecodedName::as_str))
    }

    /// The name was decoded from CP437: neither flagged UTF-8 nor valid UTF-8, and no
    /// Unicode path field gave it.
    pub fn name_is_cp437(&self) -> bool {
        matches!(self.decoded_name, Some(DecodedName::Cp437(_)))
    }

    /// The name for messages: the UTF-8 name, or a lossy rendering.
    pub fn display_name(&self) -> String {
        match self.name() {
            Some(n) => n.to_string(),
            None => String::from_utf8_lossy(&self.name_raw).into_owned(),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.name_raw.last() == Some(&b'/')
    }

    pub fn is_encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }

    /// The unix file type bits when the entry was made on unix (high byte of "version made
    /// by" is 3), else `None`.
    pub fn unix_type(&self) -> Option<u32> {
        (self.made_by >> 8 == 3).then_some((self.external_attr >> 16) & 0o170_000)
    }

    fn apply_extra(&mut self, extra: &[u8], disk: u16) -> Result<(), RecordProblem> {
        let mut saw_zip64 = false;
        for field in extra_fields(extra) {
            match field? {
                (EXTRA_ZIP64, data) => {
                    saw_zip64 = true;
                    self.apply_zip64(data)?;
                }
                (EXTRA_UNICODE_PATH, data) => self.apply_unicode_path(data)?,
                _ => {}
            }
        }
        let saturated = [self.size, self.compressed_size, self.header_offset]
            .contains(&u64::from(SATURATED_32));
        if !saw_zip64 && saturated {
            return Err(RecordProblem::Zip64WithoutField);
        }
        if disk != 0 && disk != SATURATED_16 {
            return Err(RecordProblem::OtherVolume);
        }
        Ok(())
    }

    /// The Zip64 field holds, in this order, each of these that the record saturates.
    fn apply_zip64(&mut self, data: &[u8]) -> Result<(), RecordProblem> {
        let mut at = 0usize;
        let mut next = |value: &mut u64, what: &'static str| {
            if *value != u64::from(SATURATED_32) {
                return Ok(());
            }
            if at + 8 > data.len() {
                return Err(RecordProblem::Zip64Lacks(what));
            }
            *value = le64(data, at);
            at += 8;
            Ok(())
        };
        next(&mut self.size, "size")?;
        next(&mut self.compressed_size, "compressed size")?;
        next(&mut self.header_offset, "header offset")
    }

    /// Unzip tools prefer the Info-ZIP Unicode path to the stored name, so a different name
    /// here is a second, hidden name for the entry.
    fn apply_unicode_path(&mut self, data: &[u8]) -> Result<(), RecordProblem> {
        if data.len() < 5 {
            return Err(RecordProblem::MalformedUnicodePath);
        }
        let upath =
            std::str::from_utf8(&data[5..]).map_err(|_| RecordProblem::UnicodePathNotUtf8)?;
        match self.name() {
            Some(n) if n != upath => Err(RecordProblem::UnicodePathDiffers(upath.to_string())),
            Some(_) => Ok(()),
            None => {
                self.decoded_name = Some(DecodedName::UnicodePath(upath.to_string()));
                Ok(())
            }
        }
    }

    /// A name without the UTF-8 flag is CP437 (APPNOTE appendix D). Many writers store
    /// UTF-8 without setting the flag, and CP437 names that happen to be valid UTF-8 are
    /// rare (it takes a box-drawing, Greek or maths character followed by an accented
    /// letter), so valid UTF-8 is read as UTF-8 and only the rest as CP437. A Unicode path
    /// field, applied before this, wins: unzip tools prefer it. A name flagged UTF-8 that
    /// is not is left undecoded (damage or forgery, not an old writer).
    fn decode_unflagged_name(&mut self) {
        if self.flags & FLAG_UTF8 == 0 && self.name().is_none() {
            self.decoded_name = Some(DecodedName::Cp437(cp437(&self.name_raw)));
        }
    }
}

/// Where a name that is not stored as UTF-8 was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedName {
    /// An Info-ZIP Unicode path extra field (0x7075).
    UnicodePath(String),
    /// The stored bytes, read as CP437 because the record does not flag them UTF-8.
    Cp437(String),
}

impl DecodedName {
    pub fn as_str(&self) -> &str {
        match self {
            DecodedName::UnicodePath(n) | DecodedName::Cp437(n) => n,
        }
    }
}

/// CP437 to Unicode. Bytes below 0x80 are ASCII, control characters included (as other zip
/// readers do, not the DOS glyphs for them), so a NUL or a control character in a name is
/// still caught and escaped as such downstream.
fn cp437(bytes: &[u8]) -> String {
    oem_cp::decode_string_complete_table(bytes, &oem_cp::code_table::DECODING_TABLE_CP437)
}

/// What is wrong with a record whose directory is otherwise readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// An extra field (with this id) whose length runs past its block.
    ExtraOverrun(u16),
    /// The Zip64 field lacks a value the record says it holds.
    Zip64Lacks(&'static str),
    MalformedUnicodePath,
    UnicodePathNotUtf8,
    /// The Unicode path field names this file, not the stored one.
    UnicodePathDiffers(String),
    Zip64WithoutField,
    OtherVolume,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordProblem::ExtraOverrun(id) => {
                write!(f, "extra field {id:#06x} runs past the end of its block")
            }
            RecordProblem::Zip64Lacks(what) => write!(f, "Zip64 field lacks the {what}"),
            RecordProblem::MalformedUnicodePath => f.write_str("malformed Unicode path field"),
            RecordProblem::UnicodePathNotUtf8 => f.write_str("the Unicode path field is not UTF-8"),
            RecordProblem::UnicodePathDiffers(upath) => write!(
                f,
                "its Unicode path field names a different file ({})",
                crate::util::printable(upath)
            ),
            RecordProblem::Zip64WithoutField => {
                f.write_str("sizes marked as Zip64 but no Zip64 field")
            }
            RecordProblem::OtherVolume => f.write_str("the entry is on another volume"),
        }
    }
}

/// Why the directory cannot be read past a record: every later record is unknown.
#[derive(Debug)]
pub enum RecordError {
    BadSignature,
    /// A failed read; `UnexpectedEof` when the record runs past the directory.
    Io(io::Error),
}

impl From<io::Error> for RecordError {
    fn from(err: io::Error) -> RecordError {
        RecordError::Io(err)
    }
}

/// The records of a central directory in order, as many as the end record declares; the
/// first error ends them.
pub struct CentralRecords<'a> {
    reader: BufReader<RangeReader<'a>>,
    left: u64,
}

/// Reads the directory that `end` locates, in 64 KiB chunks, never past its declared size.
pub fn central_records<'a>(src: &'a dyn ReadAt, end: &EndRecord) -> CentralRecords<'a> {
    let range = RangeReader::new(src, end.cd_offset, end.cd_size);
    CentralRecords {
        reader: BufReader::with_capacity(64 * 1024, range),
        left: end.count,
    }
}

impl Iterator for CentralRecords<'_> {
    type Item = Result<CentralRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let record = read_record(&mut self.reader);
        self.left = if record.is_ok() { self.left - 1 } else { 0 };
        Some(record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, usize::try_from(self.left).ok())
    }
}

fn read_record(r: &mut impl BufRead) -> Result<CentralRecord, RecordError> {
    let mut h = [0u8; CENTRAL_LEN as usize];
    r.read_exact(&mut h)?;
    if le32(&h, 0) != SIG_CENTRAL {
        return Err(RecordError::BadSignature);
    }
    let mut name_raw = vec![0u8; usize::from(le16(&h, 28))];
    r.read_exact(&mut name_raw)?;
    let mut extra = vec![0u8; usize::from(le16(&h, 30))];
    r.read_exact(&mut extra)?;
    let comment_len = u64::from(le16(&h, 32));
    let skipped = io::copy(&mut r.take(comment_len), &mut io::sink())?;
    let mut record = CentralRecord::from_fixed(&h, name_raw);
    record.comment_short = skipped < comment_len;
    record.problem = record.apply_extra(&extra, le16(&h, 34)).err();
    record.decode_unflagged_name();
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_with_extra(size: u32, extra: &[u8]) -> CentralRecord {
        let mut h = [0u8; CENTRAL_LEN as usize];
        h[24..28].copy_from_slice(&size.to_le_bytes());
        let mut r = CentralRecord::from_fixed(&h, b"a.txt".to_vec());
        r.problem = r.apply_extra(extra, 0).err();
        r
    }

    #[test]
    fn zip64_values_replace_saturated_ones() {
        let mut extra = vec![1, 0, 8, 0];
        extra.extend_from_slice(&(5u64 << 32).to_le_bytes());
        let r = record_with_extra(u32::MAX, &extra);
        assert_eq!((r.size, r.problem), (5 << 32, None));
    }

    /// A record with this name and flags, read as `read_record` reads it.
    fn record_named(name: &[u8], flags: u16, extra: &[u8]) -> CentralRecord {
        let mut h = [0u8; CENTRAL_LEN as usize];
        h[8..10].copy_from_slice(&flags.to_le_bytes());
        let mut r = CentralRecord::from_fixed(&h, name.to_vec());
        r.problem = r.apply_extra(extra, 0).err();
        r.decode_unflagged_name();
        r
    }

    #[test]
    fn cp437_bytes_decode_to_their_characters() {
        assert_eq!(cp437(b"Caf\x82 \x81ber"), "Café über");
        assert_eq!(cp437(&[0xC9, 0xCD, 0xBB, 0xB0, 0xDB]), "╔═╗░█");
        assert_eq!(cp437(&[0xE1, 0xE3, 0xF8, 0xFF]), "ßπ°\u{a0}");
        // ASCII stays ASCII, control characters included: the name checks still see them.
        assert_eq!(cp437(b"a/b\0"), "a/b\0");
    }

    #[test]
    fn unflagged_names_are_utf8_when_valid_else_cp437() {
        let r = record_named(b"data/Caf\x82.txt", 0, &[]);
        assert_eq!(r.name(), Some("data/Café.txt"));
        assert!(r.name_is_cp437());
        let r = record_named("data/Café.txt".as_bytes(), 0, &[]);
        assert_eq!(r.name(), Some("data/Café.txt"));
        assert!(!r.name_is_cp437());
    }

    #[test]
    fn flagged_names_that_are_not_utf8_stay_unread() {
        let r = record_named(b"data/Caf\x82.txt", FLAG_UTF8, &[]);
        assert_eq!((r.name(), r.name_is_cp437()), (None, false));
        assert_eq!(r.display_name(), "data/Caf\u{fffd}.txt");
    }

    #[test]
    fn a_unicode_path_field_wins_over_cp437() {
        let mut extra = vec![0x75, 0x70, 10, 0, 1, 0, 0, 0, 0];
        extra.extend_from_slice("Café".as_bytes());
        let r = record_named(b"Caf\x82", 0, &extra);
        assert_eq!(r.name(), Some("Café"));
        assert!(!r.name_is_cp437());
    }

    #[test]
    fn record_problems_say_what_is_wrong() {
        let r = record_with_extra(u32::MAX, &[]);
        assert_eq!(r.problem, Some(RecordProblem::Zip64WithoutField));
        let r = record_with_extra(1, &[0x75, 0x70, 6, 0, 1, 0, 0, 0, 0, b'b']);
        let why = r.problem.map(|p| p.to_string()).unwrap_or_default();
        assert!(why.contains("different file"), "{why}");
    }
}
