//! The HTML page that lists a directory without an index file ([`Dir::listing`]).
//!
//! Names come from the file system and may hold anything but `/` and NUL: each is
//! percent-encoded in its link and HTML-escaped in its text, so no name can inject markup.
//!
//! [`Dir::listing`]: super::Dir::listing

use crate::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::path::Path;

/// Most entries listed (a huge directory gets a truncated page, not unbounded memory).
const MAX_ENTRIES: usize = 10_000;

/// Bytes escaped in a link's path segment: controls, space, and what HTML or URLs give
/// meaning to.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'&').add(b'\'').add(b'<').add(b'>').add(b'?').add(b'`');

/// Writes the listing of `dir` (shown as `shown_path`, the request's path) into `resp`.
pub(crate) fn write(dir: &Path, shown_path: &str, resp: &mut Response) -> std::io::Result<()> {
    let mut names: Vec<(String, bool)> = Vec::new();
    for entry in std::fs::read_dir(dir)?.take(MAX_ENTRIES) {
        let entry = entry?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        names.push((entry.file_name().to_string_lossy().into_owned(), is_dir));
    }
    names.sort();
    let shown = escape(&percent_encoding::percent_decode_str(shown_path).decode_utf8_lossy());
    let mut page = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>Index of {shown}</title>\n<h1>Index of {shown}</h1>\n<ul>\n"
    );
    for (name, is_dir) in &names {
        let slash = if *is_dir { "/" } else { "" };
        let href = utf8_percent_encode(name, SEGMENT);
        page.push_str(&format!("<li><a href=\"{href}{slash}\">{}{slash}</a></li>\n", escape(name)));
    }
    page.push_str("</ul>\n");
    resp.set_content_type("text/html; charset=utf-8");
    resp.write_body(page);
    Ok(())
}

/// `s` with HTML's special characters as entities.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
