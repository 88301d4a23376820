//! `evpack verify` at scale: every pack evpack builds, evpack verifies, however large its
//! `pack.json`; and what verify holds grows with the files a pack lists by a few dozen
//! bytes each, never with the size of any tag file.

use std::io::Write;

use crate::support::memory::run_measured;
use crate::support::pack::{build_ok, sha256_hex};
use crate::support::TestEnv;

const MIB: u64 = 1024 * 1024;

/// Once, tag files were read whole within 64 MiB and 2 KiB a payload file, so a pack whose
/// `pack.json` passed that (long paths, each listed several times in it) was built but
/// could not be verified. Paths near 3,800 bytes (fifteen folders of 250-byte names), in
/// three monthly requirements, make a 70 MB `pack.json` from 2,600 small files.
#[test]
fn a_pack_whose_pack_json_is_over_64_mib_verifies() {
    let env = TestEnv::new();
    let folders: Vec<String> = (0..15)
        .map(|i| {
            let head = format!("Evidence folder {i:02} ");
            head.clone() + &"x".repeat(250 - head.len())
        })
        .collect();
    let deep = folders.join("/");
    let dir = env.evidence().join(&deep);
    std::fs::create_dir_all(&dir).expect("nested folders");
    for k in 0..2_600 {
        let name = format!("Report n{k:05} 2020-12-01.csv");
        std::fs::write(dir.join(name), format!("a,b\n{k},2\n")).expect("write evidence");
    }
    let reqs: String = (1..=3)
        .map(|r| {
            format!(
                "\n[[area.requirement]]\nid = \"R{r}\"\ntitle = \"Returns {r}\"\nevidence = \"report\"\npaths = [\"**/*.csv\"]\ncadence = \"monthly\"\n"
            )
        })
        .collect();
    env.manifest(&format!(
        "{}\n[[area]]\nid = \"A\"\nkind = \"ofsted-priority\"\ntitle = \"Returns\"\n{reqs}",
        crate::support::gaps::VISIT
    ));
    build_ok(&env, "pack.zip", &["--quiet"]);

    let pack_json = crate::support::pack::read_pack(&env.root().join("pack.zip"))
        .into_iter()
        .find(|e| e.name == "pack/pack.json")
        .expect("pack.json in the pack");
    let size = pack_json.bytes.len() as u64;
    assert!(size > 64 * MIB, "pack.json is only {size} bytes");
    let paths = String::from_utf8_lossy(&pack_json.bytes)
        .matches(&deep)
        .count();
    drop(pack_json);
    assert!(paths >= 7 * 2_600, "each path appears {paths} / 2600 times");

    let (out, peak_kib) = run_measured(env.root(), &["verify", "pack.zip", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(out.status.code(), Some(0), "{}", v["findings"]);
    assert_eq!(v["counts"]["payload_files"], 2_600);
    // pack.json streams: verify holds none of its 70 MB.
    assert!(peak_kib < 48 * 1024, "verify peaked at {peak_kib} KiB");
}

/// Files in the many-file pack; per-file state of a kilobyte and more (once the rule) would
/// take it past the bound below, as would any tag file read whole.
const MANY: usize = 50_000;

/// Peak resident memory allowed to verify the many-file pack: the process itself (about
/// 10 MB), the zip's central directory while it is judged (about 230 bytes an entry), and
/// what the comparisons keep (a path and some 60 bytes a file).
const MANY_PEAK_KIB: u64 = 40 * 1024;

#[test]
fn verify_holds_a_few_dozen_bytes_a_file_on_a_pack_of_many_files() {
    let env = TestEnv::new();
    std::fs::write(env.root().join("many.zip"), many_file_pack(MANY)).expect("write the pack");
    let (out, peak_kib) = run_measured(env.root(), &["verify", "many.zip", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(out.status.code(), Some(0), "{}", v["findings"]);
    assert_eq!(v["counts"]["payload_files"], MANY);
    assert!(
        peak_kib < MANY_PEAK_KIB,
        "verify peaked at {peak_kib} KiB for {MANY} files (limit {MANY_PEAK_KIB})"
    );
}

/// An evpack-style pack of `n` small deflated files, written here rather than built (which
/// would take minutes in a debug build): every tag file evpack writes, a manifest, a tag
/// manifest, and a `pack.json` that lists every file twice (its payload list and a
/// requirement).
fn many_file_pack(n: usize) -> Vec<u8> {
    let mut payload: Vec<(String, Vec<u8>)> = (0..n)
        .map(|k| {
            let rel = format!("returns/batch {:03}/Return n{k:06} 2020-12-01.csv", k / 500);
            (rel, format!("n,value\n{k},{}\n", k * 7).into_bytes())
        })
        .collect();
    payload.sort();
    let mut manifest = String::new();
    let (mut listed, mut files) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for (rel, data) in &payload {
        let sha = sha256_hex(data);
        manifest.push_str(&format!("{sha}  data/{rel}\n"));
        listed.push(
            serde_json::json!({"path": format!("data/{rel}"), "size": data.len(), "sha256": sha}),
        );
        files.push(serde_json::json!({"path": rel, "size": data.len(), "sha256": sha}));
        bytes += data.len();
    }
    let pack_json = serde_json::json!({
        "areas": [{"id": "A", "requirements": [{"id": "R1", "files": files}]}],
        "pack_schema": "evpack.pack.v1",
        "payload": listed,
    });
    let mut tags: Vec<(String, Vec<u8>)> = vec![
        ("README.md".into(), b"# Pack\n".to_vec()),
        (
            "bag-info.txt".into(),
            format!("Payload-Oxum: {bytes}.{n}\n").into_bytes(),
        ),
        (
            "bagit.txt".into(),
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
        ),
        ("gaps.csv".into(), b"requirement\n".to_vec()),
        ("index.html".into(), b"<!doctype html>\n".to_vec()),
        ("manifest-sha256.txt".into(), manifest.into_bytes()),
        ("manifest.toml".into(), b"[visit]\n".to_vec()),
        (
            "pack.json".into(),
            serde_json::to_vec(&pack_json).expect("JSON"),
        ),
    ];
    let tag_manifest: String = tags
        .iter()
        .map(|(name, data)| format!("{}  {name}\n", sha256_hex(data)))
        .collect();
    tags.push(("tagmanifest-sha256.txt".into(), tag_manifest.into_bytes()));

    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let data = payload.iter().map(|(rel, d)| (format!("data/{rel}"), d));
    for (name, d) in tags.iter().map(|(n, d)| (n.clone(), d)).chain(data) {
        w.start_file(format!("many/{name}"), deflated)
            .expect("start");
        w.write_all(d).expect("write");
    }
    w.finish().expect("finish").into_inner()
}
