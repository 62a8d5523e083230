//! The cookie policy in the reader's language, the consent choice, and the
//! language picker.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use tessera_cookies::{Audience, Category, Column, CookieId, Declaration, Labels, Lifetime};
use tessera_core::Language;
use tessera_i18n::{Arg, Tr};
use tessera_store::ConsentChoice;
use tessera_visitor::ConsentReason;

use super::guest::Guest;
use super::{Layout, render};
use crate::csrf::FormToken;
use crate::ctx::{Ctx, local_path};
use crate::session::MaybeAuthed;
use crate::setcookie::append;
use crate::{AppState, Iface, Portal, WebError};

/// The registry's words through a translator: the cookie table in any
/// catalogue language (the policy page, `tessera cookies --lang`).
#[derive(Clone, Copy, Debug)]
pub struct TrLabels(pub Tr<'static>);

impl Labels for TrLabels {
    fn purpose(&self, d: &Declaration) -> String {
        let id = format!("cookie-purpose-{}", d.id.key());
        let text = self.0.get(&id);
        // A cookie without a catalogue entry keeps its declared English.
        if text == id { d.purpose.to_owned() } else { text }
    }
    fn column(&self, column: Column) -> String {
        self.0.get(match column {
            Column::Name => "cookies-col-name",
            Column::Description => "cookies-col-description",
            Column::Type => "cookies-col-type",
            Column::AppliesTo => "cookies-col-applies",
        })
    }
    fn category(&self, category: Category) -> String {
        self.0.get(match category {
            Category::Essential => "cookie-category-essential",
            Category::Optional => "cookie-category-optional",
        })
    }
    fn lifetime(&self, lifetime: Lifetime, max_age_seconds: Option<u64>) -> String {
        let n = |v: u64| Arg::Num(i64::try_from(v).unwrap_or(i64::MAX));
        match (lifetime, max_age_seconds) {
            (Lifetime::Persistent, Some(s)) if s >= 86_400 && s % 86_400 == 0 => {
                self.0.with("cookie-lifetime-days", &[("days", n(s / 86_400))])
            }
            (Lifetime::Persistent, Some(s)) if s >= 3_600 && s % 3_600 == 0 => {
                self.0.with("cookie-lifetime-hours", &[("hours", n(s / 3_600))])
            }
            (Lifetime::Persistent, Some(s)) => self.0.with("cookie-lifetime-seconds", &[("seconds", n(s))]),
            _ => self.0.get("cookie-lifetime-session"),
        }
    }
    fn session_storage(&self) -> String {
        self.0.get("cookie-storage-session")
    }
    fn audience(&self, audience: Audience) -> String {
        self.0.get(match audience {
            Audience::Users => "cookie-audience-users",
            Audience::Agents => "cookie-audience-agents",
            Audience::Admins => "cookie-audience-admins",
        })
    }
}

#[derive(Template)]
#[template(path = "cookies.html")]
struct CookiesPage {
    layout: Layout,
    table: String,
    current: String,
    can_choose: bool,
}

/// The cookie policy, generated from the registry (so it cannot drift from
/// what is set), with the visitor's current choice and the means to change it.
pub(crate) async fn policy(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let guest = Guest::resolve(&state, &ctx, &headers).await?;
    let t = &ctx.tr;
    let current = t.get(match guest.consent.reason {
        ConsentReason::GlobalPrivacyControl => "consent-gpc",
        _ if guest.consent.allowed => "consent-current-accepted",
        ConsentReason::Chosen(_) => "consent-current-rejected",
        ConsentReason::Default(_) => "consent-current-unset",
    });
    let layout = Layout::new::<Portal>(&state, &ctx, &t.get("cookies-title"), live.as_deref(), csrf);
    let table = state.registry().to_html_table_in(&TrLabels(ctx.tr));
    let page = CookiesPage { layout, table, current, can_choose: !ctx.gpc };
    let mut res = render(&page)?;
    guest.apply(&mut res);
    Ok(res)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConsentForm {
    choice: String,
    return_to: String,
}

/// Records the visitor's choice. Accepting makes the browser's visitor
/// persistent; refusing ends the link (the visitor token stops working and
/// the cookie is deleted).
pub(crate) async fn consent(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Result<Response, WebError> {
    let choice = match form.choice.as_str() {
        "accept" => ConsentChoice::Accepted,
        "reject" => ConsentChoice::Rejected,
        _ => return Err(WebError::BadRequest("Choose to accept or reject optional cookies.".into())),
    };
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    let visitors = state.visitors();
    let registry = state.registry();
    let site = ctx.site.id;
    let visitor = guest.visitor.as_ref().map(|v| v.id);
    let token = visitors.record_choice(site, choice, visitor).await?;
    guest.push(registry.set(CookieId::Consent, token.encode()));
    match choice {
        // Global Privacy Control still wins: the choice is kept, nothing optional is set.
        ConsentChoice::Accepted if !ctx.gpc => {
            let (_, token) = visitors.make_persistent(site, guest.visitor.take()).await?;
            guest.push(registry.set(CookieId::Visitor, token.encode()));
            guest.push(registry.clear(CookieId::Visit));
        }
        ConsentChoice::Accepted => {}
        ConsentChoice::Rejected => {
            if let Some(v) = guest.visitor.take().filter(|v| v.persistent) {
                visitors.forget(v.id).await?;
            }
            if guest.had_persistent {
                guest.push(registry.clear(CookieId::Visitor));
            }
        }
    }
    let mut res = Redirect::to(local_path(&form.return_to)).into_response();
    guest.apply(&mut res);
    Ok(res)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct LanguageForm {
    lang: String,
    return_to: String,
}

/// The language picker: the choice holds until the browser session ends.
pub(crate) async fn pick_language<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LanguageForm>,
) -> Result<Response, WebError> {
    let lang = Language::parse(&form.lang)
        .ok()
        .filter(|l| ctx.offered.contains(l))
        .ok_or_else(|| WebError::BadRequest("That language is not offered here.".into()))?;
    let back = match local_path(&form.return_to) {
        "/" => {
            if I::PREFIX.is_empty() {
                "/"
            } else {
                I::PREFIX
            }
        }
        path => path,
    };
    let mut res = Redirect::to(back).into_response();
    append(&mut res, state.registry().set(CookieId::Language, state.language_cookie().encode(ctx.site.id, &lang)));
    Ok(res)
}

super::pages!(CookiesPage);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tessera_cookies::{Registry, RegistryConfig};
    use tessera_i18n::Catalog;

    use super::*;

    fn registry() -> Registry {
        let day = 86_400;
        Registry::new(RegistryConfig {
            secure: true,
            remember_portal_max_age: Duration::from_secs(30 * day),
            remember_agent_max_age: Duration::from_secs(14 * day),
            visitor_max_age: Duration::from_secs(365 * day),
            cluster: false,
        })
    }

    #[test]
    fn every_catalogue_describes_every_cookie_and_english_is_the_declaration() {
        let catalog = Catalog::embedded();
        for d in registry().declarations() {
            let id = format!("cookie-purpose-{}", d.id.key());
            for lang in catalog.languages() {
                assert_ne!(catalog.tr(lang).get(&id), id, "{lang} has no {id}");
            }
            assert_eq!(catalog.english().get(&id), d.purpose, "en.ftl and the registry disagree on {id}");
        }
    }

    #[test]
    fn the_policy_table_speaks_the_readers_language() {
        let catalog = Catalog::embedded();
        let fr = Language::parse("fr").map(|l| catalog.tr(&l)).unwrap_or(catalog.english());
        let table = registry().to_html_table_in(&TrLabels(fr));
        assert!(table.contains("Essentiel") || table.contains("essentiel"), "{table}");
        assert!(table.contains("__Host-ts_v"));
        assert!(!table.contains("Your session in the Help Center"));
    }
}
