//! The date a file speaks for.
//!
//! Councils date their documents in the name, by hand, in every style: `2020-10-15`,
//! `15.10.2020`, `Scorecard - Aug 20`, `Q3 2020-21`, folders per month or quarter. The first
//! place with a date wins: the file name, then the folders from the nearest outward
//! ([`date_of_path`]), then the modification time (the caller's fallback), which is the
//! weakest (a copy to a new drive resets it) and so is always reported as such.
//!
//! Ambiguous or impossible dates are rejected rather than guessed: `2020-02-30` is no date,
//! day-first is the only reading of `01.02.2020` (UK usage), and `Q3 2020` (a quarter of
//! which year?) is not read. Years run 1990 to 2100; a two-digit year is 20yy where the
//! form makes it a year (`Aug 20`, `1.12.20`), never alone.
//!
//! An English council's year runs April to March, so a quarter beside a financial year
//! (`Q3 2020-21`, `2020-21/Q3/`) is a quarter of that year: October to December 2020. A
//! quarter after a calendar year (`2020-Q3`, `2020 Q3`) is a calendar quarter: July to
//! September 2020. Both are stored alike, as the calendar months they cover; which label a
//! report puts on them is the reader's [`YearStart`].
//!
//! The forms live in `forms` (one function per shape), version numbers and counts in
//! `labels`, which of several dates counts in `choose`, folders in `path`; `tokens` cuts
//! text into numbers, words and separators.

mod choose;
mod forms;
mod labels;
mod path;
#[cfg(test)]
mod table_tests;
mod tokens;

use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub use path::date_of_path;

/// How much of a date a name gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Day,
    /// A month-only date covers that month; for age it counts as the month's last day.
    Month,
    /// A quarter covers its three months; for age it counts as the quarter's last day.
    Quarter,
}

/// Where a file's date came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateSource {
    Name,
    Folder,
    /// Given for the file in the manifest's `[dates]` table.
    Manifest,
    Modified,
}

impl DateSource {
    /// The value as the JSON reports write it (`name`, `folder`, `manifest`, `modified`).
    pub fn key(self) -> &'static str {
        match self {
            DateSource::Name => "name",
            DateSource::Folder => "folder",
            DateSource::Manifest => "manifest",
            DateSource::Modified => "modified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DateSource::Name => "file name",
            DateSource::Folder => "folder name",
            DateSource::Manifest => "manifest",
            DateSource::Modified => "modification time",
        }
    }
}

/// The month a council's year starts in, which decides how quarters are numbered and
/// labelled. English councils budget and report from April.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YearStart {
    #[default]
    April,
    January,
}

impl YearStart {
    fn first_month(self) -> u32 {
        match self {
            YearStart::April => 4,
            YearStart::January => 1,
        }
    }
}

/// A date as written: a day, a whole month or a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpokenDate {
    /// The day for a day date; the first day of the period for a month or a quarter.
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

    /// Calendar quarter `q` (1 to 4) of `year`: `quarter(2020, 3)` is July to September.
    pub fn quarter(year: i32, q: u32) -> Option<Self> {
        Self::quarter_of_year(YearStart::January, year, q)
    }

    /// Quarter `q` (1 to 4) of the year that starts in `year` at `start`:
    /// `quarter_of_year(YearStart::April, 2020, 3)` is October to December 2020 (Q3 2020-21),
    /// and its Q4 is January to March 2021.
    pub fn quarter_of_year(start: YearStart, year: i32, q: u32) -> Option<Self> {
        if !(1..=4).contains(&q) {
            return None;
        }
        let months_in = start.first_month() - 1 + 3 * (q - 1);
        let y = year.checked_add(i32::try_from(months_in / 12).ok()?)?;
        NaiveDate::from_ymd_opt(y, months_in % 12 + 1, 1).map(|start| SpokenDate {
            start,
            precision: Precision::Quarter,
        })
    }

    /// The date used for age and ordering: a month or a quarter counts as its last day.
    pub fn effective(&self) -> NaiveDate {
        self.covers().1
    }

    /// The first and last day of the period the date stands for.
    pub fn covers(&self) -> (NaiveDate, NaiveDate) {
        let (y, m) = (self.start.year(), self.start.month());
        let last = match self.precision {
            Precision::Day => self.start,
            Precision::Month => last_day_of_month(y, m),
            Precision::Quarter => last_day_of_month(y, (m - 1) / 3 * 3 + 3),
        };
        (self.start, last)
    }

    /// `2020-10-15`, `2020-10`, or for a quarter the calendar form `2020-Q4` (reports label
    /// quarters the council's way with [`SpokenDate::label`]).
    pub fn display(&self) -> String {
        match self.precision {
            Precision::Day => self.start.format("%Y-%m-%d").to_string(),
            Precision::Month => self.start.format("%Y-%m").to_string(),
            Precision::Quarter => quarter_label(self.start, YearStart::January),
        }
    }

    /// As [`SpokenDate::display`], but a quarter is labelled in the council's year:
    /// `Q3 2020-21` from April, `2020-Q4` from January (both October to December 2020).
    pub fn label(&self, year_start: YearStart) -> String {
        match self.precision {
            Precision::Quarter => quarter_label(self.start, year_start),
            _ => self.display(),
        }
    }
}

/// A file's date as the reports write it ([`SpokenDate::label`]): kept as the date and the
/// year start, and written out only when shown, since an assessment holds one per file per
/// requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateLabel {
    pub date: SpokenDate,
    pub year_start: YearStart,
}

impl std::fmt::Display for DateLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.date.label(self.year_start))
    }
}

impl Serialize for DateLabel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The label of the calendar quarter holding `date`, in the council's year: `Q3 2020-21`
/// (April start) or `2020-Q4` (January start) for any day of October to December 2020.
pub fn quarter_label(date: NaiveDate, year_start: YearStart) -> String {
    let (y, m) = (date.year(), date.month());
    match year_start {
        YearStart::January => format!("{y}-Q{}", (m - 1) / 3 + 1),
        YearStart::April => {
            let first = if m >= 4 { y } else { y - 1 };
            let q = (m + 8) % 12 / 3 + 1;
            format!("Q{q} {first}-{:02}", (first + 1).rem_euclid(100))
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
            // The more specific date is preferred on a tie: a day over its month, a month
            // over its quarter.
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

/// Every date written in `text`, in order of appearance, dates of handling included
/// (`approved 14 Jan 2021`); version numbers and counts are not dates.
pub fn dates_in(text: &str) -> Vec<SpokenDate> {
    let mut buf = Vec::new();
    tokens::tokenize(text, &mut buf);
    forms::Reader::new(&buf).map(|(d, _)| d).collect()
}

/// The date a name speaks for: the latest of its dates, not counting dates of handling
/// (`approved 14 Jan 2021`, `draft 2020-12-10`) unless it has no other.
pub fn date_in(text: &str) -> Option<SpokenDate> {
    path::date_of_text(text, &mut Vec::new())
}

/// The date of a file name, its extension left out (`minutes.v2019` holds no year).
pub fn date_in_file_name(name: &str) -> Option<SpokenDate> {
    date_in(file_stem(name))
}

/// A file name without its extension. An extension has a letter in it: the last `.2020`
/// of `PP audit 15.10.2020`, saved without an extension, is the year of its date.
fn file_stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(i)
            if i > 0
                && name.len() - i <= 6
                && name[i + 1..].chars().any(|c| c.is_ascii_alphabetic()) =>
        {
            &name[..i]
        }
        _ => name,
    }
}

/// A date given as text by a person (in a manifest): exactly one date and nothing else,
/// in any form a name may hold: `2020-12-03`, `2020-12` (a month), `Q3 2020-21` (a quarter
/// of the financial year), `2020-Q3` (a calendar quarter), `Oct 2020`.
pub fn parse_given(text: &str) -> Option<SpokenDate> {
    let mut buf = Vec::new();
    tokens::tokenize(text.trim(), &mut buf);
    match forms::date_at(&buf, 0)? {
        forms::Read::Date(d, end) if end == buf.len() => Some(d),
        _ => None,
    }
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
    fn source_keys_are_the_json_values() {
        use DateSource::*;
        for s in [Name, Folder, Manifest, Modified] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.key());
        }
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

    fn ymd(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_quarter_covers_its_three_months_and_counts_as_its_last_day() {
        let q3 = SpokenDate::quarter_of_year(YearStart::April, 2020, 3).unwrap();
        assert_eq!(q3.precision, Precision::Quarter);
        assert_eq!(q3.covers(), (ymd(2020, 10, 1), ymd(2020, 12, 31)));
        assert_eq!(q3.effective(), ymd(2020, 12, 31));
        // Q4 of a financial year is the first quarter of the next calendar year.
        assert_eq!(
            SpokenDate::quarter_of_year(YearStart::April, 2020, 4),
            SpokenDate::quarter(2021, 1)
        );
        assert_eq!(
            SpokenDate::quarter(2020, 3).unwrap().covers(),
            (ymd(2020, 7, 1), ymd(2020, 9, 30))
        );
        assert_eq!(SpokenDate::quarter(2020, 0), None);
        assert_eq!(SpokenDate::quarter(2020, 5), None);
        assert_eq!(
            mo(2020, 2).unwrap().covers(),
            (ymd(2020, 2, 1), ymd(2020, 2, 29))
        );
        let day = SpokenDate::day(ymd(2020, 10, 15));
        assert_eq!(day.covers(), (day.start, day.start));
    }

    #[test]
    fn a_quarter_is_labelled_in_the_councils_year() {
        let q = SpokenDate::quarter(2020, 4).unwrap();
        assert_eq!(q.display(), "2020-Q4");
        assert_eq!(q.label(YearStart::April), "Q3 2020-21");
        assert_eq!(q.label(YearStart::January), "2020-Q4");
        let day = SpokenDate::day(ymd(2020, 10, 15));
        assert_eq!(day.label(YearStart::April), "2020-10-15");
        assert_eq!(mo(2020, 10).unwrap().label(YearStart::April), "2020-10");
        for (date, april, january) in [
            (ymd(2021, 2, 15), "Q4 2020-21", "2021-Q1"),
            (ymd(2021, 4, 1), "Q1 2021-22", "2021-Q2"),
            (ymd(2020, 9, 30), "Q2 2020-21", "2020-Q3"),
            (ymd(2099, 4, 1), "Q1 2099-00", "2099-Q2"),
        ] {
            assert_eq!(quarter_label(date, YearStart::April), april);
            assert_eq!(quarter_label(date, YearStart::January), january);
        }
    }

    #[test]
    fn on_a_tie_the_finer_date_wins() {
        let quarter = SpokenDate::quarter(2020, 4).unwrap();
        let month = mo(2020, 12).unwrap();
        let day = SpokenDate::day(ymd(2020, 12, 31));
        assert!(day > month && month > quarter);
    }

    #[test]
    fn names_in_json_and_toml() {
        assert_eq!(
            serde_json::to_string(&Precision::Quarter).unwrap(),
            r#""quarter""#
        );
        assert_eq!(YearStart::default(), YearStart::April);
        assert_eq!(
            serde_json::from_str::<YearStart>(r#""january""#).unwrap(),
            YearStart::January
        );
        assert_eq!(
            serde_json::to_string(&YearStart::April).unwrap(),
            r#""april""#
        );
    }

    #[test]
    fn a_given_date_is_one_whole_date() {
        assert_eq!(parse_given("2020-12-03"), d(2020, 12, 3));
        assert_eq!(parse_given(" 2020-12 "), mo(2020, 12));
        assert_eq!(parse_given("Q3 2020-21"), SpokenDate::quarter(2020, 4));
        assert_eq!(parse_given("2020-Q3"), SpokenDate::quarter(2020, 3));
        assert_eq!(parse_given("Oct 2020"), mo(2020, 10));
        for text in [
            "",
            "2020",
            "2020-21",
            "Q3 2020",
            "2020-12-03 draft",
            "from 2020-12-03",
            "2020-02-30",
            "2021-2024",
        ] {
            assert_eq!(parse_given(text), None, "{text:?}");
        }
    }

    #[test]
    fn dates_in_lists_every_date_but_labels() {
        assert_eq!(
            dates_in("Minutes 3 Dec 2020 - approved 14 Jan 2021"),
            [d(2020, 12, 3).unwrap(), d(2021, 1, 14).unwrap()]
        );
        assert_eq!(dates_in("Policy v3.2 Jan 2020"), [mo(2020, 1).unwrap()]);
    }

    #[test]
    fn the_path_says_where_its_date_came_from() {
        let name = date_of_path("a/2020-09/Scorecard 2020-10-01.csv");
        assert_eq!(name, d(2020, 10, 1).map(|x| (x, DateSource::Name)));
        let folder = date_of_path("a/2020-09/Scorecard.csv");
        assert_eq!(folder, mo(2020, 9).map(|x| (x, DateSource::Folder)));
        assert_eq!(date_of_path("a/Scorecard.csv"), None);
        assert_eq!(date_of_path(""), None);
    }
}
