//! Memory grows with the number of evidence files by a bounded amount per file: the per-file
//! state is compact and the documents summarise long lists (issue 14). Measured as the
//! difference in peak memory between two trees, so the fixed part (buffers, thread stacks,
//! templates) cancels out. Before this work `build` took about 2.8 KB a file and `report`
//! 4.4 KB; at 200,000 files that was 577 MB and 892 MB.

use crate::support::gaps::{area, manifest, req};
use crate::support::memory::run_measured;
use crate::support::TestEnv;

const SMALL: usize = 1_000;
const LARGE: usize = 11_000;

/// Per-file growth allowed, in bytes: well above what the compact state needs (about 450
/// bytes for `gaps`, 850 for `build` at 200,000 files), far below the old costs.
const GAPS_REPORT_PER_FILE: u64 = 1_024;
const BUILD_PER_FILE: u64 = 1_536;

fn tree(files: usize) -> TestEnv {
    let env = TestEnv::new();
    for i in 0..files {
        let (m, d) = (1 + i % 12, 1 + i % 28);
        env.raw(
            &format!(
                "topic {:02}/batch {:03}/Return 2020-{m:02}-{d:02} n{i}.csv",
                i % 20,
                i / 200
            ),
            format!("ref,value\n{i},1\n").as_bytes(),
        );
    }
    let areas: Vec<String> = (0..20)
        .map(|t| {
            let paths = [format!("topic {t:02}/**/*.csv")];
            area(
                &format!("A{t}"),
                &[req(&format!("R{t}"), &[&paths[0]], "cadence = \"monthly\"")],
            )
        })
        .collect();
    env.manifest(&manifest(&areas));
    env
}

/// Peak memory in KiB of each command on a tree of `files` files.
fn peaks(files: usize) -> [u64; 3] {
    let env = tree(files);
    let dir = env.root();
    let common = ["-m", "manifest.toml", "-e", "evidence"];
    let run = |args: &[&str]| {
        let (out, peak) = run_measured(dir, args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "evpack {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        peak
    };
    let gaps = run(&[&["gaps"], &common[..], &["--format", "json"]].concat());
    let report = run(&[&["report"], &common[..], &["--out", "report.html"]].concat());
    let build = run(&[
        &["build"],
        &common[..],
        &["--quiet", "--date", "2021-01-15", "--out", "pack.zip"],
    ]
    .concat());
    [gaps, report, build]
}

#[test]
fn memory_per_evidence_file_is_bounded() {
    let small = peaks(SMALL);
    let large = peaks(LARGE);
    let per_file = |i: usize| large[i].saturating_sub(small[i]) * 1024 / (LARGE - SMALL) as u64;
    let limits = [GAPS_REPORT_PER_FILE, GAPS_REPORT_PER_FILE, BUILD_PER_FILE];
    for (i, name) in ["gaps", "report", "build"].iter().enumerate() {
        assert!(
            per_file(i) <= limits[i],
            "{name}: {} bytes a file ({} KiB at {SMALL} files, {} KiB at {LARGE}); at most {}",
            per_file(i),
            small[i],
            large[i],
            limits[i]
        );
    }
}
