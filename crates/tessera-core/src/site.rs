//! What a site (tenant) decides about itself: where it is served, who may
//! embed it, how its visitors' cookies work and how consent is asked.

use std::fmt;

use crate::ParseError;

/// How a site asks for consent before optional cookies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// Nothing optional until the visitor accepts (the default; what the GDPR asks).
    #[default]
    OptIn,
    /// Optional cookies until the visitor refuses.
    OptOut,
    /// The site asks nothing; a refusal (or `Sec-GPC: 1`) is still honoured.
    None,
}

impl ConsentMode {
    pub const ALL: [ConsentMode; 3] = [Self::OptIn, Self::OptOut, Self::None];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OptIn => "opt_in",
            Self::OptOut => "opt_out",
            Self::None => "none",
        }
    }
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Self::ALL.into_iter().find(|m| m.as_str() == text.trim()).ok_or(ParseError::ConsentMode)
    }
}

/// Where a site's monitoring cookies live (the LivePerson seed's five types).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolutionType {
    #[default]
    ThirdParty,
    ThirdPartySession,
    FirstPartyPersistentWithThirdPartySession,
    FirstPartyPersistent,
    FirstPartySession,
}

impl SolutionType {
    pub const ALL: [SolutionType; 5] = [
        Self::ThirdParty,
        Self::ThirdPartySession,
        Self::FirstPartyPersistentWithThirdPartySession,
        Self::FirstPartyPersistent,
        Self::FirstPartySession,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ThirdParty => "third_party",
            Self::ThirdPartySession => "third_party_session",
            Self::FirstPartyPersistentWithThirdPartySession => "first_party_persistent_with_third_party_session",
            Self::FirstPartyPersistent => "first_party_persistent",
            Self::FirstPartySession => "first_party_session",
        }
    }
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Self::ALL.into_iter().find(|t| t.as_str() == text.trim()).ok_or(ParseError::SolutionType)
    }
}

/// A host name a site's Help Center answers on, lower-cased, with an
/// optional port (`help.example.com`, `localhost:8080`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct HostName(String);

impl HostName {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim().to_ascii_lowercase();
        let (host, port) = match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text.as_str(), None),
        };
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let host_ok = !host.is_empty() && host.len() <= 253 && host.split('.').all(label_ok);
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
        if !host_ok || !port_ok {
            return Err(ParseError::HostName);
        }
        Ok(Self(text))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A web origin as browsers send it in `Origin`: `https://host[:port]`,
/// lower-case, no path. `http` is allowed only for loopback hosts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Origin(String);

impl Origin {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
        let (scheme, rest) = text.split_once("://").ok_or(ParseError::Origin)?;
        let host = HostName::parse(rest).map_err(|_| ParseError::Origin)?;
        let bare = host.as_str().rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let loopback = bare == "localhost" || bare.ends_with(".localhost") || bare == "127.0.0.1";
        let default_port = match scheme {
            "https" => ":443",
            "http" if loopback => ":80",
            _ => return Err(ParseError::Origin),
        };
        let host = host.as_str().strip_suffix(default_port).unwrap_or(host.as_str());
        Ok(Self(format!("{scheme}://{host}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip_and_unknown_ones_are_refused() {
        for m in ConsentMode::ALL {
            assert_eq!(ConsentMode::parse(m.as_str()), Ok(m));
        }
        for t in SolutionType::ALL {
            assert_eq!(SolutionType::parse(t.as_str()), Ok(t));
        }
        assert!(ConsentMode::parse("maybe").is_err());
        assert!(SolutionType::parse("").is_err());
        assert_eq!(ConsentMode::default(), ConsentMode::OptIn);
        assert_eq!(SolutionType::default(), SolutionType::ThirdParty);
    }

    #[test]
    fn host_names_are_lower_cased_and_checked() {
        assert_eq!(HostName::parse(" Help.Example.COM ").map(|h| h.0), Ok("help.example.com".into()));
        assert_eq!(HostName::parse("localhost:8080").map(|h| h.0), Ok("localhost:8080".into()));
        for bad in ["", "a..b", "-a.com", "a_b.com", "x.com:0", "x.com:99999", "x.com/path", "ex ample.com"] {
            assert!(HostName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_are_normalised_like_browsers_send_them() {
        assert_eq!(Origin::parse("HTTPS://Shop.Example.com/").map(|o| o.0), Ok("https://shop.example.com".into()));
        assert_eq!(Origin::parse("https://shop.example.com:443").map(|o| o.0), Ok("https://shop.example.com".into()));
        assert_eq!(Origin::parse("http://localhost:3000").map(|o| o.0), Ok("http://localhost:3000".into()));
        for bad in ["shop.example.com", "http://shop.example.com", "ftp://x.com", "https://", "https://x.com/a"] {
            assert!(Origin::parse(bad).is_err(), "{bad:?}");
        }
    }
}
