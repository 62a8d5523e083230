//! Domain values as statements bind them, and the pure parts of batched
//! writes. The inverses are in [`crate::value`].

use std::collections::HashMap;

use tessera_core::{HostName, SiteId};
use tessera_store::{Author, PageEvent, SiteSettings};

/// The column type for site IDs (they fit in 32 bits; SQL integers are signed).
pub fn site_param(id: SiteId) -> i64 {
    i64::from(id.get())
}

/// Sequence numbers are `u64` in the domain and signed in SQL; one past
/// `i64::MAX` cannot exist, so clamping keeps "after" queries exact.
pub fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Small lists (languages, origins) are stored newline-joined; an empty list is empty text.
pub fn join_lines<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items.into_iter().collect::<Vec<_>>().join("\n")
}

/// The column pair an [`Author`] is stored in: its kind as text, and the
/// agent's person ID (NULL for the visitor and the system).
pub fn author_columns(author: Author) -> (&'static str, Option<i64>) {
    match author {
        Author::Visitor => ("visitor", None),
        Author::Agent(person) => ("agent", Some(person.get())),
        Author::System => ("system", None),
    }
}

/// A site's settings kept as text in `sites`, as bind values: `languages`,
/// `default_language`, `embed_origins`, `solution_type`, `consent_mode`.
pub fn settings_columns(s: &SiteSettings) -> (String, String, String, &'static str, &'static str) {
    (
        join_lines(s.languages.iter().map(|l| l.as_str())),
        s.default_language.as_str().to_owned(),
        join_lines(s.embed_origins.iter().map(|o| o.as_str())),
        s.solution_type.as_str(),
        s.consent_mode.as_str(),
    )
}

/// A site's hosts as rows of `site_hosts` take them: sorted, without duplicates.
pub fn host_rows(hosts: &[HostName]) -> Vec<&str> {
    let mut hosts: Vec<&str> = hosts.iter().map(HostName::as_str).collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

/// Where a batch of page events moves its visits: each visit once, to its
/// latest event in the batch (the later of equal times: events are in
/// arrival order), by visit ID, smallest first.
pub fn visit_moves(events: &[PageEvent]) -> Vec<(i64, &PageEvent)> {
    let mut latest: HashMap<i64, &PageEvent> = HashMap::new();
    for e in events {
        let Some(session) = e.session_id else { continue };
        let slot = latest.entry(session.get()).or_insert(e);
        if slot.at <= e.at {
            *slot = e;
        }
    }
    let mut moves: Vec<(i64, &PageEvent)> = latest.into_iter().collect();
    moves.sort_unstable_by_key(|(id, _)| *id);
    moves
}

#[cfg(test)]
mod tests {
    use tessera_core::{MonitorSessionId, SiteId, Timestamp};
    use tessera_store::PageEvent;

    use super::visit_moves;

    fn event(session: Option<i64>, at: i64, url: &str) -> PageEvent {
        PageEvent {
            site_id: SiteId::new(1001).expect("site ID"),
            visitor_id: None,
            session_id: session.map(MonitorSessionId::new),
            tab: None,
            url: url.to_owned(),
            title: String::new(),
            referrer: String::new(),
            ip: None,
            at: Timestamp::from_unix(at),
        }
    }

    #[test]
    fn each_visit_moves_once_to_its_latest_event_in_id_order() {
        let events = [
            event(Some(7), 10, "/a"),
            event(Some(3), 12, "/b"),
            event(None, 99, "/anonymous"),
            event(Some(7), 11, "/c"),
            event(Some(7), 11, "/d"),
            event(Some(3), 5, "/older"),
        ];
        let moves: Vec<(i64, &str)> = visit_moves(&events).into_iter().map(|(id, e)| (id, e.url.as_str())).collect();
        assert_eq!(moves, [(3, "/b"), (7, "/d")], "the later of equal times wins; no visit, no move");
    }
}
