//! Conditional requests (RFC 9110 §13) as pure functions of the request's header values and
//! the file's validators: which of 412, 304 or "go on" a request gets, and whether `If-Range`
//! lets a range request be answered with a part.
//!
//! The order is §13.2.2's: `If-Match` (strong comparison) → 412; else `If-Unmodified-Since`
//! → 412; `If-None-Match` (weak comparison) → 304 for GET/HEAD, 412 otherwise; only without
//! `If-None-Match`, `If-Modified-Since` → 304 for GET/HEAD. A date that does not parse is
//! ignored, as the RFC requires (§13.1.3, §13.1.4).

use std::time::UNIX_EPOCH;

/// The validators of the representation being served.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validators<'a> {
    /// The strong entity tag, quotes included (`"…"`).
    pub etag: &'a str,
    /// Last modification, in whole seconds since the epoch (what `Last-Modified` says).
    pub modified: u64,
}

/// The precondition headers of a request (raw values; absent ones `None`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Conditions<'a> {
    pub if_match: Option<&'a [u8]>,
    pub if_unmodified_since: Option<&'a [u8]>,
    pub if_none_match: Option<&'a [u8]>,
    pub if_modified_since: Option<&'a [u8]>,
}

/// What the preconditions decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answer normally (ranges may still apply).
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// RFC 9110 §13.2.2 for `v`; `get_or_head` is whether the method is GET or HEAD.
pub(crate) fn evaluate(c: &Conditions, v: &Validators, get_or_head: bool) -> Outcome {
    if let Some(im) = c.if_match {
        if !matches_any(im, v.etag, true) {
            return Outcome::Failed;
        }
    } else if let Some(t) = c.if_unmodified_since.and_then(parse_date) {
        if v.modified > t {
            return Outcome::Failed;
        }
    }
    if let Some(inm) = c.if_none_match {
        if matches_any(inm, v.etag, false) {
            return if get_or_head { Outcome::NotModified } else { Outcome::Failed };
        }
    } else if get_or_head {
        if let Some(t) = c.if_modified_since.and_then(parse_date) {
            if v.modified <= t {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Proceed
}

/// Whether an `If-Range` value lets a range be served (RFC 9110 §13.1.5): an entity tag must
/// match strongly (a weak one never does); a date must equal `Last-Modified` exactly.
pub(crate) fn if_range_holds(value: &[u8], v: &Validators) -> bool {
    let value = value.trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return !value.starts_with(b"W/") && value == v.etag.as_bytes();
    }
    parse_date(value) == Some(v.modified)
}

/// Whether the list `header` (`*` or comma-separated entity tags) matches `etag`, strongly
/// (both must be strong and equal) or weakly (equal opaque tags, `W/` ignored).
pub(crate) fn matches_any(header: &[u8], etag: &str, strong: bool) -> bool {
    let header = header.trim_ascii();
    if header == b"*" {
        return true;
    }
    let mine = etag.as_bytes();
    header.split(|&b| b == b',').any(|t| {
        let t = t.trim_ascii();
        match t.strip_prefix(b"W/") {
            Some(_) if strong => false,
            Some(opaque) => opaque == mine,
            None => t == mine,
        }
    })
}

/// An HTTP-date (any of the three formats of RFC 9110 §5.6.7) in seconds since the epoch.
pub(crate) fn parse_date(value: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(value).ok()?.trim();
    let t = httpdate::parse_http_date(s).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::Outcome::*;
    use super::*;

    const ETAG: &str = "\"1-2-3\"";
    const OLD: &str = "Sun, 06 Nov 1994 08:49:37 GMT"; // 784111777
    const NOW: &str = "Tue, 01 Dec 2026 12:00:00 GMT";
    const V: Validators = Validators { etag: ETAG, modified: 784111777 };

    #[test]
    fn preconditions_in_rfc_9110_order() {
        type Row = (Option<&'static str>, Option<&'static str>, Option<&'static str>, Option<&'static str>, Outcome);
        let table: &[Row] = &[
            // If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since → outcome
            (None, None, None, None, Proceed),
            (Some(ETAG), None, None, None, Proceed),
            (Some("\"other\", \"1-2-3\""), None, None, None, Proceed),
            (Some("*"), None, None, None, Proceed),
            (Some("\"other\""), None, None, None, Failed),
            (Some("W/\"1-2-3\""), None, None, None, Failed), // strong comparison
            (None, Some(OLD), None, None, Proceed),          // not modified since
            (None, Some("Sun, 06 Nov 1994 08:49:36 GMT"), None, None, Failed),
            (None, Some("not a date"), None, None, Proceed), // ignored
            (Some(ETAG), Some("Sun, 06 Nov 1994 08:49:36 GMT"), None, None, Proceed), // If-Match wins
            (None, None, Some(ETAG), None, NotModified),
            (None, None, Some("W/\"1-2-3\""), None, NotModified), // weak comparison
            (None, None, Some("*"), None, NotModified),
            (None, None, Some("\"other\""), None, Proceed),
            (None, None, None, Some(OLD), NotModified),
            (None, None, None, Some(NOW), NotModified),
            (None, None, None, Some("Sun, 06 Nov 1994 08:49:36 GMT"), Proceed),
            (None, None, None, Some("Sunday, 06-Nov-94 08:49:37 GMT"), NotModified), // RFC 850
            (None, None, None, Some("Sun Nov  6 08:49:37 1994"), NotModified),       // asctime
            (None, None, None, Some("yesterday"), Proceed),
            // If-None-Match present: If-Modified-Since is not looked at
            (None, None, Some("\"other\""), Some(NOW), Proceed),
            (Some("\"other\""), None, Some(ETAG), None, Failed), // 412 before 304
            (None, Some("Sun, 06 Nov 1994 08:49:36 GMT"), None, Some(NOW), Failed),
        ];
        for (i, &(im, ius, inm, ims, want)) in table.iter().enumerate() {
            let c = Conditions {
                if_match: im.map(str::as_bytes),
                if_unmodified_since: ius.map(str::as_bytes),
                if_none_match: inm.map(str::as_bytes),
                if_modified_since: ims.map(str::as_bytes),
            };
            assert_eq!(evaluate(&c, &V, true), want, "row {i}: {c:?}");
        }
        let c = Conditions { if_none_match: Some(ETAG.as_bytes()), ..Conditions::default() };
        assert_eq!(evaluate(&c, &V, false), Failed, "If-None-Match on another method");
    }

    #[test]
    fn if_range_needs_a_strong_match() {
        for (value, holds) in
            [(ETAG, true), ("W/\"1-2-3\"", false), ("\"other\"", false), (OLD, true), (NOW, false), ("garbage", false)]
        {
            assert_eq!(if_range_holds(value.as_bytes(), &V), holds, "{value}");
        }
    }
}
