//! Version numbers and counts: numbers that label a document rather than date it.
//!
//! A number after `v`, `ver`, `version`, `issue`, `no.`, `#`, or `of` after a number, is
//! passed over with the rest of its dotted number (`v3.2`, `Version 1.3.2`), so that none of
//! it is read as a day: `Supervision Policy v3.2 Jan 2020` is January 2020, `Audit 1 of 4
//! Sept 2020` is September 2020.

use super::tokens::{date_sep, is_one_of, is_word, number_before, skip_seps, year4, Tok};

/// When token `i` starts a label (`v3.2`, `Version 1.3`, `of 4`, `No. 5`, `#2`, `Issue 3`),
/// the index after its number. `v` must touch its number (`v 3` is rare, and a lone `v`
/// is as often "versus"); `of` counts only after a number (`1 of 4`), since `Minutes of 3
/// Dec 2020` is a date.
pub(super) fn label_at(t: &[Tok<'_>], i: usize) -> Option<usize> {
    let k = match t[i] {
        Tok::Alpha(a) if is_word(a, "v") => match t.get(i + 1)? {
            Tok::Sep('.') => i + 2,
            _ => i + 1,
        },
        Tok::Alpha(a) if is_one_of(a, &["ver", "version", "issue"]) => skip_seps(t, i + 1, 2),
        Tok::Alpha(a) if is_word(a, "no") && t.get(i + 1) == Some(&Tok::Sep('.')) => {
            skip_seps(t, i + 1, 2)
        }
        Tok::Alpha(a) if is_word(a, "of") && number_before(t, i) => skip_seps(t, i + 1, 2),
        Tok::Sep('#') => skip_seps(t, i + 1, 1),
        _ => return None,
    };
    let Tok::Digits(d) = *t.get(k)? else {
        return None;
    };
    if unmistakable_date(t, k, d) {
        return None;
    }
    let mut end = k + 1;
    while t.get(end) == Some(&Tok::Sep('.')) && matches!(t.get(end + 1), Some(Tok::Digits(_))) {
        end += 2;
    }
    Some(end)
}

/// A year, a compact date or a day-first date with a four-digit year is no version number
/// (`Issue 2021-01-08`, `v15.10.2020`).
fn unmistakable_date(t: &[Tok<'_>], k: usize, d: &str) -> bool {
    match d.len() {
        4 => year4(d).is_some(),
        8 => true,
        1 | 2 => {
            let s = date_sep(t.get(k + 1));
            s.is_some_and(|s| s != ' ')
                && matches!(t.get(k + 2), Some(Tok::Digits(m)) if m.len() <= 2)
                && date_sep(t.get(k + 3)) == s
                && matches!(t.get(k + 4), Some(Tok::Digits(y)) if year4(y).is_some())
        }
        _ => false,
    }
}
