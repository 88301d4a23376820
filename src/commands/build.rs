//! `evpack build`: print the summary, write the pack with a progress bar, print its digest.
//! Ctrl-C is turned into the pack writer's cancel flag here; the library never sees a signal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDate;

use super::{load_and_assess, note, use_color, write_stdout, Assessed};
use crate::assess::Assessment;
use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::pack::{self, Built, PackRequest, Progress};
use crate::report::{self, Templates};
use crate::util::{printable, slug};

/// Set by Ctrl-C while a pack is being written; the writer stops and cleans up.
static CANCELLED: AtomicBool = AtomicBool::new(false);

pub fn run(cfg: &BuildConfig) -> Result<Outcome> {
    // Before the scan: a mistyped folder is found in a second, not after the whole scan.
    if cfg.out.is_some() {
        let early = pack::out::resolve(cfg.out.as_deref(), "pack.zip")?;
        pack::out::folder_exists(&early.path)?;
    }
    super::history::check_folder(cfg.history.as_deref())?;
    // The signing key is opened (its password asked) before any scanning, so a wrong
    // password fails at once and leaves nothing half-done.
    let signing_key = cfg
        .sign
        .as_deref()
        .map(super::sign::unlock_key)
        .transpose()?;
    let Assessed {
        manifest,
        scan,
        assessment: mut a,
    } = load_and_assess(&cfg.input, cfg.quiet)?;
    let mut templates = Templates::load(cfg.templates.as_deref())?;
    if !cfg.quiet {
        write_stdout(report::text::render_summary(&a, use_color()).as_bytes())?;
    }
    if cfg.strict && !a.summary.ready() {
        note(&format!(
            "evpack: --strict: no pack written: {} of {} required requirements are not met",
            a.summary.required_total - a.summary.required_met,
            a.summary.required_total
        ));
        return Ok(Outcome::Refused);
    }

    let date = bagging_date(cfg.date)?;
    let out = pack_path(cfg, &a, date)?;
    if let Some(dir) = &cfg.history {
        super::history::show(&mut templates, dir, &a, date, "this pack")?;
    }
    // The handler goes in before the temporary file exists, so no Ctrl-C can leave one.
    CANCELLED.store(false, Ordering::SeqCst);
    // A second install fails harmlessly.
    let _ = ctrlc::set_handler(|| CANCELLED.store(true, Ordering::SeqCst));
    let bar = Bar::new(cfg.quiet);
    let req = PackRequest {
        manifest: &manifest,
        scan: &scan,
        templates: &templates,
        out: &out,
        date,
        include_unusable: cfg.include_unusable,
        list_unmatched: cfg.list_unmatched,
        signed: signing_key.is_some(),
    };
    let built = pack::build(&req, &mut a, &bar, &CANCELLED)?;

    write_stdout(written(cfg, &a, &out, &built).as_bytes())?;
    let facts = crate::sign::PackFacts::of_build(&out, &built.sha256, &a, date);
    super::sign::after_build(signing_key.as_ref(), &out, facts)?;
    Ok(Outcome::Met)
}

/// What `build` says once the pack is in place: what went in, what was left out, and the
/// digest (even with `--quiet`: it is what a lead records in the minutes).
fn written(cfg: &BuildConfig, a: &Assessment, out: &Path, built: &Built) -> String {
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut text = String::new();
    if !cfg.quiet {
        text.push_str(&format!(
            "\nPack written: {} ({} evidence files, {} bytes; {} of {} required met; gaps recorded: {} required, {} advisory)\n",
            printable(&out.display().to_string()),
            built.files,
            built.bytes,
            a.summary.required_met,
            a.summary.required_total,
            a.summary.required_total - a.summary.required_met,
            a.summary.advisory.total() - a.summary.advisory.met
        ));
        if built.left_out > 0 {
            text.push_str(&format!(
                "Left out: {} that will not open (listed in the pack's index.html and pack.json; --include-unusable packs them anyway)\n",
                super::plural(built.left_out, "matched file")
            ));
        } else if cfg.include_unusable && a.summary.files_unusable > 0 {
            text.push_str(&format!(
                "Packed anyway (--include-unusable): {} that will not open; they count towards nothing\n",
                super::plural(a.summary.files_unusable, "matched file")
            ));
        }
    }
    text.push_str(&format!(
        "SHA-256: {}  {}\n",
        built.sha256,
        printable(&file_name)
    ));
    if !cfg.quiet {
        text.push_str(&format!(
            "Written to {}; check it in that folder with: sha256sum -c {}\n",
            printable(&built.digest_path.display().to_string()),
            printable(&format!("{file_name}.sha256"))
        ));
    }
    text
}

/// Where the pack goes ([`pack::out::resolve`]), saying so when `.zip` was added to the
/// name given. Checked before the scan's result is packed, so a mistyped folder costs
/// seconds, not the whole build.
fn pack_path(cfg: &BuildConfig, a: &Assessment, date: NaiveDate) -> Result<PathBuf> {
    let default_name = format!("{}-{date}.zip", slug(&a.visit.name));
    let resolved = pack::out::resolve(cfg.out.as_deref(), &default_name)?;
    if resolved.zip_added {
        note(&format!(
            "evpack: note: writing {}: a pack is a zip, so .zip was added to the name given",
            printable(&resolved.path.display().to_string())
        ));
    }
    Ok(resolved.path)
}

/// `--date`, else `SOURCE_DATE_EPOCH` (reproducible-builds convention), else today.
fn bagging_date(given: Option<NaiveDate>) -> Result<NaiveDate> {
    if let Some(d) = given {
        return Ok(d);
    }
    if let Some(v) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let s = v.to_string_lossy();
        let secs: i64 = s.trim().parse().map_err(|_| {
            Error::Usage(format!(
                "SOURCE_DATE_EPOCH={s:?} is not a number of seconds; unset it or pass --date YYYY-MM-DD"
            ))
        })?;
        return chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.date_naive())
            .ok_or_else(|| Error::Usage(format!("SOURCE_DATE_EPOCH={s} is out of range")));
    }
    Ok(chrono::Local::now().date_naive())
}

/// The progress bar on stderr (bytes and files), or nothing when piped or quiet.
struct Bar {
    /// Whether a bar may be shown at all.
    enabled: bool,
    bar: std::cell::OnceCell<indicatif::ProgressBar>,
    files_done: std::cell::Cell<u64>,
}

impl Bar {
    fn new(quiet: bool) -> Bar {
        Bar {
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: std::cell::OnceCell::new(),
            files_done: std::cell::Cell::new(0),
        }
    }
}

impl Progress for Bar {
    fn start(&self, bytes: u64, files: usize) {
        if !self.enabled {
            return;
        }
        let bar = indicatif::ProgressBar::new(bytes);
        let style = indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} packing [{{bar:20}}] {{bytes}}/{{total_bytes}}, {{msg}}/{files} files"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        bar.set_message("0");
        let _ = self.bar.set(bar);
    }

    fn bytes(&self, n: u64) {
        if let Some(b) = self.bar.get() {
            b.inc(n);
        }
    }

    fn file_done(&self) {
        if let Some(b) = self.bar.get() {
            self.files_done.set(self.files_done.get() + 1);
            b.set_message(self.files_done.get().to_string());
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}
