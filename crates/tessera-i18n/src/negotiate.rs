//! `Accept-Language` negotiation (RFC 9110 §12.5.4), bounded so a hostile header costs next to nothing.

use tessera_core::Language;

/// Header bytes looked at; real headers are well under 200.
const MAX_HEADER_BYTES: usize = 4 * 1024;
/// Language ranges looked at; browsers send a handful.
const MAX_ENTRIES: usize = 32;

/// Best language for an `Accept-Language` header among `offered` (in the site's order), else `default`.
///
/// Highest q-value wins; at equal q an exact tag beats a primary-subtag match (`fr-CA` ↔ `fr`,
/// `pt` ↔ `pt-BR`), then the site's order decides. `q=0` excludes a language (`en;q=0` also
/// excludes `en-GB`), `*` stands for `default`, and malformed entries are skipped.
pub fn negotiate(accept_language: Option<&str>, offered: &[Language], default: &Language) -> Language {
    let Some(header) = accept_language else { return default.clone() };
    let ranges: Vec<LanguageRange> =
        capped(header).split(',').take(MAX_ENTRIES).filter_map(LanguageRange::parse).collect();
    let mut best: Option<(Score, &Language)> = None;
    for lang in offered {
        if ranges.iter().any(|r| r.excludes(lang)) {
            continue;
        }
        let score = ranges.iter().filter_map(|r| r.score(lang, default)).max();
        // Strictly greater: on a tie the language the site lists first stays.
        if let Some(score) = score.filter(|s| best.is_none_or(|(b, _)| *s > b)) {
            best = Some((score, lang));
        }
    }
    best.map_or_else(|| default.clone(), |(_, lang)| lang.clone())
}

/// The header up to [`MAX_HEADER_BYTES`], without an entry the cut went through.
fn capped(header: &str) -> &str {
    if header.len() <= MAX_HEADER_BYTES {
        return header;
    }
    let mut end = MAX_HEADER_BYTES;
    while !header.is_char_boundary(end) {
        end -= 1;
    }
    header.get(..end).and_then(|head| head.rsplit_once(',')).map_or("", |(whole, _)| whole)
}

/// q-value in thousandths, then how well the tag matched: exact 2, primary subtag 1, `*` 0.
type Score = (u16, u8);

#[derive(Debug, PartialEq)]
enum Tag {
    /// `*`: any language; here, the default.
    Any,
    Exact(Language),
    /// A well-formed tag Tessera's `Language` does not model (`zh-Hant-TW`): only its primary subtag counts.
    Primary(Language),
}

#[derive(Debug, PartialEq)]
struct LanguageRange {
    tag: Tag,
    /// Thousandths, 0..=1000.
    q: u16,
}

impl LanguageRange {
    fn parse(entry: &str) -> Option<LanguageRange> {
        let mut parts = entry.split(';');
        let tag = parts.next()?.trim();
        let mut q = 1000;
        for param in parts {
            let (name, value) = param.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("q") {
                return None;
            }
            q = parse_qvalue(value.trim())?;
        }
        let tag = if tag == "*" {
            Tag::Any
        } else if let Ok(lang) = Language::parse(tag) {
            Tag::Exact(lang)
        } else {
            let (primary, _) = tag.split_once('-')?;
            Tag::Primary(Language::parse(primary).ok()?)
        };
        Some(LanguageRange { tag, q })
    }

    /// `q=0` on a tag excludes it; on a bare primary subtag, every tag with that primary subtag too.
    fn excludes(&self, lang: &Language) -> bool {
        match &self.tag {
            Tag::Exact(tag) if self.q == 0 => {
                tag == lang || (tag.as_str() == tag.primary() && tag.primary() == lang.primary())
            }
            _ => false,
        }
    }

    fn score(&self, lang: &Language, default: &Language) -> Option<Score> {
        let quality = match &self.tag {
            _ if self.q == 0 => return None,
            Tag::Any if lang == default => 0,
            Tag::Exact(tag) if tag == lang => 2,
            Tag::Exact(tag) | Tag::Primary(tag) if tag.primary() == lang.primary() => 1,
            _ => return None,
        };
        Some((self.q, quality))
    }
}

/// RFC 9110 `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_qvalue(text: &str) -> Option<u16> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac.bytes().chain([b'0'; 3]).take(3).fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::parse(tag).expect("test tags are valid")
    }

    fn site() -> Vec<Language> {
        vec![lang("en"), lang("fr"), lang("da")]
    }

    fn pick(header: &str) -> String {
        negotiate(Some(header), &site(), &lang("en")).to_string()
    }

    #[test]
    fn regional_variant_first_still_picks_its_primary_language() {
        assert_eq!(pick("fr-CH, fr;q=0.9, en;q=0.8"), "fr");
    }

    #[test]
    fn single_offered_language_is_picked() {
        assert_eq!(pick("da"), "da");
    }

    #[test]
    fn unoffered_language_gives_the_default() {
        assert_eq!(pick("de"), "en");
        assert_eq!(negotiate(Some("de"), &site(), &lang("da")).as_str(), "da");
    }

    #[test]
    fn q_zero_excludes_even_the_default() {
        assert_eq!(pick("en;q=0, fr;q=0.1"), "fr");
        assert_eq!(pick("en;q=0, *;q=0.5, da;q=0.1"), "da");
    }

    #[test]
    fn q_zero_on_a_primary_subtag_excludes_its_regional_variants() {
        let offered = [lang("en-GB"), lang("fr")];
        assert_eq!(negotiate(Some("en;q=0, fr;q=0.1"), &offered, &lang("en-GB")).as_str(), "fr");
        assert_eq!(negotiate(Some("en-US;q=0, en-GB;q=0.5, fr;q=0.1"), &offered, &lang("fr")).as_str(), "en-GB");
    }

    #[test]
    fn star_means_the_default() {
        assert_eq!(pick("*"), "en");
        assert_eq!(negotiate(Some("*"), &site(), &lang("da")).as_str(), "da");
        assert_eq!(pick("*;q=0.5, fr;q=0.4"), "en");
    }

    #[test]
    fn garbage_and_missing_headers_give_the_default() {
        for header in ["!!!;q=abc", "", ",,,", ";;;", "fr;q=2", "fr;q=0.5000", "fr;q=-1", "fr;level=1", "f r"] {
            assert_eq!(pick(header), "en", "{header:?}");
        }
        assert_eq!(negotiate(None, &site(), &lang("fr")).as_str(), "fr");
    }

    #[test]
    fn malformed_entries_are_skipped_and_the_rest_still_count() {
        assert_eq!(pick("!!!, fr;q=abc, da;q=0.3"), "da");
    }

    #[test]
    fn higher_q_wins_regardless_of_header_order() {
        assert_eq!(pick("fr;q=0.2, da;q=0.7"), "da");
        assert_eq!(pick("fr;q=0.701, da;q=0.7"), "fr");
    }

    #[test]
    fn offered_order_decides_ties_at_equal_q() {
        assert_eq!(pick("fr, da"), "fr");
        assert_eq!(pick("da, fr"), "fr");
        assert_eq!(negotiate(Some("fr, da"), &[lang("da"), lang("fr")], &lang("en")).as_str(), "da");
    }

    #[test]
    fn exact_tag_beats_primary_subtag_match_at_equal_q() {
        let offered = [lang("fr"), lang("fr-CA")];
        assert_eq!(negotiate(Some("fr-CA"), &offered, &lang("en")).as_str(), "fr-CA");
        assert_eq!(negotiate(Some("fr-CH"), &offered, &lang("en")).as_str(), "fr");
    }

    #[test]
    fn bare_primary_subtag_matches_an_offered_regional_tag() {
        let offered = [lang("en"), lang("pt-BR")];
        assert_eq!(negotiate(Some("pt"), &offered, &lang("en")).as_str(), "pt-BR");
        assert_eq!(negotiate(Some("pt-PT"), &offered, &lang("en")).as_str(), "pt-BR");
    }

    #[test]
    fn tags_with_script_or_variant_match_by_primary_subtag() {
        assert_eq!(pick("da-Latn-DK"), "da");
        assert_eq!(pick("zh-Hant-TW, fr-x-private;q=0.5"), "fr");
    }

    #[test]
    fn qvalue_follows_the_rfc_grammar() {
        let cases = [("1", Some(1000)), ("1.000", Some(1000)), ("0", Some(0)), ("0.", Some(0)), ("0.5", Some(500))];
        for (text, want) in cases.into_iter().chain([("0.123", Some(123)), ("1.001", None), ("2", None), ("", None)]) {
            assert_eq!(parse_qvalue(text), want, "{text:?}");
        }
        assert_eq!(LanguageRange::parse(" fr-CA ; Q=0.8 ").map(|r| r.q), Some(800));
    }

    #[test]
    fn entries_past_the_first_thirty_two_are_ignored() {
        let header = format!("{}fr", "de, ".repeat(32));
        assert_eq!(pick(&header), "en");
        let header = format!("{}fr", "de, ".repeat(31));
        assert_eq!(pick(&header), "fr");
    }

    #[test]
    fn header_past_four_kilobytes_is_ignored_and_the_cut_entry_dropped() {
        let padded = format!("{:<4094},da", "de"); // "da" ends at byte 4097: beyond the cap.
        assert_eq!(pick(&padded), "en");
        let fits = format!("{:<4093},da", "de"); // Ends at byte 4096 exactly.
        assert_eq!(pick(&fits), "da");
        assert_eq!(capped(&format!("{}é", "a".repeat(4095))), "", "a cut inside a character is handled");
    }
}
