//! From a request path to a file under the root, refusing every way out of it.
//!
//! [`relative`] works on the request's bytes alone, before the file system is touched: the
//! path is percent-decoded once, and refused if it holds a `..` segment (sent plainly or as
//! `%2e%2e`), an encoded separator (`%2f`, `%5c`), a backslash, a NUL, a leading `/` (an
//! absolute path after the mount prefix, `//etc/passwd`) or a drive prefix (`C:`), or a `%`
//! that is not an escape. What it returns is a list of plain segments that can only name
//! something below the root. [`inside`] then follows symlinks (`canonicalize`) and refuses a
//! result that is not below the canonical root: a symlink inside the root that leads out of
//! it is answered as if nothing were there.
//!
//! Never: join a request path onto the root as a string (`Path::join` of an absolute path
//! replaces the root), or decode twice (`%252e` must stay the name `%2e`).

use std::path::{Path, PathBuf};

/// Why a request path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A `%` not followed by two hex digits: a malformed target (400).
    BadEscape,
    /// An attempt to leave the root, or a name no file under it can have (404: nothing is
    /// said about what exists outside).
    Outside,
}

/// The segments of `raw` (a request path below the mount point, still percent-encoded, without
/// its leading `/`) as a relative path, and whether it ended with `/` (a directory was asked
/// for).
pub(crate) fn relative(raw: &str) -> Result<(PathBuf, bool), Refused> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = raw.as_bytes();
    if bytes.first() == Some(&b'/') {
        return Err(Refused::Outside);
    }
    let decoded = decode(bytes)?;
    let mut path = PathBuf::new();
    for (i, seg) in decoded.split(|&b| b == b'/').enumerate() {
        match seg {
            b"" | b"." => continue,
            b".." => return Err(Refused::Outside),
            _ if seg.contains(&0) || seg.contains(&b'\\') => return Err(Refused::Outside),
            [d, b':', ..] if i == 0 && d.is_ascii_alphabetic() => return Err(Refused::Outside),
            _ => path.push(std::ffi::OsStr::from_bytes(seg)),
        }
    }
    Ok((path, raw.ends_with('/') || raw.is_empty()))
}

/// Decodes `%XX` escapes once; an encoded `/`, `\` or NUL is refused (it would change how the
/// path splits, or end it early in a system call).
fn decode(raw: &[u8]) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\' || b == 0 {
            return Err(Refused::Outside);
        }
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = |k: usize| raw.get(k).and_then(|c| (*c as char).to_digit(16));
        let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) else { return Err(Refused::BadEscape) };
        let c = (h * 16 + l) as u8;
        if c == b'/' || c == b'\\' || c == 0 {
            return Err(Refused::Outside);
        }
        out.push(c);
        i += 3;
    }
    Ok(out)
}

/// `path` with every symlink resolved, if it exists and lies below `root` (itself canonical).
pub(crate) fn inside(root: &Path, path: &Path) -> std::io::Result<Option<PathBuf>> {
    let real = std::fs::canonicalize(path)?;
    Ok(real.starts_with(root).then_some(real))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_paths_are_refused_before_the_file_system() {
        type Want = Result<(&'static str, bool), Refused>;
        let table: &[(&str, Want)] = &[
            ("", Ok(("", true))),
            ("a/b.txt", Ok(("a/b.txt", false))),
            ("a//./b/", Ok(("a/b", true))),
            ("a%20b", Ok(("a b", false))),
            ("%252e%252e", Ok(("%2e%2e", false))), // decoded once: a name, not a parent
            ("..", Err(Refused::Outside)),
            ("a/../../etc/passwd", Err(Refused::Outside)),
            ("%2e%2e/etc/passwd", Err(Refused::Outside)),
            ("%2E%2E/etc/passwd", Err(Refused::Outside)),
            (".%2e/x", Err(Refused::Outside)),
            ("a%2f..%2f..%2fetc", Err(Refused::Outside)),
            ("a%2Fb", Err(Refused::Outside)),
            ("..%5c..%5cwindows", Err(Refused::Outside)),
            ("..\\..\\etc", Err(Refused::Outside)),
            ("a%00.txt", Err(Refused::Outside)),
            ("/etc/passwd", Err(Refused::Outside)),
            ("C:/Windows/win.ini", Err(Refused::Outside)),
            ("c:%5cboot.ini", Err(Refused::Outside)),
            ("a%zz", Err(Refused::BadEscape)),
            ("a%2", Err(Refused::BadEscape)),
        ];
        for (raw, want) in table {
            let got = relative(raw);
            let got = got.as_ref().map(|(p, dir)| (p.to_str().unwrap(), *dir)).map_err(|e| *e);
            assert_eq!(got, *want, "{raw:?}");
        }
    }
}
