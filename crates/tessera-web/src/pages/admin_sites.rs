//! The admin's sites: the table of sites, a new site, and one site's
//! settings (hosts, languages, embedding origins, cookie solution type,
//! consent mode, registration) with a preview of the cookie declaration as
//! that site's visitors see it.
//!
//! Admins of the installation's default site manage every site; an admin of
//! any other site sees and edits only their own, and cannot create sites (a
//! tenant must not be able to take another tenant's host name or settings).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use tessera_core::{ConsentMode, DisplayName, HostName, Language, Origin, SiteId, SolutionType};
use tessera_i18n::Catalog;
use tessera_session::LiveSession;
use tessera_store::{MonitoringSettings, Site, SiteSettings, StoreError};

use super::cookies::TrLabels;
use super::{Layout, render};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::Authed;
use crate::{Admin, AppState, WebError};

/// Most host names or origins one site may list: plenty for real sites, and a
/// bound on what one form post can make us parse and store.
const MAX_LINES: usize = 100;

/// Whether the admin manages every site (an admin of the default site).
fn manages_all(state: &AppState, live: &LiveSession) -> bool {
    live.person.site_id == state.config().default_site
}

pub(crate) fn may_manage(state: &AppState, live: &LiveSession, site: SiteId) -> bool {
    manages_all(state, live) || live.person.site_id == site
}

/// The site at `/admin/sites/{id}`, if this admin may see it (else 404: a
/// tenant's admin does not learn which other site IDs exist).
async fn managed_site(state: &AppState, live: &LiveSession, id: &str) -> Result<Site, WebError> {
    let id = SiteId::parse(id).map_err(|_| WebError::NotFound)?;
    if !may_manage(state, live, id) {
        return Err(WebError::NotFound);
    }
    state.core().store().site(id).await?.ok_or(WebError::NotFound)
}

fn join<T: std::fmt::Display>(items: &[T], sep: &str) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(sep)
}

// ---------------------------------------------------------------- the list

#[derive(Debug)]
struct SiteRow {
    id: u32,
    name: String,
    hosts: String,
    languages: String,
    consent_mode: &'static str,
    solution_type: &'static str,
}

#[derive(Template)]
#[template(path = "admin_sites.html")]
struct SitesPage {
    layout: Layout,
    notice: Option<&'static str>,
    error: Option<String>,
    sites: Vec<SiteRow>,
    can_create: bool,
    new_id: String,
    new_name: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct SitesQuery {
    done: String,
    preview: String,
}

impl SitesQuery {
    fn notice(&self) -> Option<&'static str> {
        match self.done.as_str() {
            "created" => Some("The site was created. Set its host names and languages below."),
            "saved" => Some("The site's settings were saved."),
            _ => None,
        }
    }
}

async fn sites_page(
    state: &AppState,
    ctx: &Ctx,
    live: &LiveSession,
    csrf: FormToken,
    notice: Option<&'static str>,
    error: Option<String>,
    (new_id, new_name): (String, String),
) -> Result<SitesPage, WebError> {
    let all = manages_all(state, live);
    let mut sites = state.core().store().sites().await?;
    sites.retain(|s| all || s.id == live.person.site_id);
    sites.sort_by_key(|s| s.id);
    let sites = sites
        .iter()
        .map(|s| SiteRow {
            id: s.id.get(),
            name: s.settings.name.clone(),
            hosts: join(&s.settings.hosts, ", "),
            languages: join(&s.settings.languages, ", "),
            consent_mode: s.settings.consent_mode.as_str(),
            solution_type: s.settings.solution_type.as_str(),
        })
        .collect();
    Ok(SitesPage {
        layout: Layout::new::<Admin>(state, ctx, "Sites", Some(live), csrf),
        notice,
        error,
        sites,
        can_create: all,
        new_id,
        new_name,
    })
}

pub(crate) async fn sites(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Query(q): Query<SitesQuery>,
) -> Result<Response, WebError> {
    render(&sites_page(&state, &ctx, &live, csrf, q.notice(), None, Default::default()).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct CreateForm {
    site_id: String,
    name: String,
}

/// Creates a site with default settings (English, opt-in, no hosts yet) and
/// goes on to its settings.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    if !manages_all(&state, &live) {
        return Err(WebError::Forbidden("Only administrators of the main site can create sites."));
    }
    let store = state.core().store();
    let checked = match (SiteId::parse(&form.site_id), DisplayName::parse(&form.name)) {
        (Err(e), _) => Err(format!("Site ID: {e}.")),
        (_, Err(_)) => Err("Site name: give the site a name of 1 to 100 printable characters.".to_owned()),
        (Ok(id), Ok(name)) => match store.site(id).await? {
            Some(_) => Err(format!("Site ID {id} is already taken; choose another number.")),
            None => Ok((id, name)),
        },
    };
    let created = match checked {
        Ok((id, name)) => {
            match store.create_site(id, &SiteSettings::named(name.as_str()), state.core().now()).await {
                Ok(site) => Ok(site.id),
                // Taken between our check and the insert.
                Err(StoreError::Conflict(_)) => Err(format!("Site ID {id} is already taken; choose another number.")),
                Err(e) => return Err(e.into()),
            }
        }
        Err(message) => Err(message),
    };
    match created {
        Ok(id) => {
            state.sites().invalidate();
            Ok(Redirect::to(&format!("/admin/sites/{id}?done=created")).into_response())
        }
        Err(message) => {
            let page = sites_page(&state, &ctx, &live, csrf, None, Some(message), (form.site_id, form.name)).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

// ---------------------------------------------------------------- one site

/// One line of explanation per solution type (the product brief's table).
fn solution_help(t: SolutionType) -> &'static str {
    match t {
        SolutionType::ThirdParty => {
            "Visitor ID in a third-party persistent cookie, monitoring session in a third-party session \
             cookie; first-party persistent where third-party cookies are blocked (the default)."
        }
        SolutionType::ThirdPartySession => {
            "Visitor ID and monitoring session in third-party session cookies: no repeat-visitor \
             recognition; first-party session where third-party cookies are blocked."
        }
        SolutionType::FirstPartyPersistentWithThirdPartySession => {
            "First-party persistent visitor ID; first-party monitoring session duplicated as a \
             third-party session, so one site ID can monitor several domains."
        }
        SolutionType::FirstPartyPersistent => {
            "First-party persistent visitor ID and first-party monitoring session; no third-party cookies."
        }
        SolutionType::FirstPartySession => "First-party session cookies only: no history for returning visitors.",
    }
}

fn consent_help(m: ConsentMode) -> &'static str {
    match m {
        ConsentMode::OptIn => "Ask first: nothing optional is set until the visitor accepts (what the GDPR asks).",
        ConsentMode::OptOut => "Tell, and allow refusal: optional cookies are set until the visitor refuses.",
        ConsentMode::None => "Do not ask: no banner; a refusal on the cookie page or Sec-GPC: 1 is still honoured.",
    }
}

/// What the mode means for this site's optional cookies, for the preview.
fn consent_meaning(m: ConsentMode, visitor_cookie: &str) -> String {
    match m {
        ConsentMode::OptIn => format!(
            "Optional cookies (the visitor cookie {visitor_cookie}) are set only after the visitor accepts \
             them in the banner; until then guest votes and comments last only for the browser session."
        ),
        ConsentMode::OptOut => format!(
            "Optional cookies (the visitor cookie {visitor_cookie}) are set from the first visit; the banner \
             tells the visitor once and offers the refusal, which deletes them."
        ),
        ConsentMode::None => format!(
            "No banner is shown: optional cookies (the visitor cookie {visitor_cookie}) are set from the \
             first visit; a refusal on the cookie page still deletes them."
        ),
    }
}

#[derive(Debug)]
struct LanguageChoice {
    code: String,
    name: String,
    offered: bool,
    default: bool,
}

#[derive(Debug)]
struct Choice {
    value: &'static str,
    help: &'static str,
    selected: bool,
}

/// The settings form's fields, from the stored site or from what the admin typed.
#[derive(Debug)]
struct Fields {
    name: String,
    hosts: String,
    origins: String,
    languages: Vec<LanguageChoice>,
    solution_types: Vec<Choice>,
    consent_modes: Vec<Choice>,
    registration_open: bool,
    idle_minutes: String,
    retention_days: String,
    cookieless_counting: bool,
    full_ip: bool,
}

impl Fields {
    fn new(input: &SiteInput) -> Self {
        let catalog = Catalog::embedded();
        let languages = catalog
            .languages()
            .iter()
            .map(|l| LanguageChoice {
                code: l.as_str().to_owned(),
                name: catalog.tr(l).native_name(),
                offered: input.languages.iter().any(|c| c == l.as_str()),
                default: input.default_language == l.as_str(),
            })
            .collect();
        Self {
            name: input.name.clone(),
            hosts: input.hosts.clone(),
            origins: input.origins.clone(),
            languages,
            solution_types: SolutionType::ALL
                .map(|t| Choice {
                    value: t.as_str(),
                    help: solution_help(t),
                    selected: input.solution_type == t.as_str(),
                })
                .into(),
            consent_modes: ConsentMode::ALL
                .map(|m| Choice {
                    value: m.as_str(),
                    help: consent_help(m),
                    selected: input.consent_mode == m.as_str(),
                })
                .into(),
            registration_open: input.registration_open,
            idle_minutes: input.idle_minutes.clone(),
            retention_days: input.retention_days.clone(),
            cookieless_counting: input.cookieless_counting,
            full_ip: input.full_ip,
        }
    }
}

#[derive(Debug)]
struct PreviewLanguage {
    code: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin_site.html")]
struct SitePage {
    layout: Layout,
    id: u32,
    stored_name: String,
    notice: Option<&'static str>,
    error: Option<String>,
    fields: Fields,
    preview_languages: Vec<PreviewLanguage>,
    preview_lang: String,
    preview_table: String,
    consent_mode: &'static str,
    consent_meaning: String,
}

/// The settings page: the form (stored values, or the admin's input after a
/// refusal) and the preview of the stored settings.
fn site_page(
    state: &AppState,
    (ctx, live): (&Ctx, &LiveSession),
    csrf: FormToken,
    site: &Site,
    (input, error): (&SiteInput, Option<String>),
    q: &SitesQuery,
) -> SitePage {
    let catalog = Catalog::embedded();
    let s = &site.settings;
    let lang = Language::parse(&q.preview)
        .ok()
        .filter(|l| s.languages.contains(l))
        .unwrap_or_else(|| s.default_language.clone());
    let preview_table = state.registry().to_html_table_in(&TrLabels(catalog.tr(&lang)));
    let visitor_cookie = state.registry().name(tessera_cookies::CookieId::Visitor);
    SitePage {
        layout: Layout::new::<Admin>(state, ctx, &format!("Site {}", site.id), Some(live), csrf),
        id: site.id.get(),
        stored_name: s.name.clone(),
        notice: q.notice(),
        error,
        fields: Fields::new(input),
        preview_languages: s
            .languages
            .iter()
            .map(|l| PreviewLanguage {
                code: l.as_str().to_owned(),
                name: catalog.tr(l).native_name(),
                selected: *l == lang,
            })
            .collect(),
        preview_lang: lang.as_str().to_owned(),
        preview_table,
        consent_mode: s.consent_mode.as_str(),
        consent_meaning: consent_meaning(s.consent_mode, visitor_cookie),
    }
}

pub(crate) async fn site(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Path(id): Path<String>,
    Query(q): Query<SitesQuery>,
) -> Result<Response, WebError> {
    let site = managed_site(&state, &live, &id).await?;
    let input = SiteInput::from_settings(&site.settings);
    render(&site_page(&state, (&ctx, &live), csrf, &site, (&input, None), &q))
}

/// The settings form as posted: text as typed, so a refused form comes back
/// exactly as the admin left it.
#[derive(Debug, Default)]
struct SiteInput {
    name: String,
    hosts: String,
    origins: String,
    languages: Vec<String>,
    default_language: String,
    solution_type: String,
    consent_mode: String,
    registration_open: bool,
    idle_minutes: String,
    retention_days: String,
    cookieless_counting: bool,
    full_ip: bool,
}

impl SiteInput {
    fn from_settings(s: &SiteSettings) -> Self {
        Self {
            name: s.name.clone(),
            hosts: join(&s.hosts, "\n"),
            origins: join(&s.embed_origins, "\n"),
            languages: s.languages.iter().map(|l| l.as_str().to_owned()).collect(),
            default_language: s.default_language.as_str().to_owned(),
            solution_type: s.solution_type.as_str().to_owned(),
            consent_mode: s.consent_mode.as_str().to_owned(),
            registration_open: s.registration_open,
            idle_minutes: s.monitoring.idle_minutes.to_string(),
            retention_days: s.monitoring.retention_days.to_string(),
            cookieless_counting: s.monitoring.cookieless_counting,
            full_ip: s.monitoring.full_ip,
        }
    }

    /// From the posted pairs (checkboxes repeat `languages`).
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        // A form without the monitoring fields (an older page) keeps the defaults.
        let defaults = MonitoringSettings::default();
        let mut input = Self {
            idle_minutes: defaults.idle_minutes.to_string(),
            retention_days: defaults.retention_days.to_string(),
            ..Self::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "name" => input.name = value,
                "hosts" => input.hosts = value,
                "origins" => input.origins = value,
                "languages" => input.languages.push(value),
                "default_language" => input.default_language = value,
                "solution_type" => input.solution_type = value,
                "consent_mode" => input.consent_mode = value,
                "registration_open" => input.registration_open = !value.is_empty(),
                "idle_minutes" => input.idle_minutes = value,
                "retention_days" => input.retention_days = value,
                "cookieless_counting" => input.cookieless_counting = !value.is_empty(),
                "full_ip" => input.full_ip = value == "full",
                _ => {}
            }
        }
        input
    }

    /// The settings, or a message naming the field (and line) that is wrong.
    fn validate(&self) -> Result<SiteSettings, String> {
        let name = DisplayName::parse(&self.name)
            .map_err(|_| "Site name: give the site a name of 1 to 100 printable characters.".to_owned())?;
        let hosts = lines("Host names", &self.hosts, HostName::parse)?;
        let embed_origins = lines("Allowed embedding origins", &self.origins, Origin::parse)?;
        let catalog = Catalog::embedded();
        for code in &self.languages {
            if !catalog.languages().iter().any(|l| l.as_str() == code) {
                return Err(format!("Languages: \"{}\" is not an available language.", shorten(code)));
            }
        }
        // Catalogue order: the order the picker shows.
        let languages: Vec<Language> =
            catalog.languages().iter().filter(|l| self.languages.iter().any(|c| c == l.as_str())).cloned().collect();
        if languages.is_empty() {
            return Err("Languages: offer at least one language.".into());
        }
        let default_language =
            languages.iter().find(|l| l.as_str() == self.default_language).cloned().ok_or_else(|| {
                format!(
                    "Default language: \"{}\" must be one of the offered languages ({}).",
                    shorten(&self.default_language),
                    join(&languages, ", ")
                )
            })?;
        let solution_type =
            SolutionType::parse(&self.solution_type).map_err(|e| format!("Cookie solution type: {e}."))?;
        let consent_mode = ConsentMode::parse(&self.consent_mode).map_err(|e| format!("Consent mode: {e}."))?;
        let number = |label: &str, text: &str, range: std::ops::RangeInclusive<u32>| {
            text.trim().parse::<u32>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                format!(
                    "{label}: \"{}\" is not a whole number from {} to {}.",
                    shorten(text),
                    range.start(),
                    range.end()
                )
            })
        };
        let monitoring = MonitoringSettings {
            idle_minutes: number("Visit ends after", &self.idle_minutes, MonitoringSettings::IDLE_MINUTES)?,
            retention_days: number("Keep page views for", &self.retention_days, MonitoringSettings::RETENTION_DAYS)?,
            cookieless_counting: self.cookieless_counting,
            full_ip: self.full_ip,
        };
        Ok(SiteSettings {
            name: name.as_str().to_owned(),
            hosts,
            languages,
            default_language,
            embed_origins,
            solution_type,
            consent_mode,
            registration_open: self.registration_open,
            monitoring,
        })
    }
}

/// A value echoed in a message, cut to a readable length.
fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// One value per non-empty line, duplicates dropped; a bad line is named by
/// its number and text.
fn lines<T: PartialEq, E: std::fmt::Display>(
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = parse(line).map_err(|e| format!("{field}, line {}: \"{}\" is {e}.", n + 1, shorten(line)))?;
        if !out.contains(&value) {
            out.push(value);
        }
        if out.len() > MAX_LINES {
            return Err(format!("{field}: at most {MAX_LINES} lines."));
        }
    }
    Ok(out)
}

/// Saves a site's settings. Nothing is saved unless every field is valid and
/// no host name belongs to another site.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Path(id): Path<String>,
    Query(q): Query<SitesQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let site = managed_site(&state, &live, &id).await?;
    let input = SiteInput::from_pairs(pairs);
    let store = state.core().store();
    let outcome = match input.validate() {
        Err(message) => Err(message),
        Ok(settings) => {
            let others = store.sites().await?;
            let taken =
                settings.hosts.iter().find(|h| others.iter().any(|o| o.id != site.id && o.settings.hosts.contains(h)));
            match taken {
                Some(host) => Err(format!("Host names: {host} is already used by another site.")),
                None => match store.update_site(site.id, &settings, state.core().now()).await {
                    Ok(true) => Ok(()),
                    Ok(false) => return Err(WebError::NotFound),
                    // Taken between our check and the update.
                    Err(StoreError::Conflict(_)) => {
                        Err("Host names: one of them is already used by another site.".to_owned())
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
    };
    match outcome {
        Ok(()) => {
            state.sites().invalidate();
            Ok(Redirect::to(&format!("/admin/sites/{}?done=saved", site.id)).into_response())
        }
        Err(message) => {
            let q = SitesQuery { done: String::new(), ..q };
            let page = site_page(&state, (&ctx, &live), csrf, &site, (&input, Some(message)), &q);
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

super::pages!(SitesPage, SitePage);

#[derive(Template)]
#[template(path = "admin_secret.html")]
struct SecretPage {
    layout: Layout,
    id: SiteId,
    secret: String,
}

/// Makes a new identity secret for the site and shows it once: the customer's
/// backend signs its users' identity tokens (HS256) with it. Tokens signed
/// with the previous secret stop working at once.
pub(crate) async fn rotate_identity_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    use base64::Engine;
    let site = managed_site(&state, &live, &id).await?;
    // 256 random bits, as text: what customers' JWT libraries take as an HS256 secret.
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tessera_core::random_bytes::<32>());
    state.core().store().set_identity_secret(site.id, secret.as_bytes(), state.core().now()).await?;
    tracing::info!(site = %site.id, admin = %live.person.id, "identity secret rotated");
    let layout = Layout::new::<Admin>(&state, &ctx, "Identity secret", Some(&live), csrf);
    let mut res = render(&SecretPage { layout, id: site.id, secret })?;
    // A secret on screen must not linger in caches or history.
    res.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    Ok(res)
}

super::pages!(SecretPage);
