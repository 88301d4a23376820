//! Names cut into runs of digits, runs of letters and single separators, and the words and
//! numbers the forms are built from.
//!
//! Word tests compare ASCII case-insensitively in place: the reader runs on every file of a
//! large drive, and lower-casing each word would allocate.

use std::ops::RangeInclusive;

/// Years outside this range are far more likely to be reference numbers than dates.
pub(super) const YEARS: RangeInclusive<i32> = 1990..=2100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    Digits(&'a str),
    Alpha(&'a str),
    Sep(char),
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Class {
    Digit,
    Letter,
    Other,
}

fn class(c: char) -> Class {
    if c.is_ascii_digit() {
        Class::Digit
    } else if c.is_alphabetic() {
        Class::Letter
    } else {
        Class::Other
    }
}

/// Appends the tokens of `text` to `out` (callers reuse one buffer along a path).
pub(super) fn tokenize<'a>(text: &'a str, out: &mut Vec<Tok<'a>>) {
    out.reserve(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let k = class(c);
        if k == Class::Other {
            out.push(Tok::Sep(c));
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, n)) = chars.peek() {
            if class(n) != k {
                break;
            }
            end = i + n.len_utf8();
            chars.next();
        }
        let s = &text[start..end];
        out.push(if k == Class::Digit {
            Tok::Digits(s)
        } else {
            Tok::Alpha(s)
        });
    }
}

/// Every form holds a digit, so text without one is passed over untokenised.
pub(super) fn has_digit(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
}

pub(super) fn is_word(a: &str, word: &str) -> bool {
    a.eq_ignore_ascii_case(word)
}

pub(super) fn is_one_of(a: &str, words: &[&str]) -> bool {
    words.iter().any(|w| a.eq_ignore_ascii_case(w))
}

/// `Oct`, `October`, `OCT`, `Sept` (the one four-letter abbreviation in common use).
pub(super) fn month_name(word: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if word.len() < 3 || !word.is_ascii() {
        return None;
    }
    if is_word(word, "sept") {
        return Some(9);
    }
    NAMES
        .iter()
        .position(|n| is_word(word, n) || (word.len() == 3 && is_word(word, &n[..3])))
        .map(|i| i as u32 + 1)
}

/// Ordinal suffixes as in `15th October 2020`.
pub(super) fn is_ordinal(a: &str) -> bool {
    is_one_of(a, &["st", "nd", "rd", "th"])
}

pub(super) fn num(s: &str, min_len: usize, max_len: usize) -> Option<u32> {
    if s.len() < min_len || s.len() > max_len {
        return None;
    }
    s.parse().ok()
}

/// A four-digit year in [`YEARS`].
pub(super) fn year4(s: &str) -> Option<i32> {
    let y = num(s, 4, 4)? as i32;
    YEARS.contains(&y).then_some(y)
}

/// A two-digit year, read as 20yy.
pub(super) fn year2(s: &str) -> Option<i32> {
    num(s, 2, 2).map(|y| 2000 + y as i32)
}

/// The separators that may stand between the parts of a date.
pub(super) fn date_sep(t: Option<&Tok<'_>>) -> Option<char> {
    match t {
        Some(Tok::Sep(c)) if matches!(c, '-' | '_' | '.' | '/' | ' ') => Some(*c),
        _ => None,
    }
}

/// The index of the first token at or after `k` that is not a separator, skipping at most
/// `max` of them.
pub(super) fn skip_seps(t: &[Tok<'_>], mut k: usize, max: usize) -> usize {
    let stop = k.saturating_add(max);
    while k < stop && matches!(t.get(k), Some(Tok::Sep(_))) {
        k += 1;
    }
    k
}

/// The word before token `k`, separators skipped, and its index; none when a number or the
/// start of the text comes first.
pub(super) fn word_before<'a>(t: &[Tok<'a>], k: usize) -> Option<(&'a str, usize)> {
    let mut k = k.checked_sub(1)?;
    loop {
        match t[k] {
            Tok::Alpha(a) => return Some((a, k)),
            Tok::Digits(_) => return None,
            Tok::Sep(_) => k = k.checked_sub(1)?,
        }
    }
}

/// True when a number comes before token `k`, separators skipped (`1 of 4`).
pub(super) fn number_before(t: &[Tok<'_>], k: usize) -> bool {
    let mut k = k;
    while let Some(p) = k.checked_sub(1) {
        match t[p] {
            Tok::Digits(_) => return true,
            Tok::Alpha(_) => return false,
            Tok::Sep(_) => k = p,
        }
    }
    false
}
