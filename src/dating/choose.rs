//! Which of several dates in one name counts.
//!
//! A name often carries the date of the work and the date of some handling of the document:
//! `Minutes 3 Dec 2020 - approved 14 Jan 2021` records a meeting of 3 December, and its
//! approval a month later says nothing about when the work happened. So a date introduced
//! by a word of handling (approved, agreed, ratified, signed off, draft, circulated,
//! published, sent, uploaded, printed) does not count. A date introduced by a word of
//! renewal (reviewed, refreshed, revised, updated, amended) does: the document was made
//! current then. Among the dates that count, the latest wins, as it always has.
//!
//! When a name holds only dates of handling, the latest of them is used: the document
//! existed by then, which is better evidence than a modification time that any copy resets.

use super::forms::Reader;
use super::tokens::{is_one_of, is_word, word_before, Tok};
use super::SpokenDate;

const HANDLING: &[&str] = &[
    "approved",
    "agreed",
    "ratified",
    "draft",
    "circulated",
    "published",
    "sent",
    "uploaded",
    "printed",
];

/// The date the tokens speak for.
pub(super) fn choose(t: &[Tok<'_>]) -> Option<SpokenDate> {
    let mut counted = None;
    let mut handled = None;
    for (date, start) in Reader::new(t) {
        let slot = if handling(t, start) {
            &mut handled
        } else {
            &mut counted
        };
        *slot = (*slot).max(Some(date));
    }
    counted.or(handled)
}

/// True when the date at token `start` is introduced by a word of handling: the word just
/// before it (`approved 14 Jan 2021`, `(draft 2020-12-10)`), or the one before `on`
/// (`approved on 14 Jan 2021`), or `signed off`.
fn handling(t: &[Tok<'_>], start: usize) -> bool {
    let Some((mut word, mut k)) = word_before(t, start) else {
        return false;
    };
    if is_one_of(word, &["on", "dated"]) {
        match word_before(t, k) {
            Some(w) => (word, k) = w,
            None => return false,
        }
    }
    if is_word(word, "off") {
        return word_before(t, k).is_some_and(|(w, _)| is_word(w, "signed"));
    }
    is_one_of(word, HANDLING)
}
