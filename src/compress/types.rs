//! Which media types are worth compressing: text and text-like formats, never formats that
//! are compressed already (images other than SVG and icons, audio, video, archives, woff2).

/// Whether a response with Content-Type `content_type` is worth compressing: `text/*`,
/// JSON, JavaScript, XML and their `+json` / `+xml` relatives (SVG, Atom, RSS, JSON-LD,
/// problem+json), WebAssembly, uncompressed font formats (TTF, OTF, EOT) and icons.
/// Parameters (`; charset=utf-8`) and case are ignored. A response without a Content-Type
/// is not compressed (its bytes could be anything).
///
/// This is the predicate [`Compress`](super::Compress) uses unless given another with
/// [`Compress::content_types`](super::Compress::content_types), which can extend it:
///
/// ```
/// use shockwave::compress::is_compressible;
/// assert!(is_compressible("text/html; charset=utf-8"));
/// assert!(is_compressible("application/problem+json"));
/// assert!(!is_compressible("image/png"));
/// let mine = |t: &str| t.starts_with("application/x-ndjson") || is_compressible(t);
/// assert!(mine("application/x-ndjson"));
/// ```
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let Some((ty, sub)) = essence.split_once('/') else { return false };
    let (ty, sub) = (ty.trim(), sub.trim());
    let is = |a: &str, b: &str| ty.eq_ignore_ascii_case(a) && sub.eq_ignore_ascii_case(b);
    let suffix = |s: &str| sub.len() > s.len() && sub[sub.len() - s.len()..].eq_ignore_ascii_case(s);
    if ty.eq_ignore_ascii_case("text") {
        return !sub.is_empty();
    }
    if suffix("+json") || suffix("+xml") {
        return !ty.eq_ignore_ascii_case("video") && !ty.eq_ignore_ascii_case("audio");
    }
    const APPLICATION: &[&str] = &[
        "json",
        "javascript",
        "x-javascript",
        "ecmascript",
        "xml",
        "wasm",
        "x-ndjson",
        "x-yaml",
        "yaml",
        "toml",
        "graphql",
        "x-www-form-urlencoded",
        "vnd.ms-fontobject",
        "x-font-ttf",
        "x-font-opentype",
        "rtf",
    ];
    (ty.eq_ignore_ascii_case("application") && APPLICATION.iter().any(|s| sub.eq_ignore_ascii_case(s)))
        || is("font", "ttf")
        || is("font", "otf")
        || is("image", "x-icon")
        || is("image", "vnd.microsoft.icon")
        || is("image", "bmp")
}

#[cfg(test)]
mod tests {
    use super::is_compressible;

    #[test]
    fn compressible_types_table() {
        let yes = [
            "text/html",
            "text/plain; charset=utf-8",
            "TEXT/CSS",
            "text/event-stream",
            "text/csv",
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/javascript",
            "application/xml",
            "application/atom+xml",
            "application/problem+json",
            "application/ld+json",
            "image/svg+xml",
            "application/wasm",
            "font/ttf",
            "image/x-icon",
            " text/html ",
        ];
        let no = [
            "",
            "text",
            "text/",
            "image/png",
            "image/jpeg",
            "image/webp",
            "video/mp4",
            "audio/mpeg",
            "application/zip",
            "application/gzip",
            "application/octet-stream",
            "application/pdf",
            "font/woff2",
            "font/woff",
            "application/x-protobuf",
            "application/grpc",
            "+json",
            "application/+json",
            "json",
        ];
        for t in yes {
            assert!(is_compressible(t), "{t:?} should be compressible");
        }
        for t in no {
            assert!(!is_compressible(t), "{t:?} should not be compressible");
        }
    }
}
