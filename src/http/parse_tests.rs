//! Table-driven tests of the head parser: raw bytes in, status (or completion) out.

use super::*;
use crate::http::head::Framing;

const H: &str = "Host: h\r\n";

#[derive(Debug, PartialEq)]
enum Out {
    Ok,
    Partial,
    Err(u16),
}

fn parse(raw: &[u8]) -> (Out, Option<Head>, Vec<Field>) {
    let mut f = Vec::new();
    match parse_head(raw, 0, &Limits::default(), &mut f) {
        Ok(Some(h)) => (Out::Ok, Some(h), f),
        Ok(None) => (Out::Partial, None, f),
        Err(e) => (Out::Err(e.status), None, f),
    }
}

fn status(raw: &str) -> Out {
    parse(raw.as_bytes()).0
}

#[test]
fn request_lines() {
    let cases: &[(&str, Out)] = &[
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("GET / HTTP/1.0\r\n\r\n", Out::Ok),
        ("GET / HTTP/1.9\r\nHost: h\r\n\r\n", Out::Ok),
        ("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("GET http://example.com/a?b HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("GET /with_\"lovely\"_quotes?foo=\\\"bar\\\" HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        ("GET /test.cgi?query=| HTTP/1.1\r\nHost: h\r\n\r\n", Out::Ok),
        // RFC 9112 §3.2: no request-target form has a fragment
        ("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET /a?q#frag HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        // RFC 9110 §4.2.4: userinfo in an http(s) target URI is an error
        ("GET http://user:pw@h/a HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        // malformed
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET /\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/01.01\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/ 1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.32\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1\rHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / ICE/1.0\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET /\x00 HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET /caf\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET * HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("G=\":<> / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        (" GET / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(400)),
        ("   \r\n\r\n", Out::Err(400)),
        ("\r\rGET / HTTP/1.1\r\n", Out::Err(400)),
        // status codes other than 400
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", Out::Err(505)),
        ("GET / HTTP/9.9\r\nHost: h\r\n\r\n", Out::Err(505)),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Out::Err(505)),
        ("FOOBAR / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(501)),
        ("get / HTTP/1.1\r\nHost: h\r\n\r\n", Out::Err(501)),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", Out::Err(501)),
        // incomplete
        ("", Out::Partial),
        ("\r\n", Out::Partial),
        ("GET", Out::Partial),
        ("GET /", Out::Partial),
        ("GET / HTTP/1.", Out::Partial),
        ("GET / HTTP/1.1\r\nHost: h\r\n", Out::Partial),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r", Out::Partial),
        ("GET / HTTP/1.1\r\nHost: h\r", Out::Partial),
        ("GET / HTTP/1.1\r\nHo", Out::Partial),
    ];
    for (raw, want) in cases {
        assert_eq!(&status(raw), want, "{raw:?}");
    }
}

#[test]
fn field_lines() {
    let cases: &[(&str, Out)] = &[
        ("X: a b\tc\r\n", Out::Ok),
        ("X:\r\n", Out::Ok),
        ("X: D\u{fc}sseldorf\r\n", Out::Ok),
        ("X: \u{ff}Value2\r\n", Out::Ok),
        ("Connection: close\t\r\n", Out::Ok),
        ("aaaaaaaaaaaaa:++++++++++\r\n", Out::Ok),
        // malformed
        ("X : a\r\n", Out::Err(400)),
        ("X\t: a\r\n", Out::Err(400)),
        (": a\r\n", Out::Err(400)),
        ("NoColon\r\n", Out::Err(400)),
        ("Bad[Name: a\r\n", Out::Err(400)),
        ("Fo@: a\r\n", Out::Err(400)),
        ("X-T\u{eb}st: a\r\n", Out::Err(400)),
        ("X: a\r\n folded\r\n", Out::Err(400)),
        ("X: a\r\n\tfolded\r\n", Out::Err(400)),
        ("X: a\x00b\r\n", Out::Err(400)),
        ("X: a\rb\r\n", Out::Err(400)),
        ("X: a\nY: b\r\n", Out::Err(400)),
        ("X: abc\x07\x08?f\r\n", Out::Err(400)),
        ("X: \x0c\r\n", Out::Err(400)),
        ("X: a\x7fb\r\n", Out::Err(400)),
        ("Content\rLength: 003\r\n", Out::Err(400)),
        ("Transfer-Encoding: \x0bchunked\r\n", Out::Err(400)),
        ("Transfer-Encoding: chunked\x00\r\n", Out::Err(400)),
        ("Transfer-Encoding: \u{a0}chunked\r\n", Out::Err(400)),
    ];
    for (field, want) in cases {
        let raw = format!("GET / HTTP/1.1\r\n{H}{field}\r\n");
        assert_eq!(&status(&raw), want, "{field:?}");
    }
}

#[test]
fn whitespace_line_after_request_line_is_rejected() {
    assert_eq!(status("GET / HTTP/1.1\r\n \r\nHost: h\r\n\r\n"), Out::Err(400));
    assert_eq!(status("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), Out::Err(400));
}

#[test]
fn host_rules() {
    let cases: &[(&str, Out)] = &[
        ("GET / HTTP/1.1\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.0\r\n\r\n", Out::Ok),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", Out::Err(400)),
        // an empty Host: valid only where the target carries the authority
        ("GET / HTTP/1.1\r\nHost: \r\n\r\n", Out::Err(400)),
        ("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", Out::Err(400)),
        ("GET http://h/a HTTP/1.1\r\nHost: \r\n\r\n", Out::Ok),
        ("GET http://h/a HTTP/1.1\r\nHost: \r\nHost: h\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1\r\nHost: h/p\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1\r\nHost: h:8080, other\r\n\r\n", Out::Err(400)),
        ("GET / HTTP/1.1\r\nhOsT: h:8080\r\n\r\n", Out::Ok),
        ("GET http://x/ HTTP/1.1\r\n\r\n", Out::Err(400)),
    ];
    for (raw, want) in cases {
        assert_eq!(&status(raw), want, "{raw:?}");
    }
}

#[test]
fn framing_and_flags() {
    let (_, h, _) = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    let h = h.unwrap();
    assert_eq!(h.framing, Framing::Length(5));
    assert_eq!(h.end, 47);
    assert!(h.keep_alive());

    let (_, h, _) = parse(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    let h = h.unwrap();
    assert_eq!(h.framing, Framing::Chunked);
    assert!(!h.keep_alive());

    let (_, h, _) = parse(b"GET / HTTP/1.0\r\n\r\n");
    assert!(!h.unwrap().keep_alive());
    let (_, h, _) = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let h = h.unwrap();
    assert!(h.keep_alive() && h.has(Head::KEEP_ALIVE_10));

    let (_, h, _) = parse(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert!(h.unwrap().has(Head::EXPECT_CONTINUE));
    let (_, h, _) = parse(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert!(!h.unwrap().has(Head::EXPECT_CONTINUE));
    assert_eq!(status("GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"), Out::Err(417));
}

#[test]
fn fields_are_recorded_as_positions() {
    let raw = b"GET /p?q HTTP/1.1\r\nHost: example\r\nX-A:  one two \t\r\nx-b:\r\n\r\n";
    let (_, h, f) = parse(raw);
    let h = h.unwrap();
    assert_eq!(h.method.of(raw), b"GET");
    assert_eq!(h.target.of(raw), b"/p?q");
    assert_eq!(h.host.unwrap().of(raw), b"example");
    let got: Vec<(&[u8], &[u8])> = f.iter().map(|f| (f.name.of(raw), f.value.of(raw))).collect();
    assert_eq!(got, vec![(&b"Host"[..], &b"example"[..]), (b"X-A", b"one two"), (b"x-b", b"")]);
}

#[test]
fn limits_give_414_and_431() {
    let lim = Limits { max_head: 1024, max_target: 100, max_fields: 3, allow_unknown_methods: false };
    let run = |raw: &str| {
        let mut f = Vec::new();
        match parse_head(raw.as_bytes(), 0, &lim, &mut f) {
            Ok(Some(_)) => 200,
            Ok(None) => 0,
            Err(e) => e.status,
        }
    };
    let long = "a".repeat(101);
    assert_eq!(run(&format!("GET /{long} HTTP/1.1\r\nHost: h\r\n\r\n")), 414);
    assert_eq!(run(&format!("GET /{long}")), 414);
    assert_eq!(run(&format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(98))), 200);
    assert_eq!(run("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431);
    assert_eq!(run(&format!("GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n", "v".repeat(1100))), 431);
    assert_eq!(run(&format!("GET / HTTP/1.1\r\nHost: h\r\nX: {}", "v".repeat(1100))), 431);
    assert_eq!(run(&format!("{} / HTTP/1.1\r\n", "A".repeat(200))), 400);
}

#[test]
fn unknown_methods_pass_when_allowed() {
    let lim = Limits { allow_unknown_methods: true, ..Limits::default() };
    let mut f = Vec::new();
    assert!(parse_head(b"FOOBAR / HTTP/1.1\r\nHost: h\r\n\r\n", 0, &lim, &mut f).unwrap().is_some());
}

#[test]
fn partial_and_failed_parses_leave_no_fields_behind() {
    let mut f = Vec::new();
    assert!(parse_head(b"GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n", 0, &Limits::default(), &mut f).unwrap().is_none());
    assert!(f.is_empty());
    assert!(parse_head(b"GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n", 0, &Limits::default(), &mut f).is_err());
    assert!(f.is_empty());
}

#[test]
fn parsing_starts_at_an_offset_for_pipelined_requests() {
    let raw = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut f = Vec::new();
    let a = parse_head(raw, 0, &Limits::default(), &mut f).unwrap().unwrap();
    let b = parse_head(raw, a.end as usize, &Limits::default(), &mut f).unwrap().unwrap();
    assert_eq!(b.target.of(raw), b"/b");
    assert_eq!(b.fields, (1, 2));
    assert_eq!(b.end as usize, raw.len());
}
