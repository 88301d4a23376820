//! Where the pack goes: `--out` as a lead types it, made into the pack's path.
//!
//! A lead the night before a visit types `--out packs/`, `--out "Visit pack"` or
//! `--out D:\Packs`; each must do what was meant, or say what to do instead, before an
//! hour of scanning and packing.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The pack's path, and what was changed about the name given (for the command to say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackPath {
    pub path: PathBuf,
    /// `.zip` was added to a name given without it.
    pub zip_added: bool,
}

/// Resolves `--out`: nothing gives `default_name` in the current folder; an existing
/// folder, or a path ending in a separator, gives `default_name` inside it; a name
/// without `.zip` gets it added. A folder that does not exist is an error with the fix.
pub fn resolve(given: Option<&Path>, default_name: &str) -> Result<PackPath> {
    let Some(given) = given else {
        return Ok(PackPath {
            path: PathBuf::from(default_name),
            zip_added: false,
        });
    };
    let is_zip = given
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    // A folder named `pack.zip` was meant as the pack's name: refused later as a folder in
    // the way, rather than filled.
    if ends_with_separator(given) || (given.is_dir() && !is_zip) {
        if !given.is_dir() {
            return Err(Error::input(
                given,
                "the folder for the pack does not exist",
                format!(
                    "create it first (mkdir \"{}\"), or pass --out with a file name in an existing folder",
                    given.display()
                ),
            ));
        }
        return Ok(PackPath {
            path: given.join(default_name),
            zip_added: false,
        });
    }
    if is_zip {
        return Ok(PackPath {
            path: given.to_path_buf(),
            zip_added: false,
        });
    }
    let mut name = given.as_os_str().to_owned();
    name.push(".zip");
    Ok(PackPath {
        path: PathBuf::from(name),
        zip_added: true,
    })
}

/// The folder `pack` goes in must exist: checked before the scan too, so a mistyped
/// folder is found in a second rather than after the whole build.
pub fn folder_exists(pack: &Path) -> Result<&Path> {
    let dir = crate::util::folder_of(pack);
    if dir.is_dir() {
        return Ok(dir);
    }
    Err(Error::input(
        dir,
        "the folder for the pack does not exist",
        format!(
            "create it first (mkdir \"{}\"), or pass --out with a path in an existing folder",
            dir.display()
        ),
    ))
}

/// `packs/` (or `packs\` on Windows): a folder was meant, whether or not it exists.
fn ends_with_separator(p: &Path) -> bool {
    let s = p.as_os_str().as_encoded_bytes();
    s.last()
        .is_some_and(|&b| std::path::is_separator(char::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_out_gives_the_default_name_here() {
        let p = resolve(None, "visit-2021-01-15.zip").expect("resolves");
        assert_eq!(p.path, PathBuf::from("visit-2021-01-15.zip"));
        assert!(!p.zip_added);
    }

    #[test]
    fn an_existing_folder_with_or_without_a_slash_gets_the_default_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        for given in [dir.path().to_path_buf(), dir.path().join("")] {
            let with_slash = format!("{}/", dir.path().display());
            for g in [given.clone(), PathBuf::from(&with_slash)] {
                let p = resolve(Some(&g), "v.zip").expect("resolves");
                assert_eq!(p.path, dir.path().join("v.zip"), "{}", g.display());
                assert!(!p.zip_added);
            }
        }
    }

    #[test]
    fn a_missing_folder_given_with_a_slash_is_an_error_with_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = format!("{}/packs/", dir.path().display());
        let err = resolve(Some(Path::new(&missing)), "v.zip")
            .expect_err("a missing folder")
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(err.contains("mkdir"), "{err}");
    }

    #[test]
    fn a_name_without_zip_gets_it_and_says_so() {
        let p = resolve(Some(Path::new("out/Visit pack")), "v.zip").expect("resolves");
        assert_eq!(p.path, PathBuf::from("out/Visit pack.zip"));
        assert!(p.zip_added);
        let p = resolve(Some(Path::new("pack.tar")), "v.zip").expect("resolves");
        assert_eq!(p.path, PathBuf::from("pack.tar.zip"));
        let p = resolve(Some(Path::new("Pack.ZIP")), "v.zip").expect("resolves");
        assert_eq!(p.path, PathBuf::from("Pack.ZIP"));
        assert!(!p.zip_added);
    }
}
