//! The date of a file from its path: the file name first, then its folders from the nearest
//! outward.
//!
//! Drives are filed by period as often as names are dated: `2020/12/`, `2021/01 January/`,
//! `2020-21/Q3/`, `FY 2021-22/Q1/`. A folder that names only a month or a quarter dates its
//! files together with the folder just above it, when that one names a year:
//!
//! - a month under a calendar year: `2020/12/`, `2020/Dec/`, `2021/01 January/`;
//! - a month by name under a financial year: `2020-21/January/` is January 2021;
//! - a quarter under a financial year: `2020-21/Q3/` is October to December 2020.
//!
//! Two are left unread because a person could not tell either: a numbered month under a
//! financial year (`2020-21/10/` is October to some and the tenth month, January, to
//! others) and a quarter under a calendar year (`2020/Q3/`). A year alone dates nothing.

use chrono::Datelike;

use super::forms::{financial_year_at, quarter_at};
use super::tokens::{has_digit, month_name, num, skip_seps, tokenize, year4, Tok, YEARS};
use super::{choose, file_stem, DateSource, SpokenDate, YearStart};

/// The date a file speaks for, from its path relative to the evidence folder (`/` between
/// the parts), and whether the name or a folder gave it. `None` when neither does; the
/// caller then falls back on the modification time.
pub fn date_of_path(rel: &str) -> Option<(SpokenDate, DateSource)> {
    // One token buffer for the whole path: the parts borrow from `rel`.
    let mut buf = Vec::new();
    let mut parts = rel.rsplit('/');
    let name = parts.next()?;
    if let Some(d) = date_of_text(file_stem(name), &mut buf) {
        return Some((d, DateSource::Name));
    }
    let mut folders = parts.peekable();
    while let Some(folder) = folders.next() {
        let found = date_of_text(folder, &mut buf)
            .or_else(|| within_year(folder, folders.peek().copied()?, &mut buf));
        if let Some(d) = found {
            return Some((d, DateSource::Folder));
        }
    }
    None
}

/// The date one name or folder speaks for.
pub(super) fn date_of_text<'a>(text: &'a str, buf: &mut Vec<Tok<'a>>) -> Option<SpokenDate> {
    if !has_digit(text) {
        return None;
    }
    buf.clear();
    tokenize(text, buf);
    choose::choose(buf)
}

/// A folder that names only a month or a quarter, as a period of the year folder above it.
fn within_year<'a>(folder: &'a str, parent: &'a str, buf: &mut Vec<Tok<'a>>) -> Option<SpokenDate> {
    let period = period_folder(folder, buf)?;
    let year = year_folder(parent, buf)?;
    match (period, year) {
        (Period::Month { named, number }, Year::Calendar(y)) => {
            SpokenDate::month(y, named.or(number)?)
        }
        (Period::Month { named, .. }, Year::Financial(fy)) => {
            let m = named?;
            SpokenDate::month(if m >= 4 { fy } else { fy + 1 }, m)
        }
        (Period::Quarter(q), Year::Financial(fy)) => {
            SpokenDate::quarter_of_year(YearStart::April, fy, q)
        }
        (Period::Quarter(_), Year::Calendar(_)) => None,
    }
    .filter(|d| YEARS.contains(&d.start.year()))
}

#[derive(Debug, Clone, Copy)]
enum Period {
    /// `12`, `Dec`, `01 January`, `12 - December`: the name wins over the number, which
    /// is often a sort key counted from April (`01 April`).
    Month {
        named: Option<u32>,
        number: Option<u32>,
    },
    /// `Q3`, `Quarter 3`, `Q3 (Oct-Dec)`.
    Quarter(u32),
}

#[derive(Debug, Clone, Copy)]
enum Year {
    Calendar(i32),
    /// The financial year starting in April of this year.
    Financial(i32),
}

/// A folder naming only a month or a quarter.
fn period_folder<'a>(folder: &'a str, buf: &mut Vec<Tok<'a>>) -> Option<Period> {
    buf.clear();
    tokenize(folder, buf);
    let t = &buf[..];
    let k = skip_seps(t, 0, usize::MAX);
    if let Some((q, end)) = quarter_at(t, k) {
        let no_more_numbers = t[end..].iter().all(|x| !matches!(x, Tok::Digits(_)));
        return no_more_numbers.then_some(Period::Quarter(q));
    }
    month_folder(t, k)
}

/// `[month number] [month name]`, separators around, nothing else.
fn month_folder(t: &[Tok<'_>], mut k: usize) -> Option<Period> {
    let mut number = None;
    if let Some(Tok::Digits(d)) = t.get(k) {
        number = Some(num(d, 1, 2).filter(|m| (1..=12).contains(m))?);
        k = skip_seps(t, k + 1, usize::MAX);
    }
    let mut named = None;
    if let Some(Tok::Alpha(a)) = t.get(k) {
        named = Some(month_name(a)?);
        k = skip_seps(t, k + 1, usize::MAX);
    }
    let whole = k == t.len() && (named.is_some() || number.is_some());
    whole.then_some(Period::Month { named, number })
}

/// A folder naming a year and nothing finer: `2020`, `Scorecards 2020`, `2020-21`,
/// `FY 2021-22`. Words are allowed, but no month or quarter (`Oct 2020` is a date of its
/// own) and no other number.
fn year_folder<'a>(parent: &'a str, buf: &mut Vec<Tok<'a>>) -> Option<Year> {
    if !has_digit(parent) {
        return None;
    }
    buf.clear();
    tokenize(parent, buf);
    let t = &buf[..];
    let first = t.iter().position(|x| matches!(x, Tok::Digits(_)))?;
    let (year, end) = match financial_year_at(t, first) {
        Some((fy, end)) => (Year::Financial(fy), end),
        None => match t[first] {
            Tok::Digits(d) => (Year::Calendar(year4(d)?), first + 1),
            _ => return None,
        },
    };
    let finer = |x: &Tok<'_>| match x {
        Tok::Digits(_) => true,
        Tok::Alpha(a) => month_name(a).is_some(),
        Tok::Sep(_) => false,
    };
    let words_only = t[..first].iter().chain(&t[end..]).all(|x| !finer(x));
    words_only.then_some(year)
}
