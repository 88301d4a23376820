//! A reader that stops after a byte budget or a deadline: the bound on one check's cost.

use std::io::{self, Read, Seek, SeekFrom};
use std::time::Instant;

use super::Limits;

/// Wraps a reader; every read counts against the budget and checks the deadline.
pub struct Bounded<R> {
    inner: R,
    left: u64,
    deadline: Instant,
}

impl<R> Bounded<R> {
    pub fn new(inner: R, limits: &Limits) -> Bounded<R> {
        Bounded {
            inner,
            left: limits.max_read,
            deadline: Instant::now() + limits.max_time,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() > self.deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "the time limit for checking one file"));
        }
        if self.left == 0 {
            return Err(io::Error::other("the read limit for checking one file"));
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
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
