//! Trusted forwarding headers: `Forwarded` (RFC 7239) and `X-Forwarded-For` / `-Proto` /
//! `-Host`, read into [`Request::client_ip`], [`Request::forwarded_proto`] and
//! [`Request::forwarded_host`] only when the request's [`remote_addr`](Request::remote_addr)
//! is one of the peers [`Builder::trust_forwarded_from`](crate::Builder::trust_forwarded_from)
//! names. Never believed by default: any client can send these headers.
//!
//! The chain is walked the rightmost-untrusted way: each proxy appends the address it got the
//! request from, so from the right, every address of a trusted proxy is skipped and the first
//! other one is the client (if all are trusted, the leftmost is). Entries left of that one
//! were written by the client and are never looked at, not even checked. The entry chosen
//! must be well formed: if it is not, or names no address (`unknown`, an obfuscated `_id`),
//! the client is the peer and, for a malformed one, no proto or host is reported either.
//!
//! Must never allocate: parsed on each call, straight from the request's buffer.

use crate::network::any_contains;
use crate::Request;
use std::net::{IpAddr, SocketAddr};

/// What the chosen hop says (from `Forwarded`, or the `X-Forwarded-*` set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Hop<'a> {
    /// `None`: the hop names no address (`unknown`, obfuscated, no `for=`).
    ip: Option<IpAddr>,
    proto: Option<&'a str>,
    host: Option<&'a str>,
}

/// One list element as the walk sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry<'a> {
    Hop(Hop<'a>),
    Malformed,
}

impl Request {
    /// The client's IP address: with
    /// [`Builder::trust_forwarded_from`](crate::Builder::trust_forwarded_from), and a request
    /// whose [`remote_addr`](Self::remote_addr) is a trusted proxy, the client its forwarding
    /// headers name; otherwise `remote_addr().ip()`.
    ///
    /// `Forwarded` (RFC 7239) wins over `X-Forwarded-For` when both are present. The chain
    /// is read from the right, skipping trusted proxies; the first other address is the
    /// client (spoofed entries a client put before it are ignored). An entry that is
    /// malformed or names no address (`for=unknown`, an obfuscated `for=_hidden`) gives the
    /// peer instead: garbage is never believed.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let who = |req: &Request, resp: &mut Response| resp.write_body(req.client_ip().to_string());
    /// let via = |remote: &str| {
    ///     shockwave::test::request("GET", "/")
    ///         .remote_addr(remote.parse().unwrap())
    ///         .trust_forwarded_from(["10.0.0.0/8".parse().unwrap()])
    /// };
    /// // the proxy 10.0.0.2 appended the address it got the request from; the client had
    /// // claimed to be 1.1.1.1: ignored
    /// let r = via("10.0.0.2:5000").header("X-Forwarded-For", "1.1.1.1, 203.0.113.7, 10.0.0.9");
    /// assert_eq!(r.send(&who).text(), "203.0.113.7");
    /// let r = via("10.0.0.2:5000").header("Forwarded", r#"for="[2001:db8::7]:4711";proto=https"#);
    /// assert_eq!(r.send(&who).text(), "2001:db8::7");
    /// // not from a trusted proxy: the header is the client's own claim
    /// let r = via("198.51.100.1:5000").header("X-Forwarded-For", "1.1.1.1");
    /// assert_eq!(r.send(&who).text(), "198.51.100.1");
    /// ```
    pub fn client_ip(&self) -> IpAddr {
        self.forwarded_hop().and_then(|h| h.ip).unwrap_or(self.remote.ip())
    }

    /// The scheme the client used (`https`, `http`), as a trusted proxy reports it:
    /// `proto=` of the `Forwarded` entry that names the client, else the rightmost
    /// `X-Forwarded-Proto` value. `None` when the peer is not trusted (see
    /// [`client_ip`](Self::client_ip)), nothing says, or what it says is not a URI scheme.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let scheme = |req: &Request, resp: &mut Response| resp.write_body(req.forwarded_proto().unwrap_or("none"));
    /// let r = shockwave::test::request("GET", "/")
    ///     .remote_addr("10.0.0.2:5000".parse().unwrap())
    ///     .trust_forwarded_from(["10.0.0.0/8".parse().unwrap()])
    ///     .header("X-Forwarded-Proto", "https");
    /// assert_eq!(r.clone().send(&scheme).text(), "https");
    /// assert_eq!(r.remote_addr("192.0.2.9:1".parse().unwrap()).send(&scheme).text(), "none");
    /// ```
    pub fn forwarded_proto(&self) -> Option<&str> {
        self.forwarded_hop()?.proto
    }

    /// The `Host` the client asked the proxy for, as a trusted proxy reports it: `host=` of
    /// the `Forwarded` entry that names the client, else the rightmost `X-Forwarded-Host`
    /// value. `None` when the peer is not trusted, nothing says, or the value holds
    /// characters no host has.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let host = |req: &Request, resp: &mut Response| resp.write_body(req.forwarded_host().unwrap_or("none"));
    /// let r = shockwave::test::request("GET", "/")
    ///     .remote_addr("127.0.0.1:5000".parse().unwrap())
    ///     .trust_forwarded_from(["127.0.0.1".parse().unwrap()])
    ///     .header("Forwarded", "for=203.0.113.7;host=example.com;proto=https");
    /// assert_eq!(r.send(&host).text(), "example.com");
    /// ```
    pub fn forwarded_host(&self) -> Option<&str> {
        self.forwarded_hop()?.host
    }

    /// The hop that names the client, if the peer is trusted and the headers say anything.
    fn forwarded_hop(&self) -> Option<Hop<'_>> {
        let trusted = self.trust.as_deref()?;
        if !any_contains(trusted, self.remote.ip()) {
            return None;
        }
        if self.header_all("forwarded").next().is_some() {
            let entries = self.header_all("forwarded").flat_map(|line| Elements { s: line, i: 0 });
            return match choose(entries, trusted)? {
                Entry::Hop(h) => Some(h),
                Entry::Malformed => None,
            };
        }
        let entries = self.header_all("x-forwarded-for").flat_map(split_list).map(xff_entry);
        let ip = match choose(entries, trusted) {
            Some(Entry::Hop(h)) => h.ip,
            Some(Entry::Malformed) | None => None,
        };
        let last = |name| self.header_all(name).flat_map(split_list).last();
        let proto = last("x-forwarded-proto").and_then(scheme);
        let host = last("x-forwarded-host").and_then(host);
        (ip.is_some() || proto.is_some() || host.is_some()).then_some(Hop { ip, proto, host })
    }
}

/// The rightmost entry that is not a trusted proxy's address (a malformed one included),
/// else the leftmost; `None` for an empty list.
fn choose<'a>(entries: impl Iterator<Item = Entry<'a>>, trusted: &[crate::Network]) -> Option<Entry<'a>> {
    let (mut first, mut chosen) = (None, None);
    for e in entries {
        first = first.or(Some(e));
        if !matches!(e, Entry::Hop(Hop { ip: Some(ip), .. }) if any_contains(trusted, ip)) {
            chosen = Some(e);
        }
    }
    chosen.or(first)
}

/// The non-empty, trimmed items of a comma-separated list (`#element`, RFC 9110 §5.6.1).
fn split_list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(|s| s.trim_ascii()).filter(|s| !s.is_empty())
}

/// An `X-Forwarded-For` item: an IP address, perhaps with a port (`192.0.2.1:80`,
/// `[2001:db8::1]:80`).
fn xff_entry(item: &[u8]) -> Entry<'_> {
    match std::str::from_utf8(item).ok().and_then(|s| ip_of(s, false)) {
        Some(ip) => Entry::Hop(Hop { ip: Some(ip), ..Hop::default() }),
        None => Entry::Malformed,
    }
}

/// The address of a node (`192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]`, `[2001:db8::1]:80`,
/// and a bare IPv6 address in `X-Forwarded-For`).
fn ip_of(s: &str, rfc7239: bool) -> Option<IpAddr> {
    if let Some(rest) = s.strip_prefix('[') {
        let (v6, port) = rest.split_once(']')?;
        if !port.is_empty() && !node_port(port.strip_prefix(':')?) {
            return None;
        }
        return v6.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = s.parse::<std::net::Ipv4Addr>() {
        return Some(IpAddr::V4(ip));
    }
    if !rfc7239 {
        if let Ok(ip) = s.parse::<std::net::Ipv6Addr>() {
            return Some(IpAddr::V6(ip));
        }
        return s.parse::<SocketAddr>().ok().map(|a| a.ip());
    }
    let (v4, port) = s.split_once(':')?;
    (node_port(port)).then(|| v4.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4))?
}

/// RFC 7239 `node-port = port / obfport`: 1 to 5 digits, or `_` and letters, digits, `.`, `_`, `-`.
fn node_port(p: &str) -> bool {
    (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok())
        || obfuscated(p)
}

/// RFC 7239 §6.3: `obfnode = "_" 1*( ALPHA / DIGIT / "." / "_" / "-")`.
fn obfuscated(s: &str) -> bool {
    s.len() > 1 && s.starts_with('_') && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// A `Forwarded` `for=` value: an address, or `None` for `unknown` and obfuscated nodes;
/// `Err` if it is neither.
fn node(v: &str) -> Result<Option<IpAddr>, ()> {
    let name = match v.strip_prefix('[') {
        Some(_) => return ip_of(v, true).map(Some).ok_or(()),
        None => v.split_once(':').map_or(v, |(n, port)| if node_port(port) { n } else { "" }),
    };
    if name.eq_ignore_ascii_case("unknown") || obfuscated(name) {
        return Ok(None);
    }
    ip_of(v, true).map(Some).ok_or(())
}

/// A URI scheme (RFC 3986 §3.1): `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn scheme(v: &[u8]) -> Option<&str> {
    let ok = v.first().is_some_and(u8::is_ascii_alphabetic)
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    ok.then(|| std::str::from_utf8(v).ok()).flatten()
}

/// A `Host` value (RFC 9110 §7.2: `uri-host [ ":" port ]`): the characters of a reg-name, an
/// IP literal or a port, at least one.
fn host(v: &[u8]) -> Option<&str> {
    let ok = !v.is_empty() && v.iter().all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+;=:[]%".contains(&b));
    ok.then(|| std::str::from_utf8(v).ok()).flatten()
}

/// The elements of one `Forwarded` field line, in order. Forward parsing finds element
/// boundaries unambiguously (quoted strings included); a malformed element is yielded as
/// such and parsing resumes after the next comma outside quotes. A quote left open runs to
/// the end of the line, so a client's broken line never swallows a proxy's separate one.
struct Elements<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        loop {
            self.ows();
            match self.s.get(self.i) {
                None => return None,
                Some(b',') => self.i += 1, // an empty element (RFC 9110 §5.6.1)
                Some(_) => {
                    let e = self.element();
                    if e == Entry::Malformed {
                        self.skip_to_comma();
                    }
                    return Some(e);
                }
            }
        }
    }
}

impl<'a> Elements<'a> {
    fn ows(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// `forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )`, up to and
    /// including the comma after it.
    fn element(&mut self) -> Entry<'a> {
        let (mut hop, mut seen) = (Hop::default(), [false; 3]);
        loop {
            self.ows();
            match self.s.get(self.i) {
                None => return Entry::Hop(hop),
                Some(b',') => {
                    self.i += 1;
                    return Entry::Hop(hop);
                }
                Some(b';') => {
                    self.i += 1;
                    continue;
                }
                Some(_) => {}
            }
            let Some((name, value)) = self.pair() else { return Entry::Malformed };
            let slot = match name {
                n if n.eq_ignore_ascii_case(b"for") => 0,
                n if n.eq_ignore_ascii_case(b"proto") => 1,
                n if n.eq_ignore_ascii_case(b"host") => 2,
                _ => continue, // by= and extensions: not needed
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Entry::Malformed; // "MUST NOT occur more than once" (RFC 7239 §4)
            }
            let Some(value) = value else { return Entry::Malformed }; // escapes: never in these
            match slot {
                0 => match std::str::from_utf8(value).map_err(|_| ()).and_then(node) {
                    Ok(ip) => hop.ip = ip,
                    Err(()) => return Entry::Malformed,
                },
                1 => {
                    hop.proto = Some(match scheme(value) {
                        Some(s) => s,
                        None => return Entry::Malformed,
                    })
                }
                _ => {
                    hop.host = Some(match host(value) {
                        Some(s) => s,
                        None => return Entry::Malformed,
                    })
                }
            }
            self.ows();
            if !matches!(self.s.get(self.i), None | Some(b';' | b',')) {
                return Entry::Malformed;
            }
        }
    }

    /// `token "=" ( token / quoted-string )`: the name and the value (`None` for a quoted
    /// string with escapes, which cannot be borrowed as it is). `None` if malformed.
    fn pair(&mut self) -> Option<(&'a [u8], Option<&'a [u8]>)> {
        let s = self.s;
        let name = self.token()?;
        if s.get(self.i) != Some(&b'=') {
            return None;
        }
        self.i += 1;
        if s.get(self.i) != Some(&b'"') {
            return Some((name, Some(self.token()?)));
        }
        self.i += 1;
        let start = self.i;
        let (mut escaped, mut bad) = (false, false);
        while let Some(&b) = s.get(self.i) {
            self.i += 1;
            match b {
                // (a bad byte is noted, not returned at once: the element ends outside quotes)
                b'"' if bad => return None,
                b'"' => return Some((name, (!escaped).then_some(&s[start..self.i - 1]))),
                b'\\' => {
                    escaped = true;
                    self.i += 1; // quoted-pair: the next byte is literal
                }
                b'\t' | b' '..=b'~' | 0x80.. => {}
                _ => bad = true,
            }
        }
        None // no closing quote
    }

    /// `token = 1*tchar` (RFC 9110 §5.6.2).
    fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|&b| crate::h1::tables::TCHAR[usize::from(b)]) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    /// After a malformed element: on to the next comma outside a quoted string.
    fn skip_to_comma(&mut self) {
        let mut quoted = false;
        while let Some(&b) = self.s.get(self.i) {
            self.i += 1;
            match b {
                b'\\' if quoted => self.i += 1,
                b'"' => quoted = !quoted,
                b',' if !quoted => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Network;

    fn nets() -> Vec<Network> {
        ["10.0.0.0/8", "fd00::/8"].iter().map(|n| n.parse().unwrap()).collect()
    }

    /// `(headers, peer, client_ip, proto, host)`.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, Option<&'a str>, Option<&'a str>);

    #[test]
    fn forwarding_table() {
        let cases: &[Case] = &[
            (&[], "10.0.0.1", "10.0.0.1", None, None),
            (&[("X-Forwarded-For", "203.0.113.7")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("X-Forwarded-For", "203.0.113.7")], "192.0.2.1", "192.0.2.1", None, None),
            (&[("X-Forwarded-For", "1.1.1.1, 203.0.113.7, 10.0.0.9")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "10.0.0.9")], "10.0.0.1", "1.1.1.1", None, None),
            (&[("X-Forwarded-For", "10.0.0.3, 10.0.0.9")], "10.0.0.1", "10.0.0.3", None, None),
            (&[("X-Forwarded-For", "garbage, 203.0.113.7")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("X-Forwarded-For", "203.0.113.7, garbage")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("X-Forwarded-For", "203.0.113.7:4711")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("X-Forwarded-For", "2001:db8::7")], "10.0.0.1", "2001:db8::7", None, None),
            (&[("X-Forwarded-For", "[2001:db8::7]:4711")], "10.0.0.1", "2001:db8::7", None, None),
            (&[("X-Forwarded-For", "203.0.113.7, ::ffff:10.0.0.5")], "fd00::1", "203.0.113.7", None, None),
            (&[("X-Forwarded-For", ",, 203.0.113.7 ,")], "10.0.0.1", "203.0.113.7", None, None),
            (
                &[
                    ("X-Forwarded-For", "203.0.113.7"),
                    ("X-Forwarded-Proto", "http, https"),
                    ("X-Forwarded-Host", "a.example:8443"),
                ],
                "10.0.0.1",
                "203.0.113.7",
                Some("https"),
                Some("a.example:8443"),
            ),
            (&[("X-Forwarded-Proto", "ht tp"), ("X-Forwarded-Host", "a b")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("X-Forwarded-Proto", "https")], "192.0.2.1", "192.0.2.1", None, None),
            // Forwarded
            (&[("Forwarded", "for=203.0.113.7")], "10.0.0.1", "203.0.113.7", None, None),
            (
                &[("Forwarded", "For=203.0.113.7;Proto=https;Host=example.com")],
                "10.0.0.1",
                "203.0.113.7",
                Some("https"),
                Some("example.com"),
            ),
            (&[("Forwarded", r#"for="[2001:db8:cafe::17]:4711""#)], "10.0.0.1", "2001:db8:cafe::17", None, None),
            (&[("Forwarded", r#"for="203.0.113.7:80";proto="https""#)], "10.0.0.1", "203.0.113.7", Some("https"), None),
            (
                &[("Forwarded", "for=1.1.1.1;proto=http, for=203.0.113.7;proto=https, for=10.0.0.9;proto=http")],
                "10.0.0.1",
                "203.0.113.7",
                Some("https"),
                None,
            ),
            (&[("Forwarded", "for=10.0.0.3;host=first, for=10.0.0.9")], "10.0.0.1", "10.0.0.3", None, Some("first")),
            (&[("Forwarded", "for=unknown;proto=https")], "10.0.0.1", "10.0.0.1", Some("https"), None),
            (&[("Forwarded", "for=_hidden;proto=https, for=10.0.0.9")], "10.0.0.1", "10.0.0.1", Some("https"), None),
            (&[("Forwarded", r#"for="_gazonk:_p0rt""#)], "10.0.0.1", "10.0.0.1", None, None),
            (
                &[("Forwarded", "proto=https;host=example.com")],
                "10.0.0.1",
                "10.0.0.1",
                Some("https"),
                Some("example.com"),
            ),
            (&[("Forwarded", "for=203.0.113.7;by=10.0.0.1;ext=\"a,b;c\"")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("Forwarded", "for=203.0.113.7 ; proto=https")], "10.0.0.1", "203.0.113.7", Some("https"), None),
            // Forwarded wins over X-Forwarded-*
            (
                &[("X-Forwarded-For", "198.51.100.1"), ("Forwarded", "for=203.0.113.7"), ("X-Forwarded-Proto", "http")],
                "10.0.0.1",
                "203.0.113.7",
                None,
                None,
            ),
            // malformed: the peer, no proto or host
            (&[("Forwarded", "for=[::1]")], "10.0.0.1", "10.0.0.1", None, None), // IPv6 must be quoted
            (&[("Forwarded", "for=203.0.113.7;for=198.51.100.1")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("Forwarded", "for=203.0.113.7;proto=https;host=\"a\\\"b\"")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("Forwarded", "for=203.0.113.7 junk")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("Forwarded", "for=\"203.0.113.7")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("Forwarded", "for=999.0.0.1;proto=https")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("Forwarded", "for=203.0.113.7;proto=ht%tp")], "10.0.0.1", "10.0.0.1", None, None),
            (&[("Forwarded", "for=203.0.113.7:99999")], "10.0.0.1", "10.0.0.1", None, None),
            // a client's garbage left of the hop that names it is never looked at
            (&[("Forwarded", "for=\"oops, for=\"x, for=203.0.113.7")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("Forwarded", "for=\"oops, for=203.0.113.7")], "10.0.0.1", "10.0.0.1", None, None), // an open quote
            (
                &[("Forwarded", "for=\"oops"), ("Forwarded", "for=203.0.113.7;proto=https")],
                "10.0.0.1",
                "203.0.113.7",
                Some("https"),
                None,
            ),
            (&[("Forwarded", "garbage!!, for=203.0.113.7")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("Forwarded", "for=\"a,b\"x, for=203.0.113.7")], "10.0.0.1", "203.0.113.7", None, None),
            (&[("Forwarded", "for=203.0.113.7")], "192.0.2.1", "192.0.2.1", None, None),
        ];
        for (n, (headers, peer, ip, proto, host)) in cases.iter().enumerate() {
            let mut r = crate::test::request("GET", "/")
                .remote_addr(SocketAddr::new(peer.parse().unwrap(), 5000))
                .trust_forwarded_from(nets());
            for (name, value) in *headers {
                r = r.header(name, value);
            }
            let resp = r.send(&|req: &Request, resp: &mut crate::Response| {
                resp.write_body(format!("{} {:?} {:?}", req.client_ip(), req.forwarded_proto(), req.forwarded_host()))
            });
            assert_eq!(resp.text(), format!("{ip} {proto:?} {host:?}"), "case {n}: {headers:?} from {peer}");
        }
    }

    #[test]
    fn nothing_is_believed_without_a_trusted_set() {
        let r = crate::test::request("GET", "/")
            .header("X-Forwarded-For", "203.0.113.7")
            .header("Forwarded", "proto=https");
        let got = r.send(&|req: &Request, resp: &mut crate::Response| {
            resp.write_body(format!("{} {:?}", req.client_ip(), req.forwarded_proto()))
        });
        assert_eq!(got.text(), "127.0.0.1 None");
    }
}
