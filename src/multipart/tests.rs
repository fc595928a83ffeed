//! Table-driven tests: well-formed bodies and the parts they give, every malformation (400) and
//! every limit (413), each read in pieces of many sizes, plus the 50 MB streaming test.

use super::{boundary, Limits, Multipart, MultipartError, BUF_SIZE};
use std::io::{self, Read};

/// A reader that hands out at most `k` bytes per read.
pub(super) struct Trickle<'a> {
    pub(super) data: &'a [u8],
    pub(super) k: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.k.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// One part as parsed: name, filename, content type, body.
pub(super) type Got = (String, Option<String>, Option<String>, Vec<u8>);

/// The `MultipartError` inside an `io::Error` from `Part::read`.
fn unwrap_io(e: io::Error) -> MultipartError {
    match e.into_inner().map(|inner| inner.downcast::<MultipartError>()) {
        Some(Ok(e)) => *e,
        other => panic!("not a MultipartError: {other:?}"),
    }
}

/// Parses `body` fed `k` bytes per read, reading each part `out` bytes at a time.
pub(super) fn parse(body: &[u8], b: &str, limits: Limits, k: usize, out: usize) -> Result<Vec<Got>, MultipartError> {
    let mut form = Multipart::new(Trickle { data: body, k }, b, limits)?;
    let mut parts = Vec::new();
    let mut buf = vec![0; out];
    while let Some(mut part) = form.next_part()? {
        let name = part.name().unwrap().to_owned();
        let (filename, ct) = (part.filename().map(str::to_owned), part.content_type().map(str::to_owned));
        let mut data = Vec::new();
        loop {
            match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(e) => return Err(unwrap_io(e)),
            }
        }
        parts.push((name, filename, ct, data));
    }
    Ok(parts)
}

/// Parses `body` in every combination of read sizes; all must agree, and the answer is returned.
fn parse_all_ways(body: &[u8], b: &str, limits: Limits) -> Result<Vec<Got>, (u16, String)> {
    let whole = parse(body, b, limits, usize::MAX, 64 * 1024).map_err(|e| (e.status(), e.to_string()));
    for k in [1, 2, 3, 5, 13, 64, 8190] {
        for out in [1, 7, 4096] {
            let got = parse(body, b, limits, k, out).map_err(|e| (e.status(), e.to_string()));
            assert_eq!(
                got,
                whole,
                "reads of {k} bytes into {out} differ from one read, for {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
    whole
}

const B: &str = "AaB03x";

type Want<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

#[test]
fn well_formed_bodies() {
    let cases: &[(&str, &[u8], &[Want])] = &[
        (
            "simple form",
            b"--AaB03x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
              --AaB03x\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n22\r\n--AaB03x--\r\n",
            &[("a", None, None, b"1"), ("b", None, None, b"22")],
        ),
        (
            "file and field",
            b"--AaB03x\r\nContent-Disposition: form-data; name=\"submit-name\"\r\n\r\nLarry\r\n\
              --AaB03x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"file1.txt\"\r\n\
              Content-Type: text/plain\r\n\r\n... contents of file1.txt ...\r\n--AaB03x--\r\n",
            &[
                ("submit-name", None, None, b"Larry"),
                ("files", Some("file1.txt"), Some("text/plain"), b"... contents of file1.txt ..."),
            ],
        ),
        (
            "quoted names with escapes, and a token",
            b"--AaB03x\r\nContent-Disposition: form-data; name=\"a\\\"b\\\\c\"; filename=\"C:\\\\x\\\\y.txt\"\r\n\r\n\
              x\r\n--AaB03x\r\nContent-Disposition: form-data; name=plain\r\n\r\ny\r\n--AaB03x--",
            &[("a\"b\\c", Some("C:\\x\\y.txt"), None, b"x"), ("plain", None, None, b"y")],
        ),
        (
            "filename* preferred, ISO-8859-1, unknown charset falls back",
            b"--AaB03x\r\nContent-Disposition: form-data; name=f; filename=\"fallback.txt\"; \
              filename*=UTF-8''na%C3%AFve%20file.txt\r\n\r\n1\r\n\
              --AaB03x\r\nContent-Disposition: form-data; name=g; filename*=iso-8859-1'en'%E9t%E9\r\n\r\n2\r\n\
              --AaB03x\r\nContent-Disposition: form-data; name=h; filename*=koi8-r''%C1; filename=h.txt\r\n\r\n\
              3\r\n--AaB03x--",
            &[
                ("f", Some("naïve file.txt"), None, b"1"),
                ("g", Some("été"), None, b"2"),
                ("h", Some("h.txt"), None, b"3"),
            ],
        ),
        (
            "preamble and epilogue ignored",
            b"This is the preamble.\r\n--AaB03x\r\nContent-Disposition: form-data; name=a\r\n\r\n\
              1\r\n--AaB03x--\r\nThis is the epilogue.\r\n--AaB03x\r\nnot a part",
            &[("a", None, None, b"1")],
        ),
        (
            "an empty line as the preamble",
            b"\r\n--AaB03x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--AaB03x--",
            &[("a", None, None, b"1")],
        ),
        (
            "transport padding after the boundary",
            b"--AaB03x \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--AaB03x\t\r\n\
              Content-Disposition: form-data; name=b\r\n\r\n2\r\n--AaB03x--  \r\n",
            &[("a", None, None, b"1"), ("b", None, None, b"2")],
        ),
        (
            "CRLF inside file data",
            b"--AaB03x\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n\r\n\r\nline\r\n\r\n-\r\n--\r\n\
              \r\n--AaB03x--",
            &[("f", Some("a"), None, b"\r\n\r\nline\r\n\r\n-\r\n--\r\n")],
        ),
        (
            "the boundary in data without a CRLF before it",
            b"--AaB03x\r\nContent-Disposition: form-data; name=f\r\n\r\nx--AaB03x--y\n--AaB03x\r--AaB03x \
              \r\n-AaB03x\r\n--AaB03\r\n--AaB0\r\r\n--AaB03x--",
            &[("f", None, None, b"x--AaB03x--y\n--AaB03x\r--AaB03x \r\n-AaB03x\r\n--AaB03\r\n--AaB0\r")],
        ),
        (
            "empty bodies, with and without the CRLF before the delimiter",
            b"--AaB03x\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n\
              --AaB03x\r\nContent-Disposition: form-data; name=b\r\n\r\n--AaB03x\r\n\
              Content-Disposition: form-data; name=c; filename=\"\"\r\n\r\n--AaB03x--",
            &[("a", None, None, b""), ("b", None, None, b""), ("c", Some(""), None, b"")],
        ),
        ("no parts", b"--AaB03x--", &[]),
        (
            "header names and parameters case-insensitive; spaces around ; and =",
            b"--AaB03x\r\nCONTENT-DISPOSITION: Form-Data ; NAME = \"x\" ; FileName=y.bin ;\r\n\
              content-type:application/octet-stream\r\nX-Other:  v  \r\n\r\n\x00\xff\r\n--AaB03x--",
            &[("x", Some("y.bin"), Some("application/octet-stream"), b"\x00\xff")],
        ),
        (
            "UTF-8 sent raw in quoted names",
            "--AaB03x\r\nContent-Disposition: form-data; name=\"prénom\"; filename=\"résumé.pdf\"\r\n\r\n\
             é\r\n--AaB03x--"
                .as_bytes(),
            &[("prénom", Some("résumé.pdf"), None, "é".as_bytes())],
        ),
    ];
    for (what, body, want) in cases {
        let got = parse_all_ways(body, B, Limits::default()).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let want: Vec<Got> = want
            .iter()
            .map(|(n, f, c, d)| (n.to_string(), f.map(str::to_owned), c.map(str::to_owned), d.to_vec()))
            .collect();
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn malformed_bodies_are_400() {
    let ended = "multipart body ended before the closing boundary";
    // `CD:` stands for `Content-Disposition: form-data;`
    let cases: &[(&str, &[u8], &str)] = &[
        ("empty body", b"", ended),
        ("only a preamble", b"hello\r\n--", ended),
        ("ends after the boundary", b"--b", ended),
        ("ends after one dash", b"--b-", ended),
        ("ends in headers", b"--b\r\nCD: name=a\r\n", ended),
        ("ends in a body", b"--b\r\nCD: name=a\r\n\r\nabc\r\n-", ended),
        ("ends without the close", b"--b\r\nCD: name=a\r\n\r\nabc\r\n", ended),
        ("junk after the boundary", b"--bjunk\r\n", "unexpected bytes after a boundary"),
        ("one dash then junk", b"--b-x\r\n", "unexpected bytes after a boundary"),
        ("bare LF after the boundary", b"--b\nCD: name=a\r\n\r\n", "unexpected bytes"),
        ("a longer boundary", b"--b\r\nCD: name=a\r\n\r\n\r\n--by\r\n", "unexpected bytes"),
        ("obs-fold", b"--b\r\nCD:\r\n name=a\r\n\r\n", "obs-fold"),
        ("NUL in a header", b"--b\r\nCD: name=\"a\0\"\r\n\r\n", "NUL"),
        ("no name", b"--b\r\nCD: filename=a\r\n\r\n", "has no `name`"),
        ("no Content-Disposition", b"--b\r\nContent-Type: text/plain\r\n\r\n", "no Content-Disposition"),
        ("no headers at all", b"--b\r\n\r\n\r\n--b--", "no Content-Disposition"),
        ("not form-data", b"--b\r\nContent-Disposition: attachment; name=a\r\n\r\n", "not \"form-data\""),
        (
            "two Content-Dispositions",
            b"--b\r\nCD: name=a\r\ncontent-disposition: form-data; name=b\r\n\r\n",
            "two Content-Disposition",
        ),
        (
            "two Content-Types",
            b"--b\r\nCD: name=a\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n",
            "two Content-Type",
        ),
        ("name twice", b"--b\r\nCD: name=a; NAME=b\r\n\r\n", "`name` twice"),
        ("no colon", b"--b\r\nContent-Disposition form-data\r\n\r\n", "no `:`"),
        ("space before the colon", b"--b\r\nContent-Disposition : form-data; name=a\r\n\r\n", "invalid name"),
        ("empty header name", b"--b\r\n: x\r\nCD: name=a\r\n\r\n", "invalid name"),
        ("bare CR in a value", b"--b\r\nCD: name=a\rb\r\n\r\n", "control character"),
        ("bare LF in a value", b"--b\r\nCD: name=a\nb\r\n\r\n", "control character"),
        ("unterminated quote", b"--b\r\nCD: name=\"a\r\n\r\n", "not `; name=value`"),
        ("junk after a quote", b"--b\r\nCD: name=\"a\"b\r\n\r\n", "not `; name=value`"),
        ("no value", b"--b\r\nCD: name=\r\n\r\n", "not `; name=value`"),
        ("bad percent in filename*", b"--b\r\nCD: name=a; filename*=UTF-8''%zz\r\n\r\n", "RFC 5987"),
        ("short percent in filename*", b"--b\r\nCD: name=a; filename*=UTF-8''%e\r\n\r\n", "RFC 5987"),
        ("filename* without quotes", b"--b\r\nCD: name=a; filename*=x.txt\r\n\r\n", "RFC 5987"),
        ("filename* not UTF-8", b"--b\r\nCD: name=a; filename*=utf-8''%E2%82\r\n\r\n", "not valid UTF-8"),
        ("filename* with NUL", b"--b\r\nCD: name=a; filename*=utf-8''a%00\r\n\r\n", "control character"),
        ("headers not UTF-8", b"--b\r\nCD: name=\"\xff\"\r\n\r\n", "not valid UTF-8"),
        (
            "headers into the next boundary",
            b"--b\r\nCD: name=a\r\n--b\r\nCD: name=b\r\n\r\n",
            "run into the next boundary",
        ),
    ];
    for (what, body, msg) in cases {
        let body = memchr::memmem::find_iter(body, b"CD:").fold(body.to_vec(), |mut v, at| {
            let at = v.len() - body.len() + at; // earlier expansions moved it
            v.splice(at..at + 3, b"Content-Disposition: form-data;".iter().copied());
            v
        });
        let err = parse_all_ways(&body, "b", Limits::default()).expect_err(what);
        assert_eq!(err.0, 400, "{what}: {}", err.1);
        assert!(err.1.contains(msg), "{what}: {:?} lacks {msg:?}", err.1);
    }
}

#[test]
fn limits_are_413_and_exact_limits_pass() {
    let two = b"--AaB03x\r\nContent-Disposition: form-data; name=a\r\n\r\n0123456789\r\n\
                --AaB03x\r\nContent-Disposition: form-data; name=f; filename=f.txt\r\n\r\n0123456789ab\r\n--AaB03x--";
    let l = Limits::default;
    let cases: &[(&str, Limits, &str)] = &[
        ("max_parts", l().max_parts(1), "more than max_parts (1) parts"),
        ("max_part_header_bytes", l().max_part_header_bytes(30), "max_part_header_bytes (30 bytes)"),
        ("max_field_bytes", l().max_field_bytes(9), "the form field \"a\" is larger than max_field_bytes (9 bytes)"),
        (
            "max_file_bytes",
            l().max_file_bytes(11),
            "the file \"f.txt\" of form field \"f\" is larger than max_file_bytes (11 bytes)",
        ),
        ("max_total_bytes", l().max_total_bytes(two.len() as u64 - 3), "larger than max_total_bytes"),
    ];
    for (what, limits, msg) in cases {
        let err = parse_all_ways(two, B, *limits).expect_err(what);
        assert_eq!(err, (413, err.1.clone()), "{what}");
        assert!(err.1.contains(msg), "{what}: {:?} lacks {msg:?}", err.1);
    }
    let head = "\r\nContent-Disposition: form-data; name=f; filename=f.txt\r\n\r\n".len() - 2;
    let exact = l()
        .max_parts(2)
        .max_part_header_bytes(head)
        .max_field_bytes(10)
        .max_file_bytes(12)
        .max_total_bytes(two.len() as u64);
    assert_eq!(parse_all_ways(two, B, exact).unwrap().len(), 2);
    // the limit of a zero-length body
    assert_eq!(parse_all_ways(b"--AaB03x--", B, l().max_total_bytes(10)).unwrap(), vec![]);
    assert_eq!(parse_all_ways(b"--AaB03x--", B, l().max_total_bytes(9)).unwrap_err().0, 413);
}

#[test]
fn limit_errors_become_file_too_large() {
    let body = &b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n0123456789\r\n--b--"[..];
    let mut form = Multipart::new(body, "b", Limits::default().max_field_bytes(4)).unwrap();
    let mut part = form.next_part().unwrap().unwrap();
    let err = part.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    // the error is sticky: the body cannot be parsed further
    let again = form.next_part().unwrap_err();
    assert_eq!(again.status(), 413);
}

#[test]
fn text_checks_size_and_utf8_without_failing_the_body() {
    let body = b"--b\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n0123456789\r\n\
                 --b\r\nContent-Disposition: form-data; name=g\r\n\r\n\xff\r\n\
                 --b\r\nContent-Disposition: form-data; name=h\r\n\r\nok\r\n--b--";
    let mut form = Multipart::new(&body[..], "b", Limits::default().max_field_bytes(5)).unwrap();
    let err = form.next_part().unwrap().unwrap().text().unwrap_err();
    assert_eq!((err.status(), err.to_string().contains("to read as text")), (413, true));
    let err = form.next_part().unwrap().unwrap().text().unwrap_err();
    assert_eq!(err.to_string(), "the form field \"g\" is not valid UTF-8");
    assert_eq!(err.status(), 400);
    assert_eq!(form.next_part().unwrap().unwrap().text().unwrap(), "ok");
}

#[test]
fn unread_parts_are_skipped() {
    let body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n0123456789\r\n\
                 --b\r\nContent-Disposition: form-data; name=b\r\n\r\nxyz\r\n--b--";
    for k in [1, 3, usize::MAX] {
        let mut form = Multipart::new(Trickle { data: body, k }, "b", Limits::default()).unwrap();
        let mut part = form.next_part().unwrap().unwrap();
        let mut two = [0; 2];
        part.read_exact(&mut two).unwrap(); // read a little, leave the rest
        assert_eq!(&two, b"01");
        assert_eq!(form.next_part().unwrap().unwrap().name(), Some("b"));
        assert!(form.next_part().unwrap().is_none());
        assert!(form.next_part().unwrap().is_none(), "None again after the close");
    }
}

#[test]
fn headers_in_order() {
    let body = b"--b\r\nContent-Disposition: form-data; name=a; filename=x\r\nContent-Type: text/csv\r\n\
                 X-Custom:\tv 1 \t\r\n\r\n\r\n--b--";
    let mut form = Multipart::new(&body[..], "b", Limits::default()).unwrap();
    let part = form.next_part().unwrap().unwrap();
    let headers: Vec<_> = part.headers().collect();
    assert_eq!(
        headers,
        [("Content-Disposition", "form-data; name=a; filename=x"), ("Content-Type", "text/csv"), ("X-Custom", "v 1")]
    );
    assert_eq!(format!("{part:?}"), "Part { name: \"a\", filename: Some(\"x\"), content_type: Some(\"text/csv\") }");
}

#[test]
fn read_errors_are_kept() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::TimedOut, "socket timed out"))
        }
    }
    let mut form = Multipart::new(Broken, "b", Limits::default()).unwrap();
    let err = form.next_part().unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(err.to_string(), "reading the multipart body failed: socket timed out");
    let source = std::error::Error::source(&err).unwrap().downcast_ref::<io::Error>().unwrap();
    assert_eq!(source.kind(), io::ErrorKind::TimedOut);
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::TimedOut);
    assert_eq!(form.next_part().unwrap_err().status(), 400, "sticky");
}

#[test]
fn interrupted_reads_are_retried() {
    struct Flaky<'a>(&'a [u8], bool);
    impl Read for Flaky<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = out.len().min(self.0.len()).min(4);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nhello\r\n--b--";
    let mut form = Multipart::new(Flaky(body, false), "b", Limits::default()).unwrap();
    assert_eq!(form.next_part().unwrap().unwrap().text().unwrap(), "hello");
}

#[test]
fn boundaries_are_checked() {
    let long = "x".repeat(71);
    for bad in ["", long.as_str(), "ends with space ", "quote\"", "é", "semi;colon", "tab\t"] {
        let err = Multipart::new(&b""[..], bad, Limits::default()).unwrap_err();
        assert_eq!(err.status(), 400, "{bad:?}");
        assert!(err.to_string().contains("RFC 2046"), "{err}");
    }
    for good in ["x".repeat(70).as_str(), "'()+_,-./:=? a", "----WebKitFormBoundary7MA4YWxkTrZu0gW"] {
        Multipart::new(&b""[..], good, Limits::default()).unwrap();
    }
}

#[test]
fn boundary_from_content_type() {
    let cases: &[(&str, Option<&str>)] = &[
        ("multipart/form-data; boundary=AaB03x", Some("AaB03x")),
        ("multipart/form-data; boundary=\"AaB03x\"", Some("AaB03x")),
        ("MULTIPART/FORM-DATA;BOUNDARY=x", Some("x")),
        ("  multipart/form-data ; charset=utf-8 ; boundary = \"a b:c\" ", Some("a b:c")),
        ("multipart/form-data; boundary==_Part_1_2.3", Some("=_Part_1_2.3")),
        ("multipart/form-data; boundary=\"\\q\"", None),
        ("multipart/form-data; boundary=a; boundary=b", None),
        ("multipart/form-data", None),
        ("multipart/form-data; charset=utf-8", None),
        ("multipart/mixed; boundary=a", None),
        ("text/plain; boundary=a", None),
        ("multipart/form-data-x; boundary=a", None),
        ("multipart/form-data; boundary", None),
        ("multipart/form-data; boundary=\"a", None),
        ("multipart/form-data boundary=a", None),
        ("", None),
    ];
    for (ct, want) in cases {
        assert_eq!(boundary(ct), *want, "{ct:?}");
    }
}

/// A body with one 50 MB file, made as it is read: its data is full of CRs, LFs, dashes and
/// delimiter prefixes, so the parser holds bytes back often.
struct BigUpload {
    head: &'static [u8],
    tail: &'static [u8],
    pos: u64,
    size: u64,
}

const PATTERN: &[u8] = b"\r\n--AaB03\r\n-\r\n--AaB03y\r--AaB03x0123456789abcdef\r\n\r\n-";

impl BigUpload {
    fn byte(i: u64) -> u8 {
        PATTERN[(i % PATTERN.len() as u64) as usize]
    }
}

impl Read for BigUpload {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let (h, t) = (self.head.len() as u64, self.tail.len() as u64);
        let mut n = 0;
        while n < out.len() && self.pos < h + self.size + t {
            let p = self.pos;
            out[n] = if p < h {
                self.head[p as usize]
            } else if p < h + self.size {
                Self::byte(p - h)
            } else {
                self.tail[(p - h - self.size) as usize]
            };
            n += 1;
            self.pos += 1;
        }
        Ok(n)
    }
}

#[test]
fn a_50_mb_file_streams_in_bounded_memory() {
    let size = 50_000_000;
    let upload = BigUpload {
        head: b"--AaB03x\r\nContent-Disposition: form-data; name=f; filename=big.bin\r\n\r\n",
        tail: b"\r\n--AaB03x--\r\n",
        pos: 0,
        size,
    };
    let mut form = Multipart::new(upload, B, Limits::default()).unwrap();
    let bound = BUF_SIZE + B.len() + 6;
    let mut part = form.next_part().unwrap().unwrap();
    let (mut seen, mut buf, mut largest) = (0u64, vec![0; 64 * 1024], 0);
    loop {
        let n = part.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        largest = largest.max(n);
        for (i, &b) in buf[..n].iter().enumerate() {
            assert_eq!(b, BigUpload::byte(seen + i as u64), "byte {}", seen + i as u64);
        }
        seen += n as u64;
    }
    assert_eq!(seen, size);
    assert!(largest <= bound, "a read handed out {largest} bytes");
    assert!(form.next_part().unwrap().is_none());
    assert!(form.buffer_len() <= bound, "buffer of {} bytes", form.buffer_len());
    assert!(form.head.take_buffer().capacity() <= 8 * 1024 + 2);
}
