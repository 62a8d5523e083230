//! Conformance checks of the Messenger trait: conversations and their owners,
//! numbered messages (gapless under concurrency, idempotent by client key),
//! the claim / transfer / close life cycle, and the sites' identity secrets.

use tessera_core::{ConversationId, PersonId, SiteId, Timestamp, VisitorId, VisitorToken};

use super::{at, join_all, person_on, site_id};
use crate::{
    Appended, Author, ChatMessage, ChatOwner, Conversation, ConversationStatus, NewConversation, Store, StoreError,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A guest's browser on `site` (created with the site if needed).
async fn visitor_on<S: Store>(store: &S, site: SiteId) -> VisitorId {
    store.ensure_site(site, "Conformance", at(0)).await.expect("ensure_site");
    let visitor = store.create_visitor(site, &VisitorToken::generate().hash(), true, at(0)).await;
    visitor.expect("create_visitor").id
}

fn owner(visitor: Option<VisitorId>, verified_user: Option<&str>) -> ChatOwner {
    ChatOwner { visitor, verified_user: verified_user.map(str::to_owned) }
}

fn new_conversation(site: SiteId, owner: ChatOwner) -> NewConversation {
    NewConversation {
        site_id: site,
        owner,
        visitor_name: "Vera Visitor".to_owned(),
        visitor_email: "vera@example.com".to_owned(),
    }
}

/// A conversation on `site` (created with the site if needed).
async fn conversation_on<S: Store>(store: &S, site: SiteId, owner: ChatOwner, when: Timestamp) -> Conversation {
    store.ensure_site(site, "Conformance", at(0)).await.expect("ensure_site");
    store.create_conversation(&new_conversation(site, owner), when).await.expect("create_conversation")
}

/// A verified user's conversation on site 1001.
async fn conversation_at<S: Store>(store: &S, when: Timestamp) -> Conversation {
    conversation_on(store, site_id(1001), owner(None, Some("user-1")), when).await
}

async fn conversation_in<S: Store>(store: &S, id: ConversationId) -> Conversation {
    store.conversation(id).await.expect("conversation").expect("the conversation exists")
}

/// Appends to a conversation that takes messages.
async fn append<S: Store>(
    store: &S,
    conversation: ConversationId,
    author: Author,
    body: &str,
    client_key: Option<&str>,
    when: Timestamp,
) -> Appended {
    let appended = store.append_message(conversation, author, body, client_key, when).await.expect("append_message");
    appended.expect("an open conversation takes messages")
}

async fn all_messages<S: Store>(store: &S, conversation: ConversationId) -> Vec<ChatMessage> {
    store.messages_after(conversation, 0, 1_000).await.expect("messages_after")
}

fn seqs(messages: &[ChatMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

fn ids(conversations: &[Conversation]) -> Vec<ConversationId> {
    conversations.iter().map(|c| c.id).collect()
}

/// A conversation ID that no conversation has.
fn ghost(known: &[&Conversation]) -> ConversationId {
    ConversationId::new(known.iter().map(|c| c.id.get()).sum::<i64>() + 1_000)
}

// ---------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------

/// A new conversation is waiting, has no agent and no message, is dated
/// `now` twice and comes back identical, for a guest, a verified user or
/// both; an owner with neither is a `Conflict` that stores nothing.
pub async fn conversation_round_trips_and_needs_an_owner<S: Store>(store: &S) {
    let site = site_id(1001);
    let visitor = visitor_on(store, site).await;
    let guest = store.create_conversation(&new_conversation(site, owner(Some(visitor), None)), at(10)).await;
    let guest = guest.expect("create_conversation");
    assert_eq!(
        guest,
        Conversation {
            id: guest.id,
            site_id: site,
            owner: owner(Some(visitor), None),
            visitor_name: "Vera Visitor".to_owned(),
            visitor_email: "vera@example.com".to_owned(),
            status: ConversationStatus::Waiting,
            agent_id: None,
            last_seq: 0,
            created_at: at(10),
            updated_at: at(10),
        }
    );
    assert_eq!(store.conversation(guest.id).await.expect("conversation"), Some(guest.clone()));

    let verified = conversation_on(store, site, owner(None, Some("user-42")), at(20)).await;
    let both = conversation_on(store, site, owner(Some(visitor), Some("user-42")), at(30)).await;
    assert_ne!(guest.id, verified.id, "each conversation gets its own ID");
    assert_ne!(verified.id, both.id, "each conversation gets its own ID");
    assert_eq!(verified.owner, owner(None, Some("user-42")));
    assert_eq!(store.conversation(verified.id).await.expect("conversation"), Some(verified.clone()));
    assert_eq!(store.conversation(both.id).await.expect("conversation"), Some(both.clone()));

    match store.create_conversation(&new_conversation(site, owner(None, None)), at(40)).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a conversation without an owner must be a Conflict, got {other:?}"),
    }
    let open = store.open_conversations(site).await.expect("open_conversations");
    assert_eq!(ids(&open), vec![guest.id, verified.id, both.id], "a refused conversation must not be stored");
    assert_eq!(store.conversation(ghost(&[&guest, &verified, &both])).await.expect("conversation"), None);
}

/// `conversations_of` finds the site's conversations of the visitor or of the
/// verified user (either matching is enough; the user's name exactly), newest
/// first (later-created first on equal times), never another site's.
pub async fn conversations_of_finds_by_visitor_or_verified_user_newest_first_on_the_site_only<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    let (laptop, phone) = (visitor_on(store, a).await, visitor_on(store, a).await);
    let elsewhere = visitor_on(store, b).await;
    let c1 = conversation_on(store, a, owner(Some(laptop), None), at(10)).await;
    let c2 = conversation_on(store, a, owner(None, Some("user-42")), at(20)).await;
    let c3 = conversation_on(store, a, owner(Some(laptop), Some("user-42")), at(30)).await;
    let c4 = conversation_on(store, a, owner(Some(phone), None), at(40)).await;
    let c5 = conversation_on(store, a, owner(Some(laptop), None), at(30)).await;
    let c6 = conversation_on(store, b, owner(Some(elsewhere), Some("user-42")), at(50)).await;
    conversation_on(store, a, owner(None, Some("user-420")), at(60)).await;

    let of = async |site, visitor, user| ids(&store.conversations_of(site, &owner(visitor, user)).await.expect("of"));
    assert_eq!(of(a, Some(laptop), None).await, vec![c5.id, c3.id, c1.id], "by visitor");
    assert_eq!(of(a, None, Some("user-42")).await, vec![c3.id, c2.id], "by verified user");
    assert_eq!(of(a, Some(laptop), Some("user-42")).await, vec![c5.id, c3.id, c2.id, c1.id], "by either");
    assert_eq!(of(a, Some(phone), Some("user-42")).await, vec![c4.id, c3.id, c2.id], "by either");
    assert_eq!(of(b, None, Some("user-42")).await, vec![c6.id], "per site");
    assert_eq!(of(b, Some(laptop), None).await, vec![], "per site");
    assert_eq!(of(a, None, Some("user-4")).await, vec![], "the user's name matches exactly");
    assert_eq!(of(a, None, Some("USER-42")).await, vec![], "the user's name matches exactly");
    assert_eq!(of(a, None, None).await, vec![], "no owner owns nothing");

    let listed = store.conversations_of(a, &owner(None, Some("user-42"))).await.expect("conversations_of");
    assert_eq!(listed, vec![c3, c2], "whole records");
}

/// `open_conversations` lists the site's waiting and active conversations,
/// oldest first (earlier-created first on equal times); closed ones and other
/// sites' are left out.
pub async fn open_conversations_lists_waiting_and_active_oldest_first<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    let ann = person_on(store, a, "ann@example.com").await;
    let c1 = conversation_on(store, a, owner(None, Some("user-1")), at(30)).await;
    let c2 = conversation_on(store, a, owner(None, Some("user-2")), at(10)).await;
    let c3 = conversation_on(store, a, owner(None, Some("user-3")), at(20)).await;
    let c4 = conversation_on(store, a, owner(None, Some("user-4")), at(20)).await;
    let c5 = conversation_on(store, b, owner(None, Some("user-5")), at(5)).await;
    assert!(store.claim_conversation(c3.id, ann.id, at(40)).await.expect("claim_conversation"));
    assert!(store.close_conversation(c2.id, at(41)).await.expect("close_conversation"));

    let open = store.open_conversations(a).await.expect("open_conversations");
    assert_eq!(ids(&open), vec![c3.id, c4.id, c1.id]);
    assert_eq!(
        open.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![ConversationStatus::Active, ConversationStatus::Waiting, ConversationStatus::Waiting]
    );
    assert_eq!(open[1], c4, "whole records");
    assert_eq!(store.open_conversations(b).await.expect("open_conversations"), vec![c5]);
    assert_eq!(store.open_conversations(site_id(3003)).await.expect("open_conversations"), vec![]);
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// Messages are numbered 1, 2, 3... per conversation, whoever writes them,
/// and come back exactly as appended; the conversation's `last_seq` and
/// `updated_at` follow.
pub async fn messages_get_consecutive_sequence_numbers_from_one<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let chat = conversation_at(store, at(10)).await;
    let other = conversation_at(store, at(10)).await;

    let hello = append(store, chat.id, Author::Visitor, "Hello?", Some("k-1"), at(11)).await;
    let joined = append(store, chat.id, Author::System, "Ann joined", None, at(12)).await;
    let answer = append(store, chat.id, Author::Agent(ann.id), "Hi! How can I help?", Some("k-1b"), at(13)).await;
    assert!(hello.created && joined.created && answer.created, "new messages are created");
    assert_eq!(
        hello.message,
        ChatMessage {
            id: hello.message.id,
            conversation_id: chat.id,
            seq: 1,
            author: Author::Visitor,
            body: "Hello?".to_owned(),
            client_key: Some("k-1".to_owned()),
            created_at: at(11),
        }
    );
    assert_eq!(
        (joined.message.seq, joined.message.author, joined.message.client_key.clone()),
        (2, Author::System, None)
    );
    assert_eq!((answer.message.seq, answer.message.author), (3, Author::Agent(ann.id)));
    assert_ne!(hello.message.id, joined.message.id, "each message gets its own ID");
    assert_ne!(joined.message.id, answer.message.id, "each message gets its own ID");

    let stored = all_messages(store, chat.id).await;
    assert_eq!(stored, vec![hello.message, joined.message, answer.message], "messages round-trip, oldest first");
    let now = conversation_in(store, chat.id).await;
    assert_eq!((now.last_seq, now.updated_at, now.created_at), (3, at(13), at(10)));

    let first = append(store, other.id, Author::Visitor, "Separate", Some("k-1"), at(14)).await;
    assert_eq!(first.message.seq, 1, "numbers are per conversation");
    assert!(first.created, "client keys are per conversation");
    assert_eq!(conversation_in(store, chat.id).await.last_seq, 3);
}

/// Ten appends racing on one conversation get ten different numbers, 1 to
/// 10, and all ten messages are stored under them.
pub async fn concurrent_appends_never_share_or_skip_a_sequence_number<S: Store>(store: &S) {
    let chat = conversation_at(store, at(10)).await;
    let bodies: Vec<String> = (0..10).map(|i| format!("message {i}")).collect();
    let keys: Vec<String> = (0..10).map(|i| format!("key-{i}")).collect();
    let appends = bodies
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (body, key))| {
            let key = (i % 2 == 0).then_some(key.as_str());
            store.append_message(chat.id, Author::Visitor, body, key, at(20))
        })
        .collect();
    let appended: Vec<Appended> = join_all(appends)
        .await
        .into_iter()
        .map(|r| r.expect("append_message").expect("an open conversation takes messages"))
        .collect();
    assert!(appended.iter().all(|a| a.created), "every concurrent append is new");
    let mut numbers: Vec<u64> = appended.iter().map(|a| a.message.seq).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=10).collect::<Vec<u64>>(), "sequence numbers are shared or skipped");

    let stored = all_messages(store, chat.id).await;
    assert_eq!(seqs(&stored), (1..=10).collect::<Vec<u64>>());
    let mut expected: Vec<ChatMessage> = appended.into_iter().map(|a| a.message).collect();
    expected.sort_by_key(|m| m.seq);
    assert_eq!(stored, expected, "each message is stored under the number it was given");
    assert_eq!(conversation_in(store, chat.id).await.last_seq, 10);
}

/// A message resent with a client key already used in the conversation
/// stores nothing (no number taken, `updated_at` kept) and returns the first
/// message, even with another body, even racing, even once closed.
pub async fn a_resent_client_key_returns_the_first_message_and_stores_nothing<S: Store>(store: &S) {
    let chat = conversation_at(store, at(10)).await;
    let first = append(store, chat.id, Author::Visitor, "Is anyone there?", Some("k-1"), at(11)).await;
    assert!(first.created);

    let resent = append(store, chat.id, Author::Visitor, "Is anyone there??", Some("k-1"), at(12)).await;
    assert_eq!(resent, Appended { message: first.message.clone(), created: false });
    let now = conversation_in(store, chat.id).await;
    assert_eq!((now.last_seq, now.updated_at), (1, at(11)), "a resend changes nothing");

    let racing = (0..4).map(|_| store.append_message(chat.id, Author::Visitor, "Hello", Some("k-2"), at(13))).collect();
    let racing: Vec<Appended> =
        join_all(racing).await.into_iter().map(|r| r.expect("append_message").expect("open")).collect();
    assert_eq!(racing.iter().filter(|a| a.created).count(), 1, "exactly one racing resend is stored");
    let second = racing.iter().find(|a| a.created).expect("one was created").message.clone();
    assert_eq!(second.seq, 2);
    assert!(racing.iter().all(|a| a.message == second), "every racing resend returns the stored message");

    let next = append(store, chat.id, Author::Visitor, "Thanks", None, at(14)).await;
    assert_eq!(next.message.seq, 3, "a resend takes no number");
    let unkeyed = append(store, chat.id, Author::Visitor, "Thanks", None, at(15)).await;
    assert!(unkeyed.created && unkeyed.message.seq == 4, "without a key, a repeat is a new message");
    assert_eq!(seqs(&all_messages(store, chat.id).await), vec![1, 2, 3, 4]);

    assert!(store.close_conversation(chat.id, at(20)).await.expect("close_conversation"));
    let late = store.append_message(chat.id, Author::Visitor, "Is anyone there?", Some("k-1"), at(21)).await;
    let late = late.expect("append_message");
    let earlier = Appended { message: first.message, created: false };
    assert_eq!(late, Some(earlier), "a resend after closing still gets its late acknowledgement");
    let now = conversation_in(store, chat.id).await;
    assert_eq!((now.last_seq, now.updated_at), (4, at(20)));
}

/// A closed conversation takes no message (`None`, nothing stored, nothing
/// changed), and neither does a conversation that does not exist.
pub async fn closed_conversations_take_no_messages<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let chat = conversation_at(store, at(10)).await;
    append(store, chat.id, Author::Visitor, "Hello", None, at(11)).await;
    assert!(store.close_conversation(chat.id, at(12)).await.expect("close_conversation"));
    let closed = conversation_in(store, chat.id).await;

    for (author, key) in [(Author::Visitor, Some("k-9")), (Author::Agent(ann.id), None), (Author::System, None)] {
        let refused = store.append_message(chat.id, author, "Anyone?", key, at(13)).await.expect("append_message");
        assert_eq!(refused, None, "a closed conversation takes no message from {author:?}");
    }
    assert_eq!(conversation_in(store, chat.id).await, closed, "a refused message changes nothing");
    assert_eq!(seqs(&all_messages(store, chat.id).await), vec![1]);

    let missing = ghost(&[&chat]);
    let refused = store.append_message(missing, Author::Visitor, "Hello", Some("k-1"), at(14)).await;
    assert_eq!(refused.expect("append_message"), None, "an unknown conversation takes no message");
    assert_eq!(store.conversation(missing).await.expect("conversation"), None, "appending never creates");
    assert_eq!(all_messages(store, missing).await, vec![]);
}

/// `messages_after` returns the messages numbered above the one given,
/// oldest first, at most `limit`, so a client resumes exactly where its last
/// acknowledgement left it, in pages; other conversations' never show.
pub async fn messages_after_resumes_exactly_after_the_acknowledged_sequence<S: Store>(store: &S) {
    let chat = conversation_at(store, at(10)).await;
    let other = conversation_at(store, at(10)).await;
    for i in 1..=5 {
        append(store, chat.id, Author::Visitor, &format!("m{i}"), None, at(10 + i)).await;
        append(store, other.id, Author::System, &format!("o{i}"), None, at(10 + i)).await;
    }

    let after = async |seq, limit| {
        let page = store.messages_after(chat.id, seq, limit).await.expect("messages_after");
        assert!(page.iter().all(|m| m.conversation_id == chat.id), "only the conversation asked for");
        page.iter().map(|m| (m.seq, m.body.clone())).collect::<Vec<_>>()
    };
    let numbered = |range: std::ops::RangeInclusive<u64>| range.map(|n| (n, format!("m{n}"))).collect::<Vec<_>>();
    assert_eq!(after(0, 2).await, numbered(1..=2));
    assert_eq!(after(2, 2).await, numbered(3..=4));
    assert_eq!(after(4, 2).await, numbered(5..=5));
    assert_eq!(after(3, 100).await, numbered(4..=5));
    assert_eq!(after(5, 100).await, vec![], "nothing after the newest");
    assert_eq!(after(u64::MAX, 100).await, vec![]);
    assert_eq!(after(0, 0).await, vec![], "a limit of 0 returns nothing");
    assert_eq!(store.messages_after(ghost(&[&chat, &other]), 0, 100).await.expect("messages_after"), vec![]);
}

// ---------------------------------------------------------------------------
// Claim, transfer, close
// ---------------------------------------------------------------------------

/// Of agents racing to claim a waiting conversation exactly one wins; it
/// becomes active and theirs. Claiming again is true for the holder and
/// changes nothing, false for anyone else; a closed conversation is claimed
/// by nobody.
pub async fn claim_is_compare_and_swap_and_idempotent_for_the_same_agent<S: Store>(store: &S) {
    let site = site_id(1001);
    let agents: Vec<PersonId> = vec![
        person_on(store, site, "ann@example.com").await.id,
        person_on(store, site, "bob@example.com").await.id,
        person_on(store, site, "cat@example.com").await.id,
    ];
    let chat = conversation_at(store, at(10)).await;

    let claims = agents.iter().map(|agent| store.claim_conversation(chat.id, *agent, at(20))).collect();
    let won: Vec<bool> = join_all(claims).await.into_iter().map(|r| r.expect("claim_conversation")).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "exactly one concurrent claim must win, got {won:?}");
    let winner = agents[won.iter().position(|w| *w).expect("one claim won")];
    let claimed =
        Conversation { status: ConversationStatus::Active, agent_id: Some(winner), updated_at: at(20), ..chat.clone() };
    assert_eq!(conversation_in(store, chat.id).await, claimed);

    assert!(store.claim_conversation(chat.id, winner, at(30)).await.expect("claim_conversation"), "idempotent");
    assert_eq!(conversation_in(store, chat.id).await, claimed, "a repeated claim changes nothing");
    for other in agents.iter().filter(|a| **a != winner) {
        assert!(!store.claim_conversation(chat.id, *other, at(31)).await.expect("claim_conversation"));
    }
    assert_eq!(conversation_in(store, chat.id).await, claimed, "a lost claim changes nothing");

    assert!(store.close_conversation(chat.id, at(40)).await.expect("close_conversation"));
    for agent in &agents {
        assert!(!store.claim_conversation(chat.id, *agent, at(41)).await.expect("claim"), "a closed conversation");
    }
    assert_eq!(conversation_in(store, chat.id).await.status, ConversationStatus::Closed);
    assert!(!store.claim_conversation(ghost(&[&chat]), agents[0], at(42)).await.expect("claim"), "unknown");
}

/// Only the agent holding an active conversation can hand it over; the new
/// holder is the only one who can hand it on. Waiting and closed
/// conversations are not transferred.
pub async fn transfer_needs_the_current_holder<S: Store>(store: &S) {
    let site = site_id(1001);
    let ann = person_on(store, site, "ann@example.com").await.id;
    let bob = person_on(store, site, "bob@example.com").await.id;
    let cat = person_on(store, site, "cat@example.com").await.id;
    let chat = conversation_at(store, at(10)).await;
    let transfer =
        async |from, to, when| store.transfer_conversation(chat.id, from, to, at(when)).await.expect("transfer");

    assert!(!transfer(ann, bob, 15).await, "a waiting conversation has no holder");
    assert_eq!(conversation_in(store, chat.id).await, chat);

    assert!(store.claim_conversation(chat.id, ann, at(20)).await.expect("claim_conversation"));
    assert!(!transfer(bob, cat, 25).await, "bob does not hold it");
    assert_eq!(conversation_in(store, chat.id).await.agent_id, Some(ann));
    assert!(transfer(ann, bob, 30).await);
    let handed =
        Conversation { status: ConversationStatus::Active, agent_id: Some(bob), updated_at: at(30), ..chat.clone() };
    assert_eq!(conversation_in(store, chat.id).await, handed);
    assert!(!transfer(ann, cat, 35).await, "ann no longer holds it");
    assert_eq!(conversation_in(store, chat.id).await, handed);

    assert!(store.close_conversation(chat.id, at(40)).await.expect("close_conversation"));
    assert!(!transfer(bob, ann, 45).await, "a closed conversation is not transferred");
    assert_eq!(conversation_in(store, chat.id).await.agent_id, Some(bob), "who handled it stays named");
    let missing = store.transfer_conversation(ghost(&[&chat]), bob, ann, at(46)).await.expect("transfer");
    assert!(!missing, "an unknown conversation");
}

/// Closing works once, from waiting or active (keeping the agent);
/// afterwards, or for an unknown conversation, it is false and changes
/// nothing.
pub async fn close_is_once<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await.id;
    let waiting = conversation_at(store, at(10)).await;
    let active = conversation_at(store, at(10)).await;
    assert!(store.claim_conversation(active.id, ann, at(15)).await.expect("claim_conversation"));

    assert!(store.close_conversation(waiting.id, at(20)).await.expect("close_conversation"));
    let closed = Conversation { status: ConversationStatus::Closed, updated_at: at(20), ..waiting.clone() };
    assert_eq!(conversation_in(store, waiting.id).await, closed);
    assert!(!store.close_conversation(waiting.id, at(30)).await.expect("close_conversation"), "closed once");
    assert_eq!(conversation_in(store, waiting.id).await, closed, "a second close changes nothing");

    assert!(store.close_conversation(active.id, at(40)).await.expect("close_conversation"));
    let after = conversation_in(store, active.id).await;
    assert_eq!((after.status, after.agent_id, after.updated_at), (ConversationStatus::Closed, Some(ann), at(40)));
    assert!(!store.close_conversation(ghost(&[&waiting, &active]), at(50)).await.expect("close"), "unknown");
}

// ---------------------------------------------------------------------------
// Identity secrets
// ---------------------------------------------------------------------------

/// A site has no identity secret until one is set; setting another replaces
/// it (every byte kept as is); each site has its own.
pub async fn identity_secret_is_replaced_on_rotation<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    store.ensure_site(a, "Acme", at(0)).await.expect("ensure_site");
    store.ensure_site(b, "Globex", at(0)).await.expect("ensure_site");
    assert_eq!(store.identity_secret(a).await.expect("identity_secret"), None);

    let first: Vec<u8> = (0..=31).map(|i| i * 8).collect();
    store.set_identity_secret(a, &first, at(10)).await.expect("set_identity_secret");
    assert_eq!(store.identity_secret(a).await.expect("identity_secret"), Some(first.clone()));
    assert_eq!(store.identity_secret(b).await.expect("identity_secret"), None, "secrets are per site");

    let rotated: Vec<u8> = vec![0, 255, 0, 1, 2, 3, 0, 128];
    store.set_identity_secret(a, &rotated, at(20)).await.expect("set_identity_secret");
    assert_eq!(store.identity_secret(a).await.expect("identity_secret"), Some(rotated.clone()), "replaced");

    let other: Vec<u8> = vec![7; 32];
    store.set_identity_secret(b, &other, at(30)).await.expect("set_identity_secret");
    assert_eq!(store.identity_secret(a).await.expect("identity_secret"), Some(rotated));
    assert_eq!(store.identity_secret(b).await.expect("identity_secret"), Some(other));
}
