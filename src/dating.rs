//! The date a file speaks for.
//!
//! Councils date their documents in the name, by hand, in every style: `2020-10-15`,
//! `15.10.2020`, `Scorecard Oct 2020`, folders per month. The first place with a date wins:
//! the file name, then the nearest parent folder, then the modification time, which is the
//! weakest (a copy to a new drive resets it) and so is always reported as such.
//!
//! Ambiguous or impossible dates are rejected rather than guessed: `2020-02-30` is no date,
//! and day-first is the only reading of `01.02.2020` (UK usage).

use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// How much of a date a name gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Day,
    /// A month-only date covers that month; for age it counts as the month's last day.
    Month,
}

/// Where a file's date came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateSource {
    Name,
    Folder,
    Modified,
}

impl DateSource {
    pub fn label(self) -> &'static str {
        match self {
            DateSource::Name => "file name",
            DateSource::Folder => "folder name",
            DateSource::Modified => "modification time",
        }
    }
}

/// A date as written: a day, or a whole month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpokenDate {
    /// The day for a day date; the first of the month for a month date.
    pub start: NaiveDate,
    pub precision: Precision,
}

impl SpokenDate {
    pub fn day(date: NaiveDate) -> Self {
        SpokenDate {
            start: date,
            precision: Precision::Day,
        }
    }

    pub fn month(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|start| SpokenDate {
            start,
            precision: Precision::Month,
        })
    }

    /// The date used for age and ordering: a month counts as its last day.
    pub fn effective(&self) -> NaiveDate {
        match self.precision {
            Precision::Day => self.start,
            Precision::Month => last_day_of_month(self.start.year(), self.start.month()),
        }
    }

    /// `2020-10-15` or `2020-10`.
    pub fn display(&self) -> String {
        match self.precision {
            Precision::Day => self.start.format("%Y-%m-%d").to_string(),
            Precision::Month => self.start.format("%Y-%m").to_string(),
        }
    }
}

impl PartialOrd for SpokenDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SpokenDate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.effective()
            .cmp(&other.effective())
            // A day date is more specific than its month: prefer it on a tie.
            .then_with(|| (other.precision as u8).cmp(&(self.precision as u8)))
    }
}

pub fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// Years outside this range are far more likely to be reference numbers than dates.
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Digits(&'a str),
    Alpha(&'a str),
    Sep(char),
}

fn tokens(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let class = |c: char| {
            if c.is_ascii_digit() {
                0
            } else if c.is_alphabetic() {
                1
            } else {
                2
            }
        };
        let k = class(c);
        if k == 2 {
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
        out.push(if k == 0 {
            Tok::Digits(s)
        } else {
            Tok::Alpha(s)
        });
    }
    out
}

fn month_name(word: &str) -> Option<u32> {
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
    let w = word.to_lowercase();
    if w.len() < 3 {
        return None;
    }
    if w == "sept" {
        return Some(9);
    }
    NAMES
        .iter()
        .position(|n| *n == w || (w.len() == 3 && n.starts_with(&w)))
        .map(|i| i as u32 + 1)
}

fn num(s: &str, min_len: usize, max_len: usize) -> Option<u32> {
    if s.len() < min_len || s.len() > max_len {
        return None;
    }
    s.parse().ok()
}

fn year(s: &str) -> Option<i32> {
    let y = num(s, 4, 4)? as i32;
    YEARS.contains(&y).then_some(y)
}

fn is_date_sep(t: Option<&Tok<'_>>) -> Option<char> {
    match t {
        Some(Tok::Sep(c)) if matches!(c, '-' | '_' | '.' | '/' | ' ') => Some(*c),
        _ => None,
    }
}

/// Ordinal suffixes as in "15th October 2020".
fn strip_ordinal<'a>(toks: &'a [Tok<'a>], i: usize) -> usize {
    match toks.get(i) {
        Some(Tok::Alpha(a)) if matches!(a.to_lowercase().as_str(), "st" | "nd" | "rd" | "th") => {
            i + 1
        }
        _ => i,
    }
}

/// True when a day of the month (1 to 31, perhaps with an ordinal suffix) and a separator
/// come just before token `i`, as in `31 Sep` or `31st-Sep`.
fn day_before(t: &[Tok<'_>], i: usize) -> bool {
    let Some(mut k) = i.checked_sub(1) else {
        return false;
    };
    if is_date_sep(t.get(k)).is_none() {
        return false;
    }
    if let Some(Tok::Alpha(a)) = k.checked_sub(1).and_then(|p| t.get(p)) {
        if matches!(a.to_lowercase().as_str(), "st" | "nd" | "rd" | "th") {
            k -= 1;
        }
    }
    matches!(
        k.checked_sub(1).and_then(|p| t.get(p)),
        Some(Tok::Digits(d)) if num(d, 1, 2).is_some_and(|n| (1..=31).contains(&n))
    )
}

/// Every date written in `text`, in order of appearance.
pub fn dates_in(text: &str) -> Vec<SpokenDate> {
    let toks = tokens(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((date, next)) = date_at(&toks, i) {
            found.push(date);
            i = next;
        } else {
            i += 1;
        }
    }
    found
}

/// Tries to read a date starting at token `i`; returns it and the index after it.
fn date_at(t: &[Tok<'_>], i: usize) -> Option<(SpokenDate, usize)> {
    match *t.get(i)? {
        Tok::Digits(d) if d.len() == 8 => compact_date(d, i),
        Tok::Digits(d) if d.len() == 4 => year_first(t, i, d),
        Tok::Digits(d) if d.len() <= 2 => day_first(t, i, d),
        Tok::Alpha(a) => month_first(t, i, a),
        _ => None,
    }
}

/// `20201015`.
fn compact_date(d: &str, i: usize) -> Option<(SpokenDate, usize)> {
    let y = year(&d[..4])?;
    let m = num(&d[4..6], 2, 2)?;
    let day = num(&d[6..8], 2, 2)?;
    NaiveDate::from_ymd_opt(y, m, day).map(|x| (SpokenDate::day(x), i + 1))
}

/// `2020-10-15` (the same separator twice), `2020-10`, `2020-Oct`, `2020 October`.
fn year_first(t: &[Tok<'_>], i: usize, d: &str) -> Option<(SpokenDate, usize)> {
    let y = year(d)?;
    let s1 = is_date_sep(t.get(i + 1))?;
    match *t.get(i + 2)? {
        Tok::Digits(m) => {
            let m = num(m, 1, 2)?;
            if is_date_sep(t.get(i + 3)) == Some(s1) {
                if let Some(Tok::Digits(dd)) = t.get(i + 4) {
                    if dd.len() <= 2 {
                        let day = num(dd, 1, 2)?;
                        return NaiveDate::from_ymd_opt(y, m, day)
                            .map(|x| (SpokenDate::day(x), i + 5));
                    }
                }
            }
            if s1 == '.' || s1 == ' ' || s1 == '/' {
                // "2020.10" or "2020 10" is too often a version or a count.
                return None;
            }
            SpokenDate::month(y, m).map(|x| (x, i + 3))
        }
        Tok::Alpha(a) => {
            let m = month_name(a)?;
            SpokenDate::month(y, m).map(|x| (x, i + 3))
        }
        Tok::Sep(_) => None,
    }
}

/// `15.10.2020`, `15-10-2020`, `15/10/2020`, `15_10_2020` (day first, as in the UK);
/// `15 Oct 2020`, `15th October 2020`, `15-Oct-2020`, `15 Oct2020`.
fn day_first(t: &[Tok<'_>], i: usize, d: &str) -> Option<(SpokenDate, usize)> {
    let day = num(d, 1, 2)?;
    let j = strip_ordinal(t, i + 1);
    let s1 = is_date_sep(t.get(j))?;
    match *t.get(j + 1)? {
        Tok::Digits(m) if j == i + 1 && s1 != ' ' => {
            let m = num(m, 1, 2)?;
            if is_date_sep(t.get(j + 2)) != Some(s1) {
                return None;
            }
            let Tok::Digits(y) = *t.get(j + 3)? else {
                return None;
            };
            let y = year(y)?;
            NaiveDate::from_ymd_opt(y, m, day).map(|x| (SpokenDate::day(x), j + 4))
        }
        Tok::Alpha(a) => {
            let m = month_name(a)?;
            let (y, next) = year_after(t, j + 2)?;
            NaiveDate::from_ymd_opt(y, m, day).map(|x| (SpokenDate::day(x), next))
        }
        _ => None,
    }
}

/// `Oct 2020`, `October 2020`, `Oct-2020`, `Oct2020`.
fn month_first(t: &[Tok<'_>], i: usize, a: &str) -> Option<(SpokenDate, usize)> {
    let m = month_name(a)?;
    if day_before(t, i) {
        // "31 Sep 2020": the day was impossible, and the month alone would be a guess.
        return None;
    }
    let (y, next) = year_after(t, i + 1)?;
    SpokenDate::month(y, m).map(|x| (x, next))
}

/// A year at token `k`, or after a date separator there; returns it and the index after it.
fn year_after(t: &[Tok<'_>], k: usize) -> Option<(i32, usize)> {
    let k = if is_date_sep(t.get(k)).is_some() {
        k + 1
    } else {
        k
    };
    let Tok::Digits(y) = *t.get(k)? else {
        return None;
    };
    Some((year(y)?, k + 1))
}

/// The date a name speaks for: the latest of the dates it holds.
pub fn date_in(text: &str) -> Option<SpokenDate> {
    dates_in(text).into_iter().max()
}

/// The date of a file name, its extension left out (`minutes.v2019` holds no year). An
/// extension has a letter in it: the last `.2020` of `PP audit 15.10.2020`, saved without
/// an extension, is the year of its date, not an extension.
pub fn date_in_file_name(name: &str) -> Option<SpokenDate> {
    let stem = match name.rfind('.') {
        Some(i)
            if i > 0
                && name.len() - i <= 6
                && name[i + 1..].chars().any(|c| c.is_ascii_alphabetic()) =>
        {
            &name[..i]
        }
        _ => name,
    };
    date_in(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<SpokenDate> {
        Some(SpokenDate::day(NaiveDate::from_ymd_opt(y, m, day).unwrap()))
    }

    fn mo(y: i32, m: u32) -> Option<SpokenDate> {
        SpokenDate::month(y, m)
    }

    #[test]
    fn day_forms() {
        for name in [
            "2020-10-15 audit",
            "audit 2020_10_15",
            "PP audit 20201015",
            "PP audit 15.10.2020",
            "PP audit 15-10-2020",
            "PP audit 15/10/2020",
            "minutes 15 Oct 2020",
            "minutes 15th October 2020",
        ] {
            assert_eq!(date_in(name), d(2020, 10, 15), "{name}");
        }
    }

    #[test]
    fn month_forms() {
        for name in [
            "2020-10 highlight report",
            "Scorecard Oct 2020",
            "Scorecard October 2020",
            "Scorecard Oct-2020",
            "scorecard_oct_2020",
            "2020-Oct scorecard",
        ] {
            assert_eq!(date_in(name), mo(2020, 10), "{name}");
        }
        assert_eq!(date_in("Sept 2020"), mo(2020, 9));
    }

    #[test]
    fn impossible_day_with_a_month_name_is_not_read_as_the_month() {
        assert_eq!(date_in("minutes 31 Sep 2020"), None);
        assert_eq!(date_in("minutes 30th February 2020"), None);
        assert_eq!(date_in("minutes 31-Sep-2020"), None);
        // Not a day of any month: the month stands alone.
        assert_eq!(date_in("room 45 Oct 2020"), mo(2020, 10));
        assert_eq!(date_in("minutes 15 Oct2020"), d(2020, 10, 15));
    }

    #[test]
    fn impossible_and_ambiguous_rejected() {
        assert_eq!(date_in("2020-02-30"), None);
        assert_eq!(date_in("31.02.2020"), None);
        assert_eq!(date_in("version 2.3"), None);
        assert_eq!(date_in("case 123456789"), None);
        assert_eq!(date_in("room 2020"), None);
        assert_eq!(date_in("Mar"), None);
        assert_eq!(date_in("May 1850"), None);
    }

    #[test]
    fn latest_wins_and_month_counts_as_last_day() {
        assert_eq!(
            date_in("plan 2020-09-01 revised 03.11.2020"),
            d(2020, 11, 3)
        );
        // October (ends 31st) is later than 15 October
        assert_eq!(date_in("15.10.2020 for Oct 2020"), mo(2020, 10));
        assert_eq!(
            mo(2020, 2).unwrap().effective(),
            NaiveDate::from_ymd_opt(2020, 2, 29).unwrap()
        );
    }

    #[test]
    fn extension_ignored() {
        assert_eq!(date_in_file_name("notes.2020"), None);
        assert_eq!(date_in_file_name("Scorecard Oct 2020.xlsx"), mo(2020, 10));
        assert_eq!(date_in_file_name("Scorecard.Oct 2020"), mo(2020, 10));
        assert_eq!(
            date_in_file_name("minutes 2020-10-15.v2019"),
            d(2020, 10, 15)
        );
    }

    #[test]
    fn digits_after_the_last_dot_are_no_extension() {
        assert_eq!(date_in_file_name("PP audit 15.10.2020"), d(2020, 10, 15));
        assert_eq!(
            date_in_file_name("PP audit 15.10.2020.docx"),
            d(2020, 10, 15)
        );
    }
}
