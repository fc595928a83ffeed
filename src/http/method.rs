//! Request methods: which tokens the server knows, and which of them RFC 9110 defines.
//!
//! Any `token` is a syntactically valid method, but an origin server "SHOULD respond with 501"
//! to a method it does not recognise (RFC 9110 §9.1). Shockwave recognises the IANA HTTP Method
//! Registry plus the widely deployed extension methods below; anything else gets 501 before the
//! handler runs, unless the server was built with `allow_unknown_methods(true)`.

/// What the server needs to know about a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MethodKind {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    /// Registered or widely deployed extension method (WebDAV, QUERY, SSDP, PURGE, ...).
    Extension,
    /// A valid token the server does not recognise.
    Unknown,
}

impl MethodKind {
    /// Methods whose RFC 9110 semantics act on a resource: they can never take the
    /// asterisk-form target `*`, which "is only used for a server-wide OPTIONS request"
    /// (RFC 9112 §3.2.4). Extension methods define their own targets (SSDP's `M-SEARCH *`).
    pub(crate) fn forbids_asterisk(self) -> bool {
        !matches!(self, MethodKind::Options | MethodKind::Extension | MethodKind::Unknown)
    }
}

/// Classifies a method token (case-sensitive, RFC 9110 §9.1).
pub(crate) fn classify(m: &[u8]) -> MethodKind {
    use MethodKind::*;
    match m {
        b"GET" => Get,
        b"HEAD" => Head,
        b"POST" => Post,
        b"PUT" => Put,
        b"DELETE" => Delete,
        b"CONNECT" => Connect,
        b"OPTIONS" => Options,
        b"TRACE" => Trace,
        b"PATCH" => Patch,
        // IANA HTTP Method Registry (2024), minus the ones above and "*" and PRI (HTTP/2's
        // preface, answered 505 by its version).
        b"ACL" | b"BASELINE-CONTROL" | b"BIND" | b"CHECKIN" | b"CHECKOUT" | b"COPY" | b"LABEL" | b"LINK" | b"LOCK"
        | b"MERGE" | b"MKACTIVITY" | b"MKCALENDAR" | b"MKCOL" | b"MKREDIRECTREF" | b"MKWORKSPACE" | b"MOVE"
        | b"ORDERPATCH" | b"PROPFIND" | b"PROPPATCH" | b"QUERY" | b"REBIND" | b"REPORT" | b"SEARCH" | b"UNBIND"
        | b"UNCHECKOUT" | b"UNLINK" | b"UNLOCK" | b"UPDATE" | b"UPDATEREDIRECTREF" | b"VERSION-CONTROL" => Extension,
        // Unregistered but widely deployed: cache purging (Varnish, Squid, nginx), UPnP
        // SSDP/GENA, Icecast.
        b"PURGE" | b"M-SEARCH" | b"NOTIFY" | b"SUBSCRIBE" | b"UNSUBSCRIBE" | b"SOURCE" => Extension,
        _ => Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(classify(b"GET"), MethodKind::Get);
        assert_eq!(classify(b"get"), MethodKind::Unknown);
        assert_eq!(classify(b"MKCOLA"), MethodKind::Unknown);
        assert_eq!(classify(b"M-SEARCH"), MethodKind::Extension);
    }

    #[test]
    fn only_options_and_extensions_take_an_asterisk() {
        assert!(!MethodKind::Options.forbids_asterisk());
        assert!(!MethodKind::Extension.forbids_asterisk());
        assert!(MethodKind::Get.forbids_asterisk());
        assert!(MethodKind::Post.forbids_asterisk());
    }
}
