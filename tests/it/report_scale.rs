//! Long file lists on the dashboard and in the pack's pages: a requirement that matches
//! hundreds of files shows its newest, says how many more there are and where they are all
//! listed (the pack's `inventory.csv`, or `evpack list` beside a standalone report), so the
//! page stays small enough for a browser at 200,000 files.

use crate::support::gaps::single;
use crate::support::pack::{build_ok, entry, read_pack, text};
use crate::support::TestEnv;

/// Files matched by the one requirement; more than the pages list.
const FILES: usize = 150;
/// Files matching nothing; more than the pages list.
const STRAYS: usize = 230;

fn many_files_env() -> TestEnv {
    let env = TestEnv::new();
    for i in 0..FILES {
        let (m, d) = (1 + i % 12, 1 + i % 28);
        env.raw(
            &format!("returns/Return 2020-{m:02}-{d:02} n{i:03}.csv"),
            format!("ref,value\n{i},1\n").as_bytes(),
        );
    }
    for i in 0..STRAYS {
        env.raw(
            &format!("stray/Note {i:03}.txt"),
            format!("note {i}\n").as_bytes(),
        );
    }
    env.manifest(&single(&["returns/*.csv"], "cadence = \"monthly\""));
    env
}

/// How many times `needle` occurs in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn a_long_file_list_shows_the_newest_and_points_to_the_full_list() {
    let env = many_files_env();
    let out = env.root().join("report.html");
    env.cmd()
        .args(["report", "-m", "manifest.toml", "-e", "evidence", "--out"])
        .arg(&out)
        .output()
        .expect("evpack report");
    let page = std::fs::read_to_string(&out).expect("report written");
    // The newest file is listed, the oldest is not.
    assert!(page.contains("Return 2020-12-28 n083.csv"), "newest listed");
    assert!(
        !page.contains("Return 2020-01-01 n000.csv"),
        "oldest not listed"
    );
    let shown = count(&page, "<li><a href=\"returns/")
        + count(&page, "<li class=\"file-unusable\"><a href=\"returns/");
    assert!(
        shown < 60,
        "{shown} links to returns: the lists are summarised"
    );
    assert!(page.contains(&format!("data-files-more=\"{}\"", FILES - 10)));
    assert!(page.contains(&format!("({FILES} in all)")));
    assert!(page.contains("<code>evpack list</code> lists them all"));
    // Files that match nothing: the first 200, and a count of the rest.
    assert!(page.contains(&format!("data-files-more=\"{}\"", STRAYS - 200)));
    assert!(page.contains("stray/Note 000.txt"));
    assert!(!page.contains("stray/Note 229.txt"));
    // The grid's cells name a few files each and count the rest.
    assert!(
        page.contains("class=\"cell-more\">and "),
        "cells summarised"
    );
}

#[test]
fn the_pack_pages_summarise_and_link_the_inventory_which_lists_every_file() {
    let env = many_files_env();
    build_ok(&env, "pack.zip", &[]);
    let entries = read_pack(&env.root().join("pack.zip"));
    let index = text(&entries, "pack/index.html");
    assert!(
        index.contains("<a href=\"inventory.csv\">inventory.csv</a> lists every file in this pack")
    );
    assert!(index.contains(&format!("data-files-more=\"{}\"", FILES - 10)));
    let readme = text(&entries, "pack/README.md");
    assert!(crate::support::pack::unwrapped(readme).contains(&format!(
        "and {} older ({FILES} in all; `inventory.csv` lists every file)",
        FILES - 10
    )));
    let inventory = text(&entries, "pack/inventory.csv");
    assert_eq!(
        inventory.lines().count(),
        FILES + 1,
        "a header and a row per file"
    );
    assert!(inventory.contains("data/returns/Return 2020-01-01 n000.csv,2020-01-01,name,"));
    let oldest = entry(&entries, "pack/data/returns/Return 2020-01-01 n000.csv");
    assert_eq!(
        oldest.bytes, b"ref,value\n0,1\n",
        "the oldest file is in the pack"
    );
}
