//! Finding one cookie in a request without building a jar.
//!
//! This runs on every request, so it allocates nothing and works on bytes:
//! a non-UTF-8 or malformed `Cookie` header simply yields no match.

/// The value of the first cookie called `name` across all `Cookie` header values.
///
/// Pairs without `=` are skipped; surrounding double quotes (RFC 6265 allows
/// them) are removed.
pub fn find_cookie<'a, I>(headers: I, name: &str) -> Option<&'a [u8]>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let name = name.as_bytes();
    for header in headers {
        for pair in header.split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else { continue };
            if pair[..eq].trim_ascii() != name {
                continue;
            }
            let value = pair[eq + 1..].trim_ascii();
            let value = match value {
                [b'"', inner @ .., b'"'] => inner,
                v => v,
            };
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(headers: &'a [&'a [u8]], name: &str) -> Option<&'a [u8]> {
        find_cookie(headers.iter().copied(), name)
    }

    #[test]
    fn finds_a_cookie_among_others_and_across_headers() {
        let headers: &[&[u8]] = &[b"a=1; b=2", b"c=3"];
        assert_eq!(find(headers, "b"), Some(&b"2"[..]));
        assert_eq!(find(headers, "c"), Some(&b"3"[..]));
        assert_eq!(find(headers, "d"), None);
    }

    #[test]
    fn first_duplicate_wins_and_quotes_are_stripped() {
        let headers: &[&[u8]] = &[b"a=\"1\"; a=2"];
        assert_eq!(find(headers, "a"), Some(&b"1"[..]));
    }

    #[test]
    fn malformed_pairs_and_bytes_do_not_match_or_panic() {
        let headers: &[&[u8]] = &[b"noequals; =; ;;; a", b"\xff\xfe=\x00; b==x", b""];
        assert_eq!(find(headers, "a"), None);
        assert_eq!(find(headers, "b"), Some(&b"=x"[..]));
        assert_eq!(find(headers, ""), Some(&b""[..]));
        let huge = vec![b'x'; 8192];
        assert_eq!(find(&[&huge], "x"), None);
    }

    #[test]
    fn a_name_that_is_a_prefix_of_another_does_not_match() {
        let headers: &[&[u8]] = &[b"ts_portal_x=1; __Host-ts_portal=2"];
        assert_eq!(find(headers, "ts_portal"), None);
        assert_eq!(find(headers, "__Host-ts_portal"), Some(&b"2"[..]));
    }
}
