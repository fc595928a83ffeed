//! Status codes: reason phrases and precompiled status lines for every registered code
//! (IANA HTTP Status Code Registry, RFC 9110 §15).

macro_rules! statuses {
    ($($code:literal $reason:literal,)*) => {
        /// The registered reason phrase of `code`.
        pub(crate) fn reason(code: u16) -> Option<&'static str> {
            match code {
                $($code => Some($reason),)*
                _ => None,
            }
        }
        /// `HTTP/1.1 <code> <reason>\r\n` for registered codes.
        pub(crate) fn line(code: u16) -> Option<&'static [u8]> {
            match code {
                $($code => Some(concat!("HTTP/1.1 ", stringify!($code), " ", $reason, "\r\n").as_bytes()),)*
                _ => None,
            }
        }
    };
}

statuses! {
    100 "Continue",
    101 "Switching Protocols",
    102 "Processing",
    103 "Early Hints",
    200 "OK",
    201 "Created",
    202 "Accepted",
    203 "Non-Authoritative Information",
    204 "No Content",
    205 "Reset Content",
    206 "Partial Content",
    207 "Multi-Status",
    208 "Already Reported",
    226 "IM Used",
    300 "Multiple Choices",
    301 "Moved Permanently",
    302 "Found",
    303 "See Other",
    304 "Not Modified",
    305 "Use Proxy",
    307 "Temporary Redirect",
    308 "Permanent Redirect",
    400 "Bad Request",
    401 "Unauthorized",
    402 "Payment Required",
    403 "Forbidden",
    404 "Not Found",
    405 "Method Not Allowed",
    406 "Not Acceptable",
    407 "Proxy Authentication Required",
    408 "Request Timeout",
    409 "Conflict",
    410 "Gone",
    411 "Length Required",
    412 "Precondition Failed",
    413 "Content Too Large",
    414 "URI Too Long",
    415 "Unsupported Media Type",
    416 "Range Not Satisfiable",
    417 "Expectation Failed",
    421 "Misdirected Request",
    422 "Unprocessable Content",
    423 "Locked",
    424 "Failed Dependency",
    425 "Too Early",
    426 "Upgrade Required",
    428 "Precondition Required",
    429 "Too Many Requests",
    431 "Request Header Fields Too Large",
    451 "Unavailable For Legal Reasons",
    500 "Internal Server Error",
    501 "Not Implemented",
    502 "Bad Gateway",
    503 "Service Unavailable",
    504 "Gateway Timeout",
    505 "HTTP Version Not Supported",
    506 "Variant Also Negotiates",
    507 "Insufficient Storage",
    508 "Loop Detected",
    510 "Not Extended",
    511 "Network Authentication Required",
}

/// Writes the status line of any code in 100..=999, with `reason` or the registered phrase
/// (an empty phrase for unregistered codes: `reason-phrase` may be empty, RFC 9112 §4).
pub(crate) fn write_line(out: &mut Vec<u8>, code: u16, custom: Option<&str>) {
    match (custom, line(code)) {
        (None, Some(l)) => out.extend_from_slice(l),
        _ => {
            out.extend_from_slice(b"HTTP/1.1 ");
            crate::h1::fmt::push_u64(out, code as u64);
            out.push(b' ');
            out.extend_from_slice(custom.or(reason(code)).unwrap_or("").as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line(200), Some(&b"HTTP/1.1 200 OK\r\n"[..]));
        assert_eq!(line(413), Some(&b"HTTP/1.1 413 Content Too Large\r\n"[..]));
        assert_eq!(line(299), None);
        let mut v = Vec::new();
        write_line(&mut v, 299, None);
        write_line(&mut v, 200, Some("Fine"));
        assert_eq!(v, b"HTTP/1.1 299 \r\nHTTP/1.1 200 Fine\r\n");
    }
}
