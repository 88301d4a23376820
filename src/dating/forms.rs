//! The written forms of a date, read token by token.
//!
//! Each form is tried at the token it starts with: a number of eight, six, four, or one or
//! two digits, or a word (a month, `Q`, `FY`). A form that matches in shape but not in
//! value (`31 Sep 2020`, `2021-2024`) is passed over whole, so that no part of it is then
//! read as a smaller date (`Sep 2020`, `2024`): a guess is worse than no date.
//!
//! Numbers that label rather than date (`v3.2`, `1 of 4`; see `labels`) are passed over
//! before any form is tried: `Policy v3.2 Jan 2020` is January 2020, never 2 January.

use chrono::{Datelike, NaiveDate};

use super::labels::label_at;
use super::tokens::{
    date_sep, is_one_of, is_ordinal, is_word, month_name, num, skip_seps, year2, year4, Tok, YEARS,
};
use super::{SpokenDate, YearStart};

/// What the text holds at a token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Read {
    /// A date, and the index of the token after it.
    Date(SpokenDate, usize),
    /// Shaped like a date but not one: passed over up to the index given.
    NotADate(usize),
}

/// The dates of a token list in order, each with the index of its first token.
pub(super) struct Reader<'t, 'a> {
    t: &'t [Tok<'a>],
    i: usize,
}

impl<'t, 'a> Reader<'t, 'a> {
    pub(super) fn new(t: &'t [Tok<'a>]) -> Self {
        Reader { t, i: 0 }
    }
}

impl Iterator for Reader<'_, '_> {
    type Item = (SpokenDate, usize);

    fn next(&mut self) -> Option<Self::Item> {
        while self.i < self.t.len() {
            if let Some(end) = label_at(self.t, self.i) {
                self.i = end;
                continue;
            }
            match date_at(self.t, self.i) {
                Some(Read::Date(d, end)) => {
                    let start = self.i;
                    self.i = end;
                    return Some((d, start));
                }
                Some(Read::NotADate(end)) => self.i = end,
                None => self.i += 1,
            }
        }
        None
    }
}

/// A date that matched in shape: kept when it exists and its year is in range.
fn checked(d: Option<SpokenDate>, end: usize) -> Read {
    match d.filter(|d| YEARS.contains(&d.start.year())) {
        Some(d) => Read::Date(d, end),
        None => Read::NotADate(end),
    }
}

fn day(y: i32, m: u32, d: u32) -> Option<SpokenDate> {
    NaiveDate::from_ymd_opt(y, m, d).map(SpokenDate::day)
}

/// Tries to read a date starting at token `i`.
pub(super) fn date_at(t: &[Tok<'_>], i: usize) -> Option<Read> {
    match *t.get(i)? {
        Tok::Digits(_) if continues_number(t, i) => None,
        Tok::Digits(d) => match d.len() {
            8 => compact_day(d, i),
            6 => compact_month(d, i),
            4 => year_first(t, i, d),
            1 | 2 => day_first(t, i, d),
            _ => None,
        },
        Tok::Alpha(a) => quarter_first(t, i)
            .or_else(|| financial_year_word(t, i, a))
            .or_else(|| month_first(t, i, a)),
        Tok::Sep(_) => None,
    }
}

/// The `2` of `3.2` is the tail of a number, not a day.
fn continues_number(t: &[Tok<'_>], i: usize) -> bool {
    i >= 2 && t[i - 1] == Tok::Sep('.') && matches!(t[i - 2], Tok::Digits(_))
}

// ---------------------------------------------------------------------------------------
// Numbers of eight and six digits
// ---------------------------------------------------------------------------------------

/// `20201015` (ISO) or `15102020` (day first). ISO is tried first; within 1990-2100 the two
/// readings cannot both be valid (a day-first year 19xx-21xx would be an ISO month 19-21).
fn compact_day(d: &str, i: usize) -> Option<Read> {
    let part = |a: usize, b: usize| num(&d[a..b], 2, 2);
    let iso = || day(year4(&d[..4])?, part(4, 6)?, part(6, 8)?);
    let day_first = || day(year4(&d[4..])?, part(2, 4)?, part(0, 2)?);
    iso().or_else(day_first).map(|x| Read::Date(x, i + 1))
}

/// `202011`: a year and a month.
fn compact_month(d: &str, i: usize) -> Option<Read> {
    let y = year4(&d[..4])?;
    let m = num(&d[4..], 2, 2)?;
    SpokenDate::month(y, m).map(|x| Read::Date(x, i + 1))
}

// ---------------------------------------------------------------------------------------
// A four-digit year first
// ---------------------------------------------------------------------------------------

fn year_first(t: &[Tok<'_>], i: usize, d: &str) -> Option<Read> {
    let y = year4(d)?;
    financial_quarter_after_year(t, i)
        .or_else(|| year_span(t, i))
        .or_else(|| calendar_quarter(t, i, y))
        .or_else(|| year_month_day(t, i, y))
}

/// `2020-21 Q3`, `2020/21 - Q3`: a quarter of the financial year.
fn financial_quarter_after_year(t: &[Tok<'_>], i: usize) -> Option<Read> {
    let (fy, k) = financial_year_at(t, i)?;
    let (q, end) = quarter_at(t, skip_seps(t, k, 3))?;
    Some(checked(
        SpokenDate::quarter_of_year(YearStart::April, fy, q),
        end,
    ))
}

/// `2021-2024`, `2020-2021`: a span of years (a strategy's life) is no date.
fn year_span(t: &[Tok<'_>], i: usize) -> Option<Read> {
    let sep = date_sep(t.get(i + 1))?;
    match t.get(i + 2)? {
        Tok::Digits(b) if matches!(sep, '-' | '_' | '/') && year4(b).is_some() => {
            Some(Read::NotADate(i + 3))
        }
        _ => None,
    }
}

/// `2020-Q3`, `2020 Q3`, `2020Q3`: a calendar quarter, as the year comes first.
fn calendar_quarter(t: &[Tok<'_>], i: usize, y: i32) -> Option<Read> {
    let k = match date_sep(t.get(i + 1)) {
        Some('-' | '_' | ' ') => i + 2,
        _ => i + 1,
    };
    let (q, end) = quarter_at(t, k)?;
    Some(checked(SpokenDate::quarter(y, q), end))
}

/// `2020-10-15` (the same separator twice), `2020-10`, `2020-Oct`, `2020 October`, and
/// `2020.12` only at the start of a name, where it is a sort prefix: elsewhere `2020.10` or
/// `2020 10` is too often a version or a count.
fn year_month_day(t: &[Tok<'_>], i: usize, y: i32) -> Option<Read> {
    let s1 = date_sep(t.get(i + 1))?;
    match *t.get(i + 2)? {
        Tok::Digits(m) => {
            let m = num(m, 1, 2)?;
            if date_sep(t.get(i + 3)) == Some(s1) {
                if let Some(Tok::Digits(dd)) = t.get(i + 4) {
                    let dd = num(dd, 1, 2)?;
                    return Some(checked(day(y, m, dd), i + 5));
                }
            }
            let sort_prefix = s1 == '.' && i == 0;
            if matches!(s1, '.' | ' ' | '/') && !sort_prefix {
                return None;
            }
            Some(checked(SpokenDate::month(y, m), i + 3))
        }
        Tok::Alpha(a) => {
            let m = month_name(a)?;
            Some(checked(SpokenDate::month(y, m), i + 3))
        }
        Tok::Sep(_) => None,
    }
}

// ---------------------------------------------------------------------------------------
// One or two digits first
// ---------------------------------------------------------------------------------------

fn day_first(t: &[Tok<'_>], i: usize, d: &str) -> Option<Read> {
    let n = num(d, 1, 2)?;
    numeric_day(t, i, n)
        .or_else(|| financial_quarter_after_year(t, i))
        .or_else(|| numeric_month(t, i, n))
        .or_else(|| named_day(t, i, n))
}

/// `15.10.2020`, `15-10-2020`, `15/10/2020`, `15_10_2020` (day first, as in the UK), and with
/// a two-digit year `1.12.20`, `31-12-20`, unless more of a dotted number follows
/// (`1.12.20.5` is a version).
fn numeric_day(t: &[Tok<'_>], i: usize, dd: u32) -> Option<Read> {
    let s = date_sep(t.get(i + 1)).filter(|s| *s != ' ')?;
    let Tok::Digits(m) = *t.get(i + 2)? else {
        return None;
    };
    let m = num(m, 1, 2)?;
    if date_sep(t.get(i + 3)) != Some(s) {
        return None;
    }
    let Tok::Digits(y) = *t.get(i + 4)? else {
        return None;
    };
    let y = match y.len() {
        4 => year4(y),
        2 if continues_with(t, i + 5, s) => None,
        2 => year2(y),
        _ => return None,
    };
    Some(checked(y.and_then(|y| day(y, m, dd)), i + 5))
}

/// True when separator `s` and a number come at token `k`.
fn continues_with(t: &[Tok<'_>], k: usize, s: char) -> bool {
    t.get(k) == Some(&Tok::Sep(s)) && matches!(t.get(k + 1), Some(Tok::Digits(_)))
}

/// `10.2020`, `10-2020`: a month and a four-digit year.
fn numeric_month(t: &[Tok<'_>], i: usize, m: u32) -> Option<Read> {
    date_sep(t.get(i + 1)).filter(|s| *s != ' ')?;
    let Tok::Digits(y) = *t.get(i + 2)? else {
        return None;
    };
    let y = year4(y)?;
    Some(checked(SpokenDate::month(y, m), i + 3))
}

/// `15 Oct 2020`, `15th October 2020`, `15-Oct-2020`, `8 Oct 20`, `15 Oct2020`.
fn named_day(t: &[Tok<'_>], i: usize, dd: u32) -> Option<Read> {
    if !(1..=31).contains(&dd) {
        // "Room 45 Oct 2020": no day of any month, so the month stands alone.
        return None;
    }
    let j = match t.get(i + 1) {
        Some(Tok::Alpha(a)) if is_ordinal(a) => i + 2,
        _ => i + 1,
    };
    date_sep(t.get(j))?;
    let Tok::Alpha(a) = *t.get(j + 1)? else {
        return None;
    };
    let m = month_name(a)?;
    let (y, end) = year_after(t, j + 2)?;
    Some(checked(day(y, m, dd), end))
}

// ---------------------------------------------------------------------------------------
// A word first: a month, a quarter, a financial year
// ---------------------------------------------------------------------------------------

/// `Oct 2020`, `October 2020`, `Oct-2020`, `Oct2020`, `Aug 20`, `Nov-20`, `Sept20`,
/// `Nov '20`, and `December 3rd 2020`, `Dec 3, 2020`.
fn month_first(t: &[Tok<'_>], i: usize, a: &str) -> Option<Read> {
    let m = month_name(a)?;
    month_day_year(t, i, m).or_else(|| {
        let (y, end) = year_after(t, i + 1)?;
        Some(checked(SpokenDate::month(y, m), end))
    })
}

/// `December 3rd 2020`, `Dec 3 2020`, `Dec 3, 2020`: month, day, four-digit year.
fn month_day_year(t: &[Tok<'_>], i: usize, m: u32) -> Option<Read> {
    date_sep(t.get(i + 1))?;
    let Tok::Digits(dd) = *t.get(i + 2)? else {
        return None;
    };
    let dd = num(dd, 1, 2).filter(|d| (1..=31).contains(d))?;
    let mut k = i + 3;
    if matches!(t.get(k), Some(Tok::Alpha(s)) if is_ordinal(s)) {
        k += 1;
    }
    if t.get(k) == Some(&Tok::Sep(',')) {
        k += 1;
    }
    date_sep(t.get(k))?;
    let Tok::Digits(y) = *t.get(k + 1)? else {
        return None;
    };
    let y = year4(y)?;
    Some(checked(day(y, m, dd), k + 2))
}

/// A year after a month name, at token `k` or after a separator there: four digits
/// (`Oct 2020`, `1 December, 2020`), or two (`Aug 20`, `Nov '20`) unless they are a day
/// (`Dec 20th`) or part of a longer number (`Jan 21-22`, `Mar 20.5`).
fn year_after(t: &[Tok<'_>], k: usize) -> Option<(i32, usize)> {
    let comma = t.get(k) == Some(&Tok::Sep(','));
    let k = k + usize::from(comma);
    let k = k + usize::from(date_sep(t.get(k)).is_some());
    let apostrophe = matches!(t.get(k), Some(Tok::Sep('\'' | '\u{2019}')));
    let k = k + usize::from(apostrophe);
    let Tok::Digits(y) = *t.get(k)? else {
        return None;
    };
    match y.len() {
        4 if !apostrophe => Some((year4(y)?, k + 1)),
        // "Nov, 20" is more likely a count than a year.
        2 if !comma && !two_digit_year_continues(t, k + 1) => Some((year2(y)?, k + 1)),
        _ => None,
    }
}

fn two_digit_year_continues(t: &[Tok<'_>], k: usize) -> bool {
    match t.get(k) {
        Some(Tok::Alpha(a)) => is_ordinal(a),
        Some(Tok::Sep(s)) => matches!(s, '.' | '-' | '/') && continues_with(t, k, *s),
        _ => false,
    }
}

/// `Q3 2020-21`, `Q4 20-21`, `Q2 2020_21`, `Quarter 3 2020/21`, `Q1 FY2020-21`: a quarter of
/// the financial year. `Q3 2020` is not read: it is Jul-Sep to some and Oct-Dec to others.
fn quarter_first(t: &[Tok<'_>], i: usize) -> Option<Read> {
    let (q, k) = quarter_at(t, i)?;
    let mut k = skip_seps(t, k, 3);
    if matches!(t.get(k), Some(Tok::Alpha(a)) if is_word(a, "fy")) {
        k = skip_seps(t, k + 1, 1);
    }
    let (fy, end) = financial_year_at(t, k)?;
    Some(checked(
        SpokenDate::quarter_of_year(YearStart::April, fy, q),
        end,
    ))
}

/// `FY2020-21 Q1`, `FY 2021-22 - Q1`. `FY2020-21` alone names a year, which is no date.
fn financial_year_word(t: &[Tok<'_>], i: usize, a: &str) -> Option<Read> {
    if !is_word(a, "fy") {
        return None;
    }
    let (fy, k) = financial_year_at(t, skip_seps(t, i + 1, 1))?;
    Some(match quarter_at(t, skip_seps(t, k, 3)) {
        Some((q, end)) => checked(SpokenDate::quarter_of_year(YearStart::April, fy, q), end),
        None => Read::NotADate(k),
    })
}

/// `Q3`, `q3`, `Quarter 3`, `Qtr 3` at token `k`: the quarter (1 to 4) and the index after.
pub(super) fn quarter_at(t: &[Tok<'_>], k: usize) -> Option<(u32, usize)> {
    let j = match *t.get(k)? {
        Tok::Alpha(a) if is_word(a, "q") => k + 1,
        Tok::Alpha(a) if is_one_of(a, &["quarter", "qtr"]) => skip_seps(t, k + 1, 1),
        _ => return None,
    };
    let Tok::Digits(q) = *t.get(j)? else {
        return None;
    };
    let q = num(q, 1, 1).filter(|q| (1..=4).contains(q))?;
    Some((q, j + 1))
}

/// `2020-21`, `2020/21`, `2020_21`, `2020-2021`, `20-21` at token `k`: a financial year
/// (two consecutive years); returns the year it starts in and the index after it.
pub(super) fn financial_year_at(t: &[Tok<'_>], k: usize) -> Option<(i32, usize)> {
    let Tok::Digits(a) = *t.get(k)? else {
        return None;
    };
    if !matches!(t.get(k + 1), Some(Tok::Sep('-' | '_' | '/'))) {
        return None;
    }
    let Tok::Digits(b) = *t.get(k + 2)? else {
        return None;
    };
    let first = match a.len() {
        4 => year4(a)?,
        2 => year2(a)?,
        _ => return None,
    };
    let consecutive = match b.len() {
        2 => num(b, 2, 2) == u32::try_from((first + 1) % 100).ok(),
        4 => a.len() == 4 && year4(b) == Some(first + 1),
        _ => false,
    };
    consecutive.then_some((first, k + 3))
}
