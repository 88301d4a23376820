//! Cadence periods: the months or quarters of the window a requirement must cover.

use chrono::{Datelike, NaiveDate};

use super::{Period, Window};
use crate::dating::{last_day_of_month, quarter_label, YearStart};
use crate::manifest::Cadence;
use crate::scan::FileRecord;
use crate::util::SharedStr;

/// What a requirement's periods are judged from.
pub(super) struct PeriodFiles<'a> {
    /// The files that count, newest first.
    pub counted: &'a [&'a FileRecord],
    /// Indices into `all` of the files that will not open.
    pub unusable: &'a [usize],
    pub all: &'a [FileRecord],
}

/// The cadence periods of the window, each with the counted files dated in it and the
/// unusable ones. A file is dated in a period when the whole of what its date stands for
/// lies inside it: a day or a month in its quarter, but a quarterly report in none of the
/// three months. A period needs a file dated in it, even one dated before the window
/// opened: the window can start mid-month, and that month's file is still its evidence.
pub(super) fn periods(
    cadence: Cadence,
    window: Window,
    year_start: YearStart,
    files: PeriodFiles<'_>,
) -> Vec<Period> {
    let PeriodFiles {
        counted,
        unusable,
        all,
    } = files;
    let dated_in = |f: &FileRecord, start: NaiveDate, end: NaiveDate| {
        let (from, to) = f.date.covers();
        start <= from && to <= end
    };
    cadence_periods(cadence, window, year_start)
        .into_iter()
        .map(|(label, start, end)| {
            let files: Vec<SharedStr> = counted
                .iter()
                .filter(|f| dated_in(f, start, end))
                .map(|f| f.rel.clone())
                .collect();
            Period {
                label,
                start,
                end,
                covered: !files.is_empty(),
                files,
                unusable: unusable
                    .iter()
                    .map(|&i| &all[i])
                    .filter(|f| dated_in(f, start, end))
                    .map(|f| f.rel.clone())
                    .collect(),
            }
        })
        .collect()
}

/// The cadence periods a requirement must cover: every calendar month (or quarter) whose
/// last day falls inside the window. A period still running at the reference date is not
/// yet due. Months are labelled `2020-10`; quarters as the council's year numbers them
/// (`Q3 2020-21` from April, `2020-Q4` from January): the quarters themselves are the same
/// three-month blocks either way.
pub fn cadence_periods(
    cadence: Cadence,
    window: Window,
    year_start: YearStart,
) -> Vec<(String, NaiveDate, NaiveDate)> {
    let step = match cadence {
        Cadence::None => return Vec::new(),
        Cadence::Monthly => 1,
        Cadence::Quarterly => 3,
    };
    let mut out = Vec::new();
    let (mut y, mut m) = (window.start.year(), window.start.month());
    if step == 3 {
        m = (m - 1) / 3 * 3 + 1;
    }
    while let Some(start) = NaiveDate::from_ymd_opt(y, m, 1) {
        if start > window.end {
            break;
        }
        let end_month = m + step - 1;
        let end = last_day_of_month(y, end_month);
        if window.contains(end) {
            let label = if step == 1 {
                format!("{y}-{m:02}")
            } else {
                quarter_label(start, year_start)
            };
            out.push((label, start, end));
        }
        m += step;
        if m > 12 {
            m -= 12;
            y += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn monthly_periods_end_inside_window() {
        let w = Window {
            start: day("2020-07-18"),
            end: day("2021-01-18"),
        };
        let labels: Vec<String> = cadence_periods(Cadence::Monthly, w, YearStart::April)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            labels,
            ["2020-07", "2020-08", "2020-09", "2020-10", "2020-11", "2020-12"]
        );
        let quarters = |start| -> Vec<String> {
            cadence_periods(Cadence::Quarterly, w, start)
                .into_iter()
                .map(|p| p.0)
                .collect()
        };
        // The same July-September and October-December, numbered as each year counts.
        assert_eq!(quarters(YearStart::April), ["Q2 2020-21", "Q3 2020-21"]);
        assert_eq!(quarters(YearStart::January), ["2020-Q3", "2020-Q4"]);
        assert!(cadence_periods(Cadence::None, w, YearStart::April).is_empty());
    }

    #[test]
    fn window_ending_on_month_end_includes_that_month() {
        let w = Window {
            start: day("2020-06-30"),
            end: day("2020-12-31"),
        };
        let labels: Vec<String> = cadence_periods(Cadence::Monthly, w, YearStart::April)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(labels.first().map(String::as_str), Some("2020-06"));
        assert_eq!(labels.last().map(String::as_str), Some("2020-12"));
        assert_eq!(labels.len(), 7);
    }
}
