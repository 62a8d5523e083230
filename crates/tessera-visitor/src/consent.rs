//! Whether optional cookies may be set for this browser, from the site's
//! consent mode, the recorded choice and the browser's privacy signal.

use tessera_core::ConsentMode;
use tessera_store::ConsentChoice;

/// What the page should do about consent for this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsentState {
    /// Optional cookies (the visitor cookie) may be set and read.
    pub allowed: bool,
    /// Show the banner: the site asks and the visitor has not answered.
    pub ask: bool,
    /// Why, for the cookie page.
    pub reason: ConsentReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentReason {
    /// `Sec-GPC: 1`: a refusal that no default and no stored choice overrides.
    GlobalPrivacyControl,
    Chosen(ConsentChoice),
    /// No choice yet: the site's mode decides.
    Default(ConsentMode),
}

impl ConsentState {
    pub fn decide(mode: ConsentMode, recorded: Option<ConsentChoice>, gpc: bool) -> Self {
        if gpc {
            return Self { allowed: false, ask: false, reason: ConsentReason::GlobalPrivacyControl };
        }
        match recorded {
            Some(choice) => {
                Self { allowed: choice == ConsentChoice::Accepted, ask: false, reason: ConsentReason::Chosen(choice) }
            }
            None => Self {
                allowed: mode != ConsentMode::OptIn,
                // opt_out still tells the visitor, once, and offers the refusal.
                ask: mode != ConsentMode::None,
                reason: ConsentReason::Default(mode),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_in_allows_nothing_until_accepted() {
        let s = ConsentState::decide(ConsentMode::OptIn, None, false);
        assert!(!s.allowed && s.ask);
        assert!(ConsentState::decide(ConsentMode::OptIn, Some(ConsentChoice::Accepted), false).allowed);
    }

    #[test]
    fn opt_out_and_none_allow_until_refused() {
        for mode in [ConsentMode::OptOut, ConsentMode::None] {
            assert!(ConsentState::decide(mode, None, false).allowed);
            let refused = ConsentState::decide(mode, Some(ConsentChoice::Rejected), false);
            assert!(!refused.allowed && !refused.ask);
        }
        assert!(!ConsentState::decide(ConsentMode::None, None, false).ask);
    }

    #[test]
    fn global_privacy_control_is_a_refusal_nothing_overrides() {
        for mode in ConsentMode::ALL {
            for recorded in [None, Some(ConsentChoice::Accepted), Some(ConsentChoice::Rejected)] {
                let s = ConsentState::decide(mode, recorded, true);
                assert!(!s.allowed && !s.ask, "{mode:?} {recorded:?}");
                assert_eq!(s.reason, ConsentReason::GlobalPrivacyControl);
            }
        }
    }
}
