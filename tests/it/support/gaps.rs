//! Manifest builders and readers of `gaps --format json`, for tests of the assessment.

use serde_json::Value;

use super::TestEnv;

pub const VISIT: &str = r#"[visit]
name = "Focused visit"
authority = "Example Council"
date = 2021-01-18
"#;

/// One `[[area.requirement]]` table; `extra` is more TOML lines (`min_files = 2`, ...).
pub fn req(id: &str, paths: &[&str], extra: &str) -> String {
    let paths: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    format!(
        "\n[[area.requirement]]\nid = \"{id}\"\ntitle = \"Requirement {id}\"\nevidence = \"audit\"\npaths = [{}]\nowner = \"Owner of {id}\"\n{extra}\n",
        paths.join(", ")
    )
}

/// One `[[area]]` table followed by its requirements.
pub fn area(id: &str, reqs: &[String]) -> String {
    format!(
        "\n[[area]]\nid = \"{id}\"\nkind = \"ofsted-priority\"\ntitle = \"Area {id}\"\n{}",
        reqs.concat()
    )
}

/// A whole manifest: the visit and the areas.
pub fn manifest(areas: &[String]) -> String {
    format!("{VISIT}{}", areas.concat())
}

/// A manifest with one area `A` and one requirement `R` over `paths`.
pub fn single(paths: &[&str], extra: &str) -> String {
    manifest(&[area("A", &[req("R", paths, extra)])])
}

/// Runs `evpack gaps --format json` with `manifest` and `extra` arguments; returns the
/// parsed report and the exit code.
pub fn gaps_json(env: &TestEnv, manifest: &str, extra: &[&str]) -> (Value, i32) {
    env.manifest(manifest);
    let out = env
        .cmd()
        .args([
            "gaps",
            "--manifest",
            "manifest.toml",
            "--evidence",
            "evidence",
        ])
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("evpack gaps --format json");
    let code = out.status.code().expect("evpack gaps --format json");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}), exit {code}, stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, code)
}

/// The requirement `id` in a JSON report.
pub fn requirement<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["areas"]
        .as_array()
        .expect("an assessment JSON")
        .iter()
        .flat_map(|a| a["requirements"].as_array().expect("an assessment JSON"))
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no requirement {id}"))
}

pub fn area_of<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["areas"]
        .as_array()
        .expect("an assessment JSON")
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no area {id}"))
}

pub fn status(v: &Value, id: &str) -> String {
    requirement(v, id)["status"]
        .as_str()
        .expect("a requirement status")
        .to_string()
}

pub fn reasons(v: &Value, id: &str) -> Vec<String> {
    requirement(v, id)["reasons"]
        .as_array()
        .expect("requirement reasons")
        .iter()
        .map(|r| r.as_str().expect("requirement reasons").to_string())
        .collect()
}

/// The paths of a JSON array of strings (`unmatched`) or of objects with `path`.
pub fn paths(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list of paths")
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| x["path"].as_str().expect("a list of paths"))
        })
        .map(str::to_string)
        .collect()
}
