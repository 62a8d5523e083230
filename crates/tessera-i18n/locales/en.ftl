### Tessera UI strings: English, the fallback for every other language.
### Every message here must also be in fr.ftl and da.ftl, with the same variables
### (tests/catalogues.rs checks). Numbers select plural variants: [one], *[other].

## Language and page chrome

language-name = English
nav-help-center = Help Center
nav-knowledge-base = Knowledge base
nav-search = Search
nav-login = Log in
nav-logout = Log out
nav-register = Create an account
nav-account = Your account
nav-cookies = Cookies
nav-skip = Skip to content
nav-language = Language
nav-language-change = Change language

## Search

search-label = Search the knowledge base
search-placeholder = How can we help?
search-button = Search
search-results =
    { $count ->
        [one] One article found for “{ $query }”
       *[other] { $count } articles found for “{ $query }”
    }
search-none = No article matches “{ $query }”.

## Knowledge base

kb-categories = Categories
kb-articles-in = Articles in { $category }
kb-article-count =
    { $count ->
        [one] one article
       *[other] { $count } articles
    }
kb-empty-category = There are no articles here yet.
kb-breadcrumb = Breadcrumb
kb-written-by = Written by { $author }
kb-published = Published { $date }
kb-updated = Updated { $date }
kb-views =
    { $count ->
        [one] one view
       *[other] { $count } views
    }
# $language and $fallback are language names.
kb-fallback-notice = This article is not available in { $language } yet; it is shown in { $fallback }.
kb-not-found = No such article.

## Article votes

vote-question = Was this article helpful?
vote-yes = Yes
vote-no = No
vote-yours-yes = You found this helpful.
vote-yours-no = You found this not helpful.
vote-change = You can change your vote at any time.
vote-totals = { $up } found this helpful, { $down } did not.

## Comments

comments-heading =
    { $count ->
        [0] No comments yet
        [one] One comment
       *[other] { $count } comments
    }
comment-label = Your comment
comment-name-label = Your name
comment-submit = Post comment
comment-pending = Your comment is awaiting moderation; only you can see it for now.
comment-posted = Thank you. Your comment will appear once a moderator approves it.
comment-by = { $author } on { $date }
comment-guest = Guest
comment-too-long = A comment can be at most { $max } characters.
comment-empty = Please write something first.
comment-too-many = You have posted many comments in a short time. Please wait a while before posting another.

## Cookie consent banner

consent-title = Cookies on this Help Center
consent-text = We use essential cookies to make this site work. With your permission we would also set an optional cookie that recognises this browser when you come back, so that your votes, comments and chats stay linked to you.
consent-accept = Accept optional cookies
consent-reject = Reject optional cookies
consent-more = Cookie details
consent-saved-accepted = You accepted optional cookies.
consent-saved-rejected = You rejected optional cookies.
consent-gpc = Your browser sends a Global Privacy Control signal, so optional cookies stay off.
consent-current-accepted = You currently allow optional cookies.
consent-current-rejected = You currently do not allow optional cookies.
consent-current-unset = You have not made a choice yet.
consent-not-needed = This site sets no optional cookies, so there is nothing to choose.

## Cookie policy page

cookies-title = Cookies
cookies-intro = These are all the cookies Tessera may set. Essential cookies are needed for the site to work; optional cookies are set only with your consent or when you ask for them (for example by ticking “Remember me”).
cookies-col-name = Name
cookies-col-description = Description
cookies-col-type = Type
cookies-col-applies = Applies to
cookie-category-essential = Essential
cookie-category-optional = Optional
cookie-lifetime-session = Session
cookie-lifetime-days =
    { $days ->
        [one] Persistent (one day)
       *[other] Persistent ({ $days } days)
    }
cookie-lifetime-hours =
    { $hours ->
        [one] Persistent (one hour)
       *[other] Persistent ({ $hours } hours)
    }
cookie-lifetime-seconds =
    { $seconds ->
        [one] Persistent (one second)
       *[other] Persistent ({ $seconds } seconds)
    }
cookie-audience-users = Users
cookie-audience-agents = Agents
cookie-audience-admins = Admins

## Cookie purposes, one per cookie in the registry

cookie-purpose-portal-session = Your session in the Help Center. It holds a random identifier that lets Tessera know you are logged in as you move from page to page; nothing about you is stored in it.
cookie-purpose-agent-session = Your session in the agent interface, separate from the Help Center and admin sessions. It holds only a random identifier.
cookie-purpose-admin-session = Your session in the admin interface, separate from the other two and with a short idle timeout. It holds only a random identifier.
cookie-purpose-remember-portal = If you tick “Remember me” when logging in, this holds a token that logs you in again when you come back in a later browser session. It changes every time it is used; if a copy is ever used by someone else, every remembered login of yours is revoked.
cookie-purpose-remember-agent = { cookie-purpose-remember-portal }
cookie-purpose-csrf = A security token that is sent with every form you submit, so that Tessera can tell your own submissions from forged ones sent by other websites.
cookie-purpose-language = The language you picked in the Help Center, so that every page stays in that language until you close the browser.
cookie-purpose-visitor = A random token that recognises this browser when you come back, so that your votes, comments, chats and page views stay linked across visits. Set only with your consent; it identifies the browser, not you, and stays when you log out.
cookie-purpose-consent = Remembers whether you accepted or rejected optional cookies, so that we do not ask again on every page. It holds only a random token naming that choice.
cookie-purpose-visit = Set when you vote or comment as a guest without having allowed optional cookies: a random token that keeps your vote and comment yours until you close the browser. It is never used to recognise you later.
cookie-purpose-agent-site = If an agent ticks “Remember me”, this remembers the site ID of the last login so the login form can fill it in next time.
cookie-purpose-messenger-visitor = Set by the chat window on websites that embed Tessera’s Messenger, only with your consent: a random token that lets you see your earlier conversations when you come back to that website. Kept separately for each website (partitioned), so it cannot follow you from one website to another.
cookie-purpose-messenger-visit = Set by the chat window when you chat without having allowed optional cookies: a random token that keeps your conversation yours until you close the browser. Kept separately for each website (partitioned).
cookie-purpose-loader-url = Set by the Tessera tag on a website that embeds the Messenger, only with your consent: the address of the current Messenger version, so later pages load the chat without asking for it first. Secure on HTTPS pages.
cookie-purpose-loader-time = Set with the previous one: when the tag learnt that address, so it knows when to check for a newer version.
cookie-purpose-tab-id = Session storage on a website that embeds the Messenger: a random name for the browser tab, so two tabs can tell their messages apart. Gone when the tab closes.
cookie-purpose-open-state = Session storage on a website that embeds the Messenger: whether the chat window is open, so it stays open as you move from page to page. Gone when the tab closes.
cookie-purpose-page-store = Session storage on a website that embeds the Messenger, used only when your browser blocks the chat window’s own storage: the chat’s visitor token, the conversation, what you have seen and your consent answer (never the messages). Gone when the tab closes.
cookie-purpose-frame-store = Session storage of the chat window: the conversation, what you have seen, recent messages, your consent answer, the chat’s visitor token, and any message not yet sent with the name and email you gave. Gone when the tab closes.
cookie-purpose-monitor-visitor = Set by the Tessera tag on a website whose visitor monitoring uses first-party cookies (or as the fallback when third-party cookies are blocked), only with your consent: a random token that recognises this browser when you come back to that website.
cookie-purpose-monitor-visitor-session = Set by the Tessera tag, only with your consent, on a website that recognises visitors only until the browser closes: a random token for this browser, never kept longer.
cookie-purpose-monitor-session = Set by the Tessera tag, only with your consent: a random token naming your current visit to that website, so the pages you see in it are counted as one visit.
cookie-purpose-last-visit = Set by the Tessera tag, only with your consent: when you last visited that website, signed by Tessera, so that a returning visit is recognised (and the days since the last one counted) even where no visitor token is kept.
cookie-purpose-third-party-visitor = Set by Tessera on a website whose visitor monitoring uses third-party cookies, only with your consent: a random token that recognises this browser when you come back to that website. Kept separately for each website (partitioned).
cookie-purpose-third-party-visitor-session = Like the previous one, for websites that recognise visitors only until the browser closes. Kept separately for each website (partitioned).
cookie-purpose-third-party-session = Set by Tessera, only with your consent: a random token naming your current visit to a website whose monitoring uses third-party cookies. Kept separately for each website (partitioned).
cookie-purpose-cross-domain-session = Set by Tessera, only with your consent, for a company whose monitoring follows one visit across several of its own websites: a random token naming the current visit, readable on each of them. Not partitioned, so it works only where your browser allows third-party cookies; gone when the browser closes.
cookie-purpose-node = Set only when Tessera runs on several servers: the name of the server that answered you, so that your next requests go to the same one. It holds nothing about you and is gone when you close the browser.
cookie-storage-session = session storage

## Logging in, registering and the account page

login-title = Log in
login-email = Email
login-password = Password
login-remember = Remember me
login-submit = Log in
login-site = Site ID
login-failed = Wrong email or password.
register-title = Create an account
register-name = Your name
register-email = Email
register-password = Password (at least 8 characters)
register-submit = Create account
register-closed = Registration is closed on this site.
register-taken = An account with this email already exists.
account-title = Your account
account-sessions = Sessions and remembered devices
account-password = Change password
account-email = Change email
account-signed-in-as = Signed in as { $name }

## Account pages
## The account overview, sessions and remembered devices, password and email changes, the staff
## start page, and the notices shown after an action (some only ever seen by agents and admins).

account-name = Name
account-role = Role
account-site = Site
role-user = user
role-agent = agent
role-admin = admin
account-restored = You were logged in automatically by “Remember me”. Changing your password or email address needs your current password.
account-link-all-sessions = All sessions of the site
account-link-people = People
account-link-audit = Audit log
sessions-title = Your sessions
sessions-heading = Your sessions and remembered devices
sessions-caption = Sessions
sessions-col-person = Person
sessions-col-interface = Interface
sessions-col-device = Device
sessions-col-ip = IP address
sessions-col-started = Started
sessions-col-last-seen = Last seen
sessions-col-actions = Actions
sessions-this-device = This device
# A badge on a session that "Remember me" started.
sessions-remembered = remembered
sessions-revoke = Revoke
# $started is a date and time, $device e.g. "Firefox on Linux".
sessions-revoke-label = Revoke the session started { $started } on { $device }
sessions-none = No active sessions.
sessions-ip-unknown = unknown
interface-portal = portal
interface-agent = agent
interface-admin = admin
devices-heading = Remembered devices
devices-col-since = Remembered since
devices-col-last-used = Last used
devices-col-expires = Expires
devices-forget = Forget
# $since is a date and time.
devices-forget-label = Forget the device remembered since { $since }
devices-none = No remembered devices.
password-heading = Change your password
password-intro = Changing your password logs you out everywhere else and forgets every remembered device.
password-current = Current password
password-new = New password (at least 8 characters)
password-confirm = New password again
password-mismatch = The two new passwords are not the same.
password-wrong-current = The current password is not correct.
password-too-short = Password must be at least 8 characters.
password-too-long = Password must be at most 1024 bytes.
email-heading = Change your email address
# HTML: keep the <strong> element around the address.
email-intro = You log in with your email address, currently <strong>{ $email }</strong>. Changing it logs you out everywhere else and forgets every remembered device.
email-new = New email address
email-submit = Change email address
email-invalid = Not a valid email address.
email-taken = Another account on this site already uses that email address.
home-intro = Your workspace. Start from your account page.
notice-password-changed = Your password was changed. Every other session was logged out and remembered devices were forgotten.
notice-session-revoked = The session was revoked.
notice-device-forgotten = The device was forgotten.
notice-account-disabled = The account was disabled; all its sessions and remembered devices ended.
notice-account-enabled = The account was enabled.
notice-role-changed = The role was changed; the person's sessions and remembered devices ended.
notice-saved = Saved.
notice-published = Saved and published: readers can see it now.
notice-unpublished = Saved and unpublished: only agents can see it now.
notice-comment-approved = The comment was approved and is now public.
notice-comment-rejected = The comment was rejected.
notice-already-moderated = Someone else moderated that comment a moment ago.
notice-created = Created.
notice-password-reset = The password was reset; every session and remembered device of that person ended.
notice-person-created = The person was created and can log in with the password you chose.
notice-person-reset = The password was reset. All the person's sessions ended and remembered devices were forgotten.
notice-site-created = The site was created. Set its host names and languages below.
notice-site-saved = The site's settings were saved.

## Error pages

error-not-found = This page does not exist.
error-forbidden = You are not allowed to do that.
error-bad-request = That request could not be understood.
error-internal = Something went wrong on our side. Please try again.
error-unavailable = The service is temporarily unavailable. Please try again in a moment.
error-back = Back to the start page
