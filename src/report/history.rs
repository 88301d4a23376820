//! "Readiness over time" on the dashboard: a line chart of readiness by date and a strip
//! per area of RAG by month, from earlier packs and saved assessments, drawn as inline SVG
//! by the `history` partial (`templates/history.html.hbs`), each with a text alternative
//! and the same data as a table.
//!
//! The view is plain numbers and words: the partial draws every SVG element itself, with
//! HTML escaping on, so nothing here is markup and no name can inject any. It reaches the
//! template through the `evpack_history` helper (null without `--history`), which keeps the
//! main view, and the code that builds it, untouched.

use chrono::{Datelike, NaiveDate};
use handlebars::{Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, ScopedJson};
use serde_json::{json, Value};

use crate::assess::{Assessment, Rag};

/// The partial's name in the HTML registry, and its embedded text.
pub const PARTIAL: &str = "history";
const DEFAULT_PARTIAL: &str = include_str!("../../templates/history.html.hbs");
/// The helper the partial and the nav entry read the view from.
const HELPER: &str = "evpack_history";

/// Months drawn in the RAG strips: three years, the latest.
pub const MAX_MONTHS: usize = 36;

/// One assessment in time.
#[derive(Debug, Clone)]
pub struct Point {
    pub date: NaiveDate,
    /// What it was read from (a pack's file name), or what it is ("this report").
    pub label: String,
    pub readiness: u32,
    /// Each area's id and RAG rating.
    pub areas: Vec<(String, Rag)>,
}

impl Point {
    /// The current assessment, as of `date`.
    pub fn of(a: &Assessment, date: NaiveDate, label: &str) -> Point {
        Point {
            date,
            label: label.to_string(),
            readiness: a.summary.readiness_percent,
            areas: a.areas.iter().map(|ar| (ar.id.clone(), ar.rag)).collect(),
        }
    }
}

// The chart's geometry, in SVG user units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;
// The strip's cells.
const CELL_W: u32 = 52;
const CELL_H: u32 = 26;
const LABEL_W: u32 = 72;
const HEAD_H: u32 = 24;

/// The view of `points` (in any order), with `notes` on what was left out.
pub fn view(points: &[Point], notes: &[String]) -> Value {
    let mut points: Vec<&Point> = points.iter().collect();
    points.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.label.cmp(&b.label)));
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return json!({ "empty": true, "notes": notes });
    };
    json!({
        "empty": false,
        "notes": notes,
        "chart": chart(&points),
        "chart_desc": format!(
            "Readiness was {}% on {} and {}% on {}, over {} assessment{}; the table below lists each.",
            first.readiness, first.date, last.readiness, last.date, points.len(),
            if points.len() == 1 { "" } else { "s" }
        ),
        "rows": points.iter().map(|p| json!({
            "date": p.date.to_string(),
            "label": p.label,
            "readiness": p.readiness,
        })).collect::<Vec<_>>(),
        "strip": strip(&points),
    })
}

fn chart(points: &[&Point]) -> Value {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Value::Null;
    };
    let span = (last.date - first.date).num_days().max(0) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |d: NaiveDate| {
        if span == 0.0 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + (d - first.date).num_days() as f64 / span * plot_w
        }
    };
    let y = |r: u32| TOP + (100.0 - f64::from(r.min(100))) / 100.0 * plot_h;
    let dots: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({
                "x": round(x(p.date)), "y": round(y(p.readiness)),
                "title": format!("{}: {}% ({})", p.date, p.readiness, p.label),
            })
        })
        .collect();
    let line = points
        .iter()
        .map(|p| format!("{},{}", round(x(p.date)), round(y(p.readiness))))
        .collect::<Vec<_>>()
        .join(" ");
    let grid: Vec<Value> = [0, 25, 50, 75, 100]
        .iter()
        .map(|&r| json!({ "y": round(y(r)), "label_y": round(y(r) + 4.0), "label": format!("{r}%") }))
        .collect();
    let mut ticks = vec![
        json!({ "x": round(x(first.date)), "anchor": "start", "label": first.date.to_string() }),
    ];
    if last.date != first.date {
        ticks.push(
            json!({ "x": round(x(last.date)), "anchor": "end", "label": last.date.to_string() }),
        );
    }
    json!({
        "width": WIDTH, "height": HEIGHT,
        "left": LEFT, "right": WIDTH - RIGHT, "bottom": TOP + plot_h,
        "tick_y": round(TOP + plot_h + 18.0),
        "line": line, "dots": dots, "grid": grid, "ticks": ticks,
    })
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Months from the first point's to the last's (the last [`MAX_MONTHS`]), each area's RAG
/// in each month from the latest assessment dated in it.
fn strip(points: &[&Point]) -> Value {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Value::Null;
    };
    let month = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
    let (from, to) = (month(first.date), month(last.date));
    let from = from.max(to - MAX_MONTHS as i32 + 1);
    let months: Vec<i32> = (from..=to).collect();
    // Areas in the latest assessment's order, then any only earlier ones had.
    let mut areas: Vec<&str> = last.areas.iter().map(|(id, _)| id.as_str()).collect();
    for p in points.iter().rev() {
        for (id, _) in &p.areas {
            if !areas.contains(&id.as_str()) {
                areas.push(id);
            }
        }
    }
    // Points are in date order, so the last one seen in a month is that month's latest.
    let rag_in = |area: &str, m: i32| -> Option<Rag> {
        points
            .iter()
            .filter(|p| month(p.date) == m)
            .filter_map(|p| p.areas.iter().find(|(id, _)| id == area).map(|(_, r)| *r))
            .next_back()
    };
    let labels: Vec<String> = months
        .iter()
        .map(|&m| {
            NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
                .map_or_else(String::new, |d| d.format("%b %Y").to_string())
        })
        .collect();
    let rows: Vec<Value> = areas
        .iter()
        .enumerate()
        .map(|(row, area)| {
            let y = HEAD_H + row as u32 * CELL_H;
            let cells: Vec<Value> = months
                .iter()
                .enumerate()
                .map(|(col, &m)| {
                    let rag = rag_in(area, m);
                    let (fill, ink, letter, word) = match rag {
                        Some(Rag::Green) => ("#00703c", "#ffffff", "G", "green"),
                        Some(Rag::Amber) => ("#ffbf47", "#0b0c0c", "A", "amber"),
                        Some(Rag::Red) => ("#b10e1e", "#ffffff", "R", "red"),
                        None => ("#f3f2f1", "#505a5f", "-", "no assessment"),
                    };
                    let x = LABEL_W + col as u32 * CELL_W;
                    json!({
                        "x": x, "y": y, "w": CELL_W - 2, "h": CELL_H - 2,
                        "text_x": x + CELL_W / 2 - 1, "text_y": y + CELL_H / 2 + 4,
                        "fill": fill, "ink": ink, "letter": letter, "word": word,
                        "title": format!("{area}, {}: {word}", labels[col]),
                    })
                })
                .collect();
            json!({ "area": area, "y": y + CELL_H / 2 + 4, "cells": cells })
        })
        .collect();
    // The same data as a table, a row per month and a column per rating, so that it stays
    // five columns wide however many months and areas there are (and fits a printed page).
    let by_month: Vec<Value> = months
        .iter()
        .enumerate()
        .map(|(col, &m)| {
            let with = |want: Option<Rag>| {
                let ids: Vec<&str> = areas
                    .iter()
                    .copied()
                    .filter(|a| rag_in(a, m) == want)
                    .collect();
                ids.join(", ")
            };
            json!({
                "month": labels[col],
                "green": with(Some(Rag::Green)),
                "amber": with(Some(Rag::Amber)),
                "red": with(Some(Rag::Red)),
                "none": with(None),
            })
        })
        .collect();
    json!({
        "by_month": by_month,
        "width": LABEL_W + months.len() as u32 * CELL_W,
        "height": HEAD_H + areas.len() as u32 * CELL_H,
        "months": labels.iter().enumerate().map(|(col, l)| json!({
            "x": LABEL_W + col as u32 * CELL_W + CELL_W / 2 - 1,
            "label": l,
        })).collect::<Vec<_>>(),
        "rows": rows,
        "desc": format!(
            "RAG rating of {} area{} in each month from {} to {}; the table below gives the same.",
            areas.len(), if areas.len() == 1 { "" } else { "s" },
            labels.first().map_or("", String::as_str), labels.last().map_or("", String::as_str)
        ),
    })
}

/// Registers the partial and a null view (no history): templates include it either way.
pub fn register(registry: &mut Handlebars<'static>) -> Result<(), String> {
    registry
        .register_partial(PARTIAL, DEFAULT_PARTIAL)
        .map_err(|e| e.to_string())?;
    set(registry, Value::Null);
    Ok(())
}

/// Gives the templates this history view ([`view`]).
pub fn set(registry: &mut Handlebars<'static>, view: Value) {
    registry.register_helper(HELPER, Box::new(Data(view)));
}

/// The helper that hands the view to the template.
struct Data(Value);

impl HelperDef for Data {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        _: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        Ok(ScopedJson::Derived(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(date: &str, readiness: u32, rag: Rag) -> Point {
        Point {
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"),
            label: format!("{date}.zip"),
            readiness,
            areas: vec![("P1".into(), rag)],
        }
    }

    #[test]
    fn points_in_date_order_scaled_into_the_plot() {
        let v = view(
            &[
                point("2020-12-10", 81, Rag::Amber),
                point("2020-10-10", 50, Rag::Red),
                point("2020-11-10", 75, Rag::Green),
            ],
            &[],
        );
        assert_eq!(v["rows"][0]["date"], "2020-10-10");
        assert_eq!(v["chart"]["dots"][0]["x"], LEFT);
        assert_eq!(v["chart"]["dots"][2]["x"], WIDTH - RIGHT);
        assert_eq!(
            v["chart"]["dots"][0]["y"],
            TOP + 0.5 * (HEIGHT - TOP - BOTTOM)
        );
        let cells = v["strip"]["rows"][0]["cells"].as_array().expect("cells");
        let words: Vec<&str> = cells
            .iter()
            .map(|c| c["word"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(words, ["red", "green", "amber"]);
        assert_eq!(v["strip"]["months"][0]["label"], "Oct 2020");
        assert_eq!(v["strip"]["by_month"][1]["green"], "P1");
        assert_eq!(v["strip"]["by_month"][1]["red"], "");
    }

    #[test]
    fn a_month_without_an_assessment_shows_as_such_and_no_points_is_empty() {
        let v = view(
            &[
                point("2020-10-10", 50, Rag::Red),
                point("2020-12-10", 81, Rag::Amber),
            ],
            &[],
        );
        assert_eq!(v["strip"]["rows"][0]["cells"][1]["word"], "no assessment");
        assert_eq!(view(&[], &[])["empty"], true);
    }
}
