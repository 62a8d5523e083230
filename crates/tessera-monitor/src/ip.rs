//! IP addresses as stored: truncated unless the site keeps whole ones.

use std::net::IpAddr;

/// IPv4 keeps its first three bytes (a /24), IPv6 its first three groups (a
/// /48): enough for a country or network, not for a household.
pub fn for_storage(ip: IpAddr, full: bool) -> String {
    if full {
        return ip.to_string();
    }
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => for_storage(IpAddr::V4(v4), false),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::", s[0], s[1], s[2])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an IP address")
    }

    #[test]
    fn addresses_are_truncated_unless_the_site_keeps_them_whole() {
        assert_eq!(for_storage(ip("203.0.113.77"), false), "203.0.113.0");
        assert_eq!(for_storage(ip("203.0.113.77"), true), "203.0.113.77");
        assert_eq!(for_storage(ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"), false), "2001:db8:85a3::");
        assert_eq!(for_storage(ip("::ffff:198.51.100.9"), false), "198.51.100.0");
    }
}
