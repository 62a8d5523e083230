//! Settings: defaults, then `DIR/tessera.toml`, then `TESSERA_<SECTION>__<KEY>`
//! environment variables, then command-line flags. Documented in docs/settings.md.

use std::path::Path;

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tessera_core::SiteId;
use tessera_session::{CoreSettings, PasswordSettings, RememberSettings, SessionSettings, ThrottleSettings};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Settings {
    pub server: ServerSettings,
    pub session: SessionSettings,
    pub remember: RememberSettings,
    pub throttle: ThrottleSettings,
    pub password: PasswordSettings,
    pub visitor: VisitorSettings,
    pub database: crate::database::DatabaseSettings,
    pub cluster: ClusterSettings,
}

/// `[cluster]`: empty on a single node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ClusterSettings {
    /// This node's name; what `__Host-ts_node` carries and nginx routes by.
    pub node_id: String,
    /// The Redis every node shares: session cache, revocations, presence, fan-out.
    pub redis_url: String,
}

/// `[visitor]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct VisitorSettings {
    /// Lifetime of the visitor cookie; browsers cap cookies at 400 days.
    pub max_age_days: u64,
}

impl Default for VisitorSettings {
    fn default() -> Self {
        Self { max_age_days: 365 }
    }
}

/// `[server]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ServerSettings {
    pub bind: String,
    /// What browsers use to reach Tessera; empty means `http://<bind>`.
    pub public_url: String,
    pub default_site: u32,
    /// Seconds between purges of expired sessions and remember-me series.
    pub purge_interval_seconds: u64,
    /// `tracing` filter, e.g. "info" or "tessera=debug,info".
    pub log: String,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            default_site: SiteId::DEFAULT.get(),
            purge_interval_seconds: 600,
            log: "info".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Settings {
    /// Loads settings for a data directory (which may not exist yet).
    pub fn load(data: Option<&Path>) -> Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(data) = data {
            let file = data.join("tessera.toml");
            if file.exists() {
                figment = figment.merge(Toml::file(&file));
            }
        }
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("TESSERA_") && !name.contains("__") && name != crate::database::URL_VAR {
                eprintln!("note: ignoring {name}: setting variables look like TESSERA_<SECTION>__<KEY>");
            }
        }
        let settings: Settings = figment
            // Only TESSERA_<SECTION>__<KEY> names are settings (an unknown one is an
            // error); other TESSERA_* variables belong to tools around Tessera.
            .merge(Env::prefixed("TESSERA_").filter(|key| key.as_str().contains("__")).split("__"))
            .extract()
            .context("invalid settings (tessera.toml or TESSERA_* environment variables)")?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<()> {
        for i in tessera_core::Interface::ALL {
            if self.session.idle_seconds(i) <= 0 || self.session.absolute_seconds(i) <= 0 {
                bail!("session timeouts must be positive ({i})");
            }
        }
        if self.remember.portal_max_age_seconds <= 0 || self.remember.agent_max_age_seconds <= 0 {
            bail!("remember-me lifetimes must be positive");
        }
        if !(1..=400).contains(&self.visitor.max_age_days) {
            bail!("visitor.max_age_days must be 1 to 400 (browsers keep cookies at most 400 days)");
        }
        SiteId::new(self.server.default_site).context("server.default_site")?;
        match (self.cluster.node_id.is_empty(), self.cluster.redis_url.is_empty()) {
            (true, true) => {}
            (false, false) => {
                tessera_cluster::NodeId::parse(&self.cluster.node_id).context("cluster.node_id")?;
            }
            _ => bail!("cluster mode needs both cluster.node_id (--node-id) and cluster.redis_url (--redis)"),
        }
        self.trusted_proxies()?;
        Ok(())
    }

    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>> {
        self.server
            .trusted_proxies
            .iter()
            .map(|p| p.trim().parse().with_context(|| format!("server.trusted_proxies: {p:?} is not an IP address")))
            .collect()
    }

    pub fn core(&self) -> CoreSettings {
        CoreSettings {
            session: self.session.clone(),
            remember: self.remember.clone(),
            throttle: self.throttle.clone(),
            password: self.password.clone(),
        }
    }

    pub fn public_url(&self) -> String {
        let url = if self.server.public_url.is_empty() {
            format!("http://{}", self.server.bind)
        } else {
            self.server.public_url.clone()
        };
        url.trim_end_matches('/').to_owned()
    }
}

/// What the public URL means for cookies and HSTS.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    pub origin: String,
    pub https: bool,
    pub secure_cookies: bool,
}

/// Parses `scheme://host[:port]` (a path is not allowed: cookies use `Path=/`)
/// into the origin browsers will send: lower-case, without a default port.
pub(crate) fn origin_of(url: &str) -> Result<Origin> {
    let (scheme, rest) = url.split_once("://").context("public URL must start with http:// or https://")?;
    let scheme = scheme.to_ascii_lowercase();
    let https = match scheme.as_str() {
        "https" => true,
        "http" => false,
        _ => bail!("public URL must start with http:// or https://"),
    };
    let authority = rest.trim_end_matches('/').to_ascii_lowercase();
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        bail!("public URL must be an origin like https://help.example.com (no path)");
    }
    let default_port = if https { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority).to_owned();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority.as_str(), |(h, _)| h)
    };
    let ip = host.parse::<std::net::IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_unspecified()) {
        bail!(
            "{host} is a listening address, not one browsers can use: pass --public-url (e.g. https://help.example.com)"
        );
    }
    let loopback = host == "localhost" || host.ends_with(".localhost") || ip.is_some_and(|ip| ip.is_loopback());
    Ok(Origin { origin: format!("{scheme}://{authority}"), https, secure_cookies: https || loopback })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_get_secure_cookies_plain_http_elsewhere_does_not() {
        let o = origin_of("https://help.example.com/").expect("valid");
        assert_eq!((o.origin.as_str(), o.https, o.secure_cookies), ("https://help.example.com", true, true));
        assert!(origin_of("http://127.0.0.1:8080").expect("valid").secure_cookies);
        assert!(origin_of("http://localhost:3000").expect("valid").secure_cookies);
        assert!(origin_of("http://[::1]:8080").expect("valid").secure_cookies);
        assert!(!origin_of("http://192.168.1.5:8080").expect("valid").secure_cookies);
        assert!(origin_of("ftp://x").is_err());
        assert!(origin_of("https://x.com/help").is_err());
    }

    #[test]
    fn the_origin_is_written_the_way_browsers_send_it() {
        let o = origin_of("HTTPS://Help.Example.com:443/").expect("valid");
        assert_eq!(o.origin, "https://help.example.com");
        assert_eq!(origin_of("http://example.com:80").expect("valid").origin, "http://example.com");
        assert_eq!(origin_of("http://example.com:8080").expect("valid").origin, "http://example.com:8080");
        let listening = origin_of("http://0.0.0.0:8080").map(|o| o.origin);
        assert!(listening.is_err_and(|e| e.to_string().contains("--public-url")));
        assert!(origin_of("http://[::]:8080").is_err());
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let s = Settings::default();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.session.admin_idle_seconds, 900);
        assert_eq!(s.remember.grace_seconds, 30);
        assert_eq!(s.public_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn every_setting_is_documented_with_its_default() {
        let doc = include_str!("../../../docs/settings.md");
        let defaults = toml::Value::try_from(Settings::default()).expect("settings serialise");
        let sections = defaults.as_table().expect("table");
        for (section, keys) in sections {
            assert!(doc.contains(&format!("[{section}]")), "docs/settings.md lacks [{section}]");
            for (key, value) in keys.as_table().expect("section table") {
                let line = format!("`{key}` | `{value}`");
                assert!(doc.contains(&line), "docs/settings.md lacks the row for {section}.{key}: {line}");
            }
        }
    }
}
