//! [`ProxyHeader`]: what a load balancer said about a connection in its PROXY protocol header
//! (HAProxy's `send-proxy` / `send-proxy-v2`, nginx's `proxy_protocol`, AWS NLB), as the
//! handler reads it through [`Request::proxy`](crate::Request::proxy).
//!
//! The parser is in `parse.rs`; the server consumes the header before the first request head
//! (`server/input.rs`) when [`Builder::proxy_protocol`](crate::Builder::proxy_protocol) is on.
//! One header per connection, allocated once per connection, shared by its requests.
//!
//! Invariant: `tlvs` is a well-formed sequence of v2 type-length-value records (checked by
//! the parser), so walking it never runs past its end.

pub(crate) mod parse;

use std::net::SocketAddr;

/// `PP2_TYPE_ALPN`: the application protocol the client negotiated (e.g. `h2`, `http/1.1`).
const TLV_ALPN: u8 = 0x01;
/// `PP2_TYPE_AUTHORITY`: the host name the client asked for (TLS SNI).
const TLV_AUTHORITY: u8 = 0x02;
/// `PP2_TYPE_UNIQUE_ID`: an opaque connection id of up to 128 bytes (HAProxy's `unique-id`).
const TLV_UNIQUE_ID: u8 = 0x05;

/// The PROXY protocol header a connection began with (v1 text or v2 binary).
///
/// The server reads it when [`Builder::proxy_protocol`](crate::Builder::proxy_protocol) is on
/// and hands it to every request of the connection through [`Request::proxy`](crate::Request::proxy).
/// [`Request::remote_addr`](crate::Request::remote_addr) is already its [`source`](Self::source)
/// when it has one.
///
/// ```
/// use std::io::{Read, Write};
/// let handle = shockwave::Server::builder()
///     .proxy_protocol(true)
///     .bind("127.0.0.1:0")?
///     .start(|req, resp| {
///         let p = req.proxy().expect("a PROXY listener always has one");
///         resp.write_body(format!("v{} from {:?} to {:?}", p.version(), p.source(), p.destination()));
///     })?;
/// let mut c = std::net::TcpStream::connect(handle.local_addr())?;
/// c.write_all(b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// let mut answer = String::new();
/// c.read_to_string(&mut answer)?;
/// assert!(answer.ends_with("v1 from Some(203.0.113.7:41000) to Some(192.0.2.1:443)"), "{answer}");
/// handle.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyHeader {
    version: u8,
    source: Option<SocketAddr>,
    destination: Option<SocketAddr>,
    /// v2 TLV records, as received (empty for v1).
    tlvs: Box<[u8]>,
}

impl ProxyHeader {
    /// `1` for the text header (`PROXY TCP4 …\r\n`), `2` for the binary one.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let handle = shockwave::Server::builder().proxy_protocol(true).bind("127.0.0.1:0")?
    /// #     .start(|req, resp| resp.write_body(req.proxy().unwrap().version().to_string()))?;
    /// # let mut c = std::net::TcpStream::connect(handle.local_addr())?;
    /// c.write_all(b"PROXY UNKNOWN\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// # let mut answer = String::new();
    /// # c.read_to_string(&mut answer)?;
    /// assert!(answer.ends_with("\r\n\r\n1"), "{answer}");
    /// # handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The client's address as the proxy saw it: `None` for a v2 `LOCAL` header (a health
    /// check from the proxy itself), a v1 `UNKNOWN` one, or a v2 one whose addresses are not
    /// IP (`AF_UNSPEC`, `AF_UNIX`). Then the socket's peer stands for the client.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let handle = shockwave::Server::builder().proxy_protocol(true).bind("127.0.0.1:0")?
    /// #     .start(|req, resp| resp.write_body(format!("{:?}", req.proxy().unwrap().source())))?;
    /// # let mut c = std::net::TcpStream::connect(handle.local_addr())?;
    /// c.write_all(b"PROXY TCP6 2001:db8::7 2001:db8::1 41000 443\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// # let mut answer = String::new();
    /// # c.read_to_string(&mut answer)?;
    /// assert!(answer.ends_with("Some([2001:db8::7]:41000)"), "{answer}");
    /// # handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn source(&self) -> Option<SocketAddr> {
        self.source
    }

    /// The address the client connected to (the proxy's listening address), when
    /// [`source`](Self::source) is known.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let handle = shockwave::Server::builder().proxy_protocol(true).bind("127.0.0.1:0")?
    /// #     .start(|req, resp| resp.write_body(format!("{:?}", req.proxy().unwrap().destination())))?;
    /// # let mut c = std::net::TcpStream::connect(handle.local_addr())?;
    /// c.write_all(b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// # let mut answer = String::new();
    /// # c.read_to_string(&mut answer)?;
    /// assert!(answer.ends_with("Some(192.0.2.1:443)"), "{answer}");
    /// # handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn destination(&self) -> Option<SocketAddr> {
        self.destination
    }

    /// The value of the first v2 TLV of type `kind`, if the header has one (`None` for v1).
    /// The types are listed in the PROXY protocol specification (§2.2): `0x01` ALPN, `0x02`
    /// authority, `0x03` CRC32C, `0x04` NOOP, `0x05` unique id, `0x20` SSL, `0x30` netns,
    /// `0xE0`–`0xEF` custom (AWS uses `0xEA` for the VPC endpoint id). The CRC32C checksum is
    /// not verified: the header comes from a proxy the configuration trusts, over TCP.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # let handle = shockwave::Server::builder().proxy_protocol(true).bind("127.0.0.1:0")?
    /// #     .start(|req, resp| resp.write_body(req.proxy().unwrap().tlv(0xEA).unwrap_or(b"none")))?;
    /// // v2, PROXY, TCP over IPv4, 12 address bytes + a custom TLV 0xEA holding "vpce-1"
    /// let mut h = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x15".to_vec();
    /// h.extend_from_slice(&[203, 0, 113, 7, 192, 0, 2, 1, 0xa0, 0x28, 0x01, 0xbb]);
    /// h.extend_from_slice(b"\xea\x00\x06vpce-1");
    /// h.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    /// # let mut c = std::net::TcpStream::connect(handle.local_addr())?;
    /// c.write_all(&h)?;
    /// # let mut answer = String::new();
    /// # c.read_to_string(&mut answer)?;
    /// assert!(answer.ends_with("vpce-1"), "{answer}");
    /// # handle.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tlv(&self, kind: u8) -> Option<&[u8]> {
        self.tlvs().find(|&(k, _)| k == kind).map(|(_, v)| v)
    }

    /// Every v2 TLV as `(type, value)`, in the order received.
    ///
    /// ```
    /// fn show(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     for (kind, value) in req.proxy().into_iter().flat_map(|p| p.tlvs()) {
    ///         resp.write_body(format!("{kind:#04x}: {} bytes\n", value.len()));
    ///     }
    /// }
    /// # let _ = show;
    /// ```
    pub fn tlvs(&self) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        let mut rest = &self.tlvs[..];
        std::iter::from_fn(move || {
            let (kind, len) = parse::tlv_head(rest)?;
            let value = rest.get(3..3 + len)?;
            rest = &rest[3 + len..];
            Some((kind, value))
        })
    }

    /// The ALPN protocol the client negotiated with the proxy (`PP2_TYPE_ALPN`), e.g. `h2`.
    ///
    /// ```
    /// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     let alpn = req.proxy().and_then(|p| p.alpn()).unwrap_or(b"none");
    ///     resp.write_body(alpn);
    /// }
    /// # let _ = handler;
    /// ```
    pub fn alpn(&self) -> Option<&[u8]> {
        self.tlv(TLV_ALPN)
    }

    /// The host name the client asked the proxy for (`PP2_TYPE_AUTHORITY`, the TLS SNI), if
    /// sent and valid UTF-8.
    ///
    /// ```
    /// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     let sni = req.proxy().and_then(|p| p.authority()).unwrap_or("-");
    ///     resp.write_body(sni);
    /// }
    /// # let _ = handler;
    /// ```
    pub fn authority(&self) -> Option<&str> {
        self.tlv(TLV_AUTHORITY).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The proxy's opaque id for the connection (`PP2_TYPE_UNIQUE_ID`, up to 128 bytes), for
    /// matching the proxy's logs with the application's.
    ///
    /// ```
    /// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     if let Some(id) = req.proxy().and_then(|p| p.unique_id()) {
    ///         resp.set_header("X-Request-Id", id);
    ///     }
    /// }
    /// # let _ = handler;
    /// ```
    pub fn unique_id(&self) -> Option<&[u8]> {
        self.tlv(TLV_UNIQUE_ID)
    }
}
