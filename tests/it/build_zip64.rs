//! Zip64: an evidence file over 4 GiB makes a pack over 4 GiB that standard tools still read.
//! Expensive (the build reads and writes 4.1 GiB, Python reads it back), so ignored by
//! default; run it with `cargo test --test it build_zip64 -- --ignored`.

use std::io::Read;
use std::process::Command;

use crate::support::pack::{build_ok, MANIFEST};
use crate::support::{have_tool, TestEnv};

const HUGE: &str = "improvement plan/Case file export 2020-12-01.pdf";

#[test]
#[ignore = "reads and writes 4.1 GiB: minutes in a debug build; run with --ignored"]
fn a_matched_file_over_4_gib_is_packed_with_zip64() {
    if !have_tool("python3", &["--version"])
        || !have_tool("unzip", &["-v"])
        || !have_tool("sha256sum", &["--version"])
    {
        return;
    }
    let size: u64 = (4 << 30) + (100 << 20);
    let env = TestEnv::new();
    let path = env.evidence().join(HUGE);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    // Sparse: holes read as zeros, so the pack's entry is known without storing 4 GiB twice.
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(size))
        .expect("create the sparse file");
    std::fs::write(
        env.evidence()
            .join("improvement plan/Plan summary 2020-11-30.md"),
        "summary\n",
    )
    .expect("write");
    env.manifest(MANIFEST);

    // The file is bytes, not a document (zeros under a PDF name; noise under a text name),
    // so the checks call it unusable: packed anyway, since Zip64 is what is under test.
    build_ok(&env, "big.zip", &["--quiet", "--include-unusable"]);
    let zip = env.root().join("big.zip");
    assert!(
        std::fs::metadata(&zip).expect("stat").len() > size,
        "a stored 4.1 GiB file makes a pack over 4 GiB"
    );

    // Python's zipfile: the entry's sizes come from the Zip64 extra fields, and reading it
    // through checks the CRC-32 of all 4.1 GiB.
    let script = r#"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
i = z.getinfo("big/data/" + sys.argv[2])
assert i.compress_type == zipfile.ZIP_STORED, i.compress_type
print(i.file_size)
with z.open(i) as f:
    n = 0
    while True:
        b = f.read(1 << 24)
        if not b:
            break
        assert not b.strip(b"\0"), "non-zero bytes in a sparse file"
        n += len(b)
print(n)
print(z.testzip())
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&zip)
        .arg(HUGE)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [size.to_string(), size.to_string(), "None".to_string()]
    );

    let out = Command::new("unzip")
        .arg("-l")
        .arg(&zip)
        .output()
        .expect("run unzip -l");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listing}");
    let line = listing
        .lines()
        .find(|l| l.ends_with(&format!("big/data/{HUGE}")))
        .unwrap_or_else(|| panic!("unzip -l does not list the file:\n{listing}"));
    assert_eq!(
        line.split_whitespace().next(),
        Some(size.to_string().as_str()),
        "{line}"
    );

    // The tag files after the 4.1 GiB entry sit past the 4 GiB offset and still read back
    // (by name: reading every entry would hold 4.1 GiB in memory).
    let info = entry_text(&zip, "big/bag-info.txt");
    assert!(
        info.contains(&format!("Payload-Oxum: {}.2\n", size + 8)),
        "{info}"
    );
    let manifest = entry_text(&zip, "big/manifest-sha256.txt");
    let out = Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("run sha256sum");
    let digest = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string();
    assert!(
        manifest.contains(&format!("{digest}  data/{HUGE}\n")),
        "{manifest}"
    );
}

/// One entry's text, read by name.
fn entry_text(zip: &std::path::Path, name: &str) -> String {
    let file = std::fs::File::open(zip).expect("open the pack");
    let mut z = zip::ZipArchive::new(file).expect("the pack is a zip");
    let mut s = String::new();
    z.by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_string(&mut s)
        .expect("read an entry");
    s
}

/// A text file just under 4 GiB that does not compress: deflated, it grows past 4 GiB, so
/// its entry needs Zip64 although the file itself does not (the build failed with "Large
/// file option has not been set" when Zip64 was chosen from the file's size).
#[test]
#[ignore = "reads, deflates and writes 4 GiB: minutes; run with --ignored"]
fn a_text_file_under_4_gib_that_deflates_past_4_gib_is_packed_with_zip64() {
    use std::io::Write;
    const BIG_TEXT: &str = "improvement plan/Case notes export 2020-12-01.csv";
    let size: u64 = (4 << 30) - (64 << 20);
    let env = TestEnv::new();
    let path = env.evidence().join(BIG_TEXT);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    // One MiB of noise, repeated: deflate only looks 32 KiB back, so it cannot compress.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let block: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for _ in 0..size >> 20 {
        f.write_all(&block).expect("write");
    }
    f.into_inner().expect("flush").sync_all().expect("sync");
    env.manifest(MANIFEST);

    // The file is bytes, not a document (zeros under a PDF name; noise under a text name),
    // so the checks call it unusable: packed anyway, since Zip64 is what is under test.
    build_ok(&env, "big.zip", &["--quiet", "--include-unusable"]);
    let zip = env.root().join("big.zip");
    let out = env
        .cmd()
        .args(["verify", "big.zip", "--quiet"])
        .output()
        .expect("run evpack verify");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let file = std::fs::File::open(&zip).expect("open the pack");
    let z = zip::ZipArchive::new(file).expect("the pack is a zip");
    let entry = z
        .index_for_name(&format!("big/data/{BIG_TEXT}"))
        .expect("the entry");
    let mut z = z;
    let e = z.by_index_raw(entry).expect("the entry");
    assert_eq!(e.size(), size);
    assert!(
        e.compressed_size() > u64::from(u32::MAX),
        "{}",
        e.compressed_size()
    );
}
