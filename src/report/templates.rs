//! Handlebars templates for the human-readable documents: the Markdown report
//! (`gaps --format md`), the pack's README.md, and the HTML dashboard (also the pack's
//! index.html).
//!
//! The defaults are embedded in the binary so a lone executable works; `--templates DIR`
//! replaces any of them with a file of the same name. HTML escaping is always on in the
//! HTML registry and a Markdown escape in the Markdown one: file names and manifest text
//! can hold anything, including markup.
//!
//! A custom template is code the program runs, so its depth is bounded (the `guard`
//! module): a partial that includes itself is an error naming the file, not a crash.

use std::path::Path;

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use handlebars::Handlebars;
use serde_json::{json, Value};

use crate::assess::{
    cadence_periods, AreaResult, Assessment, FileRef, Rag, RequirementResult, Status, StatusCounts,
};
use crate::dating::{DateSource, YearStart};
use crate::error::{Error, Result};
use crate::manifest::{AreaKind, Cadence};
use crate::util::printable;
use crate::util::{is_bidi_control, SharedStr};

pub const MARKDOWN: &str = "report.md.hbs";
pub const HTML: &str = "report.html.hbs";
pub const README: &str = "readme.md.hbs";

const DEFAULT_MARKDOWN: &str = include_str!("../../templates/report.md.hbs");
const DEFAULT_HTML: &str = include_str!("../../templates/report.html.hbs");
const DEFAULT_README: &str = include_str!("../../templates/readme.md.hbs");

/// Files listed per requirement in a document: the newest. The rest are counted
/// (`files_more`) and listed in full by the pack's inventory and by `evpack list`.
pub const FILES_SHOWN: usize = 10;

/// Files named in one cell of a cadence grid (a month can hold hundreds).
pub const CELL_FILES_SHOWN: usize = 3;

/// Items shown of a list over the whole folder (files that match nothing, that will not
/// open, that were skipped; sets of copies).
pub const LIST_SHOWN: usize = 200;

/// The pack's inventory of every payload file, as linked from its documents.
const INVENTORY_HREF: &str = "inventory.csv";

/// Where evidence links in a rendered document point.
#[derive(Debug, Clone, Copy)]
pub enum LinkStyle<'a> {
    /// At the files on the drive; the prefix leads from the document to the evidence folder
    /// (e.g. `../evidence/`), empty for none.
    Drive(&'a str),
    /// Inside an unzipped pack: `data/<path>`.
    Pack,
}

pub struct Templates {
    markdown: Document,
    html: Document,
    readme: Document,
}

/// One document's registry, and where its template came from (for messages).
struct Document {
    registry: Handlebars<'static>,
    place: String,
}

impl Templates {
    /// The embedded templates, each replaced by `DIR/<name>` when that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Templates> {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(Error::input(
                    d,
                    "the templates folder does not exist",
                    format!("pass --templates DIR holding {HTML} and/or {README}"),
                ));
            }
            // It once made the pack's README.md; a folder made for that would now be
            // ignored without a word.
            let old = d.join(MARKDOWN);
            if old.is_file() && !d.join(README).is_file() {
                return Err(Error::input(
                    old,
                    format!("the pack's README.md now renders from {README}"),
                    format!("rename the file to {README} (its view gains `pack`: see the built-in template)"),
                ));
            }
        }
        let mut markdown = Handlebars::new();
        markdown.set_strict_mode(false);
        markdown.register_escape_fn(escape_markdown);
        let mut html = Handlebars::new();
        html.register_escape_fn(escape_html);
        let mut readme = Handlebars::new();
        readme.set_strict_mode(false);
        readme.register_escape_fn(super::packdoc::escape_plain);
        readme.register_helper("code", Box::new(code_helper));
        super::history::register(&mut html)
            .map_err(|m| template_error(super::history::PARTIAL, m))?;
        Ok(Templates {
            // `gaps --format md` is not customised: only the pack's documents and the
            // dashboard are.
            markdown: Document::load(markdown, MARKDOWN, DEFAULT_MARKDOWN, None)?,
            html: Document::load(html, HTML, DEFAULT_HTML, dir)?,
            readme: Document::load(readme, README, DEFAULT_README, dir)?,
        })
    }

    /// Shows this readiness history ([`super::history::view`]) on the dashboard.
    pub fn set_history(&mut self, view: Value) {
        super::history::set(&mut self.html.registry, view);
    }

    pub fn markdown(&self, a: &Assessment, links: LinkStyle<'_>) -> Result<String> {
        self.markdown.render(MARKDOWN, &view(a, links))
    }

    pub fn html(&self, a: &Assessment, links: LinkStyle<'_>) -> Result<String> {
        self.html.render(HTML, &view(a, links))
    }

    /// [`Templates::html`] stating when the dashboard was made (see [`view_at`]).
    pub fn html_at(
        &self,
        a: &Assessment,
        links: LinkStyle<'_>,
        made_at: Option<&str>,
    ) -> Result<String> {
        self.html.render(HTML, &view_at(a, links, made_at))
    }

    /// The view ([`view_at`]) made ready for rendering, once for several documents: a
    /// pack's `README.md` and `index.html` render from one context, side by side.
    pub fn context(
        a: &Assessment,
        links: LinkStyle<'_>,
        made_at: Option<&str>,
    ) -> handlebars::Context {
        // Context::from takes the view by value: the render_to_write forms would copy it.
        handlebars::Context::from(view_at(a, links, made_at))
    }

    /// [`Templates::context`] for a pack's documents: the view gains `pack`
    /// ([`super::packdoc::view`]: what the pack is, what is inside, how to check it).
    pub fn pack_context(
        a: &Assessment,
        facts: &super::PackFacts,
        made_at: Option<&str>,
    ) -> handlebars::Context {
        let mut v = view_at(a, LinkStyle::Pack, made_at);
        if let Value::Object(map) = &mut v {
            map.insert("pack".into(), super::packdoc::view(facts));
        }
        handlebars::Context::from(v)
    }

    /// Renders the pack's README.md straight into `w`, wrapped for reading as plain text,
    /// without building the whole document in memory first.
    pub fn readme_to(&self, ctx: &handlebars::Context, w: &mut dyn std::io::Write) -> Result<()> {
        let mut wrapped = super::packdoc::Wrapped::new(w);
        self.readme.render_to(README, ctx, &mut wrapped)?;
        wrapped
            .finish()
            .map(drop)
            .map_err(|e| Error::io("README.md", "cannot write", e))
    }

    /// Renders the dashboard straight into `w`; see [`Templates::markdown_to`].
    pub fn html_to(&self, ctx: &handlebars::Context, w: &mut dyn std::io::Write) -> Result<()> {
        self.html.render_to(HTML, ctx, w)
    }
}

impl Document {
    /// Registers `DIR/<name>` when that file exists, else the embedded `default`.
    fn load(
        mut registry: Handlebars<'static>,
        name: &str,
        default: &str,
        dir: Option<&Path>,
    ) -> Result<Document> {
        let (text, place) = match dir.map(|d| d.join(name)) {
            Some(p) if p.is_file() => {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| Error::io(&p, "cannot read the template", e))?;
                (text, printable(&p.display().to_string()))
            }
            _ => (default.to_string(), format!("{name} (embedded)")),
        };
        let template =
            guard::compile(name, &text).map_err(|message| template_error(&place, message))?;
        registry.register_template(name, template);
        registry.register_helper(guard::HELPER, Box::new(guard::PartialLevel));
        Ok(Document { registry, place })
    }

    fn render(&self, name: &str, data: &Value) -> Result<String> {
        self.registry
            .render(name, data)
            .map_err(|e| template_error(&self.place, e.to_string()))
    }

    fn render_to(
        &self,
        name: &str,
        ctx: &handlebars::Context,
        w: &mut dyn std::io::Write,
    ) -> Result<()> {
        self.registry
            .render_with_context_to_write(name, ctx, w)
            .map_err(|e| template_error(&self.place, e.to_string()))
    }
}

/// `{{code "data/" path}}`: the values, joined, as a Markdown code span ([`super::packdoc::code_span`]),
/// unescaped (the span is the escape).
fn code_helper(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let mut text = String::new();
    for p in h.params() {
        match p.value() {
            Value::String(s) => text.push_str(s),
            Value::Null => {}
            other => text.push_str(&other.to_string()),
        }
    }
    out.write(&super::packdoc::code_span(&text))?;
    Ok(())
}

/// A template that failed to compile or render, named by its file; the message may quote
/// the template's text, so each line is made safe to print.
fn template_error(place: &str, message: String) -> Error {
    Error::Template {
        place: place.to_string(),
        message: message
            .lines()
            .map(printable)
            .collect::<Vec<_>>()
            .join("\n"),
        help: "fix the template, or remove it to use the built-in one",
    }
}

/// Bounds on how deeply a template nests while it renders. Handlebars renders by recursion
/// and sets no bound of its own: an inline partial that included itself recursed until the
/// stack overflowed and the process aborted. Here every inline partial's body is wrapped in
/// a helper that counts what is open, and a template whose blocks nest deeper than
/// [`MAX_LEVELS`] is refused when loaded, so rendering never goes deeper than
/// `2 * MAX_LEVELS` levels. Measured, the deepest template allowed renders in 512 KiB of
/// stack but not in 384 KiB (debug and release builds alike); the smallest stack it gets
/// is a spawned thread's 2 MiB (the pack renders `index.html` on one), and a test renders
/// it on 1 MiB. Partials are bounded apart ([`MAX_PARTIALS`]) because handlebars copies
/// the data each partial sees: at the top level, the whole view.
mod guard {
    use std::cell::Cell;

    use handlebars::template::{Parameter, Template, TemplateElement};
    use handlebars::{
        Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext,
        RenderErrorReason, Renderable,
    };
    use serde_json::json;

    /// The helper an inline partial's body is wrapped in; no template names it.
    pub const HELPER: &str = "__evpack_partial_level";
    /// Levels of blocks a template may nest, and levels open at once through partials.
    pub const MAX_LEVELS: usize = 128;
    /// Inline partials open at once.
    pub const MAX_PARTIALS: usize = 16;

    thread_local! {
        /// Levels and partials open in the render on this thread.
        static OPEN: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }

    /// Compiles `text` (the template `name`), refuses it if its blocks nest too deep, and
    /// wraps each inline partial's body in [`HELPER`].
    pub fn compile(name: &str, text: &str) -> Result<Template, String> {
        let mut template =
            Template::compile_with_name(text, name.to_owned()).map_err(|e| e.to_string())?;
        let depth = nesting(&template);
        if depth > MAX_LEVELS {
            return Err(format!(
                "blocks nest {depth} deep, more than the {MAX_LEVELS} evpack renders"
            ));
        }
        wrap_inline_partials(&mut template)?;
        Ok(template)
    }

    /// How deep blocks (and subexpressions) nest in `t`.
    fn nesting(t: &Template) -> usize {
        t.elements.iter().map(element_nesting).max().unwrap_or(0)
    }

    fn element_nesting(e: &TemplateElement) -> usize {
        let params = |params: &[Parameter]| params.iter().map(param_nesting).max().unwrap_or(0);
        let inner = |t: &Option<Template>| t.as_ref().map_or(0, nesting);
        match e {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                params(&h.params).max(param_nesting(&h.name))
            }
            TemplateElement::HelperBlock(h) => {
                1 + params(&h.params)
                    .max(inner(&h.template))
                    .max(inner(&h.inverse))
            }
            TemplateElement::DecoratorExpression(d) | TemplateElement::PartialExpression(d) => {
                params(&d.params).max(param_nesting(&d.name))
            }
            TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
                1 + params(&d.params).max(inner(&d.template))
            }
            _ => 0,
        }
    }

    fn param_nesting(p: &Parameter) -> usize {
        match p {
            Parameter::Subexpression(s) => 1 + element_nesting(&s.element),
            _ => 0,
        }
    }

    fn wrap_inline_partials(t: &mut Template) -> Result<(), String> {
        for (i, e) in t.elements.iter_mut().enumerate() {
            match e {
                TemplateElement::HelperBlock(h) => {
                    for inner in [&mut h.template, &mut h.inverse].into_iter().flatten() {
                        wrap_inline_partials(inner)?;
                    }
                }
                TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
                    if let Some(body) = &mut d.template {
                        wrap_inline_partials(body)?;
                    }
                    if matches!(&d.name, Parameter::Name(n) if n == "inline") {
                        let name = d.params.first().cloned();
                        let mut guarded = wrapped(d.template.take(), name)?;
                        // Errors in the wrapper point at the partial's definition.
                        if let Some(at) = t.mapping.get(i) {
                            guarded.mapping = vec![at.clone()];
                        }
                        d.template = Some(guarded);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `{{#__evpack_partial_level WEIGHT NAME}}body{{/__evpack_partial_level}}`, where
    /// WEIGHT is the levels the body opens (its own nesting, and one for the partial).
    fn wrapped(body: Option<Template>, name: Option<Parameter>) -> Result<Template, String> {
        let weight = body.as_ref().map_or(0, nesting) + 1;
        let mut stub = Template::compile(&format!("{{{{#{HELPER} 0 0}}}}{{{{/{HELPER}}}}}"))
            .map_err(|e| e.to_string())?;
        let Some(TemplateElement::HelperBlock(h)) = stub.elements.first_mut() else {
            return Err("internal error: the partial guard did not compile to a block".into());
        };
        h.params = vec![
            Parameter::Literal(json!(weight)),
            name.unwrap_or_else(|| Parameter::Literal(json!("?"))),
        ];
        h.template = body;
        Ok(stub)
    }

    /// The helper of [`wrapped`]: opens the partial's levels, renders its body, closes them.
    pub struct PartialLevel;

    impl HelperDef for PartialLevel {
        fn call<'reg: 'rc, 'rc>(
            &self,
            h: &Helper<'rc>,
            r: &'reg Handlebars<'reg>,
            ctx: &'rc Context,
            rc: &mut RenderContext<'reg, 'rc>,
            out: &mut dyn Output,
        ) -> HelperResult {
            let weight = h.param(0).and_then(|p| p.value().as_u64()).unwrap_or(1);
            let name = h.param(1).and_then(|p| p.value().as_str()).unwrap_or("?");
            let _open = Open::enter(usize::try_from(weight).unwrap_or(usize::MAX), name)?;
            match h.template() {
                Some(t) => t.render(r, ctx, rc, out),
                None => Ok(()),
            }
        }
    }

    /// What one partial opened; closing it (on drop, also on an error) restores the count.
    struct Open((usize, usize));

    impl Open {
        fn enter(weight: usize, name: &str) -> Result<Open, RenderErrorReason> {
            let before = OPEN.get();
            let (levels, partials) = (before.0.saturating_add(weight), before.1 + 1);
            if partials > MAX_PARTIALS {
                return Err(RenderErrorReason::Other(format!(
                    "inline partials open more than {MAX_PARTIALS} deep at `{name}`: \
                     does it include itself without end?"
                )));
            }
            if levels > MAX_LEVELS {
                return Err(RenderErrorReason::Other(format!(
                    "blocks and inline partials nest more than {MAX_LEVELS} levels deep \
                     at `{name}`: does it include itself without end?"
                )));
            }
            OPEN.set((levels, partials));
            Ok(Open(before))
        }
    }

    impl Drop for Open {
        fn drop(&mut self) {
            OPEN.set(self.0);
        }
    }
}

/// A JSON object of the named fields of a struct. The view copies each struct's own fields
/// but builds its nested lists itself; naming the fields spares serializing every file of
/// a pack several times only to throw the copies away. The `view_keeps_every_field` test
/// fails if a field of the JSON report is left out here.
macro_rules! fields {
    ($src:expr; $($f:ident),* $(,)?) => {{
        let mut m = serde_json::Map::new();
        $(
            m.insert(
                stringify!($f).to_string(),
                serde_json::to_value(&$src.$f).unwrap_or(Value::Null),
            );
        )*
        m
    }};
}

/// The data templates see: the assessment (same fields as the JSON report) plus what a
/// person-facing document needs and a template should not have to compute: words and CSS
/// class names for statuses and RAG ratings (status is always shown in words, colour only
/// repeats it), per-area counts, areas grouped by kind, the cadence grids, UK long-form
/// dates, anchors, and for every file an `href` that is already percent-encoded and safe
/// in both HTML and Markdown.
///
/// One view serves the standalone report, the pack's `index.html` and its `README.md`; only
/// `links` differs. Nothing here reads the clock, so a pack rebuilt from the same input is
/// byte-identical; see [`view_at`] to show when a document was made.
pub fn view(a: &Assessment, links: LinkStyle<'_>) -> Value {
    view_at(a, links, None)
}

/// [`view`], plus `made_at` (free text such as a date) shown as when the document was made.
/// Callers pass it explicitly (e.g. the pack's bagging date) so the output stays a pure
/// function of its inputs.
pub fn view_at(a: &Assessment, links: LinkStyle<'_>, made_at: Option<&str>) -> Value {
    let href = |path: &str| -> String {
        let prefix = match links {
            LinkStyle::Drive(p) => p,
            LinkStyle::Pack => "data/",
        };
        let mut out = percent_encode(prefix);
        out.push_str(&percent_encode(path));
        out
    };
    let mut v = fields!(a; schema, tool, visit, manifest, evidence_dir, reference_date, window,
        summary, warnings);
    // The whole-folder lists grow with the drive: each is shown up to LIST_SHOWN items,
    // with a count of the rest (`<list>_more`).
    shown(&mut v, "unmatched", &a.unmatched, LIST_SHOWN);
    shown(&mut v, "skipped", &a.skipped, LIST_SHOWN);
    shown(&mut v, "unusable", &a.unusable, LIST_SHOWN);
    shown(&mut v, "duplicates", &a.duplicates, LIST_SHOWN);
    let mut anchors = Anchors::default();
    let areas: Vec<Value> = a
        .areas
        .iter()
        .map(|area| area_view(area, &href, &mut anchors))
        .collect();

    let unmatched: Vec<Value> = a
        .unmatched
        .iter()
        .take(LIST_SHOWN)
        .map(|p| match links {
            // Unmatched files are not in a pack: no link to follow there.
            LinkStyle::Pack => json!({ "path": p }),
            LinkStyle::Drive(_) => json!({ "path": p, "href": href(p) }),
        })
        .collect();
    let s = &a.summary;
    let extra = json!({
        "in_pack": matches!(links, LinkStyle::Pack),
        // Where every file is listed, for the lists shown in part.
        "inventory_href": matches!(links, LinkStyle::Pack).then_some(INVENTORY_HREF),
        "made_at": made_at,
        "dates": {
            "visit": long_date(a.visit.date),
            "reference": long_date(a.reference_date),
            "window_start": long_date(a.window.start),
            "window_end": long_date(a.window.end),
        },
        "counts_table": [
            counts_row("Required", &s.required),
            counts_row("Advisory", &s.advisory),
        ],
        "advisory_total": s.advisory.total(),
    });
    if let Value::Object(extra) = extra {
        v.extend(extra);
    }
    // Built values go in by move: `json!` would copy them, and the file lists are most of
    // the memory a build uses.
    v.insert("unmatched_files".into(), Value::Array(unmatched));
    v.insert(
        "unmatched_files_more".into(),
        a.unmatched.len().saturating_sub(LIST_SHOWN).into(),
    );
    v.insert(
        "unusable_files_more".into(),
        a.unusable.len().saturating_sub(LIST_SHOWN).into(),
    );
    v.insert("unusable_files".into(), unusable_files(a, links, &href));
    v.insert("area_groups".into(), area_groups(a, &areas));
    v.insert("cadence_grids".into(), cadence_grids(a, &areas));
    v.insert("areas".into(), Value::Array(grouped(a, areas)));
    Value::Object(v)
}

fn area_view(area: &AreaResult, href: &dyn Fn(&str) -> String, anchors: &mut Anchors) -> Value {
    let mut v = fields!(area; id, kind, kind_label, title, source, rag);
    let mut required = StatusCounts::default();
    let mut advisory = StatusCounts::default();
    for r in &area.requirements {
        let c = if r.required {
            &mut required
        } else {
            &mut advisory
        };
        c.add(r.status);
    }
    let reqs: Vec<Value> = area
        .requirements
        .iter()
        .map(|r| requirement_view(r, href, anchors))
        .collect();
    let (rag_word, rag_meaning) = rag_words(area.rag);
    let extra = json!({
        "anchor": anchors.make("area", &area.id),
        "rag_word": rag_word,
        "rag_meaning": rag_meaning,
        "rag_class": format!("rag-{}", area.rag.label()),
        "required_total": required.total(),
        "required_met": required.met,
        "advisory_total": advisory.total(),
        "advisory_met": advisory.met,
        "required_counts": required,
        "advisory_counts": advisory,
        "not_met_words": not_met_words(&required),
    });
    if let Value::Object(extra) = extra {
        v.extend(extra);
    }
    v.insert("requirements".into(), Value::Array(reqs));
    Value::Object(v)
}

fn requirement_view(
    r: &RequirementResult,
    href: &dyn Fn(&str) -> String,
    anchors: &mut Anchors,
) -> Value {
    let mut v = fields!(r; id, title, evidence, required, owner, notes, paths, min_files,
        max_age_days, cadence, status, reasons, newest, files_in_window);
    // The newest files only: a requirement can match thousands, and the page must open.
    let files: Vec<Value> = r
        .files
        .iter()
        .take(FILES_SHOWN)
        .map(|f| file_view(f, href))
        .collect();
    let periods: Vec<Value> = r
        .periods
        .iter()
        .map(|p| {
            let mut pv = fields!(p; label, start, end, covered);
            shown(&mut pv, "files", &p.files, CELL_FILES_SHOWN);
            shown(&mut pv, "unusable", &p.unusable, CELL_FILES_SHOWN);
            let cell =
                |paths: &[SharedStr]| file_links(&paths[..paths.len().min(CELL_FILES_SHOWN)], href);
            pv.insert("file_links".into(), cell(&p.files));
            pv.insert("unusable_links".into(), cell(&p.unusable));
            Value::Object(pv)
        })
        .collect();
    let extra = json!({
        "anchor": anchors.make("req", &r.id),
        "status_word": status_word(r.status),
        "status_class": format!("status-{}", r.status.label()),
        "required_word": if r.required { "Required" } else { "Advisory" },
        "cadence_word": match r.cadence {
            Cadence::None => None,
            Cadence::Monthly => Some("monthly"),
            Cadence::Quarterly => Some("quarterly"),
        },
    });
    if let Value::Object(extra) = extra {
        v.extend(extra);
    }
    v.insert("files".into(), Value::Array(files));
    v.insert("files_total".into(), r.files.len().into());
    v.insert(
        "files_more".into(),
        r.files.len().saturating_sub(FILES_SHOWN).into(),
    );
    v.insert("periods".into(), Value::Array(periods));
    Value::Object(v)
}

/// One file of a requirement. This is the view's largest part (one per file per
/// requirement), and a JSON object costs a tree node of eleven entries however few it
/// holds, a second and third node past eleven: so a file that opens carries ten keys, and
/// what is absent (no detail, not a copy, not weakly dated) is left out rather than null
/// (a template's `{{#if}}` reads both alike). No `sha256`: it is known only once the pack is
/// written, and the documents are rendered before (pack.json and the BagIt manifest carry
/// the digests); no `covers`, which `date` already says.
fn file_view(f: &FileRef, href: &dyn Fn(&str) -> String) -> Value {
    let mut fv = fields!(f; path, date, date_precision, date_source, size, check);
    fv.insert("href".into(), href(&f.path).into());
    fv.insert("name".into(), file_name(&f.path).into());
    fv.insert("date_source_word".into(), f.date_source.label().into());
    // The modification time is the weakest evidence of when a document speaks for (a
    // copy or an edit changes it), so the dashboard flags it.
    if f.date_source == DateSource::Modified {
        fv.insert("date_weak".into(), true.into());
    }
    if !f.check.is_ok() {
        fv.insert("unusable".into(), true.into());
        fv.insert("check_word".into(), check_word(f.check).into());
    }
    if let Some(detail) = &f.check_detail {
        fv.insert("check_detail".into(), (**detail).into());
    }
    if let Some(of) = &f.duplicate_of {
        fv.insert("duplicate_of".into(), of.as_str().into());
    }
    Value::Object(fv)
}

/// Puts the first `cap` of `items` into `view` under `key`, and how many more there are
/// under `<key>_more`.
fn shown<T: serde::Serialize>(
    view: &mut serde_json::Map<String, Value>,
    key: &str,
    items: &[T],
    cap: usize,
) {
    let head = &items[..items.len().min(cap)];
    view.insert(
        key.into(),
        serde_json::to_value(head).unwrap_or(Value::Null),
    );
    view.insert(
        format!("{key}_more"),
        items.len().saturating_sub(cap).into(),
    );
}

fn file_links(paths: &[SharedStr], href: &dyn Fn(&str) -> String) -> Value {
    paths
        .iter()
        .map(|f| json!({ "path": f, "name": file_name(f), "href": href(f) }))
        .collect()
}

/// An area's tile: the area view without its requirements (the sections list those from
/// the top-level `areas`, so the requirement views are not held twice).
fn tile(area: &Value) -> Value {
    match area.as_object() {
        Some(obj) => Value::Object(
            obj.iter()
                .filter(|(k, _)| k.as_str() != "requirements")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => Value::Null,
    }
}

/// Where each kind of area stands in the dashboard, Ofsted priorities first.
fn kind_rank(kind: AreaKind) -> u8 {
    match kind {
        AreaKind::OfstedPriority => 0,
        AreaKind::CommissionerRecommendation => 1,
        AreaKind::MonitoringFinding => 2,
        AreaKind::Other => 3,
    }
}

/// The area views in the order of their groups (stable within a group), as the tiles show
/// them.
fn grouped(a: &Assessment, areas: Vec<Value>) -> Vec<Value> {
    let mut ranked: Vec<(u8, Value)> = a
        .areas
        .iter()
        .zip(areas)
        .map(|(area, v)| (kind_rank(area.kind), v))
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, v)| v).collect()
}

/// Areas in fixed kind order (priorities first, as Ofsted reads them), each group holding
/// the already-built area views in manifest order; empty groups are left out.
fn area_groups(a: &Assessment, areas: &[Value]) -> Value {
    const ORDER: [(AreaKind, &str, &str); 4] = [
        (
            AreaKind::OfstedPriority,
            "Ofsted priorities",
            "ofsted-priorities",
        ),
        (
            AreaKind::CommissionerRecommendation,
            "Commissioner recommendations",
            "commissioner-recommendations",
        ),
        (
            AreaKind::MonitoringFinding,
            "Monitoring visit findings",
            "monitoring-findings",
        ),
        (AreaKind::Other, "Other areas", "other-areas"),
    ];
    ORDER
        .iter()
        .filter_map(|&(kind, heading, anchor)| {
            let members: Vec<Value> = a
                .areas
                .iter()
                .zip(areas)
                .filter(|(area, _)| area.kind == kind)
                .map(|(_, v)| tile(v))
                .collect();
            (!members.is_empty()).then(|| {
                let mut group = json!({
                    "kind": kind,
                    "heading": heading,
                    "anchor": anchor,
                    "count": members.len(),
                });
                group["areas"] = Value::Array(members);
                group
            })
        })
        .collect()
}

/// One grid per cadence in use: a column per month (or quarter) of the window, a row per
/// requirement with that cadence, a cell per period saying whether a file covers it and
/// which. Columns come from the window, not from the rows, so every row lines up.
fn cadence_grids(a: &Assessment, areas: &[Value]) -> Value {
    [
        (Cadence::Monthly, "Monthly evidence", "grid-monthly"),
        (Cadence::Quarterly, "Quarterly evidence", "grid-quarterly"),
    ]
    .into_iter()
    .filter_map(|(cadence, heading, anchor)| {
        let year_start = a.visit.year_start;
        let columns: Vec<Column> = cadence_periods(cadence, a.window, year_start)
            .into_iter()
            .map(|(label, start, end)| Column {
                heading: period_heading(cadence, start, year_start),
                label,
                start,
                end,
            })
            .collect();
        let rows = grid_rows(a, areas, cadence, &columns);
        (!rows.is_empty()).then(|| grid(cadence, heading, anchor, &columns, rows))
    })
    .collect()
}

/// One period of a cadence grid: its label in the data, its heading on the page.
struct Column {
    label: String,
    heading: String,
    start: NaiveDate,
    end: NaiveDate,
}

/// A grid's columns and rows, with its heading and anchor.
fn grid(
    cadence: Cadence,
    heading: &str,
    anchor: &str,
    columns: &[Column],
    rows: Vec<Value>,
) -> Value {
    let cols: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "label": c.label,
                "heading": c.heading,
                "start": c.start,
                "end": c.end,
            })
        })
        .collect();
    let mut grid = json!({
        "cadence": cadence,
        "heading": heading,
        "anchor": anchor,
        "period_word": if cadence == Cadence::Monthly { "month" } else { "quarter" },
        "column_count": cols.len(),
    });
    grid["columns"] = Value::Array(cols);
    grid["rows"] = Value::Array(rows);
    grid
}

/// A row per requirement with `cadence`, in manifest order, from the requirement views
/// already built (`areas`).
fn grid_rows(a: &Assessment, areas: &[Value], cadence: Cadence, columns: &[Column]) -> Vec<Value> {
    let mut rows = Vec::new();
    for (area, area_v) in a.areas.iter().zip(areas) {
        let req_views = area_v.get("requirements").and_then(Value::as_array);
        for (r, rv) in area
            .requirements
            .iter()
            .zip(req_views.into_iter().flatten())
        {
            if r.cadence == cadence {
                rows.push(grid_row(area, r, rv, columns));
            }
        }
    }
    rows
}

fn grid_row(area: &AreaResult, r: &RequirementResult, rv: &Value, columns: &[Column]) -> Value {
    let periods = rv.get("periods").and_then(Value::as_array);
    let cells: Vec<Value> = columns
        .iter()
        .map(|c| {
            let period = periods
                .into_iter()
                .flatten()
                .find(|p| p.get("label").and_then(Value::as_str) == Some(&c.label));
            grid_cell(&c.label, c.heading.clone(), period)
        })
        .collect();
    let covered = cells.iter().filter(|c| c["covered"] == true).count();
    let mut row = json!({
        "id": r.id,
        "title": r.title,
        "area_id": area.id,
        "required": r.required,
        "required_word": rv.get("required_word"),
        "anchor": rv.get("anchor"),
        "status": r.status,
        "status_word": rv.get("status_word"),
        "status_class": rv.get("status_class"),
        "covered": covered,
    });
    row["cells"] = Value::Array(cells);
    row
}

/// One period of a row: covered or not, in words and as a class, with the files dated in
/// it (`period` is the requirement's period view, if it has that period).
fn grid_cell(label: &str, heading: String, period: Option<&Value>) -> Value {
    let covered = period
        .and_then(|p| p.get("covered"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut cell = json!({
        "label": label,
        "heading": heading,
        "covered": covered,
        "word": if covered { "Covered" } else { "Not covered" },
        "class": if covered { "cell-covered" } else { "cell-gap" },
    });
    let links = |key: &str| {
        period
            .and_then(|p| p.get(key))
            .cloned()
            .unwrap_or_else(|| json!([]))
    };
    cell["files"] = links("file_links");
    cell["unusable"] = links("unusable_links");
    let more = |key: &str| period.and_then(|p| p.get(key)).cloned().unwrap_or(0.into());
    cell["files_more"] = more("files_more");
    cell["unusable_more"] = more("unusable_more");
    cell
}

/// The files that will not open, each with its requirements, the check in words and a
/// link where the file can be followed: always on the drive; in a pack, only when it was
/// packed anyway (`--include-unusable`), which leaves it among its requirements' files.
fn unusable_files(a: &Assessment, links: LinkStyle<'_>, href: &dyn Fn(&str) -> String) -> Value {
    let packed: std::collections::HashSet<&str> = match links {
        LinkStyle::Pack => a
            .areas
            .iter()
            .flat_map(|ar| &ar.requirements)
            .flat_map(|r| &r.files)
            .filter(|f| !f.check.is_ok())
            .map(|f| f.path.as_str())
            .collect(),
        LinkStyle::Drive(_) => Default::default(),
    };
    a.unusable
        .iter()
        .take(LIST_SHOWN)
        .map(|u| {
            let linked = matches!(links, LinkStyle::Drive(_)) || packed.contains(u.path.as_str());
            json!({
                "path": u.path,
                "href": linked.then(|| href(&u.path)),
                "in_pack": packed.contains(u.path.as_str()),
                "check": u.check,
                "check_word": check_word(u.check),
                "detail": u.detail,
                "requirements": u.requirements,
            })
        })
        .collect()
}

/// A check result as the dashboard says it.
fn check_word(c: crate::content::Check) -> &'static str {
    use crate::content::Check;
    match c {
        Check::Ok => "Opens",
        Check::Empty => "Empty",
        Check::WrongType => "Not what its name says",
        Check::Corrupt => "Damaged",
        Check::PasswordProtected => "Password-protected",
        Check::Unreadable => "Could not be checked",
    }
}

fn counts_row(label: &str, c: &StatusCounts) -> Value {
    json!({
        "label": label,
        "met": c.met,
        "partial": c.partial,
        "stale": c.stale,
        "missing": c.missing,
        "total": c.total(),
    })
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Met => "Met",
        Status::Partial => "Partial",
        Status::Stale => "Stale",
        Status::Missing => "Missing",
    }
}

/// The RAG rating as a word and what it means, so a reader never depends on the colour.
fn rag_words(r: Rag) -> (&'static str, &'static str) {
    match r {
        Rag::Green => ("Green", "every required item met"),
        Rag::Amber => ("Amber", "required items partial or out of date"),
        Rag::Red => ("Red", "required evidence missing"),
    }
}

/// "1 partial, 2 stale" for an area's required items not met; empty when all are met.
fn not_met_words(c: &StatusCounts) -> String {
    [
        (c.partial, "partial"),
        (c.stale, "stale"),
        (c.missing, "missing"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// `Jul 2020` for a month, `Q3 2020` for a quarter: short enough for a grid column on A4.
/// A grid column's heading: `Oct 2020`; a quarter as the council's year numbers it
/// (`Q3 2020-21` from April, `Q4 2020` from January).
fn period_heading(cadence: Cadence, start: NaiveDate, year_start: YearStart) -> String {
    match (cadence, year_start) {
        (Cadence::Quarterly, YearStart::January) => {
            format!("Q{} {}", (start.month() - 1) / 3 + 1, start.year())
        }
        (Cadence::Quarterly, YearStart::April) => crate::dating::quarter_label(start, year_start),
        _ => start.format("%b %Y").to_string(),
    }
}

/// `18 January 2021`: the form a UK reader expects; ISO dates stay in `datetime` attributes.
fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Fragment ids for areas and requirements: readable (`req-P1-2`), limited to characters
/// that need no escaping in a URL fragment, and unique even when two manifest ids only
/// differ in characters that were replaced.
#[derive(Default)]
struct Anchors {
    used: HashSet<String>,
}

impl Anchors {
    fn make(&mut self, prefix: &str, id: &str) -> String {
        let base: String = format!("{prefix}-{id}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.used.insert(candidate.clone()) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        candidate
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for Markdown: characters with Markdown meaning are backslash-escaped, HTML
/// specials become entities (Markdown passes raw HTML through) and line breaks become
/// spaces so a title cannot break a table row. Other control characters and the bidi
/// controls (which reorder what follows them, so that `gpj.exe` can show as `exe.jpg`)
/// are dropped: the report is read on terminals (`gaps --format md`) and in viewers.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// HTML escaping, and no bidirectional controls: in a browser a name holding U+202E reads
/// as another (`Audit \u{202E}fdp.exe` shows as `Audit exe.pdf`), so they are dropped from
/// the text, as from Markdown. Links keep the real name (percent-encoded).
pub fn escape_html(s: &str) -> String {
    if s.chars().any(is_bidi_control) {
        let clean: String = s.chars().filter(|&c| !is_bidi_control(c)).collect();
        handlebars::html_escape(&clean)
    } else {
        handlebars::html_escape(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_text_drops_bidi_controls() {
        assert_eq!(
            escape_html("Audit \u{202E}fdp.exe <b>"),
            "Audit fdp.exe &lt;b&gt;"
        );
        assert_eq!(escape_html("plain & é"), "plain &amp; é");
    }

    #[test]
    fn encodes_hrefs() {
        assert_eq!(percent_encode("a b/(c)#.pdf"), "a%20b/%28c%29%23.pdf");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn anchors_are_fragment_safe_and_unique() {
        let mut a = Anchors::default();
        assert_eq!(a.make("req", "P1.2"), "req-P1-2");
        assert_eq!(a.make("req", "P1-2"), "req-P1-2-2");
        assert_eq!(a.make("req", "P1_2"), "req-P1_2");
    }

    #[test]
    fn words_for_counts_and_periods() {
        let c = StatusCounts {
            met: 3,
            partial: 1,
            stale: 0,
            missing: 2,
        };
        assert_eq!(not_met_words(&c), "1 partial, 2 missing");
        assert_eq!(not_met_words(&StatusCounts::default()), "");
        let oct = NaiveDate::from_ymd_opt(2020, 10, 1).unwrap();
        assert_eq!(
            period_heading(Cadence::Monthly, oct, YearStart::April),
            "Oct 2020"
        );
        assert_eq!(
            period_heading(Cadence::Quarterly, oct, YearStart::January),
            "Q4 2020"
        );
        assert_eq!(
            period_heading(Cadence::Quarterly, oct, YearStart::April),
            "Q3 2020-21"
        );
        assert_eq!(long_date(oct), "1 October 2020");
    }

    /// Every key of `value` (an object) must be in `view` (an object), but those in `except`.
    /// A null field may be left out of the view: a template reads an absent key as null.
    fn assert_keeps(value: &Value, view: &Value, except: &[&str], what: &str) {
        let fields = value.as_object().expect("an object");
        let view = view.as_object().expect("the view is an object");
        let keys = fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k);
        for k in keys.filter(|k| !except.contains(&k.as_str())) {
            assert!(view.contains_key(k), "the view of {what} lacks `{k}`");
        }
    }

    #[test]
    fn view_keeps_every_field() {
        let manifest =
            crate::manifest::Manifest::load(Path::new("manifests/devon-focused-visit-2021.toml"))
                .unwrap();
        let scan = crate::scan::scan(Path::new("evidence")).unwrap();
        let matched = crate::assess::match_files(&manifest, &scan).unwrap();
        let checks =
            crate::content::check_files(&scan, matched.any(), &Default::default()).unwrap();
        let mut a = crate::assess::assess(&manifest, &scan, &matched, &checks, &Default::default())
            .unwrap();
        // A digest, as inside a pack: it must not reach the view (see requirement_view).
        a.areas[0].requirements[0].files[0].sha256 = Some(crate::util::Sha256Hex([0xab; 32]));
        let view = view(&a, LinkStyle::Pack);
        assert_keeps(
            &serde_json::to_value(&a).unwrap(),
            &view,
            &[],
            "the assessment",
        );
        let areas = view["areas"].as_array().unwrap();
        let mut checked_files = 0;
        let mut checked_periods = 0;
        for area in &a.areas {
            let area_v = areas.iter().find(|v| v["id"] == area.id.as_str()).unwrap();
            assert_keeps(&serde_json::to_value(area).unwrap(), area_v, &[], "an area");
            for (r, rv) in area
                .requirements
                .iter()
                .zip(area_v["requirements"].as_array().unwrap())
            {
                assert_keeps(&serde_json::to_value(r).unwrap(), rv, &[], "a requirement");
                for (f, fv) in r.files.iter().zip(rv["files"].as_array().unwrap()) {
                    assert_keeps(
                        &serde_json::to_value(f).unwrap(),
                        fv,
                        &["sha256", "covers"],
                        "a file",
                    );
                    assert!(fv.get("sha256").is_none(), "digests stay out of the view");
                    checked_files += 1;
                }
                for (p, pv) in r.periods.iter().zip(rv["periods"].as_array().unwrap()) {
                    assert_keeps(&serde_json::to_value(p).unwrap(), pv, &[], "a period");
                    checked_periods += 1;
                }
            }
        }
        assert!(
            checked_files > 10 && checked_periods > 5,
            "the sample has files and periods"
        );
    }

    /// Wrapping inline partials in the depth guard changes nothing they render.
    #[test]
    fn guarded_inline_partials_render_as_handlebars_renders_them() {
        let text = "{{#*inline \"row\"}}  <li>{{name}} {{@index}} {{../title}}</li>\n{{/inline}}\
                    <ul>\n{{#each list}}\n  {{> row name=this}}\n{{/each}}\n</ul>\n\
                    {{#*inline \"outer\"}}[{{> row name=\"x\"}}]{{/inline}}{{> outer}}\
                    {{#> missing}}fallback {{title}}{{/missing}}";
        let data = json!({"list": ["a", "b"], "title": "T"});
        let mut plain = Handlebars::new();
        plain.register_template_string("t", text).unwrap();
        let mut guarded = Handlebars::new();
        guarded.register_template("t", guard::compile("t", text).unwrap());
        guarded.register_helper(guard::HELPER, Box::new(guard::PartialLevel));
        let expected = plain.render("t", &data).unwrap();
        assert!(
            expected.contains("<li>a 0 </li>") && expected.contains("fallback T"),
            "{expected}"
        );
        assert_eq!(guarded.render("t", &data).unwrap(), expected);
    }

    #[test]
    fn escapes_markdown() {
        assert_eq!(escape_markdown("a|b <img>"), "a\\|b &lt;img&gt;");
        assert_eq!(escape_markdown("line\nbreak"), "line break");
        assert_eq!(
            escape_markdown("a\u{202E}fdp.exe\u{1b}[2J"),
            "afdp.exe\\[2J"
        );
    }
}
