//! `tessera user add`.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use tessera_core::{DisplayName, Email, Password, Role, SiteId, SystemClock};
use tessera_session::SessionCore;

use crate::UserAddArgs;
use crate::datadir;
use crate::settings::Settings;

pub(crate) fn add(args: UserAddArgs) -> Result<()> {
    let email = Email::parse(&args.email).map_err(|e| anyhow!("--email: {e}"))?;
    let role = Role::parse(&args.role).map_err(|e| anyhow!("--role: {e}"))?;
    let name_text = args.name.clone().unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("").to_owned());
    let name = DisplayName::parse(&name_text).map_err(|e| anyhow!("--name: {e}"))?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = Password::new_choice(line.trim_end_matches(['\n', '\r']).to_owned()).map_err(|e| anyhow!("{e}"))?;
    let settings = Settings::load(Some(&args.data))?;
    let site = match &args.site {
        Some(s) => SiteId::parse(s).map_err(|e| anyhow!("--site: {e}"))?,
        None => SiteId::new(settings.server.default_site)?,
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        datadir::ensure(&args.data)?;
        let store = crate::database::open(&args.data, args.database.as_deref(), &settings).await?;
        let default_site = SiteId::new(settings.server.default_site)?;
        store.ensure_site(default_site, "Default site", tessera_core::Clock::now(&SystemClock)).await?;
        if store.site(site).await?.is_none() {
            bail!("there is no site {site}");
        }
        let core = SessionCore::new(store, Arc::new(SystemClock), settings.core())?;
        let person = core.create_person(site, email, name, role, password, None).await.map_err(|e| match e {
            tessera_session::CoreError::Store(tessera_store::StoreError::Conflict(_)) => {
                anyhow!("{} already has an account on site {site}", args.email.trim())
            }
            e => anyhow!(e),
        })?;
        println!("Created {} {} on site {site}.", person.role, person.email);
        Ok(())
    })
}
