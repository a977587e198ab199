//! The client's address: the TCP peer, or — when the peer is a configured trusted proxy — the
//! nearest address in `X-Forwarded-For` that is not itself a trusted proxy.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The address the request came from.
pub fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded.into_iter().rev().find(|ip| !trusted_proxies.contains(ip)).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_forwarded_for_only_from_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().unwrap());
        assert_eq!(client_ip(&headers, proxy, &[proxy]), "203.0.113.7".parse::<IpAddr>().unwrap());
        let stranger: IpAddr = "198.51.100.2".parse().unwrap();
        assert_eq!(client_ip(&headers, stranger, &[proxy]), stranger);
    }
}
