//! The embedded catalogues: they parse, they are complete, and they say what they should.
//!
//! `every_message_exists_in_every_language_with_the_same_variables` is what keeps later additions
//! complete: add a message to `en.ftl` and this fails until `fr.ftl` and `da.ftl` have it too.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{CallArguments, Entry, Expression, InlineExpression, Pattern, PatternElement};
use tessera_i18n::{Arg, Catalog, Language, negotiate};

const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en.ftl")),
    ("fr", include_str!("../locales/fr.ftl")),
    ("da", include_str!("../locales/da.ftl")),
];

fn lang(tag: &str) -> Language {
    Language::parse(tag).expect("test tags are valid")
}

/// Message id → the variables it uses (`$name`), from the Fluent AST.
fn messages(tag: &str, source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{tag}.ftl: {errors:#?}"));
    let mut out = BTreeMap::new();
    for entry in resource.body {
        if let Entry::Message(message) = entry {
            let mut vars = BTreeSet::new();
            message.value.iter().chain(message.attributes.iter().map(|a| &a.value)).for_each(|p| pattern(p, &mut vars));
            out.insert(message.id.name.to_owned(), vars);
        }
    }
    out
}

fn pattern(p: &Pattern<&str>, vars: &mut BTreeSet<String>) {
    for element in &p.elements {
        if let PatternElement::Placeable { expression } = element {
            expr(expression, vars);
        }
    }
}

fn expr(e: &Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        Expression::Select { selector, variants } => {
            inline(selector, vars);
            variants.iter().for_each(|v| pattern(&v.value, vars));
        }
        Expression::Inline(i) => inline(i, vars),
    }
}

fn inline(i: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    let call = |args: &CallArguments<&str>, vars: &mut BTreeSet<String>| {
        args.positional.iter().chain(args.named.iter().map(|n| &n.value)).for_each(|a| inline(a, vars));
    };
    match i {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        InlineExpression::FunctionReference { arguments, .. } => call(arguments, vars),
        InlineExpression::TermReference { arguments: Some(arguments), .. } => call(arguments, vars),
        InlineExpression::Placeable { expression } => expr(expression, vars),
        _ => {}
    }
}

#[test]
fn every_embedded_catalogue_parses_and_loads_without_errors() {
    let errors = Catalog::from_sources(SOURCES).err().unwrap_or_default();
    let listing: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(listing.is_empty(), "catalogue errors:\n{}", listing.join("\n"));
}

#[test]
fn every_message_exists_in_every_language_with_the_same_variables() {
    let (en_tag, en_source) = SOURCES[0];
    let english = messages(en_tag, en_source);
    let mut problems = Vec::new();
    for &(tag, source) in &SOURCES[1..] {
        let other = messages(tag, source);
        let missing: Vec<&str> = english.keys().filter(|id| !other.contains_key(*id)).map(String::as_str).collect();
        let extra: Vec<&str> = other.keys().filter(|id| !english.contains_key(*id)).map(String::as_str).collect();
        if !missing.is_empty() {
            problems.push(format!("{tag}.ftl lacks: {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            problems.push(format!("{tag}.ftl has ids en.ftl lacks: {}", extra.join(", ")));
        }
        for (id, vars) in &english {
            if let Some(theirs) = other.get(id).filter(|theirs| *theirs != vars) {
                problems.push(format!("{tag}.ftl {id} uses variables {theirs:?}, en.ftl {vars:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "catalogues out of step:\n{}", problems.join("\n"));
}

#[test]
fn french_and_danish_translate_and_name_themselves() {
    let catalog = Catalog::embedded();
    assert_eq!(catalog.tr(&lang("fr")).get("vote-yes"), "Oui");
    assert_eq!(catalog.tr(&lang("da")).get("vote-yes"), "Ja");
    let names: Vec<String> = catalog.languages().iter().map(|l| catalog.tr(l).native_name()).collect();
    assert_eq!(names, ["English", "Français", "Dansk"]);
}

#[test]
fn unknown_language_and_unknown_id_fall_back_to_english_then_the_id() {
    let catalog = Catalog::embedded();
    let de = catalog.tr(&lang("de"));
    assert_eq!(de.lang().as_str(), "en");
    assert_eq!(de.get("vote-yes"), "Yes");
    assert_eq!(catalog.tr(&lang("fr")).get("no-such-message"), "no-such-message");
    assert_eq!(catalog.tr(&lang("fr-CA")).lang().as_str(), "fr");
}

#[test]
fn article_count_is_pluralised_in_every_language() {
    let catalog = Catalog::embedded();
    let count = |tag: &str, n: i64| catalog.tr(&lang(tag)).with("kb-article-count", &[("count", Arg::Num(n))]);
    assert_eq!([count("en", 1), count("en", 5)], ["one article", "5 articles"]);
    assert_eq!([count("fr", 1), count("fr", 5)], ["un article", "5 articles"]);
    assert_eq!([count("da", 1), count("da", 5)], ["én artikel", "5 artikler"]);
}

#[test]
fn zero_comments_has_its_own_wording() {
    let catalog = Catalog::embedded();
    let heading = |n: i64| catalog.english().with("comments-heading", &[("count", Arg::Num(n))]);
    assert_eq!([heading(0), heading(1), heading(2)], ["No comments yet", "One comment", "2 comments"]);
}

#[test]
fn output_has_no_unicode_isolation_marks() {
    let catalog = Catalog::embedded();
    for l in catalog.languages() {
        let args = [("count", Arg::Num(3)), ("query", Arg::Str("<b>vpn</b>"))];
        let text = catalog.tr(l).with("search-results", &args);
        assert!(text.contains("3") && text.contains("<b>vpn</b>"), "{text}");
        assert!(!text.contains(['\u{2068}', '\u{2069}']), "{l}: {text:?}");
    }
}

#[test]
fn negotiation_picks_among_the_embedded_languages() {
    let catalog = Catalog::embedded();
    let en = lang("en");
    let pick = |header: &str| negotiate(Some(header), catalog.languages(), &en).to_string();
    assert_eq!(pick("fr-CH, fr;q=0.9, en;q=0.8"), "fr");
    assert_eq!(pick("da"), "da");
    assert_eq!(pick("de"), "en");
    assert_eq!(pick("en;q=0, fr;q=0.1"), "fr");
    assert_eq!(pick("*"), "en");
    assert_eq!(pick("!!!;q=abc"), "en");
    assert_eq!(negotiate(None, catalog.languages(), &en), en);
}

#[test]
fn a_hundred_kilobyte_header_is_answered_quickly() {
    let catalog = Catalog::embedded();
    let en = lang("en");
    let headers = [
        "x".repeat(100 * 1024),
        "de-DE;q=0.5, ".repeat(100 * 1024 / 13),
        format!("{}da", ",".repeat(100 * 1024)),
        format!("da;q=0.1, {}", "zh-Hant-TW;q=0.9, ".repeat(6000)),
    ];
    let started = std::time::Instant::now();
    for header in &headers {
        let chosen = negotiate(Some(header), catalog.languages(), &en);
        assert!(catalog.languages().contains(&chosen), "{chosen}");
    }
    // Generous for unoptimised builds on a busy machine; the real cost is microseconds.
    assert!(started.elapsed() < std::time::Duration::from_millis(200), "{:?}", started.elapsed());
}
