//! Request-target forms (RFC 9112 §3.2) and `uri-host [ ":" port ]` validation for `Host`.
//!
//! Only syntax is checked here; the parser has already limited the target to visible ASCII.

use crate::h1::tables::REG_NAME;

/// The four forms of request-target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetForm {
    /// `/path?query`
    Origin,
    /// `scheme://authority/path?query`; `authority_end` is the index (relative to the target)
    /// where the authority stops and the path starts.
    Absolute { authority_start: u16, authority_end: u16 },
    /// `host:port`, for CONNECT only.
    Authority,
    /// `*`, for OPTIONS (and extension methods that define it).
    Asterisk,
}

/// Classifies a request-target, or `None` if it matches none of the forms.
pub(crate) fn target_form(t: &[u8], connect: bool) -> Option<TargetForm> {
    if connect {
        return is_host_port(t, true).then_some(TargetForm::Authority);
    }
    match t.first()? {
        b'/' => Some(TargetForm::Origin),
        b'*' if t.len() == 1 => Some(TargetForm::Asterisk),
        _ => absolute_form(t),
    }
}

/// `absolute-URI` restricted to hierarchical URIs with an authority: `scheme "://" authority
/// path-abempty [ "?" query ]`. An empty host is refused: "A sender MUST NOT generate an "http"
/// URI with an empty host identifier. A recipient that processes such a URI reference MUST reject
/// it as invalid" (RFC 9110 §4.2.1).
fn absolute_form(t: &[u8]) -> Option<TargetForm> {
    let colon = t.iter().position(|&b| b == b':')?;
    let scheme = &t[..colon];
    if !scheme.first()?.is_ascii_alphabetic()
        || !scheme.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        || !t[colon..].starts_with(b"://")
    {
        return None;
    }
    let a0 = colon + 3;
    let a1 = t[a0..].iter().position(|&b| matches!(b, b'/' | b'?' | b'#')).map_or(t.len(), |p| a0 + p);
    // userinfo is refused: "A sender MUST NOT generate the userinfo subcomponent (and its "@"
    // delimiter) when an "http" or "https" URI reference is generated within a message as a
    // target URI", and a recipient SHOULD treat one as an error (RFC 9110 §4.2.4); it is also
    // how phishing URLs hide their host. '@' is not a host byte, so is_host_port refuses it.
    let auth = &t[a0..a1];
    if !is_host_port(auth, false) || a1 > u16::MAX as usize {
        return None;
    }
    Some(TargetForm::Absolute { authority_start: a0 as u16, authority_end: a1 as u16 })
}

/// `uri-host [ ":" port ]` with a non-empty host (`port_required` for CONNECT's authority-form).
/// `uri-host = IP-literal / IPv4address / reg-name`; IPv4 addresses are a subset of reg-name.
pub(crate) fn is_host_port(v: &[u8], port_required: bool) -> bool {
    let (host, port) = if v.first() == Some(&b'[') {
        let Some(close) = v.iter().position(|&b| b == b']') else { return false };
        let lit = &v[1..close];
        if lit.is_empty() || !lit.iter().all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'v' | b'V')) {
            return false;
        }
        match &v[close + 1..] {
            [] => (&v[..=close], None),
            [b':', p @ ..] => (&v[..=close], Some(p)),
            _ => return false,
        }
    } else {
        // one forward pass: reg-name bytes up to an optional ':'
        let mut i = crate::h1::simd::scan_host(v, 0);
        while i < v.len() {
            let b = v[i];
            if HOST[b as usize] {
                i += 1;
            } else if b == b'%' && i + 2 < v.len() && v[i + 1].is_ascii_hexdigit() && v[i + 2].is_ascii_hexdigit() {
                i += 3;
            } else if b == b':' {
                break;
            } else {
                return false;
            }
        }
        (&v[..i], v.get(i + 1..))
    };
    if host.is_empty() {
        return false;
    }
    match port {
        None => !port_required,
        Some(p) => p.iter().all(u8::is_ascii_digit) && !(port_required && p.is_empty()),
    }
}

/// `reg-name` bytes other than `%` (which needs two hex digits after it).
static HOST: [bool; 256] = {
    let mut t = REG_NAME;
    t[b'%' as usize] = false;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values() {
        for ok in ["localhost", "localhost:8080", "a", "0.0.0.0=5000", "[::1]:80", "[::1]", "h_0.x", "x:", "%41b"] {
            assert!(is_host_port(ok.as_bytes(), false), "{ok}");
        }
        for bad in ["", ":80", "user@host", "host/path", "a b", "h:8o", "[::1", "[]", "x{", "%4", "a, b", "h\u{ff}"] {
            assert!(!is_host_port(bad.as_bytes(), false), "{bad}");
        }
        assert!(!is_host_port(b"example.com", true));
        assert!(is_host_port(b"example.com:443", true));
    }

    #[test]
    fn target_forms() {
        assert_eq!(target_form(b"/a?b", false), Some(TargetForm::Origin));
        assert_eq!(target_form(b"*", false), Some(TargetForm::Asterisk));
        assert_eq!(
            target_form(b"http://h:1/p", false),
            Some(TargetForm::Absolute { authority_start: 7, authority_end: 10 })
        );
        assert!(matches!(target_form(b"http://hypnotoad.org?hail=all", false), Some(TargetForm::Absolute { .. })));
        assert_eq!(target_form(b"http://a%12:b!&*$@hypnotoad.org:1234/toto", false), None, "userinfo");
        assert_eq!(target_form(b"http://user@h/p", false), None, "userinfo");
        assert_eq!(target_form(b"http:///p", false), None);
        assert_eq!(target_form(b"example.com:80", false), None);
        assert_eq!(target_form(b"**", false), None);
        assert_eq!(target_form(b"example.com:443", true), Some(TargetForm::Authority));
        assert_eq!(target_form(b"/x", true), None);
    }
}
