//! The declaration as a document: Markdown, JSON and an HTML table, in the
//! layout of the seed pages (name, description, type, applies to).

use crate::{Audience, Category, Declaration, Lifetime, Registry};

fn category_label(d: &Declaration) -> String {
    let category = match d.category {
        Category::Essential => "Essential",
        Category::Optional => "Optional",
    };
    let lifetime = match (d.lifetime, d.max_age_seconds) {
        (Lifetime::Session, _) => "Session".to_owned(),
        (Lifetime::Persistent, Some(secs)) => format!("Persistent ({})", human_duration(secs)),
        (Lifetime::Persistent, None) => "Persistent".to_owned(),
    };
    format!("{category} / {lifetime}")
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 && s >= 86_400 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 && s >= 3_600 => format!("{} hours", s / 3_600),
        s => format!("{s} seconds"),
    }
}

fn audience_label(d: &Declaration) -> String {
    d.audience
        .iter()
        .map(|a| match a {
            Audience::Users => "Users",
            Audience::Agents => "Agents",
            Audience::Admins => "Admins",
        })
        .collect::<Vec<_>>()
        .join(", ")
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
        let mut out = String::from("| Name | Description | Type | Applies to |\n|---|---|---|---|\n");
        for d in self.declarations() {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                d.name,
                d.purpose.replace('|', "\\|"),
                category_label(d),
                audience_label(d)
            ));
        }
        out
    }

    /// The machine-readable declaration (`tessera cookies --format json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self.declarations()).unwrap_or_else(|_| "[]".into())
    }

    /// An HTML `<table>` (escaped), used by the policy page and `--format html`.
    pub fn to_html_table(&self) -> String {
        let mut out = String::from(
            "<table class=\"cookies\">\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Description</th>\
             <th scope=\"col\">Type</th><th scope=\"col\">Applies to</th></tr></thead>\n<tbody>\n",
        );
        for d in self.declarations() {
            out.push_str(&format!(
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape_html(&d.name),
                escape_html(d.purpose),
                escape_html(&category_label(d)),
                escape_html(&audience_label(d))
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
