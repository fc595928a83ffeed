//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3): which of the codings we offer a request
//! accepts, by q-value and then by our order of preference.
//!
//! Pure and allocation-free: the header's elements are scanned once and only the q-values of
//! the names we care about (our codings, `identity`, `*`) are kept.

use super::Coding;

/// q-values are kept in thousandths: `q=0.5` is 500, no `q` is 1000.
type Q = u16;

/// What a request accepts, for each name we care about: `None` when the name is not listed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Accepted {
    /// Indexed by `Coding as usize`.
    codings: [Option<Q>; 3],
    identity: Option<Q>,
    star: Option<Q>,
}

impl Accepted {
    /// Reads every `Accept-Encoding` line (`values`, as a request's `header_all` gives them).
    /// Elements that are not `token [; params]` with a valid `q` are skipped, as if absent.
    pub(crate) fn parse<'a>(values: impl Iterator<Item = &'a [u8]>) -> Accepted {
        let mut a = Accepted::default();
        for value in values {
            for element in value.split(|&b| b == b',') {
                let mut parts = element.split(|&b| b == b';');
                let name = parts.next().unwrap_or_default().trim_ascii();
                if name.is_empty() {
                    continue;
                }
                let mut q = Some(1000);
                for p in parts {
                    let p = p.trim_ascii();
                    if p.len() >= 2 && p[..2].eq_ignore_ascii_case(b"q=") {
                        q = qvalue(p[2..].trim_ascii());
                    }
                }
                let Some(q) = q else { continue };
                let slot = if name == b"*" {
                    &mut a.star
                } else if name.eq_ignore_ascii_case(b"identity") {
                    &mut a.identity
                } else if let Some(c) = Coding::ALL.iter().find(|c| c.matches(name)) {
                    &mut a.codings[*c as usize]
                } else {
                    continue;
                };
                // a name listed twice: the first one counts (as Go's and nginx's parsers do)
                slot.get_or_insert(q);
            }
        }
        a
    }

    /// The q-value of `c`: its own, else the wildcard's, else 0 (not listed: not acceptable).
    fn q(&self, c: Coding) -> Q {
        self.codings[c as usize].or(self.star).unwrap_or(0)
    }

    /// The q-value of `identity` when the request gives one (its own, else the wildcard's).
    /// Unlisted, identity is acceptable (RFC 9110 §12.5.3) but never preferred to a coding
    /// listed with a low q: `gzip;q=0.5` still means "gzip, please".
    fn q_identity(&self) -> Option<Q> {
        self.identity.or(self.star)
    }

    /// The coding to send, of `offered` (most preferred first): the one with the highest
    /// q-value above 0, ties going to the earlier one; `None` (identity) when none is
    /// acceptable or identity has a higher q-value than every coding we offer.
    ///
    /// When identity is refused too (`identity;q=0` or `*;q=0` with nothing else), this is
    /// still `None`: the body goes out uncompressed rather than as a 406, as nginx, Apache and
    /// tower-http do; a client refusing everything would rather get the bytes than an error.
    pub(crate) fn choose(&self, offered: &[Coding]) -> Option<Coding> {
        let mut best: Option<(Coding, Q)> = None;
        for &c in offered {
            let q = self.q(c);
            if q > 0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((c, q));
            }
        }
        best.filter(|&(_, q)| self.q_identity().is_none_or(|i| q >= i)).map(|(c, _)| c)
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths; `None` if
/// it does not match.
fn qvalue(v: &[u8]) -> Option<Q> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut milli: Q = 0;
    for (i, &d) in frac.iter().enumerate() {
        milli += Q::from(d - b'0') * [100, 10, 1][i];
    }
    match int {
        b"0" => Some(milli),
        b"1" if milli == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Coding::{Brotli as Br, Deflate, Gzip};

    const ALL: &[Coding] = &[Br, Gzip, Deflate];

    fn choose(header: &str, offered: &[Coding]) -> Option<Coding> {
        Accepted::parse(std::iter::once(header.as_bytes())).choose(offered)
    }

    #[test]
    fn negotiation_table() {
        let table: &[(&str, &[Coding], Option<Coding>)] = &[
            ("", ALL, None),
            ("gzip", ALL, Some(Gzip)),
            ("gzip, deflate, br", ALL, Some(Br)),
            ("gzip, deflate, br", &[Gzip, Br], Some(Gzip)), // our order breaks ties
            ("br;q=0.5, gzip", ALL, Some(Gzip)),            // q before our order
            ("gzip;q=0, deflate", ALL, Some(Deflate)),
            ("gzip;q=0", ALL, None),
            ("*", ALL, Some(Br)),
            ("*;q=0", ALL, None),
            ("*;q=0, gzip", ALL, Some(Gzip)),
            ("*, br;q=0", ALL, Some(Gzip)),
            ("identity", ALL, None),
            ("identity;q=0", ALL, None), // refused, but nothing better: identity anyway
            ("identity;q=0, gzip;q=0.1", ALL, Some(Gzip)),
            ("gzip;q=0.5, identity", ALL, None), // identity preferred
            ("gzip;q=0.5, identity;q=0.5", ALL, Some(Gzip)),
            ("GZIP", ALL, Some(Gzip)),
            ("x-gzip", ALL, Some(Gzip)),
            ("  gzip ;  Q=0.8 ,br;q=0.9  ", ALL, Some(Br)),
            ("gzip;q=1.0", ALL, Some(Gzip)),
            ("gzip;q=0.001", ALL, Some(Gzip)),
            ("gzip;q=1.5, deflate", ALL, Some(Deflate)), // invalid q: element skipped
            ("gzip;q=0.0001, deflate", ALL, Some(Deflate)),
            ("gzip;q=abc", ALL, None),
            ("gzip;q=", ALL, None),
            (",,, ;q=1, gzip", ALL, Some(Gzip)),
            ("compress, zstd", ALL, None),
            ("gzip;level=9", ALL, Some(Gzip)),   // other parameters ignored
            ("gzip, gzip;q=0", ALL, Some(Gzip)), // the first listing counts
            ("gzip\u{0}garbage", ALL, None),
            ("br", &[Gzip], None), // only what we offer
            ("gzip", &[], None),
        ];
        for &(header, offered, want) in table {
            assert_eq!(choose(header, offered), want, "Accept-Encoding: {header:?}, offered {offered:?}");
        }
    }

    #[test]
    fn several_lines_are_one_list() {
        let a = Accepted::parse([&b"gzip;q=0.2"[..], b"br;q=0.4"].into_iter());
        assert_eq!(a.choose(ALL), Some(Br));
    }

    #[test]
    fn qvalues() {
        for (v, q) in
            [("0", Some(0)), ("1", Some(1000)), ("0.5", Some(500)), ("0.25", Some(250)), ("1.000", Some(1000))]
        {
            assert_eq!(qvalue(v.as_bytes()), q, "{v}");
        }
        for v in ["", ".", "2", "1.1", "0.1234", "-0", "0.5x", "01"] {
            assert_eq!(qvalue(v.as_bytes()), None, "{v}");
        }
    }
}
