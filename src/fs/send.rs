//! Answering a request with one regular file that is known to be allowed: choosing the
//! representation (a precompressed sibling), its headers and validators, the preconditions,
//! the ranges, and the file body the connection sends without holding the worker.
//!
//! The `ETag` is strong: `"<inode>-<size>-<mtime in ns>"` in hex, so it changes when the file
//! is rewritten (mtime), resized, or replaced by another file (inode, as deployments that
//! rename a new file into place do). Two servers sharing the files through different file
//! systems therefore give different tags for the same bytes: a revalidation then costs one
//! full answer, never a wrong 304.

use super::conditional::{self, Conditions, Outcome, Validators};
use super::range::{self, Ranges};
use crate::http::date;
use crate::http::file_body::{FileBody, Part};
use crate::{Error, Request, Response};
use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What a file is served with, set on [`Dir`](super::Dir) and [`File`](super::File).
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub cache_control: Option<String>,
    pub precompressed: bool,
    /// Send through a buffer instead of `sendfile` (the path TLS will take; tests use both).
    pub buffered: bool,
}

/// Precompressed siblings looked for, in order of preference: `(coding, file suffix)`.
const SIBLINGS: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// An open file and what `fstat` said about it.
pub(crate) struct Opened {
    pub file: File,
    pub meta: std::fs::Metadata,
}

/// Answers `req` (GET or HEAD: the caller checked) with `main`, typed by the name `named`
/// (the one asked for: a symlink's target may have another extension). `sibling(suffix)`
/// opens a precompressed sibling (`"br"`, `"gz"`) where it may be served from.
pub(crate) fn send(
    req: &Request,
    resp: &mut Response,
    main: Opened,
    named: &Path,
    sibling: &dyn Fn(&str) -> Option<Opened>,
    o: &Options,
) -> Result<(), Error> {
    let mut encoding = None;
    let mut chosen = None;
    if o.precompressed {
        resp.add_header("Vary", "Accept-Encoding");
        for (coding, suffix) in SIBLINGS {
            if accepts(req, coding) {
                if let Some(s) = sibling(suffix).filter(|s| s.meta.is_file()) {
                    encoding = Some(coding);
                    chosen = Some(s);
                    break;
                }
            }
        }
    }
    let Opened { file, meta } = chosen.unwrap_or(main);
    if !meta.is_file() {
        return Err(Error::not_found("Not Found"));
    }
    let len = meta.len();
    let etag = format!(
        "\"{:x}-{:x}-{:x}\"",
        meta.ino(),
        len,
        (meta.mtime() as u64).wrapping_mul(1_000_000_000).wrapping_add(meta.mtime_nsec() as u64)
    );
    let v = Validators { etag: &etag, modified: meta.mtime().max(0) as u64 };
    resp.set_header("ETag", &etag);
    resp.set_header("Last-Modified", date::format(v.modified));
    if let Some(cc) = &o.cache_control {
        resp.set_header("Cache-Control", cc);
    }
    let conditions = Conditions {
        if_match: req.header_bytes("if-match"),
        if_unmodified_since: req.header_bytes("if-unmodified-since"),
        if_none_match: req.header_bytes("if-none-match"),
        if_modified_since: req.header_bytes("if-modified-since"),
    };
    match conditional::evaluate(&conditions, &v, true) {
        Outcome::Proceed => {}
        Outcome::NotModified => {
            resp.set_status(304);
            return Ok(());
        }
        Outcome::Failed => {
            resp.set_status(412);
            return Ok(());
        }
    }
    let ctype = content_type(named);
    resp.set_content_type(&ctype);
    resp.set_header("Accept-Ranges", "bytes");
    if let Some(coding) = encoding {
        resp.set_header("Content-Encoding", coding);
    }
    // Range is defined for GET only (RFC 9110 §14.2): HEAD gets the whole representation's head
    let ranges = match req.header_bytes("range") {
        Some(r) if !req.is_head() => match req.header_bytes("if-range") {
            Some(ir) if !conditional::if_range_holds(ir, &v) => Ranges::Whole,
            _ => range::parse(r, len),
        },
        _ => Ranges::Whole,
    };
    let parts = match ranges {
        Ranges::Whole => vec![Part::Range { offset: 0, len }],
        Ranges::Unsatisfiable => {
            resp.set_status(416);
            resp.set_header("Content-Range", format!("bytes */{len}"));
            resp.remove_header("content-type");
            return Ok(());
        }
        Ranges::Parts(p) if p.len() == 1 => {
            let (a, b) = p[0];
            resp.set_status(206);
            resp.set_header("Content-Range", format!("bytes {a}-{b}/{len}"));
            vec![Part::Range { offset: a, len: b - a + 1 }]
        }
        Ranges::Parts(p) => {
            let boundary = boundary(&etag);
            resp.set_status(206);
            resp.set_content_type(&format!("multipart/byteranges; boundary={boundary}"));
            let mut parts = Vec::with_capacity(p.len() * 2 + 1);
            for (i, &(a, b)) in p.iter().enumerate() {
                parts.push(Part::Bytes { data: range::part_head(&boundary, &ctype, (a, b), len, i == 0), sent: 0 });
                parts.push(Part::Range { offset: a, len: b - a + 1 });
            }
            parts.push(Part::Bytes { data: range::closing(&boundary), sent: 0 });
            parts
        }
    };
    resp.set_file(FileBody::new(file, parts, o.buffered));
    Ok(())
}

/// Answers 405 with `Allow: GET, HEAD` for other methods; `true` for GET and HEAD.
pub(crate) fn allowed_method(req: &Request, resp: &mut Response) -> bool {
    if matches!(req.method(), "GET" | "HEAD") {
        return true;
    }
    resp.set_status(405);
    resp.set_header("Allow", "GET, HEAD");
    resp.set_content_type("text/plain; charset=utf-8");
    resp.write_body("Method Not Allowed: a file is read with GET or HEAD\n");
    false
}

/// Answers `req` with the file at `path` as given (siblings beside it), for [`File`] and
/// `serve_file`.
///
/// [`File`]: super::File
pub(crate) fn send_path(req: &Request, resp: &mut Response, path: &Path, o: &Options) -> Result<(), Error> {
    if !allowed_method(req, resp) {
        return Ok(());
    }
    let main = open(path).map_err(|e| open_error(e, path))?;
    send(req, resp, main, path, &|suffix| open(&with_suffix(path, suffix)).ok(), o)
}

/// `path` with `.suffix` appended to its name.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".");
    p.push(suffix);
    PathBuf::from(p)
}

/// Opens for reading, without blocking on a FIFO swapped in since it was looked at.
pub(crate) fn open(path: &Path) -> std::io::Result<Opened> {
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    Ok(Opened { file, meta })
}

/// The error a file that cannot be opened is answered with.
pub(crate) fn open_error(e: std::io::Error, path: &Path) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => Error::not_found("Not Found"),
        std::io::ErrorKind::PermissionDenied => Error::forbidden("Forbidden"),
        _ => Error::internal(format!("opening {}: {e}", path.display())),
    }
}

/// `Content-Type` from the extension; text types say they are UTF-8.
pub(crate) fn content_type(path: &Path) -> String {
    let m = mime_guess::from_path(path).first_or_octet_stream();
    let text = m.type_() == mime_guess::mime::TEXT
        || m.essence_str() == "application/javascript"
        || m.essence_str() == "image/svg+xml";
    if text && m.get_param(mime_guess::mime::CHARSET).is_none() {
        format!("{}; charset=utf-8", m.essence_str())
    } else {
        m.essence_str().to_string()
    }
}

/// Whether `Accept-Encoding` accepts `coding` (q > 0, by name or through `*`).
pub(crate) fn accepts(req: &Request, coding: &str) -> bool {
    accepts_in(req.header_all("accept-encoding"), coding)
}

fn accepts_in<'a>(values: impl Iterator<Item = &'a [u8]>, coding: &str) -> bool {
    let mut star = false;
    for v in values {
        for item in v.split(|&b| b == b',') {
            let mut params = item.split(|&b| b == b';');
            let name = params.next().unwrap_or_default().trim_ascii();
            let q = params
                .filter_map(|p| {
                    let p = p.trim_ascii();
                    let v = p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q="))?;
                    std::str::from_utf8(v).ok()?.trim().parse::<f32>().ok()
                })
                .next()
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding.as_bytes()) {
                return q > 0.0;
            }
            if name == b"*" {
                star = q > 0.0;
            }
        }
    }
    star
}

/// A boundary for one multipart answer: from the tag and a process-wide counter, so it never
/// repeats and is unlikely in any file's bytes.
fn boundary(etag: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ SEQ.fetch_add(1, Relaxed); // FNV-1a
    for b in etag.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("shockwave-{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_with_q_values_and_star() {
        for (header, coding, want) in [
            ("gzip, br", "br", true),
            ("gzip;q=1.0, br;q=0", "br", false),
            ("gzip", "br", false),
            ("*", "br", true),
            ("*;q=0", "gzip", false),
            ("br;q=0, *", "br", false),
            ("GZIP ; q=0.5", "gzip", true),
            ("identity", "gzip", false),
        ] {
            assert_eq!(accepts_in(std::iter::once(header.as_bytes()), coding), want, "{header} / {coding}");
        }
    }

    #[test]
    fn content_types_say_utf_8_for_text() {
        for (name, want) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("a.png", "image/png"),
            ("a.json", "application/json"),
            ("a.svg", "image/svg+xml; charset=utf-8"),
            ("noext", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), want, "{name}");
        }
        assert!(content_type(Path::new("a.js")).ends_with("javascript; charset=utf-8"));
    }
}
