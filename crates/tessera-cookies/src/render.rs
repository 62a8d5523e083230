//! The declaration as a document: Markdown, JSON and an HTML table, in the
//! layout of the seed pages (name, description, type, applies to).

use crate::{Audience, Category, Declaration, Lifetime, Registry, Storage};

/// The words of a rendered declaration, so the policy page can be in the
/// reader's language. [`English`] is what the CLI and README use.
pub trait Labels {
    fn purpose(&self, d: &Declaration) -> String;
    fn column(&self, column: Column) -> String;
    fn category(&self, category: Category) -> String;
    /// "Session", "Persistent (30 days)"...
    fn lifetime(&self, lifetime: Lifetime, max_age_seconds: Option<u64>) -> String;
    fn audience(&self, audience: Audience) -> String;
    /// "session storage" for storage keys (shown after the name); cookies need no word.
    fn session_storage(&self) -> String;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Name,
    Description,
    Type,
    AppliesTo,
}

/// The declarations' own English.
#[derive(Clone, Copy, Debug, Default)]
pub struct English;

impl Labels for English {
    fn purpose(&self, d: &Declaration) -> String {
        d.purpose.to_owned()
    }
    fn column(&self, column: Column) -> String {
        match column {
            Column::Name => "Name",
            Column::Description => "Description",
            Column::Type => "Type",
            Column::AppliesTo => "Applies to",
        }
        .to_owned()
    }
    fn category(&self, category: Category) -> String {
        match category {
            Category::Essential => "Essential",
            Category::Optional => "Optional",
        }
        .to_owned()
    }
    fn lifetime(&self, lifetime: Lifetime, max_age_seconds: Option<u64>) -> String {
        match (lifetime, max_age_seconds) {
            (Lifetime::Session, _) => "Session".to_owned(),
            (Lifetime::Persistent, Some(secs)) => format!("Persistent ({})", human_duration(secs)),
            (Lifetime::Persistent, None) => "Persistent".to_owned(),
        }
    }
    fn audience(&self, audience: Audience) -> String {
        match audience {
            Audience::Users => "Users",
            Audience::Agents => "Agents",
            Audience::Admins => "Admins",
        }
        .to_owned()
    }
    fn session_storage(&self) -> String {
        "session storage".to_owned()
    }
}

/// " (session storage)" after a storage key's name; nothing for cookies.
fn storage_note(d: &Declaration, labels: &dyn Labels) -> String {
    match d.storage {
        Storage::Cookie => String::new(),
        Storage::SessionStorage => format!(" ({})", labels.session_storage()),
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 && s >= 86_400 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 && s >= 3_600 => format!("{} hours", s / 3_600),
        s => format!("{s} seconds"),
    }
}

fn category_label(d: &Declaration, labels: &dyn Labels) -> String {
    format!("{} / {}", labels.category(d.category), labels.lifetime(d.lifetime, d.max_age_seconds))
}

fn audience_label(d: &Declaration, labels: &dyn Labels) -> String {
    d.audience.iter().map(|a| labels.audience(*a)).collect::<Vec<_>>().join(", ")
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Registry {
    /// A Markdown table, as in the README.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_in(&English)
    }

    /// A Markdown table in the words of `labels`.
    pub fn to_markdown_in(&self, labels: &dyn Labels) -> String {
        let cell = |text: String| text.replace('|', "\\|");
        let mut out = format!(
            "| {} | {} | {} | {} |\n|---|---|---|---|\n",
            cell(labels.column(Column::Name)),
            cell(labels.column(Column::Description)),
            cell(labels.column(Column::Type)),
            cell(labels.column(Column::AppliesTo)),
        );
        for d in self.declarations() {
            out.push_str(&format!(
                "| `{}`{} | {} | {} | {} |\n",
                d.name,
                cell(storage_note(d, labels)),
                cell(labels.purpose(d)),
                cell(category_label(d, labels)),
                cell(audience_label(d, labels))
            ));
        }
        out
    }

    /// The machine-readable declaration (`tessera cookies --format json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self.declarations()).unwrap_or_else(|_| "[]".into())
    }

    /// An HTML `<table>` (escaped) in English, for `--format html`.
    pub fn to_html_table(&self) -> String {
        self.to_html_table_in(&English)
    }

    /// An HTML `<table>` (escaped) in the words of `labels`: the policy page.
    pub fn to_html_table_in(&self, labels: &dyn Labels) -> String {
        let th = |c| escape_html(&labels.column(c));
        let mut out = format!(
            "<table class=\"cookies\">\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
            th(Column::Name),
            th(Column::Description),
            th(Column::Type),
            th(Column::AppliesTo),
        );
        for d in self.declarations() {
            out.push_str(&format!(
                "<tr><th scope=\"row\"><code>{}</code>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape_html(&d.name),
                escape_html(&storage_note(d, labels)),
                escape_html(&labels.purpose(d)),
                escape_html(&category_label(d, labels)),
                escape_html(&audience_label(d, labels))
            ));
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{CookieId, RegistryConfig};

    use super::*;

    fn registry() -> Registry {
        Registry::new(RegistryConfig {
            secure: true,
            remember_portal_max_age: Duration::from_secs(30 * 86_400),
            remember_agent_max_age: Duration::from_secs(14 * 86_400),
            visitor_max_age: Duration::from_secs(365 * 86_400),
            cluster: true,
        })
    }

    #[test]
    fn json_has_the_contract_fields_for_every_cookie() {
        let r = registry();
        let parsed: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap_or_default();
        let items = parsed.as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), CookieId::ALL.len());
        for item in items {
            for field in [
                "name",
                "purpose",
                "category",
                "lifetime",
                "max_age_seconds",
                "party",
                "set_by",
                "audience",
                "http_only",
                "secure",
                "same_site",
                "partitioned",
            ] {
                assert!(item.get(field).is_some(), "missing {field} in {item}");
            }
        }
        assert!(r.to_json().contains("\"category\": \"optional\""));
    }

    #[test]
    fn tables_list_every_cookie_with_type_and_audience() {
        let r = registry();
        let md = r.to_markdown();
        let html = r.to_html_table();
        for d in r.declarations() {
            assert!(md.contains(&d.name) && html.contains(&d.name));
        }
        assert!(md.contains("Optional / Persistent (30 days)"));
        assert!(html.contains("Essential / Session"));
        assert!(html.contains("Users, Agents, Admins"));
    }
}
