//! The catalogues and the translator handed to templates.

use std::fmt;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use tessera_core::Language;
use unic_langid::LanguageIdentifier;

/// The catalogues compiled into the binary. English comes first: it is the fallback.
const EMBEDDED: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en.ftl")),
    ("fr", include_str!("../locales/fr.ftl")),
    ("da", include_str!("../locales/da.ftl")),
];

/// The concurrent bundle, so a [`Catalog`] is `Send + Sync` and can live in a `static`.
type Bundle = FluentBundle<FluentResource>;

/// Why a set of catalogue sources is not clean. [`Catalog::embedded`] never returns one: it keeps
/// whatever did load, and the test suite makes sure the embedded sources produce none.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{0:?} is not a language tag")]
    BadTag(String),
    #[error("there is no English catalogue to fall back to")]
    NoEnglish,
    #[error("{0} has more than one catalogue")]
    Duplicate(Language),
    #[error("{lang}.ftl line {line}: {message}")]
    Syntax { lang: Language, line: usize, message: String },
    #[error("{lang}.ftl: {message}")]
    Bundle { lang: Language, message: String },
}

struct Locale {
    lang: Language,
    bundle: Bundle,
}

/// The string catalogues, one per language; English is always present (possibly empty).
pub struct Catalog {
    english: Locale,
    others: Vec<Locale>,
    /// English first, then the others in source order: what [`Catalog::languages`] returns.
    languages: Vec<Language>,
}

impl Catalog {
    /// The catalogues compiled into the binary (`locales/*.ftl`).
    pub fn embedded() -> &'static Catalog {
        static EMBEDDED_CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::assemble(EMBEDDED).0);
        &EMBEDDED_CATALOG
    }

    /// Builds a catalogue from `(tag, Fluent source)` pairs, one of them `en`; any error fails it.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Catalog, Vec<CatalogError>> {
        let (catalog, errors) = Catalog::assemble(sources);
        if errors.is_empty() { Ok(catalog) } else { Err(errors) }
    }

    /// Loads everything that can be loaded and reports the rest, so the embedded catalogue degrades
    /// (a broken message falls back to English) instead of taking the process down.
    fn assemble(sources: &[(&str, &str)]) -> (Catalog, Vec<CatalogError>) {
        let mut errors = Vec::new();
        let mut english: Option<Locale> = None;
        let mut others: Vec<Locale> = Vec::new();
        for &(tag, source) in sources {
            let Ok(lang) = Language::parse(tag) else {
                errors.push(CatalogError::BadTag(tag.to_owned()));
                continue;
            };
            if english.iter().chain(&others).any(|l| l.lang == lang) {
                errors.push(CatalogError::Duplicate(lang));
                continue;
            }
            let locale = Locale::load(lang, source, &mut errors);
            if locale.lang.as_str() == "en" { english = Some(locale) } else { others.push(locale) }
        }
        let english = english.unwrap_or_else(|| {
            errors.push(CatalogError::NoEnglish);
            Locale::load(english_tag(), "", &mut errors)
        });
        let languages = std::iter::once(&english).chain(&others).map(|l| l.lang.clone()).collect();
        (Catalog { english, others, languages }, errors)
    }

    /// Languages with a catalogue, English first.
    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// Whether `lang` has a catalogue: the exact tag, or one with the same primary subtag.
    pub fn has(&self, lang: &Language) -> bool {
        self.find(lang).is_some()
    }

    /// A translator for `lang` (exact tag, else same primary subtag, else English).
    pub fn tr(&self, lang: &Language) -> Tr<'_> {
        Tr { locale: self.find(lang).unwrap_or(&self.english), english: &self.english }
    }

    pub fn english(&self) -> Tr<'_> {
        Tr { locale: &self.english, english: &self.english }
    }

    fn find(&self, lang: &Language) -> Option<&Locale> {
        let all = || std::iter::once(&self.english).chain(&self.others);
        all().find(|l| l.lang == *lang).or_else(|| all().find(|l| l.lang.primary() == lang.primary()))
    }
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog").field("languages", &self.languages).finish_non_exhaustive()
    }
}

impl Locale {
    fn load(lang: Language, source: &str, errors: &mut Vec<CatalogError>) -> Locale {
        // Tessera's tags are a subset of Unicode language identifiers; `und` would only lose plural rules.
        let langid: LanguageIdentifier = lang.as_str().parse().unwrap_or_default();
        let mut bundle = Bundle::new_concurrent(vec![langid]);
        // Output goes into HTML, where U+2068/U+2069 isolation marks are noise.
        bundle.set_use_isolating(false);
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(resource, syntax_errors)| {
            for e in syntax_errors {
                let line = source.get(..e.pos.start).map_or(0, |before| before.matches('\n').count() + 1);
                errors.push(CatalogError::Syntax { lang: lang.clone(), line, message: e.kind.to_string() });
            }
            resource
        });
        if let Err(bundle_errors) = bundle.add_resource(resource) {
            for e in bundle_errors {
                errors.push(CatalogError::Bundle { lang: lang.clone(), message: e.to_string() });
            }
        }
        Locale { lang, bundle }
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        // Formatting errors (say, a missing argument) still yield readable text with `{$name}` in it.
        let mut errors = Vec::new();
        Some(self.bundle.format_pattern(pattern, args, &mut errors).into_owned())
    }
}

/// The fallback language's tag.
#[allow(clippy::expect_used)] // A constant two-letter tag; every test that builds a catalogue runs this.
fn english_tag() -> Language {
    Language::parse("en").expect("\"en\" is a valid language tag")
}

/// A message argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg<'a> {
    Str(&'a str),
    /// A number: selects plural variants (`[one]`, `*[other]`) by the language's plural rules.
    Num(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Str(text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Num(n)
    }
}

/// Looks up messages in one language, falling back to English and then to the message id.
#[derive(Clone, Copy)]
pub struct Tr<'a> {
    locale: &'a Locale,
    english: &'a Locale,
}

impl<'a> Tr<'a> {
    /// The language actually used (`fr` when `fr-CA` was asked for).
    pub fn lang(&self) -> &'a Language {
        &self.locale.lang
    }

    /// Message text; missing → English → the id itself.
    pub fn get(&self, id: &str) -> String {
        self.lookup(id, None)
    }

    /// Message text with named arguments.
    pub fn with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for &(name, arg) in args {
            let value = match arg {
                Arg::Str(text) => FluentValue::from(text),
                Arg::Num(n) => FluentValue::from(n),
            };
            fluent_args.set(name, value);
        }
        self.lookup(id, Some(&fluent_args))
    }

    /// The language's own name, e.g. "Français", for language pickers.
    pub fn native_name(&self) -> String {
        self.get("language-name")
    }

    fn lookup(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        self.locale.format(id, args).or_else(|| self.english.format(id, args)).unwrap_or_else(|| id.to_owned())
    }
}

impl fmt::Debug for Tr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tr").field("lang", &self.locale.lang).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::parse(tag).expect("test tags are valid")
    }

    fn small() -> Catalog {
        Catalog::from_sources(&[
            ("en", "hello = Hello, { $name }!\nonly-en = Only English\nn = { $n ->\n [one] one\n*[other] { $n }\n}"),
            ("fr", "hello = Bonjour, { $name } !\nn = { $n ->\n [one] un\n*[other] { $n }\n}"),
            ("pt-BR", "hello = Olá, { $name }!"),
        ])
        .expect("the test catalogue is valid")
    }

    #[test]
    fn catalog_is_send_and_sync_so_it_can_live_in_a_static() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Catalog>();
        assert_send_sync::<Tr<'static>>();
    }

    #[test]
    fn embedded_catalogue_loads_without_errors_english_first() {
        let errors = Catalog::assemble(EMBEDDED).1;
        assert!(errors.is_empty(), "{errors:#?}");
        let tags: Vec<&str> = Catalog::embedded().languages().iter().map(Language::as_str).collect();
        assert_eq!(tags, ["en", "fr", "da"]);
    }

    #[test]
    fn missing_message_falls_back_to_english_then_to_the_id() {
        let c = small();
        let fr = c.tr(&lang("fr"));
        assert_eq!(fr.get("only-en"), "Only English");
        assert_eq!(fr.get("no-such-id"), "no-such-id");
        assert_eq!(fr.with("hello", &[("name", Arg::Str("Ann"))]), "Bonjour, Ann !");
    }

    #[test]
    fn tr_matches_exact_tag_then_primary_subtag_then_uses_english() {
        let c = small();
        assert_eq!(c.tr(&lang("fr-CA")).lang().as_str(), "fr");
        assert_eq!(c.tr(&lang("pt")).lang().as_str(), "pt-BR");
        assert_eq!(c.tr(&lang("de")).lang().as_str(), "en");
        assert!(c.has(&lang("fr-CA")) && c.has(&lang("pt")) && !c.has(&lang("de")));
    }

    #[test]
    fn arguments_are_not_wrapped_in_unicode_isolation_marks() {
        let out = small().english().with("hello", &[("name", "Ann".into())]);
        assert_eq!(out, "Hello, Ann!");
        assert!(!out.contains(['\u{2068}', '\u{2069}']));
    }

    #[test]
    fn numbers_select_plural_variants_by_the_language_rules() {
        let c = small();
        // French puts 0 in "one"; English does not.
        assert_eq!(c.tr(&lang("fr")).with("n", &[("n", Arg::Num(0))]), "un");
        assert_eq!(c.english().with("n", &[("n", Arg::Num(0))]), "0");
        assert_eq!(c.english().with("n", &[("n", 1.into())]), "one");
    }

    #[test]
    fn broken_sources_are_reported_but_what_loads_is_kept() {
        let (c, errors) = Catalog::assemble(&[("en", "ok = Fine\nbroken = { $"), ("xx-!!", ""), ("en", "")]);
        assert_eq!(c.english().get("ok"), "Fine");
        assert!(matches!(errors[0], CatalogError::Syntax { line: 2, .. }), "{errors:?}");
        assert_eq!(errors[1], CatalogError::BadTag("xx-!!".into()));
        assert_eq!(errors[2], CatalogError::Duplicate(lang("en")));
        assert_eq!(Catalog::from_sources(&[("fr", "")]).expect_err("no English"), [CatalogError::NoEnglish]);
    }

    #[test]
    fn debug_output_names_the_languages() {
        let c = small();
        assert_eq!(
            format!("{c:?}"),
            r#"Catalog { languages: [Language("en"), Language("fr"), Language("pt-BR")], .. }"#
        );
        assert_eq!(format!("{:?}", c.english()), r#"Tr { lang: Language("en"), .. }"#);
    }
}
