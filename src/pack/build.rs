//! `evpack build`: assessment -> pack.
//!
//! The pack is written to a temporary file beside the target and renamed into place only
//! when complete, so a failed or interrupted build leaves no pack and no temporary file, and
//! an existing pack survives until its replacement is whole.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Datelike, NaiveDate};

use crate::assess::Assessment;
use crate::cli::{load_and_assess, InputConfig, Outcome};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::pack::bagit;
use crate::pack::zipwrite::{prepare_tag, PackWriter, PayloadFile, Progress};
use crate::report::{self, LinkStyle, Templates};
use crate::scan::{FileRecord, Scan};
use crate::util::{hex, printable, slug};

/// What `evpack build` was asked to do.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub input: InputConfig,
    /// The pack file; default `<visit-name-slug>-<date>.zip` in the current folder.
    pub out: Option<PathBuf>,
    /// The bagging date recorded in the pack and used for every zip timestamp.
    pub date: Option<NaiveDate>,
    pub templates: Option<PathBuf>,
    pub strict: bool,
    pub quiet: bool,
}

/// Payload size from which the pack is written with direct I/O where possible.
const DIRECT_IO_FROM: u64 = 256 << 20;

/// Set by Ctrl-C while a pack is being written; the writer stops and cleans up.
static CANCELLED: AtomicBool = AtomicBool::new(false);

pub fn run(cfg: &BuildConfig) -> Result<Outcome> {
    let (manifest, scan, mut a) = load_and_assess(&cfg.input)?;
    let templates = Templates::load(cfg.templates.as_deref())?;
    if !cfg.quiet {
        crate::cli::write_stdout(
            report::text::render_summary(&a, crate::cli::use_color()).as_bytes(),
        )?;
    }
    if cfg.strict && !a.summary.ready() {
        eprintln!(
            "evpack: --strict: no pack written: {} of {} required requirements are not met",
            a.summary.required_total - a.summary.required_met,
            a.summary.required_total
        );
        return Ok(Outcome::Gaps);
    }

    let date = bagging_date(cfg.date)?;
    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-{date}.zip", slug(&a.visit.name))));
    let built = build_pack(&manifest, &scan, &mut a, &templates, &out, date, cfg.quiet)?;

    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest_path = PathBuf::from(format!("{}.sha256", out.display()));
    crate::util::write_atomically(
        &digest_path,
        format!("{}  {file_name}\n", built.sha256).as_bytes(),
    )?;
    if !cfg.quiet {
        println!();
        println!(
            "Pack written: {} ({} evidence files, {} bytes; {} of {} required met; gaps recorded: {} required, {} advisory)",
            printable(&out.display().to_string()),
            built.files,
            built.bytes,
            a.summary.required_met,
            a.summary.required_total,
            a.summary.required_total - a.summary.required_met,
            a.summary.advisory.total() - a.summary.advisory.met
        );
    }
    // The digest is printed even with --quiet: it is what a lead records in the minutes.
    println!("SHA-256: {}  {}", built.sha256, printable(&file_name));
    if !cfg.quiet {
        println!(
            "Written to {}; check it in that folder with: sha256sum -c {}",
            printable(&digest_path.display().to_string()),
            printable(&format!("{file_name}.sha256"))
        );
    }
    Ok(Outcome::Ok)
}

/// What a finished build produced.
#[derive(Debug, Clone)]
pub struct Built {
    pub sha256: String,
    pub files: usize,
    pub bytes: u64,
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
    bar: Option<indicatif::ProgressBar>,
    files_done: std::cell::Cell<u64>,
}

impl Progress for Bar {
    fn bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
    fn file_done(&self) {
        if let Some(b) = &self.bar {
            self.files_done.set(self.files_done.get() + 1);
            b.set_message(self.files_done.get().to_string());
        }
    }
}

fn progress_bar(total_bytes: u64, files: usize, quiet: bool) -> Bar {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total_bytes);
        let style = indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} packing [{{bar:20}}] {{bytes}}/{{total_bytes}}, {{msg}}/{files} files"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        bar.set_message("0");
        bar
    });
    Bar {
        bar,
        files_done: std::cell::Cell::new(0),
    }
}

/// Writes the pack at `out`; returns its digest.
pub fn build_pack(
    manifest: &Manifest,
    scan: &Scan,
    a: &mut Assessment,
    templates: &Templates,
    out: &Path,
    date: NaiveDate,
    quiet: bool,
) -> Result<Built> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(
            &dir,
            "the folder for the pack does not exist",
            "create it, or pass --out with a path in an existing folder",
        ));
    }
    if let (Ok(d), Ok(ev)) = (dir.canonicalize(), scan.root.canonicalize()) {
        if d.starts_with(&ev) {
            return Err(Error::input(
                out,
                "the pack would be written inside the evidence folder",
                "write it elsewhere with --out (a pack in the evidence folder would be scanned as evidence next time)",
            ));
        }
    }
    // An unreadable file that a requirement asks for would be left out of the pack without
    // a trace; the lead must fix its permissions (or move it) first.
    if let Some(sk) = a.skipped.iter().find(|sk| !sk.serves.is_empty()) {
        return Err(Error::evidence(
            scan.root.join(&sk.path),
            format!(
                "{}, but {} asks for it, so the pack would be incomplete",
                sk.reason,
                sk.serves.join(", ")
            ),
            "give read access to the file (or move it out of the evidence folder), then build again",
        ));
    }
    let bag = bag_name(out);
    let (files, serves): (Vec<PayloadFile>, Vec<Vec<String>>) =
        plan_payload(scan, a, &bag)?.into_iter().unzip();
    let total_bytes: u64 = files.iter().map(|p| p.size).sum();

    let mtime = zip::DateTime::from_date_and_time(
        u16::try_from(date.year()).unwrap_or(1980).clamp(1980, 2107),
        date.month() as u8,
        date.day() as u8,
        0,
        0,
        0,
    )
    .map_err(|e| Error::Usage(format!("--date {date} cannot be stored in a zip: {e}")))?;

    // The two documents render from one view, side by side, before anything is written:
    // a template error stops the build before a temporary file exists, and the view (the
    // largest thing a build holds) is gone before the payload's buffers fill.
    let date_text = date.to_string();
    let (readme, index) = {
        let ctx = Templates::context(a, LinkStyle::Pack, Some(&date_text));
        std::thread::scope(|s| -> Result<_> {
            let index = s.spawn(|| {
                prepare_tag(&format!("{bag}/index.html"), mtime, |out| {
                    templates.html_to(&ctx, out)
                })
            });
            let readme = prepare_tag(&format!("{bag}/README.md"), mtime, |out| {
                templates.markdown_to(&ctx, out)
            });
            let index = index.join().map_err(|_| Error::Other {
                context: "index.html".into(),
                message: "rendering failed".into(),
            })?;
            Ok((readme?, index?))
        })?
    };

    // The handler goes in before the temporary file exists, so no Ctrl-C can leave one.
    CANCELLED.store(false, Ordering::SeqCst);
    // A second install fails harmlessly (tests build twice in one process).
    let _ = ctrlc::set_handler(|| CANCELLED.store(true, Ordering::SeqCst));

    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{bag}."))
        .suffix(".part")
        // Like any new file: 0666 less the umask (tempfile's default is 0600).
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, "cannot create the pack's temporary file", e))?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(tmp.path(), "cannot write the pack", e))?;

    // Direct I/O pays off only for large packs; small ones stay in the page cache.
    let direct = (total_bytes >= DIRECT_IO_FROM)
        .then(|| crate::pack::zipwrite::open_direct(tmp.path()))
        .flatten();
    let mut w = PackWriter::new(file, direct, out.to_path_buf(), mtime, &CANCELLED)?;
    // (name, SHA-256) of every tag file, for the tag manifest.
    let mut tags: Vec<(&str, String)> = Vec::new();
    let io_err = |e: std::io::Error| Error::io(out, "cannot write the pack", e);
    // Entries in byte order of their names, so the zip lists like a sorted folder.
    tags.push(("README.md", w.add_prepared(readme)?));
    let info = bag_info(a, date, total_bytes, files.len());
    let sha = w.add_with(&format!("{bag}/bag-info.txt"), |out| {
        out.write_all(info.as_bytes()).map_err(io_err)
    })?;
    tags.push(("bag-info.txt", sha));
    let sha = w.add_with(&format!("{bag}/bagit.txt"), |out| {
        out.write_all(bagit::BAGIT_TXT.as_bytes()).map_err(io_err)
    })?;
    tags.push(("bagit.txt", sha));

    let bar = progress_bar(total_bytes, files.len(), quiet);
    let digests = w.add_files(&files, &bar)?;
    if let Some(b) = &bar.bar {
        b.finish_and_clear();
    }
    let entries: Vec<PayloadEntry> = files
        .iter()
        .zip(serves)
        .zip(digests)
        .map(|((p, serves), d)| PayloadEntry {
            path: format!("data/{}", p.shown),
            size: d.size,
            sha256: d.sha256,
            serves,
        })
        .collect();
    record_digests(a, &entries);

    let sha = w.add_with(&format!("{bag}/gaps.csv"), |out| {
        out.write_all(&report::csv::render(a)?).map_err(io_err)
    })?;
    tags.push(("gaps.csv", sha));
    tags.push(("index.html", w.add_prepared(index)?));
    let sha = w.add_with(&format!("{bag}/manifest-sha256.txt"), |out| {
        for e in &entries {
            out.write_all(bagit::manifest_line(&e.sha256, &e.path).as_bytes())
                .map_err(io_err)?;
        }
        Ok(())
    })?;
    tags.push(("manifest-sha256.txt", sha));
    let sha = w.add_with(&format!("{bag}/manifest.toml"), |out| {
        out.write_all(manifest.text.as_bytes()).map_err(io_err)
    })?;
    tags.push(("manifest.toml", sha));
    let doc = PackDoc {
        assessment: a,
        pack_schema: crate::pack::PACK_SCHEMA,
        bag: BagJson {
            name: &bag,
            bagging_date: &date_text,
        },
        payload: &entries,
    };
    let sha = w.add_with(&format!("{bag}/pack.json"), |out| {
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| Error::Other {
            context: "pack.json".into(),
            message: e.to_string(),
        })?;
        out.write_all(b"\n").map_err(io_err)
    })?;
    tags.push(("pack.json", sha));
    tags.sort();
    w.add_with(&format!("{bag}/tagmanifest-sha256.txt"), |out| {
        for (name, sha) in &tags {
            out.write_all(bagit::manifest_line(sha, name).as_bytes())
                .map_err(io_err)?;
        }
        Ok(())
    })?;
    let (file, sha) = w.finish()?;
    // No fsync: forcing gigabytes to the disk would multiply the build time, and the rename
    // below already guarantees nobody sees a half-written pack while the system runs. After
    // a power cut, `evpack verify` (or sha256sum -c) tells at once whether the pack is whole.
    drop(file);
    if CANCELLED.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    tmp.persist(out)
        .map_err(|e| Error::io(out, "cannot put the pack in place", e.error))?;
    Ok(Built {
        sha256: hex(&sha),
        files: files.len(),
        bytes: total_bytes,
    })
}

/// The top-level folder in the zip: the pack file's stem, if it is a plain name.
fn bag_name(out: &Path) -> String {
    let stem = out
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    if !stem.is_empty()
        && !stem.starts_with('.')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        stem
    } else {
        slug(&stem)
    }
}

/// The evidence to pack: every file at least one requirement matched, in name order, with
/// the requirements it serves.
fn plan_payload(scan: &Scan, a: &Assessment, bag: &str) -> Result<Vec<(PayloadFile, Vec<String>)>> {
    let records: HashMap<&str, &FileRecord> =
        scan.files.iter().map(|f| (f.rel.as_str(), f)).collect();
    let serves = a.serves();
    let mut lower: HashMap<String, &str> = HashMap::new();
    let mut out = Vec::with_capacity(serves.len());
    for (rel, ids) in serves {
        let rec = records.get(rel).ok_or_else(|| Error::Other {
            context: rel.to_string(),
            message: "assessed but not scanned (internal inconsistency)".into(),
        })?;
        if !rec.utf8_name {
            return Err(Error::evidence(
                &rec.path,
                "the file name is not valid UTF-8, so it cannot be named in a pack",
                "rename the file (retype the name; it was probably copied from an old system)",
            ));
        }
        if rel.contains('\\') {
            return Err(Error::evidence(
                &rec.path,
                "the file name contains a backslash, which zip tools read as a folder separator",
                "rename the file without `\\`",
            ));
        }
        if let Some(other) = lower.insert(rel.to_lowercase(), rel) {
            return Err(Error::evidence(
                &rec.path,
                format!("its name differs only in case from {other:?}; unzipped on Windows one would overwrite the other"),
                "rename one of the two files",
            ));
        }
        out.push((
            PayloadFile {
                name: format!("{bag}/data/{rel}"),
                disk: rec.path.clone(),
                shown: rel.to_string(),
                size: rec.size,
                modified: rec.modified,
                identity: rec.identity,
            },
            ids.into_iter().map(str::to_string).collect(),
        ));
    }
    Ok(out)
}

fn bag_info(a: &Assessment, date: NaiveDate, bytes: u64, files: usize) -> String {
    let mut s = String::new();
    let mut add = |k: &str, v: &str| s.push_str(&bagit::info_line(k, v));
    add("Source-Organization", &a.visit.authority);
    add(
        "External-Description",
        &format!(
            "Evidence pack for {}, {} ({})",
            a.visit.name, a.visit.date, a.visit.authority
        ),
    );
    add("Bagging-Date", &date.to_string());
    add("Payload-Oxum", &bagit::payload_oxum(bytes, files as u64));
    add("Bag-Software-Agent", &format!("evpack {}", crate::VERSION));
    add("Evpack-Visit-Date", &a.visit.date.to_string());
    add("Evpack-Reference-Date", &a.reference_date.to_string());
    add(
        "Evpack-Lookback-Window",
        &format!("{} to {}", a.window.start, a.window.end),
    );
    add("Evpack-Manifest-SHA256", &a.manifest.sha256);
    add(
        "Evpack-Readiness-Percent",
        &a.summary.readiness_percent.to_string(),
    );
    add(
        "Evpack-Required-Met",
        &format!("{} of {}", a.summary.required_met, a.summary.required_total),
    );
    s
}

/// `pack.json`: the assessment (same schema as `gaps --format json`, each file with its
/// SHA-256) plus the payload list with sizes, digests and the requirements each file serves.
#[derive(serde::Serialize)]
struct PackDoc<'a> {
    #[serde(flatten)]
    assessment: &'a Assessment,
    pack_schema: &'static str,
    bag: BagJson<'a>,
    payload: &'a [PayloadEntry],
}

#[derive(serde::Serialize)]
struct BagJson<'a> {
    name: &'a str,
    bagging_date: &'a str,
}

#[derive(serde::Serialize)]
struct PayloadEntry {
    /// `data/<path in the evidence folder>`.
    path: String,
    size: u64,
    sha256: String,
    serves: Vec<String>,
}

/// Writes each payload file's SHA-256 into the assessment's file lists.
fn record_digests(a: &mut Assessment, entries: &[PayloadEntry]) {
    let by_path: HashMap<&str, &str> = entries
        .iter()
        .map(|e| {
            (
                e.path.strip_prefix("data/").unwrap_or(&e.path),
                e.sha256.as_str(),
            )
        })
        .collect();
    for area in &mut a.areas {
        for r in &mut area.requirements {
            for f in &mut r.files {
                f.sha256 = by_path.get(f.path.as_str()).map(|s| s.to_string());
            }
        }
    }
}
