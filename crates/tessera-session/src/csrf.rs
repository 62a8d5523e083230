//! Signed double-submit CSRF tokens.
//!
//! The `__Host-ts_csrf` cookie holds a random *anchor* (the pre-login session
//! of the browser). A form token is `nonce || HMAC(key, interface, binding,
//! anchor, nonce)`, where the binding is the session ID hash of that
//! interface, or "anonymous" before login. A token is accepted only with the
//! same cookie, on the same interface, for the same session: a token from
//! another browser, another session or from before login fails, and nobody
//! without the server key can make one. The nonce makes every rendering
//! different, so the token cannot be recovered by compression side channels.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tessera_core::{Interface, SecretKey, TokenHash, random_bytes};

const ANCHOR_LEN: usize = 32;
const NONCE_LEN: usize = 16;
const MAC_LEN: usize = 32;

/// What a CSRF token is bound to besides the browser's anchor.
#[derive(Clone, Copy, Debug)]
pub enum CsrfBinding<'a> {
    Anonymous,
    Session(&'a TokenHash),
}

#[derive(Clone, Debug)]
pub struct Csrf {
    key: tessera_core::SecretKey32,
}

impl Csrf {
    pub fn new(master: &SecretKey) -> Self {
        Self { key: master.derive("csrf") }
    }

    /// A fresh anchor for the CSRF cookie.
    pub fn new_anchor(&self) -> String {
        URL_SAFE_NO_PAD.encode(random_bytes::<ANCHOR_LEN>())
    }

    /// Whether a cookie value is a well-formed anchor (otherwise a new one is issued).
    pub fn is_anchor(value: &[u8]) -> bool {
        value.len() == base64::encoded_len(ANCHOR_LEN, false).unwrap_or(0)
            && URL_SAFE_NO_PAD.decode(value).is_ok_and(|b| b.len() == ANCHOR_LEN)
    }

    fn mac(&self, anchor: &[u8], interface: Interface, binding: CsrfBinding<'_>, nonce: &[u8]) -> [u8; MAC_LEN] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_bytes()).expect("HMAC takes any key length");
        mac.update(interface.as_str().as_bytes());
        match binding {
            CsrfBinding::Anonymous => mac.update(&[0]),
            CsrfBinding::Session(hash) => {
                mac.update(&[1]);
                mac.update(hash.as_bytes());
            }
        }
        mac.update(&(anchor.len() as u32).to_be_bytes());
        mac.update(anchor);
        mac.update(nonce);
        mac.finalize().into_bytes().into()
    }

    /// A token for a form, bound to the browser's anchor and the binding.
    pub fn token(&self, anchor: &[u8], interface: Interface, binding: CsrfBinding<'_>) -> String {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut raw = [0u8; NONCE_LEN + MAC_LEN];
        raw[..NONCE_LEN].copy_from_slice(&nonce);
        raw[NONCE_LEN..].copy_from_slice(&self.mac(anchor, interface, binding, &nonce));
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Constant-time check of a submitted token.
    pub fn verify(&self, anchor: &[u8], interface: Interface, binding: CsrfBinding<'_>, submitted: &[u8]) -> bool {
        if !Self::is_anchor(anchor) {
            return false;
        }
        let mut raw = [0u8; NONCE_LEN + MAC_LEN];
        match URL_SAFE_NO_PAD.decode_slice(submitted, &mut raw) {
            Ok(n) if n == raw.len() && submitted.len() == base64::encoded_len(raw.len(), false).unwrap_or(0) => {}
            _ => return false,
        }
        let expected = self.mac(anchor, interface, binding, &raw[..NONCE_LEN]);
        expected.ct_eq(&raw[NONCE_LEN..]).into()
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::SessionToken;

    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_anchor_interface_and_session() {
        let csrf = Csrf::new(&SecretKey::generate());
        let anchor = csrf.new_anchor();
        let other_anchor = csrf.new_anchor();
        let session = SessionToken::generate().hash();
        let other_session = SessionToken::generate().hash();
        let bound = CsrfBinding::Session(&session);
        let token = csrf.token(anchor.as_bytes(), Interface::Portal, bound);

        assert!(csrf.verify(anchor.as_bytes(), Interface::Portal, bound, token.as_bytes()));
        assert!(!csrf.verify(other_anchor.as_bytes(), Interface::Portal, bound, token.as_bytes()));
        assert!(!csrf.verify(anchor.as_bytes(), Interface::Agent, bound, token.as_bytes()));
        assert!(!csrf.verify(
            anchor.as_bytes(),
            Interface::Portal,
            CsrfBinding::Session(&other_session),
            token.as_bytes()
        ));
        assert!(!csrf.verify(anchor.as_bytes(), Interface::Portal, CsrfBinding::Anonymous, token.as_bytes()));
    }

    #[test]
    fn tokens_differ_per_rendering_and_garbage_is_refused() {
        let csrf = Csrf::new(&SecretKey::generate());
        let anchor = csrf.new_anchor();
        let a = csrf.token(anchor.as_bytes(), Interface::Admin, CsrfBinding::Anonymous);
        let b = csrf.token(anchor.as_bytes(), Interface::Admin, CsrfBinding::Anonymous);
        assert_ne!(a, b);
        for bad in ["", "x", &a[..a.len() - 1], &format!("{a}A"), "\u{0}"] {
            assert!(
                !csrf.verify(anchor.as_bytes(), Interface::Admin, CsrfBinding::Anonymous, bad.as_bytes()),
                "{bad:?}"
            );
        }
        assert!(!csrf.verify(b"not-an-anchor", Interface::Admin, CsrfBinding::Anonymous, a.as_bytes()));
    }

    #[test]
    fn a_token_made_with_another_server_key_is_refused() {
        let ours = Csrf::new(&SecretKey::generate());
        let theirs = Csrf::new(&SecretKey::generate());
        let anchor = ours.new_anchor();
        let forged = theirs.token(anchor.as_bytes(), Interface::Portal, CsrfBinding::Anonymous);
        assert!(!ours.verify(anchor.as_bytes(), Interface::Portal, CsrfBinding::Anonymous, forged.as_bytes()));
    }
}
