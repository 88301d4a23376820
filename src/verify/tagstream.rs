//! One tag file of a pack, streamed to a reader without checking the rest of the pack: for
//! commands that read what a pack says about itself (`evpack diff` reads `pack.json`).
//! The pack is opened as `verify` opens it (the zip's central directory and local headers
//! judged first, nothing extracted to disk, entries stopped at their declared size), so a
//! hostile pack costs no more here than there.

use std::io::Read;
use std::path::Path;

use super::hashing::{Algo, Algos};
use super::jsonstream::streamed;
use super::source::{self, FileSource};
use super::store::Store;
use super::{folder, unreadable, zipstore};
use crate::error::{Error, Result};

/// Streams the tag file `name` (relative to the bag folder, e.g. `pack.json`) of the pack
/// at `path` (a zip or an unzipped bag folder) into `parse`. An error when the pack cannot
/// be read, has no such file, or the file cannot be read to its end.
pub fn stream_tag_file<T>(
    path: &Path,
    name: &str,
    parse: impl FnOnce(&mut dyn Read) -> T,
) -> Result<T> {
    stream_if_present(path, name, parse)?.ok_or_else(|| {
        Error::input(
            path,
            format!("the pack holds no readable `{name}`"),
            "give a pack that `evpack build` wrote (`evpack verify` says what is wrong with this one)",
        )
    })
}

/// A small tag file of a pack (`bag-info.txt`), whole: `Ok(None)` when the pack holds no
/// readable file of that name, an error when it holds more than `limit` bytes (only that
/// much and one byte more is ever read).
pub fn read_tag_file(path: &Path, name: &str, limit: u64) -> Result<Option<Vec<u8>>> {
    let read = stream_if_present(path, name, |r| {
        let mut bytes = Vec::new();
        r.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    })?;
    match read {
        None => Ok(None),
        Some(Ok(bytes)) if bytes.len() as u64 > limit => Err(Error::input(
            path,
            format!("its {name} is more than the {limit} bytes evpack reads of it"),
            "give a pack that `evpack build` wrote",
        )),
        Some(Ok(bytes)) => Ok(Some(bytes)),
        Some(Err(e)) => Err(Error::io(path, "cannot read the pack", e)),
    }
}

/// [`stream_tag_file`], with `None` when the pack holds no readable file of that name.
fn stream_if_present<T>(
    path: &Path,
    name: &str,
    parse: impl FnOnce(&mut dyn Read) -> T,
) -> Result<Option<T>> {
    let shown = path.display().to_string();
    let (file, meta) =
        source::open_no_wait(path).map_err(|e| Error::io(path, "cannot open the pack", e))?;
    if meta.is_dir() {
        drop(file);
        let (store, listing) = folder::open(path)?;
        return stream_member(&store, &listing.members, &shown, name, parse);
    }
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file or folder (a FIFO, socket or device); not read",
            "give a pack zip that `evpack build` wrote, or an unzipped pack folder",
        ));
    }
    let src = FileSource::new(file).map_err(|e| Error::io(path, "cannot read the pack", e))?;
    let (store, listing) = zipstore::open(&src).map_err(|why| unreadable(&shown, why))?;
    stream_member(&store, &listing.members, &shown, name, parse)
}

fn stream_member<T>(
    store: &dyn Store,
    members: &[super::store::Member],
    shown: &str,
    name: &str,
    parse: impl FnOnce(&mut dyn Read) -> T,
) -> Result<Option<T>> {
    let Some(m) = members.iter().find(|m| m.path == name) else {
        return Ok(None);
    };
    let (parsed, read) = streamed(store, m, Algos::default().with(Algo::Sha256), parse);
    read.map_err(|p| {
        Error::input(
            shown,
            format!("cannot read `{name}` to its end: {}", p.message),
            "`evpack verify` on the pack says what is wrong with it; build it again or fetch a good copy",
        )
    })?;
    Ok(Some(parsed))
}
