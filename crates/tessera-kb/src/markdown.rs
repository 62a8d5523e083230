//! Article bodies: Markdown in, sanitised HTML out.
//!
//! Agents write Markdown; readers get HTML that went through an allow-list
//! sanitiser (ammonia), so neither a raw `<script>` in the Markdown nor a
//! `javascript:` link survives, whoever wrote the article.

use pulldown_cmark::{Options, Parser, html};

/// Longest article body accepted, in bytes.
pub const MAX_MARKDOWN_BYTES: usize = 200_000;

pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["https", "http", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_generic_attributes(["id"])
        .clean(&unsafe_html)
        .to_string()
}

/// The body as plain text (for search snippets and previews).
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, TagEnd};
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Heading(_)) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_with_tables() {
        let html = render("# Title\n\nSome *text*.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<em>text</em>"));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) \
             <a href=\"https://ok.example\" onclick=\"x()\">ok</a>",
        );
        for bad in ["<script", "onerror", "javascript:", "onclick", "alert(1)"] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("href=\"https://ok.example\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(plain_text("# Cookies\n\nWe use **few** cookies.\n- `ts_v`"), "Cookies We use few cookies. ts_v");
    }
}
