//! What a reader typed, turned into the plain terms the store searches for.

/// More terms than this are ignored: a search box is not a document.
const MAX_TERMS: usize = 8;
const MAX_TERM_CHARS: usize = 40;

/// Words of the query, lower-cased, punctuation dropped. The store quotes
/// them for its own syntax, so nothing here can become an operator.
pub fn terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_TERM_CHARS).collect::<String>().to_lowercase())
        .take(MAX_TERMS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_plain_lower_case_words() {
        assert_eq!(terms("  What COOKIES does\tTessera use?"), ["what", "cookies", "does", "tessera", "use"]);
        assert_eq!(terms("\"a\" OR b* -c NEAR(d)"), ["a", "or", "b", "c", "near", "d"]);
        assert_eq!(terms("Données personnelles"), ["données", "personnelles"]);
        assert!(terms("!!! ***").is_empty());
        assert_eq!(terms(&"x ".repeat(100)).len(), MAX_TERMS);
    }
}
