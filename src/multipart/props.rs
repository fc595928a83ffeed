//! Property tests of the streaming parser.
//!
//! 1. Random forms (random boundary, preamble, padding, names with quotes and backslashes,
//!    fields and files whose data is dense in CRs, LFs, dashes and delimiter prefixes) encoded
//!    and parsed back from a reader that returns at most `k` bytes per read, into reads of
//!    `out` bytes, must round-trip exactly.
//! 2. On mutated bodies the answer (the parts, or the error's status and message) must not
//!    depend on how the reader splits the body.

use super::tests::{parse, Got};
use super::Limits;
use memchr::memmem;
use proptest::prelude::*;

/// A piece of part data: bytes likely to confuse a delimiter search.
#[derive(Clone, Debug)]
enum Piece {
    Byte(u8),
    Crlf,
    Dashes,
    /// The first `n` bytes of the delimiter (never all of it).
    Prefix(usize),
    /// The boundary without the CRLF before it.
    Bare,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => any::<u8>().prop_map(Piece::Byte),
        2 => Just(Piece::Crlf),
        1 => Just(Piece::Dashes),
        2 => (1usize..80).prop_map(Piece::Prefix),
        1 => Just(Piece::Bare),
    ]
}

fn build(pieces: &[Piece], delim: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in pieces {
        match p {
            Piece::Byte(b) => v.push(*b),
            Piece::Crlf => v.extend_from_slice(b"\r\n"),
            Piece::Dashes => v.extend_from_slice(b"--"),
            Piece::Prefix(n) => v.extend_from_slice(&delim[..n % delim.len()]),
            Piece::Bare => v.extend_from_slice(&delim[2..]),
        }
    }
    v
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Vec<Piece>,
}

fn field() -> impl Strategy<Value = Field> {
    (
        "[a-zA-Z0-9 _.\"\\\\é-]{0,12}",
        proptest::option::of("[a-zA-Z0-9 _.\"\\\\é-]{0,12}"),
        proptest::option::of("[a-z]{1,8}/[a-z0-9.+-]{1,12}"),
        proptest::collection::vec(piece(), 0..120),
    )
        .prop_map(|(name, filename, content_type, data)| Field { name, filename, content_type, data })
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// Breaks every delimiter in `data` as it will be framed, between a CRLF (that ends the part's
/// headers) and the delimiter after it, as an encoder must (RFC 2046 §5.1.1): a clash at `p`
/// covers `data[p..]` from the delimiter's first dash (a boundary has no CR, so a delimiter
/// cannot begin before the framing CRLF's end or reach into the delimiter after it).
fn defuse(mut data: Vec<u8>, delim: &[u8]) -> Vec<u8> {
    loop {
        let framed = [b"\r\n", &data[..], delim].concat();
        match memmem::find(&framed, delim) {
            Some(p) if p < data.len() => data[p] = b'x',
            _ => return data,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_forms_round_trip(
        boundary in "[A-Za-z0-9'()+_,./:=?-]{0,69}[A-Za-z0-9]",
        preamble in proptest::collection::vec(piece(), 0..20),
        pads in proptest::collection::vec("[ \t]{0,3}", 8),
        fields in proptest::collection::vec(field(), 0..6),
        epilogue in proptest::collection::vec(any::<u8>(), 0..20),
        k in prop_oneof![1usize..8, 8usize..200, Just(usize::MAX)],
        out in prop_oneof![1usize..8, 8usize..10_000],
    ) {
        let delim = [b"\r\n--", boundary.as_bytes()].concat();
        let preamble = defuse(build(&preamble, &delim), &delim);
        let mut body = preamble.clone();
        if !body.is_empty() {
            body.extend_from_slice(b"\r\n");
        }
        let mut want: Vec<Got> = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let data = defuse(build(&f.data, &delim), &delim);
            body.extend_from_slice(format!("--{boundary}{}\r\n", pads[i]).as_bytes());
            body.extend_from_slice(format!("Content-Disposition: form-data; name={}", quote(&f.name)).as_bytes());
            if let Some(name) = &f.filename {
                body.extend_from_slice(format!("; filename={}", quote(name)).as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            if let Some(ct) = &f.content_type {
                body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&data);
            body.extend_from_slice(b"\r\n");
            want.push((f.name.clone(), f.filename.clone(), f.content_type.clone(), data));
        }
        body.extend_from_slice(format!("--{boundary}--{}", pads[7]).as_bytes());
        body.extend_from_slice(&epilogue);

        let got = parse(&body, &boundary, Limits::default(), k, out);
        prop_assert_eq!(got.map_err(|e| e.to_string()), Ok(want));
    }

    #[test]
    fn mutated_forms_parse_alike_in_any_pieces(
        fields in proptest::collection::vec(field(), 1..4),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        k in 1usize..40,
        small in any::<bool>(),
    ) {
        let boundary = "AaB03x";
        let delim = [b"\r\n--", boundary.as_bytes()].concat();
        let mut body = Vec::new();
        for f in &fields {
            let cd = format!("--{boundary}\r\nContent-Disposition: form-data; name={}", quote(&f.name));
            body.extend_from_slice(cd.as_bytes());
            if let Some(name) = &f.filename {
                body.extend_from_slice(format!("; filename={}", quote(name)).as_bytes());
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(&build(&f.data, &delim));
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--").as_bytes());
        for (at, byte, op) in edits {
            let i = at.index(body.len());
            match op {
                0 => body[i] = byte,
                1 => {
                    body.remove(i);
                }
                _ => body.insert(i, byte),
            }
        }
        let limits = if small {
            let l = Limits::default().max_parts(2).max_part_header_bytes(60);
            l.max_field_bytes(40).max_file_bytes(50).max_total_bytes(300)
        } else {
            Limits::default()
        };
        let whole = parse(&body, boundary, limits, usize::MAX, 1 << 16).map_err(|e| (e.status(), e.to_string()));
        let pieces = parse(&body, boundary, limits, k, 3).map_err(|e| (e.status(), e.to_string()));
        prop_assert_eq!(pieces, whole);
    }
}
