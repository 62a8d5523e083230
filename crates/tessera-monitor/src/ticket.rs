//! Signed values the tag carries but cannot forge: the event ticket (which
//! visitor and visit a page-view batch belongs to, checked without any
//! store lookup) and the last-visit cookie's timestamp.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tessera_core::{MonitorSessionId, SecretKey32, SiteId, Timestamp, VisitorId};

const MAC_LEN: usize = 16;
const TICKET_LEN: usize = 4 + 8 + 8 + 8;
const LAST_VISIT_LEN: usize = 8;

/// Who a batch of events is from. Both IDs are absent for cookieless counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub site: SiteId,
    pub visitor: Option<VisitorId>,
    pub session: Option<MonitorSessionId>,
    pub issued_at: Timestamp,
}

/// Signs and checks tickets and last-visit values with a key of their own.
#[derive(Clone)]
pub struct Signer {
    key: SecretKey32,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    pub fn new(key: SecretKey32) -> Self {
        Self { key }
    }

    fn mac(&self, purpose: &[u8], body: &[u8]) -> [u8; MAC_LEN] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_bytes()).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(purpose);
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    fn seal(&self, purpose: &[u8], body: &[u8]) -> String {
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&self.mac(purpose, body));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The body, if `text` is exactly `len` bytes sealed with `purpose`.
    fn open(&self, purpose: &[u8], text: &str, len: usize) -> Option<Vec<u8>> {
        if text.len() != base64::encoded_len(len + MAC_LEN, false)? {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (body, mac) = bytes.split_at_checked(len)?;
        bool::from(self.mac(purpose, body).ct_eq(mac)).then(|| body.to_vec())
    }

    pub fn ticket(&self, ticket: &Ticket) -> String {
        let mut body = Vec::with_capacity(TICKET_LEN);
        body.extend_from_slice(&ticket.site.get().to_be_bytes());
        body.extend_from_slice(&ticket.visitor.map_or(0, VisitorId::get).to_be_bytes());
        body.extend_from_slice(&ticket.session.map_or(0, MonitorSessionId::get).to_be_bytes());
        body.extend_from_slice(&ticket.issued_at.unix().to_be_bytes());
        self.seal(b"ticket", &body)
    }

    /// The ticket, if genuine. Its age is the caller's to judge.
    pub fn check_ticket(&self, text: &str) -> Option<Ticket> {
        let body = self.open(b"ticket", text, TICKET_LEN)?;
        let site = SiteId::new(u32::from_be_bytes(body[0..4].try_into().ok()?)).ok()?;
        let id = |range: std::ops::Range<usize>| Some(i64::from_be_bytes(body[range].try_into().ok()?));
        let visitor = Some(id(4..12)?).filter(|n| *n > 0).map(VisitorId::new);
        let session = Some(id(12..20)?).filter(|n| *n > 0).map(MonitorSessionId::new);
        Some(Ticket { site, visitor, session, issued_at: Timestamp::from_unix(id(20..28)?) })
    }

    /// The last-visit cookie's value: when, for which site, signed.
    pub fn last_visit(&self, site: SiteId, at: Timestamp) -> String {
        let mut purpose = b"last-visit:".to_vec();
        purpose.extend_from_slice(&site.get().to_be_bytes());
        self.seal(&purpose, &at.unix().to_be_bytes())
    }

    pub fn check_last_visit(&self, site: SiteId, text: &str) -> Option<Timestamp> {
        let mut purpose = b"last-visit:".to_vec();
        purpose.extend_from_slice(&site.get().to_be_bytes());
        let body = self.open(&purpose, text, LAST_VISIT_LEN)?;
        Some(Timestamp::from_unix(i64::from_be_bytes(body.try_into().ok()?)))
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::SecretKey;

    use super::*;

    fn signer() -> Signer {
        Signer::new(SecretKey::generate().derive("monitor"))
    }

    fn site(n: u32) -> SiteId {
        SiteId::new(n).expect("a site ID")
    }

    #[test]
    fn a_ticket_round_trips_and_any_change_or_other_key_is_refused() {
        let s = signer();
        let t = Ticket {
            site: site(1001),
            visitor: Some(VisitorId::new(7)),
            session: Some(MonitorSessionId::new(9)),
            issued_at: Timestamp::from_unix(1_700_000_000),
        };
        let text = s.ticket(&t);
        assert_eq!(s.check_ticket(&text), Some(t));
        let anonymous = Ticket { visitor: None, session: None, ..t };
        assert_eq!(s.check_ticket(&s.ticket(&anonymous)), Some(anonymous));
        assert_eq!(signer().check_ticket(&text), None, "another server's key");
        let mut bytes = URL_SAFE_NO_PAD.decode(&text).expect("base64");
        bytes[11] ^= 1; // another visitor
        assert_eq!(s.check_ticket(&URL_SAFE_NO_PAD.encode(&bytes)), None);
        for junk in ["", "x", &text[1..], &format!("{text}A"), "!!!!"] {
            assert_eq!(s.check_ticket(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_last_visit_value_is_bound_to_its_site() {
        let s = signer();
        let at = Timestamp::from_unix(1_700_000_000);
        let text = s.last_visit(site(1001), at);
        assert_eq!(s.check_last_visit(site(1001), &text), Some(at));
        assert_eq!(s.check_last_visit(site(1002), &text), None);
        assert_eq!(s.check_ticket(&text), None, "not a ticket");
    }
}
