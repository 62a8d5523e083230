//! `tessera serve --demo`: a site worth looking at in a minute — three
//! languages, categories, articles (one of them missing in Danish, to show
//! the fallback), an agent and an admin whose credentials are printed.
//!
//! Content is added once; later starts only give the two demo accounts
//! fresh passwords, so the printed credentials always work.

use anyhow::{Context, Result};
use base64::Engine;
use tessera_core::{DisplayName, Email, Language, Password, PersonId, Role, SiteId, random_bytes};
use tessera_kb::KnowledgeBase;
use tessera_session::SessionCore;
use tessera_store::CategoryName;

pub(crate) const AGENT_EMAIL: &str = "agent@demo.tessera.test";
pub(crate) const ADMIN_EMAIL: &str = "admin@demo.tessera.test";

/// Credentials to print.
#[derive(Debug)]
pub(crate) struct DemoLogins {
    pub agent_password: String,
    pub admin_password: String,
}

fn lang(tag: &str) -> Result<Language> {
    Language::parse(tag).with_context(|| format!("language {tag}"))
}

fn names(en: &str, fr: &str, da: &str) -> Result<Vec<CategoryName>> {
    [("en", en), ("fr", fr), ("da", da)]
        .into_iter()
        .map(|(l, name)| Ok(CategoryName { language: lang(l)?, name: name.into(), description: String::new() }))
        .collect()
}

pub(crate) async fn seed(core: &SessionCore, kb: &KnowledgeBase, site: SiteId) -> Result<DemoLogins> {
    let store = core.store();
    let mut settings = store.site(site).await?.context("the default site exists")?.settings;
    settings.name = "Tessera demo".into();
    settings.languages = vec![lang("en")?, lang("fr")?, lang("da")?];
    settings.default_language = lang("en")?;
    store.update_site(site, &settings, core.now()).await?;

    let agent_password = ensure_person(core, site, AGENT_EMAIL, "Alex Agent", Role::Agent).await?;
    let admin_password = ensure_person(core, site, ADMIN_EMAIL, "Ada Admin", Role::Admin).await?;
    if store.categories(site).await?.is_empty() {
        let author =
            store.person_by_email(site, &Email::parse(AGENT_EMAIL)?).await?.context("the demo agent exists")?.id;
        add_content(kb, site, author).await?;
    }
    Ok(DemoLogins { agent_password, admin_password })
}

/// Creates the person, or gives the existing one a new password; returns it.
async fn ensure_person(core: &SessionCore, site: SiteId, email: &str, name: &str, role: Role) -> Result<String> {
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<12>());
    let existing = core.store().person_by_email(site, &Email::parse(email)?).await?;
    match existing {
        Some(person) => {
            core.reset_password(person.id, password.clone(), person.id).await.context("resetting a demo password")?;
        }
        None => {
            let choice = Password::new_choice(password.clone()).map_err(anyhow::Error::msg)?;
            core.create_person(site, Email::parse(email)?, DisplayName::parse(name)?, role, choice, None).await?;
        }
    }
    Ok(password)
}

async fn add_content(kb: &KnowledgeBase, site: SiteId, author: PersonId) -> Result<()> {
    let getting_started =
        kb.create_category(site, None, 0, &names("Getting Started", "Premiers pas", "Kom godt i gang")?).await?;
    let general =
        kb.create_category(site, Some(getting_started), 0, &names("General", "Généralités", "Generelt")?).await?;
    let account = kb.create_category(site, None, 1, &names("Your account", "Votre compte", "Din konto")?).await?;

    /// (language, title, Markdown); an empty title means "not translated".
    type Texts = [(&'static str, &'static str, &'static str); 3];
    let articles: [(_, Texts); 3] = [
        (
            general,
            [
                ("en", "What cookies does Tessera use?", include_str!("../demo/cookies.en.md")),
                ("fr", "Quels cookies Tessera utilise-t-il ?", include_str!("../demo/cookies.fr.md")),
                ("da", "Hvilke cookies bruger Tessera?", include_str!("../demo/cookies.da.md")),
            ],
        ),
        (
            account,
            [
                ("en", "How do I change my password?", include_str!("../demo/password.en.md")),
                ("fr", "Comment changer mon mot de passe ?", include_str!("../demo/password.fr.md")),
                ("da", "Hvordan skifter jeg min adgangskode?", include_str!("../demo/password.da.md")),
            ],
        ),
        (
            getting_started,
            [
                ("en", "How do I get help?", include_str!("../demo/contact.en.md")),
                ("fr", "Comment obtenir de l’aide ?", include_str!("../demo/contact.fr.md")),
                // No Danish on purpose: Danish readers see the English with a notice.
                ("da", "", ""),
            ],
        ),
    ];
    for (category, texts) in articles {
        let article = kb.create_article(site, category, author).await?;
        for (tag, title, body) in texts {
            if !title.is_empty() {
                kb.save_translation(site, article.id, lang(tag)?, title, body).await?;
            }
        }
        kb.set_published(site, article.id, true).await?;
    }
    Ok(())
}

/// For the banner: where the store keeps the demo (nothing else needed).
pub(crate) fn describe(logins: &DemoLogins, origin: &str, site: SiteId) -> String {
    format!(
        "Demo content is ready. Log in with:\n  \
         Agent: {AGENT_EMAIL}  password: {}  site ID: {site}  ({origin}/agent/login)\n  \
         Admin: {ADMIN_EMAIL}  password: {}  ({origin}/admin/login)\n",
        logins.agent_password, logins.admin_password
    )
}
