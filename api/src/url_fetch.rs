//! Images given as URLs: the policy that decides which may be fetched, and the fetch.
//!
//! The policy is checked on the URL as given, again on the addresses its host resolves
//! to, and again inside the HTTP client for every connection it opens (redirects
//! included), so a public name that resolves or redirects to an internal address is
//! refused too.

use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::DefaultConnector;

use crate::config::UrlInputConfig;

/// Why a URL was not used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UrlError {
    /// Policy forbids it (`IMAGE_URL_NOT_ALLOWED`).
    #[error("{0}")]
    NotAllowed(String),
    /// It could not be fetched (`IMAGE_URL_FETCH_FAILED`).
    #[error("{0}")]
    FetchFailed(String),
}

/// True for addresses a server must not be steered to: loopback, private, link-local,
/// unique-local, unspecified, multicast, broadcast, shared and documentation ranges.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // NAT64 (64:ff9b::/96) reaches IPv4 addresses, internal ones included.
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return is_internal(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            let first = seg[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The host of a URI, lower-case, without the brackets of an IPv6 literal.
fn host_of(uri: &ureq::http::Uri) -> String {
    uri.host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Checks a URL against the policy, resolving its host.
pub fn check_url(url: &str, policy: &UrlInputConfig) -> Result<(), UrlError> {
    let not_allowed = |m: String| Err(UrlError::NotAllowed(m));
    if !policy.enabled {
        return not_allowed(
            "image URLs are not enabled on this server; send the image as Base64".into(),
        );
    }
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| UrlError::NotAllowed(format!("not a valid URL: {url}")))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if policy.allow_http => {}
        _ => return not_allowed("only https URLs are allowed".into()),
    }
    let host = host_of(&uri);
    if !policy
        .allow_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&host))
    {
        return not_allowed(format!("host {host} is not on the allow-list"));
    }
    let default_port = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    let port = uri.port_u16().unwrap_or(default_port);
    if port != default_port {
        return not_allowed(format!(
            "port {port} is not allowed; image URLs use the scheme's standard port"
        ));
    }
    let addrs = resolve(&host, port)?;
    check_addresses(&host, &addrs, policy)
}

fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, UrlError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    (host, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .map_err(|e| UrlError::FetchFailed(format!("cannot resolve {host}: {e}")))
}

fn check_addresses(
    host: &str,
    addrs: &[SocketAddr],
    policy: &UrlInputConfig,
) -> Result<(), UrlError> {
    if addrs.is_empty() {
        return Err(UrlError::FetchFailed(format!("{host} has no address")));
    }
    if !policy.allow_private_addresses
        && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip()))
    {
        return Err(UrlError::NotAllowed(format!(
            "{host} resolves to the internal address {}",
            bad.ip()
        )));
    }
    Ok(())
}

/// The marker the resolver returns when a connection would break the policy.
#[derive(Debug, Error)]
#[error("{0}")]
struct PolicyRefusal(String);

/// Resolves through the system resolver, then applies the policy to every connection
/// the client makes, redirects included.
#[derive(Debug)]
struct PolicyResolver {
    inner: DefaultResolver,
    policy: Arc<UrlInputConfig>,
}

impl Resolver for PolicyResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = host_of(uri);
        if !self
            .policy
            .allow_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
        {
            return Err(ureq::Error::Other(Box::new(PolicyRefusal(format!(
                "redirect to host {host}, which is not on the allow-list"
            )))));
        }
        let standard = if uri.scheme_str() == Some("http") {
            80
        } else {
            443
        };
        if uri.port_u16().is_some_and(|p| p != standard) {
            return Err(ureq::Error::Other(Box::new(PolicyRefusal(format!(
                "redirect to port {:?}, which is not allowed",
                uri.port_u16()
            )))));
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let list: Vec<SocketAddr> = addrs.iter().copied().collect();
        check_addresses(&host, &list, &self.policy)
            .map_err(|e| ureq::Error::Other(Box::new(PolicyRefusal(e.to_string()))))?;
        Ok(addrs)
    }
}

/// Fetches an image URL under the policy: checked first, size- and time-limited.
pub fn fetch(url: &str, policy: &UrlInputConfig) -> Result<Vec<u8>, UrlError> {
    check_url(url, policy)?;
    let config = ureq::Agent::config_builder()
        // A proxy from the environment would connect on our behalf without the resolver
        // ever seeing the target, switching the address checks off.
        .proxy(None)
        .https_only(!policy.allow_http)
        .max_redirects(policy.max_redirects)
        .timeout_global(Some(Duration::from_secs(policy.timeout_secs)))
        .http_status_as_error(true)
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        DefaultConnector::new(),
        PolicyResolver {
            inner: DefaultResolver::default(),
            policy: Arc::new(policy.clone()),
        },
    );
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Other(inner) if inner.is::<PolicyRefusal>() => {
            UrlError::NotAllowed(inner.to_string())
        }
        other => UrlError::FetchFailed(format!("fetching {url} failed: {other}")),
    })?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(policy.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| UrlError::FetchFailed(format!("reading {url} failed: {e}")))?;
    if bytes.len() as u64 > policy.max_bytes {
        return Err(UrlError::FetchFailed(format!(
            "the image at {url} is larger than {} bytes",
            policy.max_bytes
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(hosts: &[&str]) -> UrlInputConfig {
        UrlInputConfig {
            enabled: true,
            allow_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..UrlInputConfig::default()
        }
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "151.101.1.1", "2a00:1450::1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn policy_refuses_before_any_connection() {
        let ports = enabled(&["images.example.org"]);
        assert!(
            matches!(check_url("https://images.example.org:8443/a.jpg", &ports), Err(UrlError::NotAllowed(m)) if m.contains("port"))
        );
        let off = UrlInputConfig::default();
        assert!(matches!(
            check_url("https://example.org/a.jpg", &off),
            Err(UrlError::NotAllowed(_))
        ));
        let p = enabled(&["127.0.0.1", "10.0.0.1", "images.example.org"]);
        assert!(
            matches!(check_url("http://images.example.org/a.jpg", &p), Err(UrlError::NotAllowed(m)) if m.contains("https"))
        );
        assert!(
            matches!(check_url("https://other.example.org/a.jpg", &p), Err(UrlError::NotAllowed(m)) if m.contains("allow-list"))
        );
        assert!(
            matches!(check_url("https://127.0.0.1/a.jpg", &p), Err(UrlError::NotAllowed(m)) if m.contains("internal"))
        );
        assert!(
            matches!(check_url("https://10.0.0.1/a.jpg", &p), Err(UrlError::NotAllowed(m)) if m.contains("internal"))
        );
        assert!(matches!(
            check_url("ftp://images.example.org/a.jpg", &p),
            Err(UrlError::NotAllowed(_))
        ));
    }
}
