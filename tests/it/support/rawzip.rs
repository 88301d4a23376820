//! A zip writer for tests that can lie: every header field can be set on its own, so the
//! hostile-zip corpus (bombs, overlaps, forged headers) is built in code, byte by byte.
#![allow(dead_code)]

use std::io::Write;

/// One entry. `new`/`deflated` give an honest entry; the pub fields can then be forged.
#[derive(Clone, Debug)]
pub struct RawEntry {
    pub name: Vec<u8>,
    /// Bytes written as the entry's data (already compressed for method 8).
    pub data: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    pub crc: u32,
    pub compressed_size: u32,
    pub size: u32,
    /// "Version made by": high byte 3 = unix (so `external_attr >> 16` is a unix mode).
    pub made_by: u16,
    pub external_attr: u32,
    /// Forgeries of the local header only.
    pub local_name: Option<Vec<u8>>,
    pub local_crc: Option<u32>,
    /// Point the central record at this offset instead of the entry's own local header.
    pub offset: Option<u32>,
    /// Omit the local header and data (central record only; needs `offset`).
    pub central_only: bool,
}

impl RawEntry {
    /// A stored entry.
    pub fn new(name: &str, data: &[u8]) -> RawEntry {
        RawEntry {
            name: name.as_bytes().to_vec(),
            data: data.to_vec(),
            method: 0,
            flags: 0x0800,
            crc: crc32fast::hash(data),
            compressed_size: data.len() as u32,
            size: data.len() as u32,
            made_by: 0x031E,
            external_attr: 0o100_644 << 16,
            local_name: None,
            local_crc: None,
            offset: None,
            central_only: false,
        }
    }

    /// The same entry stored under raw name bytes without the UTF-8 flag, as older writers
    /// (and Windows' built-in zip) store names: the format then says they are CP437.
    pub fn unflagged(self, name: &[u8]) -> RawEntry {
        RawEntry {
            name: name.to_vec(),
            flags: self.flags & !0x0800,
            ..self
        }
    }

    /// A deflated entry.
    pub fn deflated(name: &str, data: &[u8]) -> RawEntry {
        let packed = deflate(data);
        RawEntry {
            method: 8,
            compressed_size: packed.len() as u32,
            data: packed,
            ..RawEntry::new(name, data)
        }
    }
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// Writes the zip: local headers and data in order, then the central directory and the end
/// record.
pub fn write(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        if e.central_only {
            continue;
        }
        let name = e.local_name.as_ref().unwrap_or(&e.name);
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&e.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0x52]); // time, date: 2021-01-01
        out.extend_from_slice(&e.local_crc.unwrap_or(e.crc).to_le_bytes());
        out.extend_from_slice(&e.compressed_size.to_le_bytes());
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&e.data);
    }
    let cd_start = out.len() as u32;
    for (e, own) in entries.iter().zip(&offsets) {
        out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        out.extend_from_slice(&e.made_by.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&e.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0x52]);
        out.extend_from_slice(&e.crc.to_le_bytes());
        out.extend_from_slice(&e.compressed_size.to_le_bytes());
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 4]); // extra, comment lengths
        out.extend_from_slice(&[0; 4]); // disk, internal attributes
        out.extend_from_slice(&e.external_attr.to_le_bytes());
        out.extend_from_slice(&e.offset.unwrap_or(*own).to_le_bytes());
        out.extend_from_slice(&e.name);
    }
    let cd_size = out.len() as u32 - cd_start;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Hex SHA-256.
pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The entries of a minimal valid bag in folder `bag/`: bagit.txt, a sha256 manifest and
/// the given payload (paths relative to `data/`).
pub fn bag(payload: &[(&str, &[u8])]) -> Vec<RawEntry> {
    let mut manifest = String::new();
    let mut bytes = 0;
    for (p, d) in payload {
        manifest.push_str(&format!("{}  data/{p}\n", sha256(d)));
        bytes += d.len();
    }
    let mut v = vec![
        RawEntry::new(
            "bag/bagit.txt",
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        ),
        RawEntry::new(
            "bag/bag-info.txt",
            format!("Payload-Oxum: {bytes}.{}\n", payload.len()).as_bytes(),
        ),
        RawEntry::new("bag/manifest-sha256.txt", manifest.as_bytes()),
    ];
    for (p, d) in payload {
        v.push(RawEntry::deflated(&format!("bag/data/{p}"), d));
    }
    v
}
