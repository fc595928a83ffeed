//! Absolute `http://` and `https://` URLs, split into what a request needs: the scheme, the
//! host and port to connect to, the `Host` header value, the request-target in origin form,
//! and a key for the connection pool. Also resolves redirect `Location` references against
//! a base URL (RFC 3986 §5.2).
//!
//! # Invariants
//! - A [`Url`] owns one `String` holding four pieces back to back, and keeps byte offsets into
//!   it: the URL as given, the pool key (`scheme://host:port`, host lower-cased, port always
//!   written), the authority (host as written, `:port` only when not the default), and the
//!   path and query. Every accessor is a slice of that string, so a `Url` moves between
//!   threads with no lifetimes and a pool map keyed by `String` is looked up with `&str`.
//! - [`Url::parse`] allocates exactly that one `String` (its capacity is computed before
//!   anything is written; a debug assertion checks it never grew).
//! - The only rewriting is percent-encoding non-ASCII bytes of the path and query (as UTF-8,
//!   `%XX` upper-case) and dropping the fragment: percent-encoded sequences are kept exactly
//!   as given, never decoded or re-encoded, so what the caller signed or escaped is what the
//!   server receives. Dot segments are removed only by [`Url::join`], as RFC 3986 asks.
//! - What a server would refuse, or what would change the request's meaning, is refused
//!   here with a reason a person can act on: other schemes, credentials in the URL, an empty
//!   or malformed host, IPv6 zone identifiers, ports outside 1..=65535, spaces and control
//!   characters, a `%` not followed by two hex digits.

use std::fmt::{self, Write as _};
use std::net::Ipv6Addr;
use std::ops::Range;

use crate::h1::tables::REG_NAME;

/// The two schemes the client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scheme {
    /// `http://`, port 80 unless given.
    Http,
    /// `https://`, port 443 unless given.
    Https,
}

impl Scheme {
    /// The scheme's name, lower-case, without `://`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port used when the URL names none (RFC 9110 §4.2.1, §4.2.2).
    pub(crate) fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// An absolute URL split into the parts a request needs, as ranges into one owned string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Url {
    /// The URL as given, the pool key, the authority, the path and query (module docs).
    text: String,
    scheme: Scheme,
    port: u16,
    /// End of the URL as given; the pool key starts here.
    given_end: usize,
    /// The host inside the pool key (lower-cased, without IPv6 brackets).
    host: Range<usize>,
    /// End of the pool key; the authority starts here.
    key_end: usize,
    /// End of the authority; the path and query run from here to the end.
    authority_end: usize,
}

/// Why a URL was refused, with the URL itself for the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UrlError {
    /// The URL (or, from [`Url::join`], the resolved reference) that was refused.
    pub(crate) url: String,
    /// What is wrong with it, phrased so a person can fix it.
    pub(crate) reason: &'static str,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:?}` quotes the URL and escapes any control characters in it.
        write!(f, "invalid URL {:?}: {}", self.url, self.reason)
    }
}

impl std::error::Error for UrlError {}

const NOT_ABSOLUTE: &str = "not an absolute URL (expected http://host/... or https://host/...)";
const UNSUPPORTED_SCHEME: &str = "unsupported scheme (only http:// and https://)";
const SPACE: &str = "space in URL (percent-encode it as %20)";
const CONTROL: &str = "control character in URL (percent-encode it)";
const CREDENTIALS: &str =
    "credentials in the URL (user:password@) are not supported: send them in an Authorization header";
const EMPTY_HOST: &str = "empty host";
const HOST_CHAR: &str = "invalid character in host";
const HOST_NON_ASCII: &str = "non-ASCII host (convert internationalized names to punycode, xn--...)";
const IPV6_UNCLOSED: &str = "IPv6 address without its closing ']'";
const IPV6_INVALID: &str = "invalid IPv6 address in brackets";
const IPV6_ZONE: &str = "IPv6 zone identifiers (%eth0) are not supported";
const AFTER_IPV6: &str = "unexpected characters after the IPv6 address (expected ':port' or '/')";
const PORT_DIGITS: &str = "invalid port (digits only)";
const PORT_RANGE: &str = "port out of range (1 to 65535)";
const PERCENT: &str = "'%' not followed by two hex digits (write a literal '%' as %25)";

/// Upper-case hex digits for percent-encoding (RFC 3986 §2.1: "should use uppercase").
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `[` + the longest canonical IPv6 text (8 groups of 4 digits, 7 colons) + `]`.
const MAX_IPV6_KEY: usize = 41;

impl Url {
    /// Parses an absolute `http://` or `https://` URL (module docs for what is refused).
    pub(crate) fn parse(s: &str) -> Result<Url, UrlError> {
        let err = |reason| UrlError { url: s.to_owned(), reason };
        // No SP or CTL anywhere: they cannot go on a request line or in a Host header.
        if let Some(&c) = s.as_bytes().iter().find(|&&c| c <= b' ' || c == 0x7f) {
            return Err(err(if c == b' ' { SPACE } else { CONTROL }));
        }
        let colon = scheme_len(s).ok_or_else(|| err(NOT_ABSOLUTE))?;
        let name = &s[..colon];
        let scheme = if name.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if name.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else {
            return Err(err(UNSUPPORTED_SCHEME));
        };
        let rest = s[colon + 1..].strip_prefix("//").ok_or_else(|| err(NOT_ABSOLUTE))?;
        let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (auth, tail) = rest.split_at(auth_len);
        let auth = Authority::parse(auth, scheme).map_err(err)?;
        let path_query = tail.split_once('#').map_or(tail, |(pq, _fragment)| pq);
        let non_ascii = check_path_query(path_query).map_err(err)?;

        let default_port = auth.port == scheme.default_port();
        let key_len = scheme.as_str().len() + "://".len() + auth.host.len().max(MAX_IPV6_KEY) + ":65535".len();
        let authority_len = auth.host.len() + if default_port { 0 } else { ":65535".len() };
        // a '/' is added before a bare query (`?q` → `/?q`) or an empty path
        let pq_len = path_query.len() + usize::from(!path_query.starts_with('/')) + 2 * non_ascii;
        let cap = s.len() + key_len + authority_len + pq_len;
        let mut text = String::with_capacity(cap);

        text.push_str(s);
        let given_end = text.len();
        text.push_str(scheme.as_str());
        text.push_str("://");
        let host = match auth.ipv6 {
            Some(ip) => {
                text.push('[');
                let start = text.len();
                // Canonical form (RFC 5952), so `[0:0::1]` and `[::1]` share a pool key.
                // Writing to a String cannot fail.
                let _ = write!(text, "{ip}");
                let end = text.len();
                text.push(']');
                start..end
            }
            None => {
                let start = text.len();
                text.extend(auth.host.chars().map(|c| c.to_ascii_lowercase()));
                start..text.len()
            }
        };
        let _ = write!(text, ":{}", auth.port);
        let key_end = text.len();
        text.push_str(auth.host);
        if !default_port {
            let _ = write!(text, ":{}", auth.port);
        }
        let authority_end = text.len();
        if !path_query.starts_with('/') {
            text.push('/'); // empty path (`http://h` or `http://h?q`): origin form needs one
        }
        for &b in path_query.as_bytes() {
            if b.is_ascii() {
                text.push(b as char);
            } else {
                text.push('%');
                text.push(HEX[usize::from(b >> 4)] as char);
                text.push(HEX[usize::from(b & 0xf)] as char);
            }
        }
        debug_assert!(text.len() <= cap, "Url::parse must allocate once: {} > {cap}", text.len());
        Ok(Url { text, scheme, port: auth.port, given_end, host, key_end, authority_end })
    }

    /// The URL as given to [`parse`](Url::parse) (for error messages).
    pub(crate) fn as_str(&self) -> &str {
        &self.text[..self.given_end]
    }

    /// `http` or `https`.
    pub(crate) fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host to connect to: reg-names lower-cased, IPv6 without brackets (`::1`).
    pub(crate) fn host(&self) -> &str {
        &self.text[self.host.clone()]
    }

    /// The port given, or the scheme's default (80 / 443).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The `Host` header value: the host as written (IPv6 in brackets), `:port` only when the
    /// port is not the scheme's default.
    pub(crate) fn authority(&self) -> &str {
        &self.text[self.key_end..self.authority_end]
    }

    /// The request-target in origin form: `/` for an empty path, the query kept, no fragment.
    pub(crate) fn path_and_query(&self) -> &str {
        &self.text[self.authority_end..]
    }

    /// `scheme://host:port` with the host lower-cased and the port always written: URLs with
    /// the same key can share a connection.
    pub(crate) fn pool_key(&self) -> &str {
        &self.text[self.given_end..self.key_end]
    }

    /// Resolves a redirect `Location` against this URL (RFC 3986 §5.2.2, strict): an absolute
    /// URL, a scheme-relative `//host/path`, an absolute path `/p`, a relative path `p` (merged
    /// with this URL's directory), or a query `?q`. Dot segments are removed; the fragment is
    /// dropped.
    pub(crate) fn join(&self, location: &str) -> Result<Url, UrlError> {
        let r = Reference::split(location);
        if r.scheme {
            let url = Url::parse(location)?;
            let (path, query) = split_query(url.path_and_query());
            if !path.split('/').any(|seg| seg == "." || seg == "..") {
                return Ok(url);
            }
            return Url::parse(&resolved(url.scheme, url.authority(), |out| remove_dot_segments(path, out), query));
        }
        let (base_path, base_query) = split_query(self.path_and_query());
        let out = if let Some(authority) = r.authority {
            resolved(self.scheme, authority, |out| remove_dot_segments(r.path, out), r.query)
        } else if r.path.is_empty() {
            resolved(self.scheme, self.authority(), |out| out.push_str(base_path), r.query.or(base_query))
        } else if r.path.starts_with('/') {
            resolved(self.scheme, self.authority(), |out| remove_dot_segments(r.path, out), r.query)
        } else {
            // §5.2.3 merge: the base path up to its last '/', then the reference (the base
            // always has an authority and a path starting with '/').
            let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
            let merged = [dir, r.path].concat();
            resolved(self.scheme, self.authority(), |out| remove_dot_segments(&merged, out), r.query)
        };
        Url::parse(&out)
    }
}

/// The length of a valid scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, RFC 3986 §3.1)
/// before a ':' that comes before any '/', '?' or '#'; `None` when `s` has no scheme.
fn scheme_len(s: &str) -> Option<usize> {
    let colon = s.find(':')?;
    let name = &s.as_bytes()[..colon];
    let ok = name.first()?.is_ascii_alphabetic()
        && name.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    ok.then_some(colon)
}

/// The authority of an absolute URL, checked.
struct Authority<'a> {
    /// The host as written, IPv6 with its brackets.
    host: &'a str,
    ipv6: Option<Ipv6Addr>,
    port: u16,
}

impl<'a> Authority<'a> {
    /// `authority = [ userinfo "@" ] host [ ":" port ]` (RFC 3986 §3.2), userinfo refused.
    fn parse(auth: &'a str, scheme: Scheme) -> Result<Authority<'a>, &'static str> {
        if auth.contains('@') {
            return Err(CREDENTIALS);
        }
        let (host, ipv6, port) = if let Some(inner) = auth.strip_prefix('[') {
            // `IP-literal = "[" ( IPv6address / IPvFuture ) "]"`; IPvFuture is refused as invalid.
            let close = inner.find(']').ok_or(IPV6_UNCLOSED)?;
            let addr = &inner[..close];
            if addr.contains('%') {
                return Err(IPV6_ZONE);
            }
            let ip: Ipv6Addr = addr.parse().map_err(|_| IPV6_INVALID)?;
            let after = &inner[close + 1..];
            let port = if after.is_empty() { None } else { Some(after.strip_prefix(':').ok_or(AFTER_IPV6)?) };
            (&auth[..close + 2], Some(ip), port)
        } else {
            let (host, port) = match auth.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (auth, None),
            };
            check_reg_name(host)?;
            (host, None, port)
        };
        let port = match port {
            None | Some("") => scheme.default_port(), // RFC 3986 §3.2.3: an empty port is the default
            Some(p) => parse_port(p)?,
        };
        Ok(Authority { host, ipv6, port })
    }
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`, which also covers IPv4 dotted
/// quads (RFC 3986 §3.2.2), and not empty: an `http` URI "MUST NOT" have an empty host
/// (RFC 9110 §4.2.1).
fn check_reg_name(host: &str) -> Result<(), &'static str> {
    if host.is_empty() {
        return Err(EMPTY_HOST);
    }
    let b = host.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if !c.is_ascii() {
            return Err(HOST_NON_ASCII);
        }
        if !REG_NAME[usize::from(c)] {
            return Err(HOST_CHAR);
        }
        if c == b'%' && !pct_at(b, i) {
            return Err(PERCENT);
        }
    }
    Ok(())
}

/// `port = *DIGIT` (RFC 3986 §3.2.3), and a TCP port: 1..=65535 (leading zeros allowed).
fn parse_port(p: &str) -> Result<u16, &'static str> {
    if !p.bytes().all(|c| c.is_ascii_digit()) {
        return Err(PORT_DIGITS);
    }
    let n = p.bytes().try_fold(0u32, |n, d| Some(n * 10 + u32::from(d - b'0')).filter(|&n| n <= 0xffff));
    match n {
        Some(n) if n > 0 => Ok(n as u16),
        _ => Err(PORT_RANGE),
    }
}

/// Checks that every `%` in the path and query starts a `pct-encoded` triplet (RFC 3986
/// §2.1), and counts the non-ASCII bytes that will be percent-encoded. SP and CTLs were
/// refused for the whole URL already; other visible ASCII passes as given, as deployed
/// clients send it (see `TARGET` in `h1::tables`).
fn check_path_query(pq: &str) -> Result<usize, &'static str> {
    let b = pq.as_bytes();
    let mut non_ascii = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'%' && !pct_at(b, i) {
            return Err(PERCENT);
        }
        non_ascii += usize::from(!c.is_ascii());
    }
    Ok(non_ascii)
}

/// Whether `b[i]` (a `%`) is followed by two hex digits.
fn pct_at(b: &[u8], i: usize) -> bool {
    matches!(b.get(i + 1..i + 3), Some([h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
}

/// Splits a path-and-query at the first `?`.
fn split_query(pq: &str) -> (&str, Option<&str>) {
    match pq.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (pq, None),
    }
}

/// A URI reference split as RFC 3986 Appendix B does, fragment dropped.
struct Reference<'a> {
    scheme: bool,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> Reference<'a> {
    fn split(s: &'a str) -> Reference<'a> {
        let s = s.split_once('#').map_or(s, |(before, _fragment)| before);
        let scheme = scheme_len(s).is_some();
        let (authority, rest) = match s.strip_prefix("//") {
            Some(r) if !scheme => {
                let end = r.find(['/', '?']).unwrap_or(r.len());
                (Some(&r[..end]), &r[end..])
            }
            _ => (None, s),
        };
        let (path, query) = split_query(rest);
        Reference { scheme, authority, path, query }
    }
}

/// `scheme "://" authority`, then the path `path` writes, then `"?" query` when there is one.
fn resolved(scheme: Scheme, authority: &str, path: impl FnOnce(&mut String), query: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str(scheme.as_str());
    out.push_str("://");
    out.push_str(authority);
    path(&mut out);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// RFC 3986 §5.2.4 `remove_dot_segments`, appending the result to `out` (which already holds
/// `scheme://authority`; `..` never climbs above the end it had on entry).
fn remove_dot_segments(mut input: &str, out: &mut String) {
    let root = out.len();
    let pop = |out: &mut String| {
        let cut = out[root..].rfind('/').map_or(root, |i| root + i);
        out.truncate(cut);
    };
    while !input.is_empty() {
        if let Some(r) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = r; // A
        } else if input.starts_with("/./") || input == "/." {
            input = if input == "/." { "/" } else { &input[2..] }; // B
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] }; // C
            pop(out);
        } else if input == "." || input == ".." {
            input = ""; // D
        } else {
            // E: the first segment, with its leading '/' if any, up to the next '/'.
            let skip = usize::from(input.starts_with('/'));
            let end = input[skip..].find('/').map_or(input.len(), |i| i + skip);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(url, scheme, host, port, authority, path_and_query, pool_key)`.
    #[test]
    fn parse_accepts() {
        let cases: &[(&str, Scheme, &str, u16, &str, &str, &str)] = &[
            ("http://[::1]:8080/a?b", Scheme::Http, "::1", 8080, "[::1]:8080", "/a?b", "http://[::1]:8080"),
            ("HTTP://Example.COM", Scheme::Http, "example.com", 80, "Example.COM", "/", "http://example.com:80"),
            ("http://h:80/", Scheme::Http, "h", 80, "h", "/", "http://h:80"),
            ("https://h:443", Scheme::Https, "h", 443, "h", "/", "https://h:443"),
            ("https://h", Scheme::Https, "h", 443, "h", "/", "https://h:443"),
            ("https://h:80/x", Scheme::Https, "h", 80, "h:80", "/x", "https://h:80"),
            ("http://h:/p", Scheme::Http, "h", 80, "h", "/p", "http://h:80"),
            ("http://h:0080/p", Scheme::Http, "h", 80, "h", "/p", "http://h:80"),
            ("http://h:08080/p", Scheme::Http, "h", 8080, "h:8080", "/p", "http://h:8080"),
            ("http://h:65535/", Scheme::Http, "h", 65535, "h:65535", "/", "http://h:65535"),
            ("http://h:1", Scheme::Http, "h", 1, "h:1", "/", "http://h:1"),
            ("http://127.0.0.1:3/x", Scheme::Http, "127.0.0.1", 3, "127.0.0.1:3", "/x", "http://127.0.0.1:3"),
            ("http://[::1]", Scheme::Http, "::1", 80, "[::1]", "/", "http://[::1]:80"),
            ("http://[0:0::1]/", Scheme::Http, "::1", 80, "[0:0::1]", "/", "http://[::1]:80"),
            ("http://[FE80::A]:81/", Scheme::Http, "fe80::a", 81, "[FE80::A]:81", "/", "http://[fe80::a]:81"),
            ("http://h?q=1", Scheme::Http, "h", 80, "h", "/?q=1", "http://h:80"),
            ("http://h#frag", Scheme::Http, "h", 80, "h", "/", "http://h:80"),
            ("http://h/p?q#f?g#h", Scheme::Http, "h", 80, "h", "/p?q", "http://h:80"),
            ("http://h/a%20b%2Fc?x=%E2%82%ac", Scheme::Http, "h", 80, "h", "/a%20b%2Fc?x=%E2%82%ac", "http://h:80"),
            ("http://h/caf\u{e9}?q=\u{20ac}", Scheme::Http, "h", 80, "h", "/caf%C3%A9?q=%E2%82%AC", "http://h:80"),
            ("http://h/a/../b/./c", Scheme::Http, "h", 80, "h", "/a/../b/./c", "http://h:80"),
            ("http://h/{x}|\"^`", Scheme::Http, "h", 80, "h", "/{x}|\"^`", "http://h:80"),
            ("http://a-b_c~d.e/", Scheme::Http, "a-b_c~d.e", 80, "a-b_c~d.e", "/", "http://a-b_c~d.e:80"),
            ("http://!$&'()*+,;=/", Scheme::Http, "!$&'()*+,;=", 80, "!$&'()*+,;=", "/", "http://!$&'()*+,;=:80"),
            ("http://ex%41mple/", Scheme::Http, "ex%41mple", 80, "ex%41mple", "/", "http://ex%41mple:80"),
            ("hTTpS://WwW.X:8443/A?B", Scheme::Https, "www.x", 8443, "WwW.X:8443", "/A?B", "https://www.x:8443"),
        ];
        for &(s, scheme, host, port, authority, pq, key) in cases {
            let u = Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(u.as_str(), s, "{s}");
            assert_eq!(u.scheme(), scheme, "{s}");
            assert_eq!(u.host(), host, "{s}");
            assert_eq!(u.port(), port, "{s}");
            assert_eq!(u.authority(), authority, "{s}");
            assert_eq!(u.path_and_query(), pq, "{s}");
            assert_eq!(u.pool_key(), key, "{s}");
        }
    }

    #[test]
    fn parse_refuses() {
        let cases: &[(&str, &str)] = &[
            ("ftp://h/", UNSUPPORTED_SCHEME),
            ("ws://h/", UNSUPPORTED_SCHEME),
            ("h/path", NOT_ABSOLUTE),
            ("/path", NOT_ABSOLUTE),
            ("", NOT_ABSOLUTE),
            ("1http://h/", NOT_ABSOLUTE),
            ("http:h/", NOT_ABSOLUTE),
            ("http:/h/", NOT_ABSOLUTE),
            ("http://h:0/", PORT_RANGE),
            ("http://h:99999/", PORT_RANGE),
            ("http://h:65536/", PORT_RANGE),
            ("http://h:0000000000000000000000080800/", PORT_RANGE),
            ("http://h:8o/", PORT_DIGITS),
            ("http://h:-1/", PORT_DIGITS),
            ("http://h:+80/", PORT_DIGITS),
            ("http://h:80:81/", PORT_DIGITS),
            ("http://u:p@h/", CREDENTIALS),
            ("http://u@h/", CREDENTIALS),
            ("http://@h/", CREDENTIALS),
            ("http:///x", EMPTY_HOST),
            ("http://", EMPTY_HOST),
            ("http://:80/", EMPTY_HOST),
            ("http://?q", EMPTY_HOST),
            ("http://h/a b", SPACE),
            ("http://h/a?b c", SPACE),
            (" http://h/", SPACE),
            ("http://h/\t", CONTROL),
            ("http://h/a\r\nHost: evil", CONTROL),
            ("http://h/\x7f", CONTROL),
            ("http://h\0/", CONTROL),
            ("http://h/#a b", SPACE),
            ("http://h/%", PERCENT),
            ("http://h/%2", PERCENT),
            ("http://h/%zz", PERCENT),
            ("http://h/?q=100%", PERCENT),
            ("http://h%2/", PERCENT),
            ("http://h<>/", HOST_CHAR),
            ("http://h]/", HOST_CHAR),
            ("http://a[b]/", HOST_CHAR),
            ("http://h\\x/", HOST_CHAR),
            ("http://b\u{fc}cher.de/", HOST_NON_ASCII),
            ("http://[::1/", IPV6_UNCLOSED),
            ("http://[::1]x/", AFTER_IPV6),
            ("http://[::1]]/", AFTER_IPV6),
            ("http://[fe80::1%25eth0]/", IPV6_ZONE),
            ("http://[fe80::1%eth0]/", IPV6_ZONE),
            ("http://[127.0.0.1]/", IPV6_INVALID),
            ("http://[v1.x]/", IPV6_INVALID),
            ("http://[]/", IPV6_INVALID),
            ("http://[::1::2]/", IPV6_INVALID),
            ("http://[::1]:0/", PORT_RANGE),
        ];
        for &(s, reason) in cases {
            match Url::parse(s) {
                Ok(u) => panic!("{s:?} parsed: {u:?}"),
                Err(e) => {
                    assert_eq!(e.reason, reason, "{s:?}");
                    assert_eq!(e.url, s);
                }
            }
        }
    }

    #[test]
    fn error_message_names_url_and_reason() {
        let e = Url::parse("ftp://h/").unwrap_err();
        assert_eq!(e.to_string(), "invalid URL \"ftp://h/\": unsupported scheme (only http:// and https://)");
        let e = Url::parse("http://u:p@h/").unwrap_err();
        assert!(e.to_string().contains("Authorization header"), "{e}");
        let e = Url::parse("http://h/a b").unwrap_err();
        assert!(e.to_string().contains("%20"), "{e}");
        let e = Url::parse("http://h/\r\n").unwrap_err();
        assert_eq!(e.to_string(), "invalid URL \"http://h/\\r\\n\": control character in URL (percent-encode it)");
    }

    /// RFC 3986 §5.4.1 "Normal Examples", then some of §5.4.2 "Abnormal Examples".
    #[test]
    fn join_rfc3986_examples() {
        let base = Url::parse("http://a/b/c/d;p?q").unwrap();
        let cases: &[(&str, &str)] = &[
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"), // RFC: "http://g"; origin form adds the '/'
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"), // fragments are dropped
            ("g#s", "http://a/b/c/g"),
            ("g?y#s", "http://a/b/c/g?y"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("g;x?y#s", "http://a/b/c/g;x?y"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
            // §5.4.2
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g#s/../x", "http://a/b/c/g"),
            ("http:g", "error"), // strict parsers treat it as absolute; it has no authority
        ];
        for &(loc, want) in cases {
            let got = match base.join(loc) {
                Ok(u) => format!("{}://{}{}", u.scheme().as_str(), u.authority(), u.path_and_query()),
                Err(_) => "error".to_owned(),
            };
            assert_eq!(got, want, "join({loc:?})");
        }
    }

    #[test]
    fn join_absolute_and_other_hosts() {
        let base = Url::parse("https://Site.example:8443/dir/page?x").unwrap();
        let cases: &[(&str, &str, &str, u16, &str)] = &[
            // (location, pool key, authority, port, path_and_query)
            ("http://other/p?q", "http://other:80", "other", 80, "/p?q"),
            ("HTTPS://Other:9/a/./b/../c", "https://other:9", "Other:9", 9, "/a/c"),
            ("//cdn.example/x", "https://cdn.example:443", "cdn.example", 443, "/x"),
            ("//cdn.example:8443?q", "https://cdn.example:8443", "cdn.example:8443", 8443, "/?q"),
            ("/p", "https://site.example:8443", "Site.example:8443", 8443, "/p"),
            ("p", "https://site.example:8443", "Site.example:8443", 8443, "/dir/p"),
            ("?y", "https://site.example:8443", "Site.example:8443", 8443, "/dir/page?y"),
            ("caf\u{e9}", "https://site.example:8443", "Site.example:8443", 8443, "/dir/caf%C3%A9"),
            ("//[::1]:81/", "https://[::1]:81", "[::1]:81", 81, "/"),
        ];
        for &(loc, key, authority, port, pq) in cases {
            let u = base.join(loc).unwrap_or_else(|e| panic!("{loc}: {e}"));
            assert_eq!(
                (u.pool_key(), u.authority(), u.port(), u.path_and_query()),
                (key, authority, port, pq),
                "{loc}"
            );
        }
        for loc in ["ftp://h/", "//u:p@h/", "///p", "/a b", "p%", "mailto:x@y"] {
            assert!(base.join(loc).is_err(), "{loc}");
        }
        // An absolute Location without dot segments is taken as it is.
        assert_eq!(base.join("http://o/p").unwrap().as_str(), "http://o/p");
    }

    #[test]
    fn parse_allocates_one_string_of_the_computed_capacity() {
        // The debug assertion in `parse` checks the capacity bound; exercise the widest
        // pieces: the longest IPv6 text, a five-digit port, all-non-ASCII path.
        for s in [
            "http://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/\u{20ac}\u{20ac}",
            "http://[::]/",
            "http://h",
            "https://h:443?\u{e9}",
        ] {
            let u = Url::parse(s).unwrap();
            assert!(u.text.len() <= u.text.capacity());
        }
    }

    #[test]
    fn a_bare_query_on_a_long_host_and_port_fits_the_one_string() {
        // the '/' added before `?` was not counted: a debug assertion fired for long hosts
        let host = "a".repeat(41);
        for s in [format!("http://{host}:10000?q=1"), format!("http://{host}:10000")] {
            let u = Url::parse(&s).unwrap();
            assert_eq!(u.path_and_query(), if s.ends_with("=1") { "/?q=1" } else { "/" });
        }
        let base = Url::parse("http://h/").unwrap();
        assert_eq!(base.join(&format!("//{host}:10000?q=1")).unwrap().path_and_query(), "/?q=1");
    }
}
