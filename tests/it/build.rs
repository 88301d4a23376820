//! `evpack build` (issue 3): what the pack holds, through the real binary.
//!
//! The fixture imitates a council drive: matched evidence in several formats and sizes (empty,
//! whole read chunks and stream blocks, over the in-memory deflate limit), unmatched files
//! that must never leave the drive, the litter the scan ignores, and a file name that is
//! markup. Every test reads the zip back with the `zip` crate and compares against the
//! files on disk.
//!
//! Sibling modules: `build_tools` (bagit.py, sha256sum, unzip, Python's zipfile),
//! `build_repro` (byte-identical rebuilds), `build_atomic` (failures, Ctrl-C, evidence that
//! changes under the build), `build_zip64` (a file over 4 GiB, ignored by default).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use zip::CompressionMethod;

use crate::support::pack::*;
use crate::support::TestEnv;

fn pack_path(env: &TestEnv, name: &str) -> PathBuf {
    env.root().join(name)
}

/// Builds the sample fixture into `sample.zip`; returns the env and the entries.
fn sample_pack() -> (TestEnv, Vec<Entry>) {
    let env = sample_env();
    build_ok(&env, "sample.zip", &[]);
    let entries = read_pack(&pack_path(&env, "sample.zip"));
    (env, entries)
}

// ---------------------------------------------------------------------------------------
// Contents
// ---------------------------------------------------------------------------------------

#[test]
fn pack_holds_exactly_the_matched_evidence_byte_for_byte_and_the_tag_files() {
    let (env, entries) = sample_pack();
    let names: BTreeSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut expected: BTreeSet<String> = TAG_FILES.iter().map(|t| format!("sample/{t}")).collect();
    expected.extend(MATCHED.iter().map(|(rel, _)| format!("sample/data/{rel}")));
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(names, expected);
    assert_eq!(entries.len(), names.len(), "an entry appears twice");

    for (rel, _) in MATCHED {
        let on_disk = std::fs::read(env.evidence().join(rel)).expect("read evidence");
        let packed = &entry(&entries, &format!("sample/data/{rel}")).bytes;
        assert!(
            packed == &on_disk,
            "{rel}: packed bytes differ from the file"
        );
    }
    for rel in NOT_PACKED {
        let marker = std::fs::read_to_string(env.evidence().join(rel)).expect("read");
        assert!(
            entries
                .iter()
                .all(|e| !e.name.ends_with(rel) && e.bytes != marker.as_bytes()),
            "{rel} left the drive"
        );
    }
    assert_eq!(
        text(&entries, "sample/bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
}

#[test]
fn a_successful_build_prints_the_summary_and_digest_and_nothing_on_stderr() {
    let env = sample_env();
    let out = build_ok(&env, "sample.zip", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Readiness 100%"), "{stdout}");
    assert!(
        stdout.contains("Pack written: sample.zip (11 evidence files"),
        "{stdout}"
    );
    // Piped: no progress bar.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let quiet = build_ok(&env, "quiet.zip", &["--quiet"]);
    let (hex, name) = printed_digest(&quiet.stdout);
    assert_eq!(
        String::from_utf8_lossy(&quiet.stdout),
        format!("SHA-256: {hex}  {name}\n"),
        "--quiet prints the digest line only"
    );
    assert!(quiet.stderr.is_empty());
}

#[test]
fn bag_info_names_the_authority_visit_payload_and_evpack_labels() {
    let (env, entries) = sample_pack();
    let info = text(&entries, "sample/bag-info.txt");
    let labels: Vec<(&str, &str)> = info
        .lines()
        .map(|l| l.split_once(": ").expect("`Label: value` lines"))
        .collect();
    let get = |k: &str| -> &str {
        let values: Vec<&str> = labels
            .iter()
            .filter(|(l, _)| *l == k)
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(
            values.len(),
            1,
            "{k} appears {} times in:\n{info}",
            values.len()
        );
        values[0]
    };
    assert_eq!(get("Source-Organization"), "Example Council");
    let description = get("External-Description");
    assert!(
        description.contains("Focused visit") && description.contains("2021-01-18"),
        "{description}"
    );
    assert_eq!(get("Bagging-Date"), DATE);
    let bytes: u64 = MATCHED
        .iter()
        .map(|(rel, _)| {
            std::fs::metadata(env.evidence().join(rel))
                .expect("stat")
                .len()
        })
        .sum();
    assert_eq!(get("Payload-Oxum"), format!("{bytes}.{}", MATCHED.len()));
    assert_eq!(
        get("Bag-Software-Agent"),
        format!("evpack {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(get("Evpack-Visit-Date"), "2021-01-18");
    assert_eq!(get("Evpack-Reference-Date"), "2021-01-18");
    assert_eq!(
        get("Evpack-Manifest-SHA256"),
        sha256_hex(MANIFEST.as_bytes())
    );
    assert_eq!(get("Evpack-Readiness-Percent"), "100");
}

#[test]
fn manifests_list_every_payload_file_and_every_tag_file_once_with_its_digest() {
    let (_env, entries) = sample_pack();
    let parse = |name: &str| -> Vec<(String, String)> {
        text(&entries, name)
            .lines()
            .map(|l| {
                let (d, p) = l.split_once("  ").expect("`<digest>  <path>` lines");
                (d.to_string(), p.to_string())
            })
            .collect()
    };

    let manifest = parse("sample/manifest-sha256.txt");
    let listed: BTreeSet<&str> = manifest.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        listed.len(),
        manifest.len(),
        "a payload file is listed twice"
    );
    let payload: BTreeSet<String> = MATCHED.iter().map(|(r, _)| format!("data/{r}")).collect();
    assert_eq!(listed, payload.iter().map(String::as_str).collect());
    for (digest, path) in &manifest {
        let e = entry(&entries, &format!("sample/{path}"));
        assert_eq!(digest, &sha256_hex(&e.bytes), "{path}");
    }

    let tags = parse("sample/tagmanifest-sha256.txt");
    let listed: Vec<&str> = tags.iter().map(|(_, p)| p.as_str()).collect();
    let expected: Vec<&str> = TAG_FILES
        .iter()
        .copied()
        .filter(|t| *t != "tagmanifest-sha256.txt")
        .collect();
    assert_eq!(listed, expected);
    for (digest, path) in &tags {
        let e = entry(&entries, &format!("sample/{path}"));
        assert_eq!(digest, &sha256_hex(&e.bytes), "{path}");
    }
}

#[test]
fn pack_json_is_the_gaps_json_plus_payload_sizes_digests_and_serves() {
    let (env, entries) = sample_pack();
    let mut pack: Value =
        serde_json::from_str(text(&entries, "sample/pack.json")).expect("pack.json is JSON");
    assert_eq!(pack["pack_schema"], "evpack.pack.v1");

    let payload = pack["payload"].as_array().expect("payload list").clone();
    assert_eq!(payload.len(), MATCHED.len());
    for (item, (rel, serves)) in payload.iter().zip(MATCHED) {
        let bytes = std::fs::read(env.evidence().join(rel)).expect("read evidence");
        assert_eq!(item["path"], format!("data/{rel}"));
        assert_eq!(item["size"], bytes.len() as u64, "{rel}");
        assert_eq!(item["sha256"], sha256_hex(&bytes), "{rel}");
        let mut got: Vec<&str> = item["serves"]
            .as_array()
            .expect("serves list")
            .iter()
            .map(|s| s.as_str().expect("a requirement id"))
            .collect();
        got.sort_unstable();
        let mut want = serves.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{rel}");
    }

    // Without what the pack adds, pack.json is exactly `gaps --format json` of the same input.
    let gaps = gaps_json_of(&env);
    let obj = pack.as_object_mut().expect("an object");
    for added in ["pack_schema", "bag", "payload", "left_out"] {
        obj.remove(added);
    }
    // The pack counts the files that match nothing but does not name them (a name can
    // identify a child); gaps, on the drive, names them.
    let withheld = obj.remove("names_withheld").expect("names_withheld");
    let unmatched = gaps["unmatched"].as_array().expect("unmatched").len();
    assert!(unmatched > 0, "the sample has unmatched files");
    assert_eq!(
        withheld,
        serde_json::json!({"unmatched": unmatched, "skipped": 0})
    );
    assert_eq!(obj["unmatched"], serde_json::json!([]));
    assert_eq!(obj["summary"]["files_unmatched"], unmatched);
    let mut gaps = gaps;
    gaps["unmatched"] = serde_json::json!([]);
    for area in obj["areas"].as_array_mut().expect("areas") {
        for req in area["requirements"].as_array_mut().expect("requirements") {
            for f in req["files"].as_array_mut().expect("files") {
                let path = f["path"].as_str().expect("a path").to_string();
                let sha = f
                    .as_object_mut()
                    .expect("a file object")
                    .remove("sha256")
                    .unwrap_or_else(|| panic!("no sha256 for {path}"));
                let bytes = std::fs::read(env.evidence().join(&path)).expect("read");
                assert_eq!(sha, sha256_hex(&bytes), "{path}");
            }
        }
    }
    assert_eq!(pack, gaps);
}

#[test]
fn index_and_readme_link_every_evidence_file_inside_the_pack_and_escape_hostile_names() {
    let (_env, entries) = sample_pack();
    let payload: BTreeSet<String> = MATCHED.iter().map(|(r, _)| format!("data/{r}")).collect();

    let html = text(&entries, "sample/index.html");
    let md = text(&entries, "sample/README.md");
    // index.html links each file; README.md, read as plain text as often as rendered,
    // names each by its path in the pack, in a code span.
    let named: Vec<String> = readme_payload_paths(md)
        .iter()
        .map(|p| p.replace('%', "%25").replace(' ', "%20"))
        .collect();
    for (doc, links) in [
        ("index.html", {
            let mut v = attr_values(html, "href");
            v.extend(attr_values(html, "src"));
            v
        }),
        ("README.md", named),
    ] {
        let mut linked = BTreeSet::new();
        for link in links {
            if link.starts_with('#') {
                continue;
            }
            assert!(
                link.starts_with("data/") && !link.contains("..") && !link.contains(':'),
                "{doc}: {link:?} is not a relative link into data/"
            );
            let target = percent_decode(&link);
            assert!(
                payload.contains(&target),
                "{doc}: {link:?} -> {target:?} is not in the pack"
            );
            linked.insert(target);
        }
        assert_eq!(linked, payload, "{doc} must link every evidence file");
    }

    // The hostile name is shown as text, never as markup: escaped in index.html, and in
    // README.md only inside code spans (which viewers show as they are), with no HTML
    // escapes to spoil it as plain text.
    assert!(!html.contains("<img"), "index.html made markup of the name");
    assert!(html.contains("&amp;lt;img src"), "index.html");
    let hostile_href =
        "data/hostile/%26lt%3Bimg%20src%3Dx%20onerror%3Dalert%281%29%26gt%3B%202020-12-05.md";
    assert!(
        html.contains(&format!("href=\"{hostile_href}\"")),
        "index.html"
    );
    let flat = unwrapped(md);
    assert!(
        flat.contains("`data/hostile/&lt;img src=x onerror=alert(1)&gt; 2020-12-05.md`"),
        "README.md: {flat}"
    );
    let outside_code: String = flat.split('`').step_by(2).collect();
    assert!(
        !outside_code.contains("&lt;") && !outside_code.contains("&amp;"),
        "README.md has HTML escapes: {outside_code}"
    );
}

#[test]
fn gaps_csv_is_the_gap_register_of_the_same_assessment() {
    let env = sample_env();
    // A gap: the scorecard folder loses its September file.
    std::fs::remove_file(env.evidence().join(MATCHED[9].0)).expect("remove");
    build_ok(&env, "gaps.zip", &[]);
    let entries = read_pack(&env.root().join("gaps.zip"));
    let csv = env
        .cmd()
        .args([
            "gaps",
            "-m",
            "manifest.toml",
            "-e",
            "evidence",
            "--format",
            "csv",
        ])
        .output()
        .expect("evpack gaps --format csv");
    assert_eq!(csv.status.code(), Some(1));
    assert_eq!(text(&entries, "gaps/gaps.csv").as_bytes(), &csv.stdout[..]);
    assert!(text(&entries, "gaps/gaps.csv").contains("P1.2"));
}

#[test]
fn manifest_toml_is_the_exact_manifest_even_when_saved_on_windows() {
    let env = sample_env();
    let windows = format!("\u{feff}{}", MANIFEST.replace('\n', "\r\n"));
    env.manifest(&windows);
    build_ok(&env, "win.zip", &[]);
    let entries = read_pack(&env.root().join("win.zip"));
    assert!(entry(&entries, "win/manifest.toml").bytes == windows.as_bytes());
    assert!(text(&entries, "win/bag-info.txt").contains(&format!(
        "Evpack-Manifest-SHA256: {}\n",
        sha256_hex(windows.as_bytes())
    )));
}

#[test]
fn already_compressed_formats_are_stored_and_text_is_deflated() {
    let (_env, entries) = sample_pack();
    for (rel, _) in MATCHED {
        let e = entry(&entries, &format!("sample/data/{rel}"));
        if e.bytes.is_empty() {
            continue;
        }
        let ext = rel.rsplit('.').next().expect("an extension");
        let want = match ext {
            "pdf" | "docx" | "xlsx" | "jpg" | "zip" => CompressionMethod::Stored,
            "csv" | "txt" | "md" => CompressionMethod::Deflated,
            other => panic!("no expectation for .{other}"),
        };
        assert_eq!(e.method, want, "{rel}");
    }
}

#[test]
fn large_stored_files_start_on_a_page_boundary_of_the_zip() {
    // The build hands these files' read buffers to the disk without copying them, which
    // direct I/O allows only at page-aligned offsets; if the pack writer stopped padding
    // the local headers, this is where it would show.
    let (_env, entries) = sample_pack();
    let large_stored: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.method == CompressionMethod::Stored && e.bytes.len() >= 256 << 10)
        .collect();
    assert!(
        large_stored.len() >= 2,
        "the fixture has large stored files"
    );
    for e in large_stored {
        let start = e
            .data_start
            .expect("the zip reader knows where the data starts");
        assert_eq!(start % 4096, 0, "{} starts at byte {start}", e.name);
    }
}

// ---------------------------------------------------------------------------------------
// Names, templates, --strict
// ---------------------------------------------------------------------------------------

#[test]
fn default_out_is_the_visit_slug_and_date_in_the_current_folder() {
    let env = sample_env();
    let out = build_cmd(&env, &[]).output().expect("run evpack build");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pack = env.root().join("focused-visit-2021-01-15.zip");
    assert!(
        pack.is_file(),
        "no default pack; root holds {:?}",
        names_in(env.root())
    );
    assert!(env
        .root()
        .join("focused-visit-2021-01-15.zip.sha256")
        .is_file());
    let entries = read_pack(&pack);
    assert!(entries
        .iter()
        .all(|e| e.name.starts_with("focused-visit-2021-01-15/")));
    let (_, name) = printed_digest(&out.stdout);
    assert_eq!(name, "focused-visit-2021-01-15.zip");
}

#[test]
fn the_top_folder_is_the_pack_file_stem() {
    let env = sample_env();
    std::fs::create_dir(env.root().join("packs")).expect("mkdir");
    build_ok(&env, "packs/council-pack_v2.1.zip", &[]);
    let entries = read_pack(&env.root().join("packs/council-pack_v2.1.zip"));
    for e in &entries {
        assert!(e.name.starts_with("council-pack_v2.1/"), "{}", e.name);
    }
    entry(&entries, "council-pack_v2.1/bagit.txt");
}

#[test]
fn templates_from_templates_dir_replace_the_embedded_ones() {
    let env = sample_env();
    let dir = env.root().join("tpl");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(
        dir.join("report.html.hbs"),
        "<p>CUSTOM HTML for {{visit.name}}</p>{{#each areas}}<h2>{{id}}</h2>{{/each}}\n",
    )
    .expect("write template");
    std::fs::write(dir.join("readme.md.hbs"), "CUSTOM MD {{visit.authority}}\n")
        .expect("write template");
    build_ok(&env, "tpl.zip", &["--templates", "tpl"]);
    let entries = read_pack(&env.root().join("tpl.zip"));
    assert_eq!(
        text(&entries, "tpl/index.html"),
        "<p>CUSTOM HTML for Focused visit</p><h2>P1</h2><h2>C1</h2>\n"
    );
    assert_eq!(
        text(&entries, "tpl/README.md"),
        "CUSTOM MD Example Council\n"
    );

    // Only the Markdown one given: the HTML stays the embedded default.
    std::fs::remove_file(dir.join("report.html.hbs")).expect("remove");
    build_ok(&env, "half.zip", &["--templates", "tpl"]);
    let entries = read_pack(&env.root().join("half.zip"));
    assert_eq!(
        text(&entries, "half/README.md"),
        "CUSTOM MD Example Council\n"
    );
    assert!(text(&entries, "half/index.html").contains("<html"));
}

#[test]
fn a_broken_template_exits_2_naming_it_and_writes_nothing() {
    let env = sample_env();
    let dir = env.root().join("tpl");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("report.md.hbs"), "{{#each areas}}unclosed\n").expect("write");
    let before = names_in(env.root());
    let out = build_cmd(&env, &["--out", "broken.zip", "--templates", "tpl"])
        .output()
        .expect("run evpack build");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("report.md.hbs"), "{stderr}");
    assert_eq!(names_in(env.root()), before, "a failed build left files");
}

#[test]
fn a_template_that_fails_while_rendering_leaves_no_pack_and_no_temporary_file() {
    let env = sample_env();
    let dir = env.root().join("tpl");
    std::fs::create_dir(&dir).expect("mkdir");
    // Parses, but fails when rendered: the dashboard is rendered after the evidence is
    // written, so the temporary pack exists by then and must go.
    std::fs::write(
        dir.join("report.html.hbs"),
        "<p>{{no_such_helper visit.name}}</p>\n",
    )
    .expect("write");
    std::fs::write(env.root().join("late.zip"), b"old").expect("write");
    let before = names_in(env.root());
    let out = build_cmd(&env, &["--out", "late.zip", "--templates", "tpl"])
        .output()
        .expect("run evpack build");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("report.html.hbs") && stderr.contains("no_such_helper"),
        "{stderr}"
    );
    assert_eq!(names_in(env.root()), before, "a failed build left files");
    assert_eq!(
        std::fs::read(env.root().join("late.zip")).expect("read"),
        b"old"
    );
}

#[test]
fn an_unmatched_file_with_a_non_utf8_name_does_not_stop_the_build() {
    use std::os::unix::ffi::OsStrExt;
    let env = sample_env();
    let name = std::ffi::OsStr::from_bytes(b"misc/Old \xff notes.txt");
    std::fs::write(env.evidence().join(name), b"never packed").expect("write");
    build_ok(&env, "pack.zip", &[]);
    let entries = read_pack(&env.root().join("pack.zip"));
    assert_eq!(entries.len(), TAG_FILES.len() + MATCHED.len());
    assert!(entries.iter().all(|e| e.bytes != b"never packed"));
}

#[test]
fn strict_with_gaps_exits_1_and_writes_neither_pack_nor_digest_file() {
    let env = sample_env();
    std::fs::remove_file(env.evidence().join(MATCHED[9].0)).expect("remove");
    let before = names_in(env.root());
    let out = build_cmd(&env, &["--out", "strict.zip", "--strict"])
        .output()
        .expect("run evpack build");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--strict") && stderr.contains("no pack"),
        "{stderr}"
    );
    assert_eq!(names_in(env.root()), before);

    // Without gaps, --strict builds.
    let env = sample_env();
    build_ok(&env, "strict.zip", &["--strict"]);
    assert!(env.root().join("strict.zip.sha256").is_file());
}

#[test]
fn without_strict_a_pack_with_gaps_is_written_and_states_them() {
    let env = sample_env();
    std::fs::remove_file(env.evidence().join(MATCHED[9].0)).expect("remove");
    let out = build_ok(&env, "gaps.zip", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("gaps recorded: 1 required, 0 advisory"));
    let entries = read_pack(&env.root().join("gaps.zip"));

    let csv = text(&entries, "gaps/gaps.csv");
    let row = csv
        .lines()
        .find(|l| l.contains(",P1.2,"))
        .unwrap_or_else(|| panic!("P1.2 not in gaps.csv:\n{csv}"));
    assert!(
        row.contains("partial") && row.contains("Q2 2020-21"),
        "{row}"
    );

    let readme = text(&entries, "gaps/README.md");
    assert!(
        readme.contains("P1.2") && readme.contains("Q2 2020-21"),
        "{readme}"
    );

    let pack: Value = serde_json::from_str(text(&entries, "gaps/pack.json")).expect("JSON");
    assert_eq!(pack["summary"]["required_met"], 2);
    assert_eq!(pack["summary"]["required_total"], 3);
    let p12 = pack["areas"][0]["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .find(|r| r["id"] == "P1.2")
        .expect("P1.2");
    assert_eq!(p12["status"], "partial");
    assert!(text(&entries, "gaps/bag-info.txt").contains("Evpack-Required-Met: 2 of 3\n"));
}

#[test]
fn inventory_lists_every_payload_file_with_its_date_size_digest_and_requirements() {
    let (_env, entries) = sample_pack();
    let inventory = text(&entries, "sample/inventory.csv");
    let mut rows = csv::Reader::from_reader(inventory.as_bytes());
    let header: Vec<String> = rows
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        ["path", "date", "source", "size", "sha256", "requirements"]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), MATCHED.len(), "one row per payload file");
    for (row, (rel, serves)) in rows.iter().zip(MATCHED) {
        let packed = entry(&entries, &format!("sample/data/{rel}"));
        assert_eq!(&row[0], format!("data/{rel}"), "in pack order");
        assert_eq!(row[3].parse::<usize>().expect("a size"), packed.bytes.len());
        assert_eq!(&row[4], sha256_hex(&packed.bytes), "{rel}");
        assert_eq!(&row[5], serves.join("; "), "{rel}");
    }
    let first = &rows[0];
    assert_eq!((&first[1], &first[2]), ("2020-10-15", "name"));
}
