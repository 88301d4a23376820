//! A JSON tag file (`pack.json`) as a stream for the parser, in bounded memory.
//!
//! The store pushes a member's bytes ([`Store::stream`]) and a parser pulls them
//! ([`std::io::Read`]), so [`streamed`] runs the store on a thread of its own and hands the
//! pieces over a bounded channel: inflating and hashing run beside the parse, and at most a
//! few pieces are in flight. The member is read to its end, and hashed, whether or not the
//! parser wants all of it (a tag manifest needs its digest, and a parse stops at the first
//! error).
//!
//! [`JsonReader`] reads the JSON a token at a time from that stream. It is evpack's own,
//! not `serde_json` over a `Read`: that one takes every byte through an iterator (several
//! times slower: seconds for the `pack.json` of 200,000 files), and holds whatever string
//! it reads whole. This one keeps a string up to [`MAX_STRING`] bytes and checks and drops the
//! rest, refuses nesting deeper than [`MAX_DEPTH`], skips what a check does not read
//! without keeping anything of it, and otherwise follows `serde_json`'s rules (its tests
//! hold it to `serde_json`'s verdict on every mutation of a sample).

use std::io::{self, Read};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::hashing::{Algos, Hashers};
use super::store::{Buffers, Member, Problem, Store};

/// Longest string kept whole: far longer than any key, path (at most 4 KiB), digest or id,
/// the only strings a check reads. Longer ones (a reason naming thousands of files) are
/// only ever skipped, so cutting them changes nothing a check sees.
pub const MAX_STRING: usize = 64 * 1024;

/// Deepest nesting accepted: `pack.json` nests eight deep, and a value being skipped is
/// tracked a bit per level.
pub const MAX_DEPTH: usize = 256;

/// Pieces in flight between the store's thread and the parser.
const IN_FLIGHT: usize = 4;

/// Streams member `m` on a thread of its own into `parse`, hashing it by `algos` on the
/// way. Returns what `parse` returned, and the hashes of the whole member, or why it could
/// not be read to its end (then what `parse` saw is not the member and must be dropped).
pub fn streamed<T>(
    store: &dyn Store,
    m: &Member,
    algos: Algos,
    parse: impl FnOnce(&mut dyn Read) -> T,
) -> (T, Result<Hashers, Problem>) {
    std::thread::scope(|scope| {
        let (tx, rx) = bounded::<Vec<u8>>(IN_FLIGHT);
        // Pieces the parser has used go back to be filled again: no allocation per piece.
        let (spare_tx, spare_rx) = bounded::<Vec<u8>>(IN_FLIGHT + 1);
        let reader = scope.spawn(move || {
            let mut hashers = Hashers::new(algos);
            let mut open = true;
            let read = store.stream(m, &mut Buffers::new(), &mut |bytes| {
                hashers.update(bytes);
                if open {
                    let mut piece = spare_rx.try_recv().unwrap_or_default();
                    piece.clear();
                    piece.extend_from_slice(bytes);
                    // A parser that has stopped no longer listens: hash the rest alone.
                    open = tx.send(piece).is_ok();
                }
            });
            read.map(|()| hashers)
        });
        let mut pieces = Pieces {
            rx,
            spare: spare_tx,
            piece: Vec::new(),
            at: 0,
        };
        let parsed = parse(&mut pieces);
        drop(pieces);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (parsed, read)
    })
}

/// The parser's end of the channel.
struct Pieces {
    rx: Receiver<Vec<u8>>,
    spare: Sender<Vec<u8>>,
    piece: Vec<u8>,
    at: usize,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.piece.len() {
            let Ok(next) = self.rx.recv() else {
                return Ok(0);
            };
            let used = std::mem::replace(&mut self.piece, next);
            // Full only if the store's thread has stopped taking spares: then drop it.
            let _ = self.spare.try_send(used);
            self.at = 0;
        }
        let n = buf.len().min(self.piece.len() - self.at);
        buf[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Why a JSON text cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type JsonResult<T> = Result<T, JsonError>;

/// What a number is, as far as a check reading a size cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    /// A whole number from 0 to `u64::MAX`.
    Whole(u64),
    /// A negative whole number.
    Negative,
    /// A fraction or exponent, `-0`, or a whole number past `u64::MAX`.
    Other,
}

/// A JSON text read token by token from a stream, a window at a time, checked as strictly
/// as a typed parse checks it (`serde_json`'s rules: UTF-8 and paired surrogates in the
/// strings a check reads, valid escapes and no control characters in every string, the
/// number grammar, no trailing commas or characters). Nothing is kept but the window, the
/// last string read whole (cut at [`MAX_STRING`] bytes) and the nesting depth (at most
/// [`MAX_DEPTH`]); skipping a value costs nothing, however large it is.
pub struct JsonReader<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Where the window starts in the stream, lines ended before it, and where the line
    /// that holds the window's start began: for messages.
    at: u64,
    lines: u64,
    line_start: u64,
    depth: usize,
    /// The last string read with `keep`, cut where a character starts at most
    /// [`MAX_STRING`] bytes in.
    text: String,
}

impl<R: Read> JsonReader<R> {
    pub fn new(src: R) -> JsonReader<R> {
        JsonReader {
            src,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            at: 0,
            lines: 0,
            line_start: 0,
            depth: 0,
            text: String::new(),
        }
    }

    /// The next window; `false` at the end of the stream.
    fn refill(&mut self) -> JsonResult<bool> {
        let done = &self.buf[..self.len];
        self.lines += memchr::memchr_iter(b'\n', done).count() as u64;
        if let Some(nl) = memchr::memrchr(b'\n', done) {
            self.line_start = self.at + nl as u64 + 1;
        }
        self.at += self.len as u64;
        self.pos = 0;
        self.len = loop {
            match self.src.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(JsonError(format!("read error: {e}"))),
            }
        };
        Ok(self.len > 0)
    }

    /// `what` went wrong at the current place.
    pub fn error(&self, what: impl std::fmt::Display) -> JsonError {
        let before = &self.buf[..self.pos];
        let line = self.lines + memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        let start =
            memchr::memrchr(b'\n', before).map_or(self.line_start, |nl| self.at + nl as u64 + 1);
        let column = self.at + self.pos as u64 - start + 1;
        JsonError(format!("{what} at line {line} column {column}"))
    }

    fn eof(&self, parsing: &str) -> JsonError {
        self.error(format!("EOF while parsing {parsing}"))
    }

    /// The next byte that is not white space, not consumed; `None` at the end.
    pub fn peek(&mut self) -> JsonResult<Option<u8>> {
        loop {
            while let Some(&b) = self.buf[..self.len].get(self.pos) {
                if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.refill()? {
                return Ok(None);
            }
        }
    }

    /// The next byte of a token (no white space skipped), consumed.
    fn next_in(&mut self, parsing: &str) -> JsonResult<u8> {
        if self.pos == self.len && !self.refill()? {
            return Err(self.eof(parsing));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// The next byte of a token, not consumed; `None` at the end.
    fn peek_in(&mut self) -> JsonResult<Option<u8>> {
        if self.pos == self.len && !self.refill()? {
            return Ok(None);
        }
        Ok(Some(self.buf[self.pos]))
    }

    /// Consumes `b`, after white space; else says `expected`.
    fn expect(&mut self, b: u8, expected: &str, parsing: &str) -> JsonResult<()> {
        match self.peek()? {
            Some(c) if c == b => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(format!("expected {expected}"))),
            None => Err(self.eof(parsing)),
        }
    }

    fn enter(&mut self) -> JsonResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    /// What the next value is, for a message saying it is the wrong type.
    fn kind_of(b: u8) -> &'static str {
        match b {
            b'{' => "map",
            b'[' => "sequence",
            b'"' => "string",
            b't' | b'f' => "boolean",
            b'n' => "null",
            _ => "number",
        }
    }

    fn wrong_type(&self, b: u8, expected: &str) -> JsonError {
        self.error(format!(
            "invalid type: {}, expected {expected}",
            Self::kind_of(b)
        ))
    }

    /// Opens an object (the next value must be one).
    pub fn begin_object(&mut self, expected: &str) -> JsonResult<()> {
        match self.peek()? {
            Some(b'{') => {
                self.pos += 1;
                self.enter()
            }
            Some(b) => Err(self.wrong_type(b, expected)),
            None => Err(self.eof("a value")),
        }
    }

    /// Opens an array (the next value must be one).
    pub fn begin_array(&mut self, expected: &str) -> JsonResult<()> {
        match self.peek()? {
            Some(b'[') => {
                self.pos += 1;
                self.enter()
            }
            Some(b) => Err(self.wrong_type(b, expected)),
            None => Err(self.eof("a value")),
        }
    }

    /// The next key of the open object, or `None` at its end (then it is closed). `first`
    /// is true until the first key is read.
    pub fn next_key(&mut self, first: &mut bool) -> JsonResult<Option<&str>> {
        if !std::mem::take(first) {
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(None);
                }
                Some(_) => return Err(self.error("expected `,` or `}`")),
                None => return Err(self.eof("an object")),
            }
        } else if self.peek()? == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(None);
        }
        match self.peek()? {
            Some(b'"') => self.pos += 1,
            Some(_) => return Err(self.error("key must be a string")),
            None => return Err(self.eof("an object")),
        }
        self.string(true)?;
        self.expect(b':', "`:`", "an object")?;
        Ok(Some(self.text()))
    }

    /// Whether the open array has another element (else it is closed). `first` is true
    /// until the first element is read.
    pub fn next_element(&mut self, first: &mut bool) -> JsonResult<bool> {
        let b = self.peek()?;
        if !std::mem::take(first) {
            match b {
                Some(b',') => {
                    self.pos += 1;
                    return Ok(true);
                }
                Some(b']') => {}
                Some(_) => return Err(self.error("expected `,` or `]`")),
                None => return Err(self.eof("a list")),
            }
        } else if b != Some(b']') {
            return Ok(true);
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(false)
    }

    /// The last string read whole (cut at [`MAX_STRING`] bytes).
    fn text(&self) -> &str {
        &self.text
    }

    /// A string or null.
    pub fn string_or_null(&mut self, expected: &str) -> JsonResult<Option<String>> {
        match self.peek()? {
            Some(b'"') => {
                self.pos += 1;
                self.string(true)?;
                Ok(Some(self.text().to_string()))
            }
            Some(b'n') => self.skip_value().map(|()| None),
            Some(b) => Err(self.wrong_type(b, expected)),
            None => Err(self.eof("a value")),
        }
    }

    /// A whole number from 0 to `u64::MAX`, or null.
    pub fn u64_or_null(&mut self, expected: &str) -> JsonResult<Option<u64>> {
        match self.peek()? {
            Some(b'-' | b'0'..=b'9') => match self.number()? {
                Number::Whole(n) => Ok(Some(n)),
                Number::Negative => {
                    Err(self.error(format!("invalid value: integer, expected {expected}")))
                }
                Number::Other => {
                    Err(self.error(format!("invalid type: floating point, expected {expected}")))
                }
            },
            Some(b'n') => self.skip_value().map(|()| None),
            Some(b) => Err(self.wrong_type(b, expected)),
            None => Err(self.eof("a value")),
        }
    }

    /// `true`, `false` or null.
    pub fn bool_or_null(&mut self, expected: &str) -> JsonResult<Option<bool>> {
        match self.peek()? {
            Some(b @ (b't' | b'f')) => self.skip_value().map(|()| Some(b == b't')),
            Some(b'n') => self.skip_value().map(|()| None),
            Some(b) => Err(self.wrong_type(b, expected)),
            None => Err(self.eof("a value")),
        }
    }

    /// After the top-level value: nothing but white space.
    pub fn end(&mut self) -> JsonResult<()> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    /// Skips one value, checking it and keeping nothing.
    pub fn skip_value(&mut self) -> JsonResult<()> {
        let base = self.depth;
        // Whether each open container is an object (`true`) or an array: a bit each, as
        // deep as nesting may go.
        let mut objects = [0u64; MAX_DEPTH.div_ceil(64)];
        loop {
            let opened = self.skip_scalar_or_open()?;
            let mut after_value = true;
            if let Some(is_object) = opened {
                let level = self.depth - base - 1;
                if is_object {
                    objects[level / 64] |= 1 << (level % 64);
                } else {
                    objects[level / 64] &= !(1 << (level % 64));
                }
                // An empty container closes at once; else a value (after a key) follows.
                let close = if is_object { b'}' } else { b']' };
                if self.peek()? == Some(close) {
                    self.pos += 1;
                    self.depth -= 1;
                } else {
                    if is_object {
                        self.skip_key()?;
                    }
                    after_value = false;
                }
            }
            while after_value {
                if self.depth == base {
                    return Ok(());
                }
                let level = self.depth - base - 1;
                let is_object = objects[level / 64] & (1 << (level % 64)) != 0;
                let close = if is_object { b'}' } else { b']' };
                match self.peek()? {
                    Some(b',') => {
                        self.pos += 1;
                        if is_object {
                            self.skip_key()?;
                        }
                        after_value = false;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        self.depth -= 1;
                    }
                    Some(_) if is_object => return Err(self.error("expected `,` or `}`")),
                    Some(_) => return Err(self.error("expected `,` or `]`")),
                    None => return Err(self.eof(if is_object { "an object" } else { "a list" })),
                }
            }
        }
    }

    /// A key and its colon, in an object being skipped.
    fn skip_key(&mut self) -> JsonResult<()> {
        match self.peek()? {
            Some(b'"') => self.pos += 1,
            Some(_) => return Err(self.error("key must be a string")),
            None => return Err(self.eof("an object")),
        }
        self.string(false)?;
        self.expect(b':', "`:`", "an object")
    }

    /// Skips a string, number or literal; or opens an object (`Some(true)`) or array
    /// (`Some(false)`).
    fn skip_scalar_or_open(&mut self) -> JsonResult<Option<bool>> {
        match self.peek()? {
            Some(b'{') => {
                self.pos += 1;
                self.enter()?;
                Ok(Some(true))
            }
            Some(b'[') => {
                self.pos += 1;
                self.enter()?;
                Ok(Some(false))
            }
            Some(b'"') => {
                self.pos += 1;
                self.string(false).map(|()| None)
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| None),
            Some(b't') => self.literal(b"true").map(|()| None),
            Some(b'f') => self.literal(b"false").map(|()| None),
            Some(b'n') => self.literal(b"null").map(|()| None),
            Some(_) => Err(self.error("expected value")),
            None => Err(self.eof("a value")),
        }
    }

    fn literal(&mut self, word: &[u8]) -> JsonResult<()> {
        for &w in word {
            if self.next_in("a value")? != w {
                return Err(self.error("expected ident"));
            }
        }
        Ok(())
    }

    /// A number (its first byte not yet consumed), checked against the grammar.
    fn number(&mut self) -> JsonResult<Number> {
        let negative = self.peek_in()? == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let mut value: Option<u64> = Some(0);
        match self.next_in("a number")? {
            b'0' => {
                if matches!(self.peek_in()?, Some(b'0'..=b'9')) {
                    return Err(self.error("invalid number"));
                }
            }
            d @ b'1'..=b'9' => {
                value = Some(u64::from(d - b'0'));
                while let Some(d @ b'0'..=b'9') = self.peek_in()? {
                    self.pos += 1;
                    value = value
                        .and_then(|v| v.checked_mul(10))
                        .and_then(|v| v.checked_add(u64::from(d - b'0')));
                }
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut whole = true;
        if self.peek_in()? == Some(b'.') {
            self.pos += 1;
            whole = false;
            self.digits()?;
        }
        if matches!(self.peek_in()?, Some(b'e' | b'E')) {
            self.pos += 1;
            whole = false;
            if matches!(self.peek_in()?, Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
        }
        Ok(match (whole, negative, value) {
            (true, false, Some(v)) => Number::Whole(v),
            // `-0` is read as a floating-point zero, as a typed parse reads it.
            (true, true, Some(v)) if v > 0 => Number::Negative,
            _ => Number::Other,
        })
    }

    /// One or more digits.
    fn digits(&mut self) -> JsonResult<()> {
        if !self.next_in("a number")?.is_ascii_digit() {
            return Err(self.error("invalid number"));
        }
        while let Some(b'0'..=b'9') = self.peek_in()? {
            self.pos += 1;
        }
        Ok(())
    }

    /// A string whose opening quote is consumed. With `keep`, its text goes to `text`
    /// (cut at [`MAX_STRING`] bytes, where a character starts) and it must be UTF-8
    /// with paired surrogates, as a typed parse requires of a string it reads; without,
    /// only what every JSON string must be is checked.
    fn string(&mut self, keep: bool) -> JsonResult<()> {
        // The text's own buffer is reused, and checked as UTF-8 once, at the end (or at
        // the cut, the rest as it comes).
        let mut raw = std::mem::take(&mut self.text).into_bytes();
        raw.clear();
        let mut past_cut: Option<Utf8Pieces> = None;
        loop {
            if self.pos == self.len && !self.refill()? {
                return Err(self.eof("a string"));
            }
            let window = &self.buf[self.pos..self.len];
            let run = memchr::memchr2(b'"', b'\\', window).unwrap_or(window.len());
            if let Some(bad) = window[..run].iter().position(|&b| b < 0x20) {
                self.pos += bad;
                return Err(
                    self.error("control character (\\u0000-\\u001F) found while parsing a string")
                );
            }
            if keep && !keep_piece(&mut raw, &mut past_cut, &window[..run]) {
                return Err(self.error("invalid unicode code point"));
            }
            self.pos += run;
            if self.pos == self.len {
                continue;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if b == b'"' {
                break;
            }
            let c = self.escape(keep)?;
            match (&past_cut, c) {
                (None, Some(c)) => raw.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                (Some(rest), _) if !rest.at_boundary() => {
                    return Err(self.error("invalid unicode code point"))
                }
                _ => {}
            }
        }
        if past_cut.as_ref().is_some_and(|rest| !rest.at_boundary()) {
            return Err(self.error("invalid unicode code point"));
        }
        self.text = String::from_utf8(raw).map_err(|_| self.error("invalid unicode code point"))?;
        Ok(())
    }

    /// An escape, its backslash consumed: the character it stands for, when `keep`.
    fn escape(&mut self, keep: bool) -> JsonResult<Option<char>> {
        let c = match self.next_in("a string")? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let n = self.hex4()?;
                if !keep {
                    return Ok(None);
                }
                self.unicode(n)?
            }
            _ => return Err(self.error("invalid escape")),
        };
        Ok(keep.then_some(c))
    }

    /// The character a `\u` escape (value `n`) stands for, reading the low half of a
    /// surrogate pair: a string a check reads may not hold half a pair.
    fn unicode(&mut self, n: u16) -> JsonResult<char> {
        let lone = |r: &Self| r.error("lone leading surrogate in hex escape");
        if (0xDC00..=0xDFFF).contains(&n) {
            return Err(lone(self));
        }
        if !(0xD800..=0xDBFF).contains(&n) {
            return char::from_u32(u32::from(n)).ok_or_else(|| lone(self));
        }
        if self.next_in("a string")? != b'\\' || self.next_in("a string")? != b'u' {
            return Err(self.error("unexpected end of hex escape"));
        }
        let low = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return Err(lone(self));
        }
        let c = 0x1_0000 + ((u32::from(n) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
        char::from_u32(c).ok_or_else(|| lone(self))
    }

    fn hex4(&mut self) -> JsonResult<u16> {
        let mut n = 0u16;
        for _ in 0..4 {
            let b = self.next_in("a string")?;
            let d = char::from(b)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid escape"))?;
            // Four hex digits fit in 16 bits.
            n = (n << 4) | d as u16;
        }
        Ok(n)
    }
}

/// Keeps `piece` of a string being read whole in `raw`, up to [`MAX_STRING`] bytes. At
/// the cut, what is kept is checked (and ends where a character does); past it, what is
/// dropped is checked as it comes (`past_cut`). `false` once it cannot be UTF-8.
fn keep_piece(raw: &mut Vec<u8>, past_cut: &mut Option<Utf8Pieces>, piece: &[u8]) -> bool {
    if let Some(rest) = past_cut {
        return rest.feed(piece);
    }
    let room = MAX_STRING.saturating_sub(raw.len());
    if piece.len() < room {
        raw.extend_from_slice(piece);
        return true;
    }
    raw.extend_from_slice(&piece[..room]);
    let mut rest = Utf8Pieces::default();
    match std::str::from_utf8(raw) {
        Ok(_) => {}
        // A character cut in two: its start goes on to be checked with the rest.
        Err(e) if e.error_len().is_none() => {
            let whole = e.valid_up_to();
            rest.feed(&raw[whole..]);
            raw.truncate(whole);
        }
        Err(_) => return false,
    }
    let fits = rest.feed(&piece[room..]);
    *past_cut = Some(rest);
    fits
}

/// UTF-8 checked as it arrives in pieces: a character may be split between two.
#[derive(Default)]
struct Utf8Pieces {
    carry: [u8; 4],
    held: usize,
}

impl Utf8Pieces {
    /// Checks the next piece; `false` once the bytes cannot be UTF-8.
    fn feed(&mut self, mut bytes: &[u8]) -> bool {
        while self.held > 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return true;
            };
            if self.held == 4 {
                return false;
            }
            self.carry[self.held] = b;
            self.held += 1;
            bytes = rest;
            match std::str::from_utf8(&self.carry[..self.held]) {
                Ok(_) => self.held = 0,
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return false,
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => {
                let tail = &bytes[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.held = tail.len();
                true
            }
            Err(_) => false,
        }
    }

    /// No character is half read.
    fn at_boundary(&self) -> bool {
        self.held == 0
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes `step` at a time, as a stream cut anywhere would.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Whether `text` is one valid JSON value, read in pieces of `step` bytes.
    fn valid(text: &[u8], step: usize) -> JsonResult<()> {
        let mut r = JsonReader::new(Trickle(text, step));
        r.skip_value()?;
        r.end()
    }

    #[test]
    fn valid_json_is_what_serde_json_finds_valid() {
        let sample = br#" {"a": [1, -0, 0.5e-3, "x\"y\\u", "\u00e9\ud83d\ude00"], "b": {"c": true,
            "d": null, "e": false, "f": {}, "g": [], "h": [[{}]]}, "\u0041": -12E+2} "#;
        let bytes: &[u8] = b"{}[]\",:0123456789.eE+-tfnu \\\n\x01\xff";
        let mut cases: Vec<Vec<u8>> = vec![sample.to_vec()];
        // Every one-byte deletion, and every insertion of a troublesome byte.
        for i in 0..sample.len() {
            let mut v = sample.to_vec();
            v.remove(i);
            cases.push(v);
            for &b in bytes {
                let mut v = sample.to_vec();
                v.insert(i, b);
                cases.push(v);
            }
        }
        for case in &cases {
            let serde = serde_json::from_slice::<serde::de::IgnoredAny>(case).is_ok();
            for step in [1, 3, 64 * 1024] {
                assert_eq!(
                    valid(case, step).is_ok(),
                    serde,
                    "{} (in pieces of {step})",
                    String::from_utf8_lossy(case)
                );
            }
        }
    }

    #[test]
    fn strings_read_whole_are_decoded_and_cut() {
        let text = "[\"a\\u00e9\\ud83d\\ude00\\n\"]";
        let mut r = JsonReader::new(text.as_bytes());
        r.begin_array("a list").expect("array");
        let mut first = true;
        assert!(r.next_element(&mut first).expect("element"));
        assert_eq!(
            r.string_or_null("a string").expect("string").as_deref(),
            Some("aé😀\n")
        );
        for filler in ["é", "\\u00e9", "\\ud83d\\ude00", "x"] {
            let long = format!("[\"{}\"]", filler.repeat(MAX_STRING));
            let mut r = JsonReader::new(Trickle(long.as_bytes(), 1000));
            r.begin_array("a list").expect("array");
            let mut first = true;
            assert!(r.next_element(&mut first).expect("element"));
            let kept = r
                .string_or_null("a string")
                .expect("string")
                .unwrap_or_default();
            assert!(
                kept.len() <= MAX_STRING && kept.len() > MAX_STRING - 4,
                "{filler}"
            );
            assert!(!r.next_element(&mut first).expect("end"));
        }
        let bad: [&[u8]; 4] = [
            b"[\"\\ud800\"]",
            b"[\"\\udc00\"]",
            b"[\"\\ud800\\u0041\"]",
            b"[\"\xff\"]",
        ];
        for bad in bad {
            let shown = String::from_utf8_lossy(bad);
            let mut r = JsonReader::new(bad);
            r.begin_array("a list").expect("array");
            let mut first = true;
            assert!(r.next_element(&mut first).expect("element"));
            assert!(r.string_or_null("a string").is_err(), "{shown}");
            // Skipped, the same strings pass, as a typed parse skips them.
            assert!(valid(bad, 10).is_ok(), "{shown}");
        }
    }

    #[test]
    fn numbers_read_as_a_typed_parse_reads_them() {
        for (text, want) in [
            ("0", Ok(Some(0))),
            ("-0", Err(())),
            ("18446744073709551615", Ok(Some(u64::MAX))),
            ("null", Ok(None)),
            ("18446744073709551616", Err(())),
            ("-1", Err(())),
            ("1.0", Err(())),
            ("1e2", Err(())),
            ("\"1\"", Err(())),
        ] {
            let mut r = JsonReader::new(text.as_bytes());
            let got = r.u64_or_null("u64").map_err(|_| ());
            let serde = serde_json::from_str::<Option<u64>>(text).map_err(|_| ());
            assert_eq!(got, want, "{text}");
            assert_eq!(got, serde, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_and_skipping_keeps_nothing() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(valid(ok.as_bytes(), 7).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(valid(deep.as_bytes(), 7).is_err_and(|e| e.0.contains("levels deep")));
        // A long string skipped: nothing of it kept.
        let long = format!("[\"{}\", 1]", "x".repeat(10 * MAX_STRING));
        let mut r = JsonReader::new(long.as_bytes());
        r.skip_value().expect("valid");
        assert!(r.text.is_empty());
    }

    #[test]
    fn errors_say_where() {
        let e = valid(b"{\n  \"a\": [1,]\n}", 2).expect_err("a trailing comma");
        assert_eq!(e.0, "expected value at line 2 column 11");
    }
}
