//! [`Network`]: an IP network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), the unit in which the
//! server is told whom to trust ([`Builder::proxy_protocol_from`](crate::Builder::proxy_protocol_from),
//! [`Builder::trust_forwarded_from`](crate::Builder::trust_forwarded_from)).
//!
//! Invariant: the address has no bits set past the prefix, and an IPv4-mapped IPv6 network
//! (`::ffff:10.0.0.0/104`) is stored as the IPv4 network it maps (`10.0.0.0/8`), so
//! [`Network::contains`] compares like with like after mapping the address the same way.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network: an address and a prefix length, as in `192.168.0.0/16` or `fd00::/8`.
///
/// A bare address (`127.0.0.1`, `::1`) is the network of that one address. IPv4-mapped IPv6
/// addresses (`::ffff:10.1.2.3`, as a dual-stack socket reports IPv4 peers) are treated as the
/// IPv4 address they map, both in networks and in [`contains`](Network::contains).
///
/// ```
/// use shockwave::Network;
/// let private: Network = "10.0.0.0/8".parse()?;
/// assert!(private.contains("10.1.2.3".parse()?));
/// assert!(private.contains("::ffff:10.1.2.3".parse()?)); // IPv4-mapped
/// assert!(!private.contains("11.0.0.1".parse()?));
/// assert_eq!(private.to_string(), "10.0.0.0/8");
///
/// let err = "10.1.2.3/8".parse::<Network>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid network \"10.1.2.3/8\": bits set after the /8 prefix (did you mean 10.0.0.0/8?)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not a [`Network`]; its message names the input and what is wrong with it.
///
/// ```
/// let err = "10.0.0.0/33".parse::<shockwave::Network>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid network \"10.0.0.0/33\": the prefix length must be 0 to 32");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkParseError {
    input: String,
    why: String,
}

impl fmt::Display for NetworkParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid network {:?}: {}", self.input, self.why)
    }
}

impl std::error::Error for NetworkParseError {}

impl Network {
    /// The network of the addresses whose first `prefix` bits are `addr`'s.
    ///
    /// # Errors
    /// The prefix is longer than the address (32 bits for IPv4, 128 for IPv6), or `addr` has
    /// bits set past it.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// let n = shockwave::Network::new(Ipv4Addr::new(192, 168, 0, 0).into(), 16)?;
    /// assert_eq!(n.to_string(), "192.168.0.0/16");
    /// assert!(shockwave::Network::new(Ipv4Addr::new(192, 168, 0, 1).into(), 16).is_err());
    /// # Ok::<(), shockwave::NetworkParseError>(())
    /// ```
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Network, NetworkParseError> {
        let err = |why: String| NetworkParseError { input: format!("{addr}/{prefix}"), why };
        let (addr, prefix) = match addr {
            IpAddr::V6(a) if a.to_ipv4_mapped().is_some() && prefix >= 96 => {
                (IpAddr::V4(a.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED)), prefix - 96)
            }
            a => (a, prefix),
        };
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(err(format!("the prefix length must be 0 to {bits}")));
        }
        let n = Network { addr, prefix };
        let masked = n.masked(addr);
        if masked != addr {
            let hint = Network { addr: masked, prefix };
            return Err(err(format!("bits set after the /{prefix} prefix (did you mean {hint}?)")));
        }
        Ok(n)
    }

    /// The network's first address (IPv4 for an IPv4-mapped network).
    ///
    /// ```
    /// let n: shockwave::Network = "fd00::/8".parse()?;
    /// assert_eq!(n.addr().to_string(), "fd00::");
    /// # Ok::<(), shockwave::NetworkParseError>(())
    /// ```
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    ///
    /// ```
    /// let n: shockwave::Network = "127.0.0.1".parse()?;
    /// assert_eq!(n.prefix(), 32); // a bare address is a network of one
    /// # Ok::<(), shockwave::NetworkParseError>(())
    /// ```
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is in this network. IPv4-mapped IPv6 addresses count as their IPv4
    /// address; otherwise an IPv4 address is never in an IPv6 network, nor the reverse.
    ///
    /// ```
    /// let lan: shockwave::Network = "192.168.1.0/24".parse()?;
    /// assert!(lan.contains("192.168.1.77".parse()?));
    /// assert!(!lan.contains("192.168.2.1".parse()?));
    /// assert!(!lan.contains("::1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4() && self.masked(ip) == self.addr
    }

    /// `ip` with the bits past the prefix cleared (same family as the network's).
    fn masked(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        }
    }
}

/// Any one of `nets` contains `ip`.
pub(crate) fn any_contains(nets: &[Network], ip: IpAddr) -> bool {
    nets.iter().any(|n| n.contains(ip))
}

impl FromStr for Network {
    type Err = NetworkParseError;

    /// Parses `ADDR/PREFIX` or a bare `ADDR`.
    fn from_str(s: &str) -> Result<Network, NetworkParseError> {
        let err = |why: &str| NetworkParseError { input: s.to_string(), why: why.to_string() };
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| err("not an IPv4 or IPv6 address before the /"))?;
        let prefix = match p {
            None => match addr {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            },
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| err("the prefix length is too large"))?
            }
            Some(_) => return Err(err("the prefix length after the / must be a decimal number")),
        };
        Network::new(addr, prefix).map_err(|e| NetworkParseError { input: s.to_string(), why: e.why })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl From<IpAddr> for Network {
    /// The network of just this address (`/32` or `/128`).
    fn from(addr: IpAddr) -> Network {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Network::new(addr, prefix).unwrap_or(Network { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn membership_table() {
        let cases = [
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "::1", false),
            ("::/0", "::1", true),
            ("::/0", "127.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("fd00::/8", "fd12:3456::1", true),
            ("fd00::/8", "fe80::1", false),
            ("::1", "::1", true),
            ("10.0.0.0/8", "::ffff:10.9.9.9", true),
            ("::ffff:10.0.0.0/104", "10.9.9.9", true),
            ("::ffff:10.0.0.0/104", "::ffff:10.9.9.9", true),
            ("192.168.1.128/25", "192.168.1.127", false),
            ("192.168.1.128/25", "192.168.1.200", true),
        ];
        for (net, addr, want) in cases {
            let n: Network = net.parse().unwrap();
            assert_eq!(n.contains(ip(addr)), want, "{net} contains {addr}");
        }
    }

    #[test]
    fn bad_networks_are_refused_with_a_reason() {
        let cases = [
            ("10.0.0.0/33", "the prefix length must be 0 to 32"),
            ("::/129", "the prefix length must be 0 to 128"),
            ("10.0.0.0/", "the prefix length after the / must be a decimal number"),
            ("10.0.0.0/+8", "the prefix length after the / must be a decimal number"),
            ("10.0.0.0/999", "the prefix length is too large"),
            ("10.0.0/8", "not an IPv4 or IPv6 address before the /"),
            ("localhost", "not an IPv4 or IPv6 address before the /"),
            ("10.0.0.1/8", "bits set after the /8 prefix (did you mean 10.0.0.0/8?)"),
        ];
        for (s, why) in cases {
            let e = s.parse::<Network>().unwrap_err();
            assert_eq!(e.why, why, "{s}");
            assert!(e.to_string().contains(s));
        }
    }

    #[test]
    fn mapped_networks_are_stored_as_ipv4() {
        let n: Network = "::ffff:192.168.0.0/112".parse().unwrap();
        assert_eq!(n.to_string(), "192.168.0.0/16");
        assert_eq!(Network::from(ip("::1")).prefix(), 128);
    }
}
