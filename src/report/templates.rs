//! Handlebars templates for the human-readable documents: the Markdown report (also the
//! pack's README.md) and the HTML dashboard (also the pack's index.html).
//!
//! The defaults are embedded in the binary so a lone executable works; `--templates DIR`
//! replaces any of them with a file of the same name. HTML escaping is always on in the
//! HTML registry and a Markdown escape in the Markdown one: file names and manifest text
//! can hold anything, including markup.

use std::path::Path;

use handlebars::Handlebars;
use serde_json::{json, Value};

use crate::assess::Assessment;
use crate::error::{Error, Result};

pub const MARKDOWN: &str = "report.md.hbs";
pub const HTML: &str = "report.html.hbs";

const DEFAULT_MARKDOWN: &str = include_str!("../../templates/report.md.hbs");
const DEFAULT_HTML: &str = include_str!("../../templates/report.html.hbs");

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
    markdown: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl Templates {
    /// The embedded templates, each replaced by `DIR/<name>` when that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Templates> {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(Error::input(
                    d,
                    "the templates folder does not exist",
                    format!("pass --templates DIR holding {MARKDOWN} and/or {HTML}"),
                ));
            }
        }
        let source = |name: &str, default: &'static str| -> Result<String> {
            match dir.map(|d| d.join(name)) {
                Some(p) if p.is_file() => std::fs::read_to_string(&p)
                    .map_err(|e| Error::io(p, "cannot read the template", e)),
                _ => Ok(default.to_string()),
            }
        };
        let mut markdown = Handlebars::new();
        markdown.set_strict_mode(false);
        markdown.register_escape_fn(escape_markdown);
        register(
            &mut markdown,
            MARKDOWN,
            &source(MARKDOWN, DEFAULT_MARKDOWN)?,
            dir,
        )?;
        let mut html = Handlebars::new();
        html.register_escape_fn(handlebars::html_escape);
        register(&mut html, HTML, &source(HTML, DEFAULT_HTML)?, dir)?;
        Ok(Templates { markdown, html })
    }

    pub fn markdown(&self, a: &Assessment, links: LinkStyle<'_>) -> Result<String> {
        self.render(&self.markdown, MARKDOWN, &view(a, links))
    }

    pub fn html(&self, a: &Assessment, links: LinkStyle<'_>) -> Result<String> {
        self.render(&self.html, HTML, &view(a, links))
    }

    fn render(&self, hb: &Handlebars<'static>, name: &str, data: &Value) -> Result<String> {
        hb.render(name, data).map_err(|e| Error::Other {
            context: format!("template {name}"),
            message: e.to_string(),
        })
    }
}

fn register(
    hb: &mut Handlebars<'static>,
    name: &str,
    text: &str,
    dir: Option<&Path>,
) -> Result<()> {
    hb.register_template_string(name, text).map_err(|e| {
        let place = dir.map_or_else(
            || "(embedded)".into(),
            |d| d.join(name).display().to_string(),
        );
        Error::Other {
            context: format!("template {place}"),
            message: format!("{e}; fix the template or remove it to use the default"),
        }
    })
}

/// The data templates see: the assessment (same fields as the JSON report) plus, for every
/// file, an `href` that is already percent-encoded and safe in both HTML and Markdown.
pub fn view(a: &Assessment, links: LinkStyle<'_>) -> Value {
    let href = |path: &str| -> String {
        let prefix = match links {
            LinkStyle::Drive(p) => p,
            LinkStyle::Pack => "data/",
        };
        let mut out = percent_encode(prefix);
        out.push_str(&percent_encode(path));
        out
    };
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Some(areas) = v.get_mut("areas").and_then(Value::as_array_mut) {
        for area in areas {
            let reqs = area.get_mut("requirements").and_then(Value::as_array_mut);
            for req in reqs.into_iter().flatten() {
                if let Some(files) = req.get_mut("files").and_then(Value::as_array_mut) {
                    for f in files {
                        let h = f.get("path").and_then(Value::as_str).map(&href);
                        if let (Some(obj), Some(h)) = (f.as_object_mut(), h) {
                            obj.insert("href".into(), Value::String(h));
                        }
                    }
                }
                if let Some(periods) = req.get_mut("periods").and_then(Value::as_array_mut) {
                    for p in periods {
                        let files: Vec<Value> = p
                            .get("files")
                            .and_then(Value::as_array)
                            .map(|fs| {
                                fs.iter()
                                    .filter_map(Value::as_str)
                                    .map(|f| json!({"path": f, "href": href(f)}))
                                    .collect()
                            })
                            .unwrap_or_default();
                        if let Some(obj) = p.as_object_mut() {
                            obj.insert("file_links".into(), Value::Array(files));
                        }
                    }
                }
            }
        }
    }
    let unmatched: Vec<Value> = a
        .unmatched
        .iter()
        .map(|p| match links {
            // Unmatched files are not in a pack: no link to follow there.
            LinkStyle::Pack => json!({ "path": p }),
            LinkStyle::Drive(_) => json!({ "path": p, "href": href(p) }),
        })
        .collect();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("unmatched_files".into(), Value::Array(unmatched));
        obj.insert(
            "in_pack".into(),
            Value::Bool(matches!(links, LinkStyle::Pack)),
        );
    }
    v
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
/// spaces so a title cannot break a table row.
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
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_hrefs() {
        assert_eq!(percent_encode("a b/(c)#.pdf"), "a%20b/%28c%29%23.pdf");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn escapes_markdown() {
        assert_eq!(escape_markdown("a|b <img>"), "a\\|b &lt;img&gt;");
        assert_eq!(escape_markdown("line\nbreak"), "line break");
    }
}
