//! Which URLs are acceptable webhook destinations (the SSRF policy), as a pure function.
//!
//! Destinations are https only, never a private, loopback, link-local, carrier-grade-NAT or reserved
//! address (IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry), never an internal
//! host name, never with credentials. Plain-http loopback destinations are allowed only when the policy
//! says so (local development and tests). Ports are not restricted. DNS is not resolved here: a public
//! name that resolves to a private address is left to the platform.
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

pub const MAX_URL_LEN: usize = 2048;

/// The part of the policy a JSON Schema pattern can state (the OpenAPI document's `webhook_url`): https,
/// a dotted host name of letters, digits and inner hyphens whose last label is letters, an optional port
/// (0 to 65535), an optional path, query or fragment of visible ASCII. Every string that matches it and
/// not [`URL_NOT_PATTERN`] passes [`WebhookPolicy::check`] (a property test below); what a pattern cannot
/// state well (public IP literals, which the policy also accepts) is said in the field's description.
pub const URL_PATTERN: &str = "^https://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}\
     (:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?#][!-~]*)?$";

/// Host names the policy refuses although they match [`URL_PATTERN`]: internal suffixes (any case) and
/// `xn--` labels, which must be valid punycode.
pub const URL_NOT_PATTERN: &str = "^https://([^/?#:]*\\.)?([xX][nN]--|[^/?#:]*\\.(\
     [lL][oO][cC][aA][lL]|[iI][nN][tT][eE][rR][nN][aA][lL]|[lL][aA][nN]|[iI][nN][tT][rR][aA][nN][eE][tT]|\
     [cC][oO][rR][pP]|[lL][oO][cC][aA][lL][hH][oO][sS][tT]|[hH][oO][mM][eE]\\.[aA][rR][pP][aA])([/?#:]|$))";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// `http://127.0.0.1…` / `http://localhost…` allowed (dev and tests only).
    pub allow_loopback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookUrlError {
    TooLong,
    Unparsable,
    NotHttps,
    HasCredentials,
    NoHost,
    Loopback,
    PrivateAddress,
    LinkLocal,
    ReservedAddress,
    InternalName,
}

impl fmt::Display for WebhookUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookUrlError::TooLong => "the webhook URL is longer than 2048 characters",
            WebhookUrlError::Unparsable => "the webhook URL is not a valid absolute URL",
            WebhookUrlError::NotHttps => "the webhook URL must use https",
            WebhookUrlError::HasCredentials => "the webhook URL must not contain a user name or password",
            WebhookUrlError::NoHost => "the webhook URL has no host",
            WebhookUrlError::Loopback => "loopback webhook destinations are not allowed",
            WebhookUrlError::PrivateAddress => "private-network webhook destinations are not allowed",
            WebhookUrlError::LinkLocal => "link-local webhook destinations are not allowed",
            WebhookUrlError::ReservedAddress => {
                "reserved, multicast or unspecified addresses are not allowed"
            }
            WebhookUrlError::InternalName => {
                "internal host names (localhost, .local, .internal, single labels) are not allowed"
            }
        })
    }
}

impl std::error::Error for WebhookUrlError {}

impl WebhookPolicy {
    /// Parses and checks a destination. The returned URL is the normalized one we store and call.
    pub fn check(&self, raw: &str) -> Result<Url, WebhookUrlError> {
        if raw.len() > MAX_URL_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        let url = Url::parse(raw.trim()).map_err(|_| WebhookUrlError::Unparsable)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::HasCredentials);
        }
        let loopback = match url.host() {
            None => return Err(WebhookUrlError::NoHost),
            Some(url::Host::Ipv4(ip)) => classify_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => classify_ip(IpAddr::V6(ip))?,
            Some(url::Host::Domain(name)) => classify_name(name)?,
        };
        match (url.scheme(), loopback) {
            (_, true) if !self.allow_loopback => Err(WebhookUrlError::Loopback),
            ("https", _) | ("http", true) => Ok(url),
            _ => Err(WebhookUrlError::NotHttps),
        }
    }
}

/// `Ok(true)` for loopback (allowed only by the dev/test setting), `Ok(false)` for a public address.
fn classify_ip(ip: IpAddr) -> Result<bool, WebhookUrlError> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let seg0 = v6.segments()[0];
            if v6.is_loopback() {
                Ok(true)
            } else if v6.is_unspecified() || v6.is_multicast() {
                Err(WebhookUrlError::ReservedAddress)
            } else if seg0 & 0xffc0 == 0xfe80 {
                Err(WebhookUrlError::LinkLocal)
            } else if seg0 & 0xfe00 == 0xfc00 || seg0 & 0xffc0 == 0xfec0 {
                Err(WebhookUrlError::PrivateAddress)
            } else if is_v4_compatible(v6) {
                Err(WebhookUrlError::ReservedAddress)
            } else {
                Ok(false)
            }
        }
    }
}

fn is_v4_compatible(v6: Ipv6Addr) -> bool {
    // ::a.b.c.d (deprecated) and 64:ff9b::/96 (NAT64) embed an IPv4 address we cannot vet here.
    let s = v6.segments();
    (s[..6] == [0, 0, 0, 0, 0, 0]) || (s[0] == 0x64 && s[1] == 0xff9b)
}

fn classify_v4(ip: Ipv4Addr) -> Result<bool, WebhookUrlError> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Ok(true)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 10/8, 172.16/12, 192.168/16 and carrier-grade NAT 100.64/10.
        Err(WebhookUrlError::PrivateAddress)
    } else if ip.is_link_local() {
        Err(WebhookUrlError::LinkLocal)
    } else if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || a == 0 || a >= 240 {
        Err(WebhookUrlError::ReservedAddress)
    } else {
        Ok(false)
    }
}

fn classify_name(name: &str) -> Result<bool, WebhookUrlError> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Ok(true);
    }
    let internal_suffixes = [".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp"];
    if !name.contains('.') || internal_suffixes.iter().any(|s| name.ends_with(s)) {
        return Err(WebhookUrlError::InternalName);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use WebhookUrlError::*;

    proptest::proptest! {
        /// Every URL the document's pattern admits (and its `not` does not refuse) is accepted.
        #[test]
        fn the_documented_pattern_admits_only_accepted_urls(
            url in URL_PATTERN.trim_start_matches('^').trim_end_matches('$')
        ) {
            let not = regex::Regex::new(URL_NOT_PATTERN).unwrap();
            proptest::prop_assume!(!not.is_match(&url) && url.len() <= MAX_URL_LEN);
            let policy = WebhookPolicy { allow_loopback: false };
            proptest::prop_assert!(policy.check(&url).is_ok(), "{url}: {:?}", policy.check(&url));
        }
    }

    #[test]
    fn the_not_pattern_names_the_refused_names() {
        let (yes, not) = (
            regex::Regex::new(URL_PATTERN).unwrap(),
            regex::Regex::new(URL_NOT_PATTERN).unwrap(),
        );
        let policy = WebhookPolicy {
            allow_loopback: false,
        };
        for url in [
            "https://a.local",
            "https://x.Internal:8443/p",
            "https://printer.home.ARPA/",
            "https://my.localhost",
            "https://xn--zz.com",
            "https://a.xn--b.com/x",
        ] {
            assert!(yes.is_match(url) && not.is_match(url), "{url}");
            assert!(policy.check(url).is_err(), "{url}");
        }
        for url in [
            "https://example.com",
            "https://hooks.example.org:8443/a?b#c",
            "https://localx.com",
            "https://a.corpx.io",
        ] {
            assert!(yes.is_match(url) && !not.is_match(url), "{url}");
            assert!(policy.check(url).is_ok(), "{url}");
        }
        for url in [
            "http://example.com",
            "https://8.8.8.8/",
            "https://single",
            "https://a.b1",
            "https://a.bc:65536",
        ] {
            assert!(!yes.is_match(url), "{url}");
        }
    }

    #[test]
    fn ssrf_table() {
        let strict = WebhookPolicy {
            allow_loopback: false,
        };
        let dev = WebhookPolicy { allow_loopback: true };
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        type Want = Result<(), WebhookUrlError>;
        let rows: &[(&str, Want, Want)] = &[
            // (url, strict, allow_loopback)
            ("https://hooks.example.com/x", Ok(()), Ok(())),
            ("https://hooks.example.com:8443/x", Ok(()), Ok(())),
            ("https://93.184.216.34/", Ok(()), Ok(())),
            ("https://[2606:4700::1111]/", Ok(()), Ok(())),
            ("http://hooks.example.com/x", Err(NotHttps), Err(NotHttps)),
            ("http://hooks.example.com:443/x", Err(NotHttps), Err(NotHttps)),
            ("ftp://hooks.example.com/x", Err(NotHttps), Err(NotHttps)),
            (
                "https://user:pw@hooks.example.com/",
                Err(HasCredentials),
                Err(HasCredentials),
            ),
            (
                "https://user@hooks.example.com/",
                Err(HasCredentials),
                Err(HasCredentials),
            ),
            ("not a url", Err(Unparsable), Err(Unparsable)),
            ("/relative", Err(Unparsable), Err(Unparsable)),
            ("mailto:a@example.com", Err(NoHost), Err(NoHost)),
            // loopback
            ("https://127.0.0.1/", Err(Loopback), Ok(())),
            ("http://127.0.0.1:8787/hook", Err(Loopback), Ok(())),
            ("http://127.5.6.7/", Err(Loopback), Ok(())),
            ("https://[::1]/", Err(Loopback), Ok(())),
            ("http://localhost:9000/", Err(Loopback), Ok(())),
            ("https://api.localhost/", Err(Loopback), Ok(())),
            // private and CGNAT
            ("https://10.0.0.1/", Err(PrivateAddress), Err(PrivateAddress)),
            ("https://172.16.5.4/", Err(PrivateAddress), Err(PrivateAddress)),
            (
                "https://192.168.1.1:8443/",
                Err(PrivateAddress),
                Err(PrivateAddress),
            ),
            ("https://100.64.0.1/", Err(PrivateAddress), Err(PrivateAddress)),
            (
                "https://100.127.255.254/",
                Err(PrivateAddress),
                Err(PrivateAddress),
            ),
            ("https://100.128.0.1/", Ok(()), Ok(())),
            ("https://[fd00::1]/", Err(PrivateAddress), Err(PrivateAddress)),
            ("https://[fec0::1]/", Err(PrivateAddress), Err(PrivateAddress)),
            // link-local (cloud metadata)
            ("https://169.254.169.254/", Err(LinkLocal), Err(LinkLocal)),
            ("https://[fe80::1]/", Err(LinkLocal), Err(LinkLocal)),
            // IPv4-mapped IPv6 is judged as its IPv4 address
            ("https://[::ffff:127.0.0.1]/", Err(Loopback), Ok(())),
            (
                "https://[::ffff:10.1.2.3]/",
                Err(PrivateAddress),
                Err(PrivateAddress),
            ),
            (
                "https://[::ffff:169.254.169.254]/",
                Err(LinkLocal),
                Err(LinkLocal),
            ),
            (
                "https://[::ffff:100.64.1.1]/",
                Err(PrivateAddress),
                Err(PrivateAddress),
            ),
            // reserved: unspecified, broadcast, multicast, 0/8, 240/4, v4-compatible, NAT64
            ("https://0.0.0.0/", Err(ReservedAddress), Err(ReservedAddress)),
            ("https://0.1.2.3/", Err(ReservedAddress), Err(ReservedAddress)),
            (
                "https://255.255.255.255/",
                Err(ReservedAddress),
                Err(ReservedAddress),
            ),
            ("https://224.0.0.1/", Err(ReservedAddress), Err(ReservedAddress)),
            ("https://240.0.0.1/", Err(ReservedAddress), Err(ReservedAddress)),
            ("https://[::]/", Err(ReservedAddress), Err(ReservedAddress)),
            ("https://[ff02::1]/", Err(ReservedAddress), Err(ReservedAddress)),
            (
                "https://[::10.0.0.1]/",
                Err(ReservedAddress),
                Err(ReservedAddress),
            ),
            (
                "https://[64:ff9b::a00:1]/",
                Err(ReservedAddress),
                Err(ReservedAddress),
            ),
            // internal names
            ("https://intranet/", Err(InternalName), Err(InternalName)),
            ("https://printer.local/", Err(InternalName), Err(InternalName)),
            ("https://db.internal/", Err(InternalName), Err(InternalName)),
            ("https://nas.home.arpa/", Err(InternalName), Err(InternalName)),
            ("https://box.lan/", Err(InternalName), Err(InternalName)),
            ("https://HOST.CORP./", Err(InternalName), Err(InternalName)),
            ("https://wiki.intranet/", Err(InternalName), Err(InternalName)),
            // decimal and hex IPv4 forms are normalized by the URL parser before the check
            ("https://2130706433/", Err(Loopback), Ok(())),
            ("https://0x7f.1/", Err(Loopback), Ok(())),
            (&long, Err(TooLong), Err(TooLong)),
        ];
        for (url, want_strict, want_dev) in rows {
            assert_eq!(strict.check(url).map(|_| ()), *want_strict, "strict: {url}");
            assert_eq!(dev.check(url).map(|_| ()), *want_dev, "allow_loopback: {url}");
        }
    }

    #[test]
    fn every_reason_has_a_message() {
        for e in [
            TooLong,
            Unparsable,
            NotHttps,
            HasCredentials,
            NoHost,
            Loopback,
            PrivateAddress,
            LinkLocal,
            ReservedAddress,
            InternalName,
        ] {
            assert!(!e.to_string().is_empty());
        }
    }
}
