//! Names and folder paths as found on council drives, each with the period a person reads
//! in it: a day (`2020-10-15`), a month (`2020-10`), a quarter (its first and last day,
//! `2020-10-01..2020-12-31`), or `none`. ` (folder)` marks a date that came from a folder.
//! The table is read through [`date_of_path`], as the scan reads every file.

use super::{date_of_path, DateSource, Precision};

const TABLE: &[(&str, &str)] = &[
    // Days, as read before issue 12.
    ("PP audit 2020-10-15.docx", "2020-10-15"),
    ("Local offer 2020_10_15.md", "2020-10-15"),
    ("Scorecard 20201015.csv", "2020-10-15"),
    ("Minutes 15.10.2020.docx", "2020-10-15"),
    ("Dip sample 15-10-2020.md", "2020-10-15"),
    ("PP audit 15.10.2020", "2020-10-15"),
    ("minutes 15th October 2020.md", "2020-10-15"),
    ("Legal gateway 15 Oct 2020.docx", "2020-10-15"),
    ("Panel 15-Oct-2020.pdf", "2020-10-15"),
    ("minutes 15 Oct2020.md", "2020-10-15"),
    ("2020 10 15 notes.txt", "2020-10-15"),
    ("Audit 3rd-Dec-2020.docx", "2020-12-03"),
    ("Leap day 29.02.2020.md", "2020-02-29"),
    ("Minutes 1.2.2020.docx", "2020-02-01"),
    ("minutes 2020-10-15.v2019", "2020-10-15"),
    // Months, as read before issue 12.
    ("2020-10 highlight report.md", "2020-10"),
    ("Scorecard Oct 2020.csv", "2020-10"),
    ("Graded Care Profile guidance October 2020.pdf", "2020-10"),
    ("Pathway Plan template Oct-2020.docx", "2020-10"),
    ("scorecard_oct_2020.xlsx", "2020-10"),
    ("2020-Oct scorecard.xlsx", "2020-10"),
    ("2020 October scorecard.xlsx", "2020-10"),
    ("Scorecard SEPT 2020.xlsx", "2020-09"),
    ("Scorecard Oct2020.xlsx", "2020-10"),
    ("Escalation log 2020_10.csv", "2020-10"),
    ("Scorecard.Oct 2020", "2020-10"),
    // Not a day of any month: the month stands alone.
    ("room 45 Oct 2020.docx", "2020-10"),
    // Two-digit years.
    ("Scorecard - Aug 20.xlsx", "2020-08"),
    ("Nov-20.xlsx", "2020-11"),
    ("Scorecard Sept20.xlsx", "2020-09"),
    ("Scorecard Nov '20.xlsx", "2020-11"),
    ("Scorecard Nov\u{2019}20.xlsx", "2020-11"),
    ("Scorecard (Oct-20).xlsx", "2020-10"),
    ("CLA scorecard Feb21.xlsx", "2021-02"),
    ("Highlight report Jan 21.pdf", "2021-01"),
    ("Highlight Report - Nov 20 FINAL.docx", "2020-11"),
    ("Workforce scorecard March 21.xlsx", "2021-03"),
    ("Perm Panel mins 8 Oct 20.docx", "2020-10-08"),
    ("Panel notes 3rd Dec 20.docx", "2020-12-03"),
    ("QA report 12.02.21.docx", "2021-02-12"),
    ("Minutes 1.12.20.docx", "2020-12-01"),
    ("Minutes 1.12.20", "2020-12-01"),
    ("Scorecard 31-12-20.xlsx", "2020-12-31"),
    ("Scorecard 31_12_20.xlsx", "2020-12-31"),
    ("Improvement Board mins 14.1.21.docx", "2021-01-14"),
    ("Legal gateway 21.01.21.docx", "2021-01-21"),
    ("Panel 7.1.21 (1).docx", "2021-01-07"),
    // Months and days in other forms.
    ("Audit 10.2020.docx", "2020-10"),
    ("Audit 10-2020.docx", "2020-10"),
    ("Scorecard 202011.xlsx", "2020-11"),
    ("2020.12 scorecard.xlsx", "2020-12"),
    ("Minutes December 3rd 2020.docx", "2020-12-03"),
    ("Minutes Dec 3, 2020.docx", "2020-12-03"),
    ("Minutes Dec 3 2020.docx", "2020-12-03"),
    ("Minutes 1 December, 2020.docx", "2020-12-01"),
    // Eight digits: ISO when that is a date, else day first.
    ("Minutes 03122020.docx", "2020-12-03"),
    ("Minutes 20201203.docx", "2020-12-03"),
    ("Minutes 31012021.docx", "2021-01-31"),
    // Quarters of the financial year (April to March).
    (
        "Practice Evaluation Q3 2020-21.docx",
        "2020-10-01..2020-12-31",
    ),
    ("CIN audit Q4 20-21.docx", "2021-01-01..2021-03-31"),
    ("FY2020-21 Q1 report.pdf", "2020-04-01..2020-06-30"),
    ("Audit summary Q2 2020_21.docx", "2020-07-01..2020-09-30"),
    ("Thematic audit Q3 2020-2021.docx", "2020-10-01..2020-12-31"),
    (
        "Quarter 3 2020-21 practice evaluation.docx",
        "2020-10-01..2020-12-31",
    ),
    ("Qtr 4 2020-21 audit.docx", "2021-01-01..2021-03-31"),
    ("Q1 FY2021-22 audit.docx", "2021-04-01..2021-06-30"),
    ("2020-21 Q3 audit summary.docx", "2020-10-01..2020-12-31"),
    ("FY 2021-22 - Q2 moderation.docx", "2021-07-01..2021-09-30"),
    ("q3 2020-21 moderation.docx", "2020-10-01..2020-12-31"),
    ("20-21 Q4 audit.docx", "2021-01-01..2021-03-31"),
    ("Q4 2099-00 audit.docx", "2100-01-01..2100-03-31"),
    // Calendar quarters: the year comes first.
    ("Audit 2020-Q3.docx", "2020-07-01..2020-09-30"),
    ("Audit 2020 Q3.docx", "2020-07-01..2020-09-30"),
    ("Audit 2020Q4.docx", "2020-10-01..2020-12-31"),
    ("Audit 2020_Q1.docx", "2020-01-01..2020-03-31"),
    // Quarters that are not read.
    ("Q3 2020 audit.docx", "none"),
    ("Q5 2020-21.docx", "none"),
    ("Audit Q3.docx", "none"),
    ("Q4 2100-01 audit.docx", "none"),
    ("Annual report 2020-21.docx", "none"),
    ("FY2020-21 budget.xlsx", "none"),
    ("Policy 2019-20.docx", "none"),
    // Folders: the nearest dated one, or a month or quarter under a year.
    ("scorecards/2020/12/Scorecard.xlsx", "2020-12 (folder)"),
    (
        "scorecards/2021/01 January/Scorecard.xlsx",
        "2021-01 (folder)",
    ),
    ("scorecards/2021/January/Scorecard.xlsx", "2021-01 (folder)"),
    ("scorecards/2021/Jan/Scorecard.xlsx", "2021-01 (folder)"),
    ("scorecards/2021/1/Scorecard.xlsx", "2021-01 (folder)"),
    (
        "scorecards/2020/12 - December/Scorecard.xlsx",
        "2020-12 (folder)",
    ),
    ("scorecards/Dec 20/Scorecard.xlsx", "2020-12 (folder)"),
    (
        "scorecards/Scorecards 2020/12/Scorecard.xlsx",
        "2020-12 (folder)",
    ),
    (
        "scorecards/2020/12/week 1/Scorecard.xlsx",
        "2020-12 (folder)",
    ),
    ("scorecards/2019/2020/12/Scorecard.xlsx", "2020-12 (folder)"),
    ("minutes/2020/December/Minutes.docx", "2020-12 (folder)"),
    (
        "P8 Oversight/Supervision/2020/Nov/Supervision audit.docx",
        "2020-11 (folder)",
    ),
    (
        "Priority 5 Permanence/Panel/2020/12/Perm Panel mins.docx",
        "2020-12 (folder)",
    ),
    (
        "audits/2020-21/Q3/Practice evaluation.docx",
        "2020-10-01..2020-12-31 (folder)",
    ),
    (
        "audits/FY 2021-22/Q1/Audit.docx",
        "2021-04-01..2021-06-30 (folder)",
    ),
    (
        "audits/FY2021-22/Q4/Audit.docx",
        "2022-01-01..2022-03-31 (folder)",
    ),
    (
        "audits/2020_21/Quarter 2/Audit.docx",
        "2020-07-01..2020-09-30 (folder)",
    ),
    (
        "audits/2020-21/Q3 (Oct-Dec)/Audit.docx",
        "2020-10-01..2020-12-31 (folder)",
    ),
    (
        "P3 CP chairs/Audits 2020-21/Q4/dip sample.docx",
        "2021-01-01..2021-03-31 (folder)",
    ),
    ("audits/2020-21/January/Audit.docx", "2021-01 (folder)"),
    ("audits/2020-21/October/Audit.docx", "2020-10 (folder)"),
    // The name of the month wins over a number counted from April.
    ("audits/2020-21/01 April/Audit.docx", "2020-04 (folder)"),
    ("scorecards/2020-09/Scorecard.csv", "2020-09 (folder)"),
    (
        "minutes/high risk panel/2020-08/panel/Notes.md",
        "2020-08 (folder)",
    ),
    ("plans/2020-08/2020-09/Plan.md", "2020-09 (folder)"),
    ("reports/Oct 2020 pack/Summary.md", "2020-10 (folder)"),
    ("scorecards/Oct 2020/12/Scorecard.xlsx", "2020-10 (folder)"),
    (
        "audits/Q3 2020-21/Audit.docx",
        "2020-10-01..2020-12-31 (folder)",
    ),
    // Day folders are not read as days: the month above them is.
    ("minutes/2020/12/03/Minutes.docx", "2020-12 (folder)"),
    // The name wins over its folders.
    ("scorecards/2020-09/Scorecard 2020-10-01.csv", "2020-10-01"),
    ("scorecards/2020/12/Scorecard 2021-01-05.xlsx", "2021-01-05"),
    ("P1 Care leavers/Scorecard - Aug 20.xlsx", "2020-08"),
    // Folders that give no date.
    ("audits/2020-21/10/Audit.docx", "none"),
    ("audits/2020/Q3/Audit.docx", "none"),
    ("audits/2020/Audit.docx", "none"),
    ("audits/Q3/Audit.docx", "none"),
    ("scorecards/12/Scorecard.xlsx", "none"),
    ("scorecards/2020/13/Scorecard.xlsx", "none"),
    ("minutes/2020/Room 12/Minutes.docx", "none"),
    ("minutes/2020/12 risks/Minutes.docx", "none"),
    // Version numbers and counts are not days.
    ("Supervision Policy v3.2 Jan 2020.docx", "2020-01"),
    ("Version 1.3 Sept 2020.docx", "2020-09"),
    ("Audit 1 of 4 Sept 2020.docx", "2020-09"),
    ("Policy v3 Jan 2020.docx", "2020-01"),
    ("Policy V2 3 Jan 2020.docx", "2020-01-03"),
    ("Policy ver 4 Oct 2020.docx", "2020-10"),
    ("Policy ver2 Oct 2020.docx", "2020-10"),
    ("Newsletter Issue 3 Oct 2020.pdf", "2020-10"),
    ("Bulletin No. 5 Nov 2020.pdf", "2020-11"),
    ("Bulletin #2 Dec 2020.pdf", "2020-12"),
    ("Neglect strategy Feb 21 v0.3.docx", "2021-02"),
    ("QA framework v2.1 April 2021.docx", "2021-04"),
    ("Audit tool v1 2021-03-01.docx", "2021-03-01"),
    ("Scorecard 2021-03 v4.xlsx", "2021-03"),
    ("Policy 3.2 Jan 2020.docx", "2020-01"),
    ("2020-12 highlight report v2 2021-01-08.md", "2021-01-08"),
    // ...but a date with a four-digit year after a label is still a date.
    ("Policy v15.10.2020.docx", "2020-10-15"),
    // ...and "of" after a word is English, not a count.
    ("Minutes of 3 Dec 2020.docx", "2020-12-03"),
    ("Policy v1.12.20.docx", "none"),
    ("Policy v2.docx", "none"),
    ("Issue 3.docx", "none"),
    ("Audit 2 of 3.docx", "none"),
    ("Page 3 of 12.pdf", "none"),
    ("Agenda item 4.2.docx", "none"),
    ("Release 1.2.3.docx", "none"),
    // Which of several dates: handling does not count, renewal does, else the latest.
    (
        "Minutes 3 Dec 2020 - approved 14 Jan 2021.docx",
        "2020-12-03",
    ),
    ("Minutes 2020-12-03 (draft 2020-12-10).docx", "2020-12-03"),
    ("Policy 2019-04-01 reviewed 2020-11-02.docx", "2020-11-02"),
    ("Plan 2020-2022 refreshed 14.10.2020.docx", "2020-10-14"),
    (
        "Minutes 3 Dec 2020 approved on 14 Jan 2021.docx",
        "2020-12-03",
    ),
    (
        "Minutes 3 Dec 2020 signed off 14 Jan 2021.docx",
        "2020-12-03",
    ),
    ("Minutes 3 Dec 2020 agreed 14.01.21.docx", "2020-12-03"),
    (
        "Minutes 3 Dec 2020 circulated 2020-12-08 ratified 2021-01-14.docx",
        "2020-12-03",
    ),
    ("Minutes 2020-12-03 printed 2021-02-01.pdf", "2020-12-03"),
    ("Report 2020-11 uploaded 2020-12-02.pdf", "2020-11"),
    (
        "Strategy 2018-04-01 amended 2020-06-30 published 2020-07-15.pdf",
        "2020-06-30",
    ),
    ("Policy 2019 updated Nov 2020.docx", "2020-11"),
    ("Plan 2020-09-01 revised 03.11.2020.md", "2020-11-03"),
    (
        "Practice Evaluation Q3 2020-21 agreed 2021-01-20.docx",
        "2020-10-01..2020-12-31",
    ),
    // Only dates of handling: the latest of them.
    ("Draft 2020-12-10 minutes.docx", "2020-12-10"),
    ("Report sent 2020-11-30.msg", "2020-11-30"),
    ("DRAFT Minutes 3 Dec 2020.docx", "2020-12-03"),
    ("PWP audit Aug 2020 follow-up 2020-11-24.md", "2020-11-24"),
    // A month counts as its last day, a quarter as its last day; a tie keeps the day.
    ("Report 15.10.2020 for Oct 2020.md", "2020-10"),
    ("Report Oct 2020 signed 31.10.2020.md", "2020-10-31"),
    ("Q3 2020-21 audit 15.12.2020.docx", "2020-10-01..2020-12-31"),
    // Ambiguity: day first, always.
    ("Minutes 01.02.2020.docx", "2020-02-01"),
    ("Minutes 01-02-20.docx", "2020-02-01"),
    ("Minutes 12.01.2021.docx", "2021-01-12"),
    // Spans of years and numbers that are not dates.
    ("Strategy 2021-2024.docx", "none"),
    ("Plan 2020-2022.docx", "none"),
    ("Year 2 plan 2021-2024.docx", "none"),
    ("Plan 2020-22.docx", "none"),
    ("Room 101.docx", "none"),
    ("Top 10 risks.xlsx", "none"),
    ("Team 12 rota.xlsx", "none"),
    ("Staff 40 hours.docx", "none"),
    ("Call log 0161 496 0000.xlsx", "none"),
    ("Contacts 07700 900123.xlsx", "none"),
    ("Switchboard 0161-496-0018.txt", "none"),
    ("Performance 100%.xlsx", "none"),
    ("Training 3.5 hours.docx", "none"),
    ("Minutes 10.30 meeting.docx", "none"),
    ("Config 10.1.12.20.txt", "none"),
    ("Case 123456789.docx", "none"),
    ("Room 2020.docx", "none"),
    ("Scorecard 2020.xlsx", "none"),
    ("Scorecard 20.xlsx", "none"),
    ("Scorecard 12 2020.xlsx", "none"),
    ("Minutes 2020 10.docx", "none"),
    ("Version 2.3.docx", "none"),
    ("Report 2020.10.docx", "none"),
    ("Agenda 12-2.docx", "none"),
    ("Grade 7 Jan.docx", "none"),
    ("Minutes 3 Dec.docx", "none"),
    ("Dec minutes.docx", "none"),
    ("Minutes Dec 20th.docx", "none"),
    ("Budget Jan 21-22.xlsx", "none"),
    ("Appendix 3.docx", "none"),
    ("March.docx", "none"),
    ("Mar.docx", "none"),
    ("notes.2020", "none"),
    ("Thumbs.db", "none"),
    ("Scorecard-LAPTOP-4G7H2K.xlsx", "none"),
    ("Copy of Scorecard (1).xlsx", "none"),
    // Out of range or impossible.
    ("Minutes 1850-10-01.docx", "none"),
    ("Budget 2150-01.xlsx", "none"),
    ("May 1850.docx", "none"),
    ("Audit 2020-02-30.md", "none"),
    ("Audit 31.02.2020.md", "none"),
    ("Audit 20201332.md", "none"),
    ("Audit 2020-13.md", "none"),
    ("Audit 29.02.2019.md", "none"),
    ("Audit 31 Sep 2020.md", "none"),
    ("Audit 31-Sep-2020.md", "none"),
    ("minutes 30th February 2020.md", "none"),
    ("Minutes 30.02.21.docx", "none"),
];

/// The period read from `rel`, written as in the table.
fn read(rel: &str) -> String {
    let Some((date, source)) = date_of_path(rel) else {
        return "none".into();
    };
    let (first, last) = date.covers();
    let period = match date.precision {
        Precision::Quarter => format!("{first}..{last}"),
        _ => date.display(),
    };
    match source {
        DateSource::Folder => format!("{period} (folder)"),
        _ => period,
    }
}

#[test]
fn names_and_folders_as_councils_write_them() {
    let wrong: Vec<String> = TABLE
        .iter()
        .filter_map(|&(rel, want)| {
            let got = read(rel);
            (got != want).then(|| format!("{rel:?}: read {got:?}, a person reads {want:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn the_table_is_large_and_has_no_repeats() {
    assert!(TABLE.len() >= 150, "{} rows", TABLE.len());
    let mut rels: Vec<&str> = TABLE.iter().map(|r| r.0).collect();
    rels.sort_unstable();
    rels.dedup();
    assert_eq!(rels.len(), TABLE.len(), "a row is repeated");
}
