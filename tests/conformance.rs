//! RFC 9112 conformance, one table row per case, grouped by the 40 items of
//! `CHECKLIST-rfc9112.md` (the shared origin-server checklist). Raw bytes go in on a fresh
//! connection; the first response's status and whether the server closed come out.
//!
//! Where Shockwave picks one of two behaviours the RFC allows, the row says which and why.

mod common;

use common::*;
use shockwave::{Request, Response, Server, ServerHandle};
use std::io::{Read, Write};
use std::time::Duration;

/// Echoes what the handler saw: body as the body, the rest in headers.
fn echo(req: &Request, resp: &mut Response) {
    let mut body = Vec::new();
    if req.body_reader().read_to_end(&mut body).is_err() {
        resp.set_status(400);
        resp.close();
        return;
    }
    resp.set_header("X-Method", req.method());
    resp.set_header("X-Target", req.target());
    resp.set_header("X-Version", req.version().as_str());
    resp.set_header("X-Host", req.host().unwrap_or("-"));
    resp.set_header("X-Fields", req.headers().len().to_string());
    match req.path() {
        "/204" => resp.set_status(204),
        "/405" => {
            resp.set_status(405);
            resp.set_header("Allow", "GET, HEAD");
        }
        "/stream" => {
            for _ in 0..10 {
                resp.write_all(&[b's'; 10_000]).unwrap();
            }
            resp.flush().unwrap();
        }
        _ => {}
    }
    resp.write_body(&body);
}

fn server() -> ServerHandle {
    start(Server::builder().pollers(2).workers(8).read_header_timeout(Duration::from_millis(1500)), echo)
}

/// What a case must produce: the first final status (`None`: no response at all), and whether
/// the connection must be closed after it (`None`: either).
struct Case {
    item: u32,
    name: &'static str,
    raw: Vec<u8>,
    status: Option<u16>,
    close: Option<bool>,
}

fn case(item: u32, name: &'static str, raw: impl AsRef<[u8]>, status: Option<u16>, close: Option<bool>) -> Case {
    Case { item, name, raw: raw.as_ref().to_vec(), status, close }
}

/// Accepted and kept open.
fn ok(item: u32, name: &'static str, raw: impl AsRef<[u8]>) -> Case {
    case(item, name, raw, Some(200), Some(false))
}

/// Rejected with `status`, connection closed.
fn rej(item: u32, name: &'static str, raw: impl AsRef<[u8]>, status: u16) -> Case {
    case(item, name, raw, Some(status), Some(true))
}

fn run(cases: Vec<Case>) {
    let s = server();
    let addr = s.local_addr();
    let failures: Vec<String> = std::thread::scope(|sc| {
        let handles: Vec<_> = cases
            .iter()
            .map(|c| {
                sc.spawn(move || {
                    let (rs, closed) = exchange(addr, &c.raw, 1);
                    let got = rs.first().map(|r| r.status);
                    let bad_status = got != c.status;
                    let bad_close = c.close.is_some_and(|want| want != closed);
                    (bad_status || bad_close).then(|| {
                        format!(
                            "item {} {}: want {:?}{}, got {:?}{}",
                            c.item,
                            c.name,
                            c.status,
                            c.close.map_or("", |cl| if cl { " close" } else { " open" }),
                            got,
                            if closed { " close" } else { " open" }
                        )
                    })
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().unwrap()).collect()
    });
    s.shutdown();
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}

const H: &str = "Host: h\r\n";

fn g(rest: &str) -> String {
    format!("GET / HTTP/1.1\r\n{H}{rest}\r\n")
}

fn post(fields: &str, body: &str) -> String {
    format!("POST / HTTP/1.1\r\n{H}{fields}\r\n{body}")
}

#[test]
fn start_line() {
    run(vec![
        // 1. empty lines before the request-line are ignored (SHOULD)
        ok(1, "leading CRLF", format!("\r\nGET / HTTP/1.1\r\n{H}\r\n")),
        ok(1, "several leading CRLF", format!("\r\n\r\n\r\nGET / HTTP/1.1\r\n{H}\r\n")),
        // 2. bare LF: we take the "otherwise reject" branch of the MAY (llhttp strict and
        //    Http11Probe both prefer it; it closes a whole class of parser disagreements)
        rej(2, "bare LF after request-line", format!("GET / HTTP/1.1\n{H}\r\n"), 400),
        rej(2, "bare LF after field", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400),
        rej(2, "LF only", "GET / HTTP/1.1\nHost: h\n\n", 400),
        // 3. bare CR is invalid; a new field never appears from it
        rej(3, "bare CR in request-line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
        rej(3, "bare CR in value", g("X: a\rHost: evil\r\n"), 400),
        rej(3, "bare CR ending head", format!("GET / HTTP/1.1\r\n{H}\rZGET /evil HTTP/1.1\r\n{H}\r\n"), 400),
        // 4. whitespace-led line between request-line and first field
        rej(4, "SP line before fields", format!("GET / HTTP/1.1\r\n \r\n{H}\r\n"), 400),
        rej(4, "SP-led first field", format!("GET / HTTP/1.1\r\n {H}\r\n"), 400),
        // 5. separators other than one SP
        rej(5, "HTAB separator", format!("GET\t/ HTTP/1.1\r\n{H}\r\n"), 400),
        rej(5, "two SP", format!("GET  / HTTP/1.1\r\n{H}\r\n"), 400),
        rej(5, "VT separator", format!("GET\x0b/ HTTP/1.1\r\n{H}\r\n"), 400),
        rej(5, "FF separator", format!("GET /\x0cHTTP/1.1\r\n{H}\r\n"), 400),
        // 6. methods
        rej(6, "method not a token", format!("G=\":<> / HTTP/1.1\r\n{H}\r\n"), 400),
        rej(6, "NUL in method", format!("GE\0T / HTTP/1.1\r\n{H}\r\n"), 400),
        rej(6, "empty method", format!(" / HTTP/1.1\r\n{H}\r\n"), 400),
        rej(6, "unknown method", format!("FOOBAR / HTTP/1.1\r\n{H}\r\n"), 501),
        rej(6, "lower-case method is another method", format!("get / HTTP/1.1\r\n{H}\r\n"), 501),
        rej(6, "unknown method longer than any known", format!("{} / HTTP/1.1\r\n{H}\r\n", "A".repeat(30)), 501),
        // Past 32 bytes a method is treated as garbage: 400 at once, without waiting for the
        // rest of the line (Http11Probe's MAL-LONG-METHOD demands 400 here).
        rej(6, "absurdly long method", format!("{} / HTTP/1.1\r\n{H}\r\n", "A".repeat(1000)), 400),
        ok(6, "registered extension method", format!("PROPFIND / HTTP/1.1\r\n{H}\r\n")),
        ok(6, "QUERY", format!("QUERY / HTTP/1.1\r\n{H}\r\n")),
        // 7. target length
        rej(7, "target over 16 KiB", format!("GET /{} HTTP/1.1\r\n{H}\r\n", "a".repeat(17_000)), 414),
        ok(7, "8000-octet request-line", format!("GET /{} HTTP/1.1\r\n{H}\r\n", "a".repeat(7_985))),
        // 8. bytes a target may not hold
        rej(8, "SP in target", format!("GET /a b HTTP/1.1\r\n{H}\r\n"), 400),
        rej(8, "NUL in target", format!("GET /\0 HTTP/1.1\r\n{H}\r\n"), 400),
        rej(8, "CTL in target", format!("GET /\x01 HTTP/1.1\r\n{H}\r\n"), 400),
        rej(8, "DEL in target", format!("GET /\x7f HTTP/1.1\r\n{H}\r\n"), 400),
        rej(8, "UTF-8 in target", format!("GET /caf\u{e9} HTTP/1.1\r\n{H}\r\n"), 400),
        rej(8, "overlong UTF-8 in target", b"GET /\xc0\xaf HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ok(8, "percent-encoded bytes are fine", format!("GET /a%20b%00 HTTP/1.1\r\n{H}\r\n")),
        ok(8, "quotes and bar (deployed clients send them)", format!("GET /\"q\"?a=| HTTP/1.1\r\n{H}\r\n")),
        // 9. asterisk-form and authority-form
        rej(9, "GET *", format!("GET * HTTP/1.1\r\n{H}\r\n"), 400),
        rej(9, "POST *", format!("POST * HTTP/1.1\r\n{H}\r\n"), 400),
        ok(9, "OPTIONS *", format!("OPTIONS * HTTP/1.1\r\n{H}\r\n")),
        rej(9, "authority-form with GET", format!("GET example.com:80 HTTP/1.1\r\n{H}\r\n"), 400),
        // CONNECT is well-formed but not supported: 501, never a tunnel
        rej(9, "CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501),
        rej(9, "CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", 400),
        // 10. absolute-form
        ok(10, "absolute-form", format!("GET http://example.org/p?q HTTP/1.1\r\n{H}\r\n")),
        rej(10, "absolute-form with empty host", format!("GET http:///p HTTP/1.1\r\n{H}\r\n"), 400),
        // 11. versions
        rej(11, "HTTP/1.32", format!("GET / HTTP/1.32\r\n{H}\r\n"), 400),
        rej(11, "HTTP/1.00", format!("GET / HTTP/1.00\r\n{H}\r\n"), 400),
        rej(11, "HTTP/1", format!("GET / HTTP/1\r\n{H}\r\n"), 400),
        rej(11, "lower-case name", format!("GET / http/1.1\r\n{H}\r\n"), 400),
        rej(11, "CR inside version", format!("GET / HTTP/\r\r1.1\r\n{H}\r\n"), 400),
        rej(11, "huge numbers", format!("GET / HTTP/4294967295.255\r\n{H}\r\n"), 400),
        rej(11, "leading zeros", format!("GET / HTTP/01.1\r\n{H}\r\n"), 400),
        rej(11, "HTTP/2.0", format!("GET / HTTP/2.0\r\n{H}\r\n"), 505),
        rej(11, "HTTP/3.0", format!("GET / HTTP/3.0\r\n{H}\r\n"), 505),
        rej(11, "HTTP/0.9 style request-line", "GET /\r\n\r\n", 400),
        rej(11, "h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        ok(11, "HTTP/1.2 is handled as 1.1", format!("GET / HTTP/1.2\r\n{H}\r\n")),
        rej(11, "other protocol", format!("GET / ICE/1.0\r\n{H}\r\n"), 400),
        // 12. trailing whitespace after the version
        rej(12, "SP after version", format!("GET / HTTP/1.1 \r\n{H}\r\n"), 400),
    ]);
}

#[test]
fn field_lines() {
    run(vec![
        // 13. whitespace between name and colon
        rej(13, "SP before colon", g("Content-Length : 5\r\n"), 400),
        rej(13, "HTAB before colon", g("Foo\t: x\r\n"), 400),
        // 14. obs-fold
        rej(14, "obs-fold SP", g("X: a\r\n b\r\n"), 400),
        rej(14, "obs-fold HTAB", g("X: a\r\n\tb\r\n"), 400),
        rej(14, "fold joining a name", g("Transfer-\r\n Encoding: chunked\r\n"), 400),
        rej(14, "fold into TE", post("Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n", "hello"), 400),
        // 15. names that are not tokens
        rej(15, "SP in name", g("X Y: a\r\n"), 400),
        rej(15, "quote in name", g("X\"Y: a\r\n"), 400),
        rej(15, "backslash in name", g("X\\Y: a\r\n"), 400),
        rej(15, "bracket in name", g("Bad[Name: a\r\n"), 400),
        rej(15, "at in name", g("Fo@: a\r\n"), 400),
        rej(15, "CTL in name", g("Foo\x01: a\r\n"), 400),
        rej(15, "DEL in name", g("Foo\x7f: a\r\n"), 400),
        rej(15, "NUL in name", g("Foo\0: a\r\n"), 400),
        rej(15, "non-ASCII in name", b"GET / HTTP/1.1\r\nHost: h\r\nX-T\xc3\xabst: a\r\n\r\n", 400),
        rej(15, "empty name", g(": a\r\n"), 400),
        // Names that become framing fields when a gateway maps '_' to '-' (Http11Probe NORM-*)
        rej(
            15,
            "Content_Length beside Content-Length",
            post("Content-Length: 11\r\nContent_Length: 99\r\n", "hello world"),
            400,
        ),
        rej(15, "Transfer_Encoding", post("Content-Length: 11\r\nTransfer_Encoding: chunked\r\n", "hello world"), 400),
        ok(15, "other names with underscores are fine", g("X_Custom: 1\r\n")),
        // 16. no colon
        rej(16, "no colon", g("Content-Length 10\r\n"), 400),
        rej(16, "no colon, LF inside", g("Te\nst: a\r\n"), 400),
        // 17. CR, LF, NUL and other CTLs in values
        rej(17, "NUL in value", g("X: a\0b\r\n"), 400),
        rej(17, "bare LF in value", g("X: a\nb\r\n"), 400),
        rej(17, "BEL in value", g("X: abc\x07\r\n"), 400),
        rej(17, "VT in value", g("X: a\x0bb\r\n"), 400),
        rej(17, "FF in value", g("X: \x0c\r\n"), 400),
        rej(17, "DEL in value", g("X: a\x7fb\r\n"), 400),
        ok(17, "HTAB inside a value", g("X: a\tb\r\n")),
        // 18. obs-text is valid; only SP/HTAB are whitespace
        ok(18, "obs-text value", b"GET / HTTP/1.1\r\nHost: h\r\nX: D\xfcsseldorf \xff\r\n\r\n"),
        rej(
            18,
            "NBSP before chunked is not whitespace",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        rej(
            18,
            "NEL after chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x85\r\n\r\n0\r\n\r\n",
            400,
        ),
        // 19. case-insensitive names, empty list elements
        ok(19, "odd-case TE", post("tRANSFER-ENCODING: chunked\r\n", "0\r\n\r\n")),
        ok(19, "empty list elements in TE", post("Transfer-Encoding: ,chunked,\r\n", "0\r\n\r\n")),
        case(19, "close with empty elements", g("Connection: ,close,\r\n"), Some(200), Some(true)),
        // 20. size limits
        rej(20, "one huge field", g(&format!("X: {}\r\n", "v".repeat(40_000))), 431),
        rej(20, "huge name", g(&format!("{}: v\r\n", "N".repeat(40_000))), 431),
        rej(20, "too many fields", g(&(0..150).map(|i| format!("X-{i}: v\r\n")).collect::<String>()), 431),
        ok(20, "99 more fields are fine", g(&(0..99).map(|i| format!("X-{i}: v\r\n")).collect::<String>())),
        // 21. Host required in HTTP/1.1
        rej(21, "no Host", "GET / HTTP/1.1\r\n\r\n", 400),
        rej(21, "no Host with absolute-form", "GET http://h/ HTTP/1.1\r\n\r\n", 400),
        // 22. one valid Host
        rej(22, "two identical Host lines", g("Host: h\r\n"), 400),
        rej(22, "two different Host lines", g("Host: other\r\n"), 400),
        rej(22, "Host list", "GET / HTTP/1.1\r\nHost: h:8080, other\r\n\r\n", 400),
        rej(22, "userinfo in Host", "GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", 400),
        rej(22, "path in Host", "GET / HTTP/1.1\r\nHost: h/p\r\n\r\n", 400),
        rej(22, "CTL in Host", "GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n", 400),
        rej(22, "0xFF in Host", b"GET / HTTP/1.1\r\nHost: h\xff\r\n\r\n", 400),
        rej(22, "brace in Host", "GET / HTTP/1.1\r\nHost: h{\r\n\r\n", 400),
        // An empty Host is syntactically valid, but RFC 9110 §4.2.1: a recipient of an "http"
        // URI with an empty host "MUST reject it as invalid" — the target URI we would build from
        // it is exactly that. So 400 (nginx does the same). With an absolute-form target the
        // authority comes from the target and Host is ignored (§3.2.2): accepted.
        rej(22, "empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", 400),
        ok(22, "empty Host with absolute-form", "GET http://h/a HTTP/1.1\r\nHost: \r\n\r\n"),
        // RFC 9112 §3.2: a fragment is part of no request-target form; RFC 9110 §4.2.4:
        // userinfo in an http target URI is an error
        rej(22, "fragment in target", "GET /a?b#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        rej(22, "userinfo in absolute-form", "GET http://u:p@h/a HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        case(22, "HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", Some(200), Some(true)),
        ok(22, "IPv6 literal Host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
    ]);
}

#[test]
fn message_framing() {
    run(vec![
        // 23. TE and CL together: rejected outright (the safer of the two allowed choices)
        rej(23, "TE + CL", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400),
        rej(23, "CL + TE", post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400),
        rej(23, "TE identity + CL", post("Transfer-Encoding: identity\r\nContent-Length: 5\r\n", "hello"), 400),
        rej(23, "empty TE + CL", post("Transfer-Encoding: \r\nContent-Length: 5\r\n", "hello"), 400),
        // 24. final coding not chunked → 400; unknown coding → 501
        rej(24, "gzip only", post("Transfer-Encoding: gzip\r\n", ""), 400),
        rej(24, "xchunked", post("Transfer-Encoding: xchunked\r\n", ""), 400),
        rej(24, "chunk", post("Transfer-Encoding: chunk\r\n", ""), 400),
        rej(24, "chunked, identity", post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"), 400),
        rej(24, "quoted chunked", post("Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n"), 400),
        rej(
            24,
            "0xFF before chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \xffchunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        rej(24, "chunked, gzip", post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), 400),
        rej(24, "unknown coding before chunked", post("Transfer-Encoding: pigeons, chunked\r\n", "0\r\n\r\n"), 501),
        ok(
            24,
            "registered coding before chunked (body passed on coded)",
            post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
        ),
        // 25. chunked twice
        rej(25, "chunked, chunked", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400),
        rej(
            25,
            "two chunked lines",
            post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        // 26. TE in HTTP/1.0
        rej(26, "HTTP/1.0 + TE", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        // 27. invalid Content-Length
        rej(27, "+5", post("Content-Length: +5\r\n", "hello"), 400),
        rej(27, "-1", post("Content-Length: -1\r\n", ""), 400),
        rej(27, "-0", post("Content-Length: -0\r\n", ""), 400),
        rej(27, "0x10", post("Content-Length: 0x10\r\n", ""), 400),
        rej(27, "5e0", post("Content-Length: 5e0\r\n", "hello"), 400),
        rej(27, "5.0", post("Content-Length: 5.0\r\n", "hello"), 400),
        rej(27, "1 2", post("Content-Length: 1 2\r\n", "hello"), 400),
        rej(27, "1Z", post("Content-Length: 1Z\r\n", "hello"), 400),
        rej(27, "1_0", post("Content-Length: 1_0\r\n", "hello"), 400),
        rej(27, "empty", post("Content-Length: \r\n", ""), 400),
        rej(27, "0, 5", post("Content-Length: 0, 5\r\n", "hello"), 400),
        rej(27, "two differing lines", post("Content-Length: 5\r\nContent-Length: 10\r\n", "hello"), 400),
        rej(27, "past 2^64", post("Content-Length: 99999999999999999999\r\n", ""), 400),
        // identical repeats: the MAY-accept branch, as the single value
        ok(27, "5, 5", post("Content-Length: 5, 5\r\n", "hello")),
        ok(27, "two identical lines", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello")),
        // 28. leading zeros are decimal
        ok(28, "010 is ten", post("Content-Length: 010\r\n", "0123456789")),
        ok(28, "00 is zero", post("Content-Length: 00\r\n", "")),
        // 29. no CL and no TE: no body (see also no_framing_means_no_body)
        ok(29, "POST without framing", post("", "")),
        // 30. fewer body bytes than CL: no response until the rest arrives (see
        //     short_body_then_close_gets_no_response)
        case(30, "short body waits", post("Content-Length: 10\r\n", "hello"), None, Some(false)),
    ]);
}

#[test]
fn chunked_coding() {
    let te = "Transfer-Encoding: chunked\r\n";
    run(vec![
        // 31. chunk-size must be 1*HEXDIG
        rej(31, "empty size", post(te, "\r\nhello\r\n0\r\n\r\n"), 400),
        rej(31, "0x prefix", post(te, "0x5\r\nhello\r\n0\r\n\r\n"), 400),
        rej(31, "plus", post(te, "+5\r\nhello\r\n0\r\n\r\n"), 400),
        rej(31, "minus zero", post(te, "-0\r\n\r\n"), 400),
        rej(31, "underscore", post(te, "0_2e\r\n\r\n"), 400),
        rej(31, "leading SP", post(te, " 5\r\nhello\r\n0\r\n\r\n"), 400),
        rej(31, "trailing SP", post(te, "5 \r\nhello\r\n0\r\n\r\n"), 400),
        rej(31, "garbage after size", post(te, "1Z\r\nA\r\n0\r\n\r\n"), 400),
        rej(31, "CR CR", post(te, "5\r\rhello\r\n0\r\n\r\n"), 400),
        // 32. overflow
        rej(32, "17 hex digits", post(te, "FFFFFFFFFFFFFFFF0\r\nhello\r\n0\r\n\r\n"), 400),
        // 33. CRLF after data, CRLF on every chunk line
        rej(33, "data too long", post(te, "5\r\nhello!!\r\n0\r\n\r\n"), 400),
        rej(33, "missing CRLF after data", post(te, "5\r\nhello0\r\n\r\n"), 400),
        rej(33, "bare LF after data", post(te, "5\r\nhello\n0\r\n\r\n"), 400),
        rej(33, "bare LF after size", post(te, "5\nhello\r\n0\r\n\r\n"), 400),
        rej(33, "bare CR after data", post(te, "5\r\nhello\r0\r\n\r\n"), 400),
        rej(33, "bare LF ending last chunk", post(te, "5\r\nhello\r\n0\n\r\n"), 400),
        rej(33, "bare LF ending trailers", post(te, "5\r\nhello\r\n0\r\n\n"), 400),
        // 34. extensions
        ok(34, "extension", post(te, "5;ext=value\r\nhello\r\n0\r\n\r\n")),
        ok(34, "extension with BWS and quotes", post(te, "5 ; a = \"b;\\\"c\" ; d\r\nhello\r\n0;z\r\n\r\n")),
        rej(34, "lone semicolon", post(te, "5;\r\nhello\r\n0\r\n\r\n"), 400),
        rej(34, "invalid name", post(te, "5;bad[=x\r\nhello\r\n0\r\n\r\n"), 400),
        rej(34, "NUL", post(te, "5;\0ext\r\nhello\r\n0\r\n\r\n"), 400),
        rej(34, "bare CR", post(te, "5;a\rX\r\nhello\r\n0\r\n\r\n"), 400),
        rej(34, "unbalanced quote", post(te, "5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400),
        rej(34, "extension too long", post(te, &format!("5;e={}\r\nhello\r\n0\r\n\r\n", "a".repeat(5000))), 400),
        // 35. trailers validated like fields
        ok(35, "valid trailer", post(te, "5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n")),
        rej(35, "trailer without colon", post(te, "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"), 400),
        rej(35, "obs-fold in trailers", post(te, "5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n"), 400),
        rej(35, "NUL in trailer", post(te, "5\r\nhello\r\n0\r\nX: a\0\r\n\r\n"), 400),
        rej(
            35,
            "trailer section over 16 KiB",
            post(te, &format!("5\r\nhello\r\n0\r\n{}\r\n", "X-T: abcdefghij\r\n".repeat(1100))),
            431,
        ),
        case(35, "EOF-less truncated chunked body waits", post(te, "5\r\nhello\r\n"), None, Some(false)),
    ]);
}

#[test]
fn connection_handling_and_responses() {
    run(vec![
        // 36. Connection: close / HTTP/1.0
        case(36, "close", g("Connection: close\r\n"), Some(200), Some(true)),
        case(
            36,
            "close with junk after",
            format!("{}GET /x HTTP/1.1\r\n{H}\r\n", g("Connection: close\r\n")),
            Some(200),
            Some(true),
        ),
        case(36, "HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", Some(200), Some(true)),
        ok(36, "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        // 38. expectations
        rej(38, "unknown expectation", g("Expect: 200-ok\r\n"), 417),
        ok(
            38,
            "100-continue with the body already sent",
            post("Expect: 100-continue\r\nContent-Length: 5\r\n", "hello"),
        ),
        // 39. upgrades are ignored, never 101
        ok(
            39,
            "websocket upgrade",
            g("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n"),
        ),
        ok(39, "upgrade without Connection: upgrade", g("Upgrade: websocket\r\n")),
        case(
            39,
            "upgrade on HTTP/1.0",
            "GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            Some(200),
            Some(true),
        ),
        ok(
            39,
            "h2c upgrade",
            g("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"),
        ),
    ]);
}

/// 10: the authority of an absolute-form target wins over Host.
#[test]
fn absolute_form_overrides_host() {
    let s = server();
    let (rs, _) = exchange(s.local_addr(), b"GET http://example.org:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n", 1);
    assert_eq!(rs[0].header("x-host"), Some("example.org:81"));
    assert_eq!(rs[0].header("x-target"), Some("http://example.org:81/p?q"));
    s.shutdown();
}

/// 18: obs-text reaches the handler untouched.
#[test]
fn obs_text_is_kept_intact() {
    let s = start_default(|req: &Request, resp: &mut Response| resp.write_body(req.header_bytes("x").unwrap_or(b"-")));
    let (rs, _) = exchange(s.local_addr(), b"GET / HTTP/1.1\r\nHost: h\r\nX:  D\xfcsseldorf\xa0\xff \r\n\r\n", 1);
    assert_eq!(rs[0].body, b"D\xfcsseldorf\xa0\xff");
    s.shutdown();
}

/// 29: without CL and TE the body is empty and the next bytes are the next request.
#[test]
fn no_framing_means_no_body() {
    let s = server();
    let (rs, _) =
        exchange(s.local_addr(), format!("POST /a HTTP/1.1\r\n{H}\r\nGET /b HTTP/1.1\r\n{H}\r\n").as_bytes(), 2);
    assert_eq!(rs.iter().map(|r| r.header("x-target").unwrap().to_string()).collect::<Vec<_>>(), ["/a", "/b"]);
    assert!(rs[0].body.is_empty());
    s.shutdown();
}

/// 30 and 35: a message cut short by the client is never handed on as complete.
#[test]
fn short_body_then_close_gets_no_response() {
    let s = server();
    for raw in [
        post("Content-Length: 10\r\n", "hello"),
        post("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n"),
        post("Transfer-Encoding: chunked\r\n", "5\r\nhel"),
    ] {
        let mut c = Client::connect(s.local_addr());
        c.send(raw.as_bytes());
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(c.read_response_within(false, Duration::from_millis(500)).is_none(), "{raw:?}");
        assert!(c.closed_within(Duration::from_secs(2)));
    }
    assert_eq!(s.stats().requests, 0);
    s.shutdown();
}

/// 31: after a bad chunk size nothing more is parsed, so nothing can be smuggled.
#[test]
fn nothing_is_parsed_after_a_chunk_error() {
    let s = server();
    let raw = format!("POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5 garbage\r\nhello\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n{H}\r\n");
    let (rs, closed) = exchange(s.local_addr(), raw.as_bytes(), 2);
    assert_eq!((rs.len(), rs[0].status, closed), (1, 400, true));
    s.shutdown();
}

/// 35: trailer fields never change framing or routing.
#[test]
fn trailers_do_not_change_framing() {
    let s = server();
    let raw = format!(
        "POST /t HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 50\r\nHost: evil\r\nTransfer-Encoding: gzip\r\n\r\nGET /next HTTP/1.1\r\n{H}\r\n"
    );
    let (rs, _) = exchange(s.local_addr(), raw.as_bytes(), 2);
    assert_eq!(rs.len(), 2);
    assert_eq!((rs[0].body.as_slice(), rs[0].header("x-host")), (&b"hello"[..], Some("h")));
    assert_eq!(rs[1].header("x-target"), Some("/next"));
    s.shutdown();
}

/// 37: pipelined requests in order; a framing error stops parsing after the good ones.
#[test]
fn pipelining_order_and_error_stop() {
    let s = server();
    let mut raw = String::new();
    for i in 0..5 {
        raw += &format!("GET /{i} HTTP/1.1\r\n{H}\r\n");
    }
    raw += &format!("GET /bad HTTP/1.1\r\n{H}X : y\r\n\r\nGET /never HTTP/1.1\r\n{H}\r\n");
    let (rs, closed) = exchange(s.local_addr(), raw.as_bytes(), 10);
    let got: Vec<(u16, Option<&str>)> = rs.iter().map(|r| (r.status, r.header("x-target"))).collect();
    assert_eq!(
        got,
        [(200, Some("/0")), (200, Some("/1")), (200, Some("/2")), (200, Some("/3")), (200, Some("/4")), (400, None)]
    );
    assert!(closed);
    s.shutdown();
}

/// 38: `100 Continue` only for HTTP/1.1 clients that wait for it.
#[test]
fn continue_only_for_http11() {
    let s = server();
    let mut c = Client::connect(s.local_addr());
    c.send(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert!(c.read_response_within(false, Duration::from_millis(300)).is_none(), "no 100 for HTTP/1.0");
    c.send(b"hello");
    assert_eq!(c.read_response().status, 200);
    s.shutdown();
}

/// 40: what the server itself puts on responses.
#[test]
fn response_rules() {
    let s = server();
    let a = s.local_addr();
    // HEAD: no body
    let mut c = Client::connect(a);
    c.send(format!("HEAD / HTTP/1.1\r\n{H}\r\nGET /after HTTP/1.1\r\n{H}\r\n").as_bytes());
    let r = c.read_response_within(true, Duration::from_secs(5)).unwrap();
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(c.read_response().header("x-target"), Some("/after"));
    // 204: no Content-Length, no body
    let (rs, _) = exchange(a, format!("GET /204 HTTP/1.1\r\n{H}\r\n").as_bytes(), 1);
    assert_eq!((rs[0].status, rs[0].header("content-length"), rs[0].header("transfer-encoding")), (204, None, None));
    // no Transfer-Encoding to an HTTP/1.0 client: the streamed body ends with the connection
    let (rs, closed) = exchange(a, b"GET /stream HTTP/1.0\r\n\r\n", 1);
    assert_eq!((rs[0].header("transfer-encoding"), rs[0].body.len(), closed), (None, 100_000, true));
    // Date on every response, including the server's own errors
    let (rs, _) = exchange(a, &get("/"), 1);
    assert!(rs[0].header("date").is_some());
    let (rs, _) = exchange(a, b"GET / HTTP/1.1\r\n\r\n", 1);
    assert!(rs[0].header("date").is_some());
    // 405 carries the handler's Allow (the server never sends 405 itself)
    let (rs, _) = exchange(a, format!("GET /405 HTTP/1.1\r\n{H}\r\n").as_bytes(), 1);
    assert_eq!(rs[0].header("allow"), Some("GET, HEAD"));
    s.shutdown();
}
