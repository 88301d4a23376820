//! A reader that stops after a byte budget or a deadline: the bound on one check's cost.
//!
//! The limit it hit is remembered, because the crates that parse through it (OLE, zip,
//! inflate) may turn an I/O error into their own "invalid data": the check then asks
//! [`Bounded::limit_reached`] before it calls a file damaged.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

use super::Limits;
use crate::zipfmt::ReadAt;

/// Wraps a reader; every read counts against the budget and checks the deadline.
pub struct Bounded<R> {
    inner: R,
    left: u64,
    deadline: Instant,
    limits: Limits,
    reached: Option<Limit>,
}

/// Which bound stopped a check, with its size for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    Read(u64),
    Time(Duration),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Read(bytes) => write!(
                f,
                "checking it needed more than the {} read limit for one file",
                human_bytes(*bytes)
            ),
            Limit::Time(time) => write!(
                f,
                "checking it took longer than the {} time limit for one file (a slow drive, \
                 or a file built to be slow to check)",
                human_duration(*time)
            ),
        }
    }
}

impl std::error::Error for Limit {}

impl<R> Bounded<R> {
    pub fn new(inner: R, limits: &Limits) -> Bounded<R> {
        Bounded {
            inner,
            left: limits.max_read,
            deadline: Instant::now() + limits.max_time,
            limits: *limits,
            reached: None,
        }
    }

    /// The bound a read ran into, if any did.
    pub(crate) fn limit_reached(&self) -> Option<Limit> {
        self.reached
    }

    fn stop(&mut self, limit: Limit) -> io::Error {
        self.reached = Some(limit);
        let kind = match limit {
            Limit::Read(_) => io::ErrorKind::QuotaExceeded,
            Limit::Time(_) => io::ErrorKind::TimedOut,
        };
        io::Error::new(kind, limit)
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() > self.deadline {
            return Err(self.stop(Limit::Time(self.limits.max_time)));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            return Err(self.stop(Limit::Read(self.limits.max_read)));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Bounded<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek> Bounded<R> {
    /// Up to `len` bytes from `offset`: fewer only where the file ends first, so a
    /// structure that points past the end shows as a short answer, not an error.
    pub(crate) fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.seek(SeekFrom::Start(offset))?;
        let mut out = Vec::with_capacity(len.min(1 << 20));
        self.by_ref().take(len as u64).read_to_end(&mut out)?;
        Ok(out)
    }

    /// The last `len` bytes of a file of `size` bytes (all of it when shorter), and the
    /// offset they start at.
    pub(crate) fn read_tail(&mut self, size: u64, len: usize) -> io::Result<(u64, Vec<u8>)> {
        let start = size.saturating_sub(len as u64);
        Ok((start, self.read_at(start, len)?))
    }
}

/// A bounded reader lent to the zip format, which reads by position through `&self`. One
/// check reads on one thread, so a `RefCell` is enough; every read still counts against
/// the bounds.
pub(crate) struct BoundedAt<'a, R> {
    inner: RefCell<&'a mut Bounded<R>>,
    len: u64,
}

impl<'a, R> BoundedAt<'a, R> {
    /// `len` is the file's length from its open handle.
    pub(crate) fn new(inner: &'a mut Bounded<R>, len: u64) -> BoundedAt<'a, R> {
        BoundedAt {
            inner: RefCell::new(inner),
            len,
        }
    }
}

impl<R: Read + Seek> ReadAt for BoundedAt<'_, R> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut inner = self
            .inner
            .try_borrow_mut()
            .map_err(|_| io::Error::other("the reader is already in use"))?;
        inner.seek(SeekFrom::Start(offset))?;
        inner.read(buf)
    }
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

fn human_duration(time: Duration) -> String {
    if time.subsec_millis() == 0 {
        format!("{} s", time.as_secs())
    } else {
        format!("{:.1} s", time.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn limits(max_read: u64, max_time: Duration) -> Limits {
        Limits { max_read, max_time }
    }

    #[test]
    fn stops_at_the_byte_budget_and_remembers_it() {
        let mut r = Bounded::new(
            Cursor::new(vec![7u8; 100]),
            &limits(10, Duration::from_secs(9)),
        );
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).map(|_| ()).unwrap_err();
        assert_eq!(out.len(), 10);
        assert_eq!(r.limit_reached(), Some(Limit::Read(10)));
        assert!(err.to_string().contains("10 bytes read limit"), "{err}");
    }

    #[test]
    fn stops_at_the_deadline() {
        let mut r = Bounded::new(Cursor::new(vec![7u8; 100]), &limits(1000, Duration::ZERO));
        std::thread::sleep(Duration::from_millis(2));
        assert!(r.read(&mut [0u8; 4]).is_err());
        assert_eq!(r.limit_reached(), Some(Limit::Time(Duration::ZERO)));
    }

    #[test]
    fn short_reads_at_the_end_are_not_errors() {
        let mut r = Bounded::new(Cursor::new(b"abcdef".to_vec()), &Limits::default());
        assert_eq!(r.read_at(4, 10).unwrap(), b"ef");
        assert_eq!(r.read_at(40, 10).unwrap(), b"");
        assert_eq!(r.read_tail(6, 4).unwrap(), (2, b"cdef".to_vec()));
        assert_eq!(r.limit_reached(), None);
    }

    #[test]
    fn limits_read_as_sentences() {
        assert!(Limit::Read(8 << 20).to_string().contains("8 MiB"));
        assert!(Limit::Time(Duration::from_secs(20))
            .to_string()
            .contains("20 s"));
    }
}
