//! `tessera cookies`: the declaration, from the registry.

use anyhow::Result;
use tessera_core::Language;

use crate::settings::{Settings, origin_of};
use crate::{CookieFormat, CookiesArgs};

pub(crate) fn registry(settings: &Settings) -> Result<tessera_cookies::Registry> {
    let origin = origin_of(&settings.public_url())?;
    Ok(tessera_cookies::Registry::new(tessera_cookies::RegistryConfig {
        secure: origin.secure_cookies,
        remember_portal_max_age: std::time::Duration::from_secs(settings.remember.portal_max_age_seconds as u64),
        remember_agent_max_age: std::time::Duration::from_secs(settings.remember.agent_max_age_seconds as u64),
        visitor_max_age: std::time::Duration::from_secs(settings.visitor.max_age_days * 86_400),
        cluster: !settings.cluster.node_id.is_empty(),
    }))
}

pub(crate) fn run(args: CookiesArgs) -> Result<()> {
    let lang = Language::parse(&args.lang).map_err(|e| anyhow::anyhow!("--lang: {e}"))?;
    let catalog = tessera_i18n::Catalog::embedded();
    if !catalog.has(&lang) {
        let known: Vec<&str> = catalog.languages().iter().map(|l| l.as_str()).collect();
        eprintln!("note: no catalogue for {lang} (there are: {}); showing English", known.join(", "));
    }
    let labels = tessera_web::CookieLabels(catalog.tr(&lang));
    let settings = Settings::load(args.data.as_deref())?;
    let registry = registry(&settings)?;
    let out = match args.format {
        CookieFormat::Md => registry.to_markdown_in(&labels),
        // The JSON is the machine contract: its purposes stay the declared English.
        CookieFormat::Json => registry.to_json() + "\n",
        CookieFormat::Html => registry.to_html_table_in(&labels),
    };
    print!("{out}");
    Ok(())
}
