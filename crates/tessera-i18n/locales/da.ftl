### Tessera UI strings: Danish.
### Same ids and variables as en.ftl. Danish quotes are »…«.

## Language and page chrome

language-name = Dansk
nav-help-center = Hjælpecenter
nav-knowledge-base = Vidensbase
nav-search = Søg
nav-login = Log ind
nav-logout = Log ud
nav-register = Opret en konto
nav-account = Din konto
nav-cookies = Cookies
nav-skip = Gå til indhold
nav-language = Sprog
nav-language-change = Skift sprog

## Search

search-label = Søg i vidensbasen
search-placeholder = Hvordan kan vi hjælpe?
search-button = Søg
search-results =
    { $count ->
        [one] Én artikel matcher »{ $query }«
       *[other] { $count } artikler matcher »{ $query }«
    }
search-none = Ingen artikler matcher »{ $query }«.

## Knowledge base

kb-categories = Kategorier
kb-articles-in = Artikler i { $category }
kb-article-count =
    { $count ->
        [one] én artikel
       *[other] { $count } artikler
    }
kb-empty-category = Der er ingen artikler her endnu.
kb-breadcrumb = Brødkrummesti
kb-written-by = Skrevet af { $author }
kb-published = Udgivet { $date }
kb-updated = Opdateret { $date }
kb-views =
    { $count ->
        [one] én visning
       *[other] { $count } visninger
    }
# $language and $fallback are language names.
kb-fallback-notice = Denne artikel findes endnu ikke på { $language }; den vises på { $fallback }.
kb-not-found = Artiklen findes ikke.

## Article votes

vote-question = Var denne artikel nyttig?
vote-yes = Ja
vote-no = Nej
vote-yours-yes = Du fandt denne artikel nyttig.
vote-yours-no = Du fandt ikke denne artikel nyttig.
vote-change = Du kan altid ændre din stemme.
vote-totals = { $up } fandt den nyttig, { $down } gjorde ikke.

## Comments

comments-heading =
    { $count ->
        [0] Ingen kommentarer endnu
        [one] Én kommentar
       *[other] { $count } kommentarer
    }
comment-label = Din kommentar
comment-name-label = Dit navn
comment-submit = Send kommentar
comment-pending = Din kommentar afventer godkendelse; indtil videre er det kun dig, der kan se den.
comment-posted = Tak. Din kommentar bliver vist, så snart en moderator har godkendt den.
comment-by = { $author } den { $date }
comment-guest = Gæst
comment-too-long = En kommentar må højst være på { $max } tegn.
comment-empty = Skriv venligst noget først.
comment-too-many = Du har skrevet mange kommentarer på kort tid. Vent venligst lidt, før du skriver en ny.

## Cookie consent banner

consent-title = Cookies i dette hjælpecenter
consent-text = Vi bruger nødvendige cookies for at få siden til at fungere. Med din tilladelse sætter vi også en valgfri cookie, der genkender denne browser, når du kommer tilbage, så dine stemmer, kommentarer og chats forbliver knyttet til dig.
consent-accept = Accepter valgfrie cookies
consent-reject = Afvis valgfrie cookies
consent-more = Detaljer om cookies
consent-saved-accepted = Du har accepteret valgfrie cookies.
consent-saved-rejected = Du har afvist valgfrie cookies.
consent-gpc = Din browser sender et Global Privacy Control-signal, så valgfrie cookies forbliver slået fra.
consent-current-accepted = Du tillader i øjeblikket valgfrie cookies.
consent-current-rejected = Du tillader i øjeblikket ikke valgfrie cookies.
consent-current-unset = Du har ikke truffet et valg endnu.
consent-not-needed = Dette websted sætter ingen valgfrie cookies, så der er ikke noget at vælge.

## Cookie policy page

cookies-title = Cookies
cookies-intro = Her er alle de cookies, Tessera kan sætte. Nødvendige cookies er påkrævet, for at siden kan fungere; valgfrie cookies sættes kun med dit samtykke, eller når du selv beder om dem (for eksempel ved at sætte flueben i »Husk mig«).
cookies-col-name = Navn
cookies-col-description = Beskrivelse
cookies-col-type = Type
cookies-col-applies = Gælder for
cookie-category-essential = Nødvendig
cookie-category-optional = Valgfri
cookie-lifetime-session = Session
cookie-lifetime-days =
    { $days ->
        [one] Vedvarende (én dag)
       *[other] Vedvarende ({ $days } dage)
    }
cookie-lifetime-hours =
    { $hours ->
        [one] Vedvarende (én time)
       *[other] Vedvarende ({ $hours } timer)
    }
cookie-lifetime-seconds =
    { $seconds ->
        [one] Vedvarende (ét sekund)
       *[other] Vedvarende ({ $seconds } sekunder)
    }
cookie-audience-users = Brugere
cookie-audience-agents = Agenter
cookie-audience-admins = Administratorer

## Cookie purposes, one per cookie in the registry

cookie-purpose-portal-session = Din session i hjælpecentret. Den indeholder en tilfældig identifikator, som fortæller Tessera, at du er logget ind, når du går fra side til side; der gemmes intet om dig i den.
cookie-purpose-agent-session = Din session i agentgrænsefladen, adskilt fra sessionerne i hjælpecentret og administrationen. Den indeholder kun en tilfældig identifikator.
cookie-purpose-admin-session = Din session i administrationsgrænsefladen, adskilt fra de to andre og med kort timeout ved inaktivitet. Den indeholder kun en tilfældig identifikator.
cookie-purpose-remember-portal = Hvis du sætter flueben i »Husk mig«, når du logger ind, indeholder den et token, der logger dig ind igen, når du kommer tilbage i en senere browsersession. Det skifter, hver gang det bruges; hvis en kopi nogensinde bliver brugt af en anden, bliver alle dine huskede login tilbagekaldt.
cookie-purpose-remember-agent = { cookie-purpose-remember-portal }
cookie-purpose-csrf = Et sikkerhedstoken, der sendes med hver formular, du indsender, så Tessera kan skelne dine egne indsendelser fra forfalskede indsendelser fra andre websteder.
cookie-purpose-language = Det sprog, du har valgt i hjælpecentret, så alle sider forbliver på det sprog, indtil du lukker browseren.
cookie-purpose-visitor = Et tilfældigt token, der genkender denne browser, når du kommer tilbage, så dine stemmer, kommentarer, chats og sidevisninger forbliver forbundet på tværs af besøg. Sættes kun med dit samtykke; det identificerer browseren, ikke dig, og bliver liggende, når du logger ud.
cookie-purpose-consent = Husker, om du har accepteret eller afvist valgfrie cookies, så vi ikke spørger igen på hver side. Den indeholder kun et tilfældigt token, der henviser til dette valg.
cookie-purpose-visit = Sættes, når du stemmer eller kommenterer som gæst uden at have tilladt valgfrie cookies: et tilfældigt token, der holder din stemme og din kommentar knyttet til dig, indtil du lukker browseren. Den bruges aldrig til at genkende dig senere.
cookie-purpose-agent-site = Hvis en agent sætter flueben i »Husk mig«, husker den site-ID’et fra det seneste login, så loginformularen kan udfylde det næste gang.
cookie-purpose-messenger-visitor = Sættes af chatvinduet på websteder, der indlejrer Tesseras Messenger, kun med dit samtykke: et tilfældigt token, der lader dig se dine tidligere samtaler, når du vender tilbage til webstedet. Gemmes separat for hvert websted (partitioneret), så det ikke kan følge dig fra ét websted til et andet.
cookie-purpose-messenger-visit = Sættes af chatvinduet, når du chatter uden at have tilladt valgfrie cookies: et tilfældigt token, der holder samtalen knyttet til dig, indtil du lukker browseren. Gemmes separat for hvert websted (partitioneret).
cookie-purpose-loader-url = Sættes af Tessera-tagget på et websted, der indlejrer Messenger, kun med dit samtykke: adressen på den aktuelle Messenger-version, så senere sider indlæser chatten uden at spørge efter den først. Sikker på HTTPS-sider.
cookie-purpose-loader-time = Sættes sammen med den forrige: hvornår tagget lærte adressen, så det ved, hvornår der skal tjekkes for en nyere version.
cookie-purpose-tab-id = Sessionslager på et websted, der indlejrer Messenger: et tilfældigt navn til browserfanen, så to faner kan skelne deres beskeder fra hinanden. Forsvinder, når fanen lukkes.
cookie-purpose-open-state = Sessionslager på et websted, der indlejrer Messenger: om chatvinduet er åbent, så det forbliver åbent, når du går fra side til side. Forsvinder, når fanen lukkes.
cookie-purpose-page-store = Sessionslager på et websted, der indlejrer Messenger, som kun bruges, når din browser blokerer chatvinduets eget lager: chattens besøgstoken, samtalen, hvad du har set, og dit svar om samtykke (aldrig beskederne). Forsvinder, når fanen lukkes.
cookie-purpose-frame-store = Chatvinduets sessionslager: samtalen, hvad du har set, nylige beskeder, dit svar om samtykke, chattens besøgstoken og beskeder, der endnu ikke er sendt, med det navn og den e-mail, du har angivet. Forsvinder, når fanen lukkes.
cookie-purpose-monitor-visitor = Sættes af Tessera-tagget på et websted, hvis besøgsovervågning bruger førstepartscookies (eller som reserve, når tredjepartscookies er blokeret), kun med dit samtykke: et tilfældigt token, der genkender denne browser, når du vender tilbage til webstedet.
cookie-purpose-monitor-visitor-session = Sættes af Tessera-tagget, kun med dit samtykke, på et websted, der kun genkender besøgende, indtil browseren lukkes: et tilfældigt token for denne browser, aldrig gemt længere.
cookie-purpose-monitor-session = Sættes af Tessera-tagget, kun med dit samtykke: et tilfældigt token for dit nuværende besøg på webstedet, så de sider, du ser, tælles som ét besøg.
cookie-purpose-last-visit = Sættes af Tessera-tagget, kun med dit samtykke: hvornår du sidst besøgte webstedet, signeret af Tessera, så et tilbagevendende besøg genkendes (og dagene siden det sidste tælles), også hvor intet besøgstoken gemmes.
cookie-purpose-third-party-visitor = Sættes af Tessera på et websted, hvis besøgsovervågning bruger tredjepartscookies, kun med dit samtykke: et tilfældigt token, der genkender denne browser, når du vender tilbage til webstedet. Gemmes separat for hvert websted (partitioneret).
cookie-purpose-third-party-visitor-session = Som den forrige, for websteder, der kun genkender besøgende, indtil browseren lukkes. Gemmes separat for hvert websted (partitioneret).
cookie-purpose-third-party-session = Sættes af Tessera, kun med dit samtykke: et tilfældigt token for dit nuværende besøg på et websted, hvis overvågning bruger tredjepartscookies. Gemmes separat for hvert websted (partitioneret).
cookie-purpose-cross-domain-session = Sættes af Tessera, kun med dit samtykke, for en virksomhed, hvis overvågning følger ét besøg på tværs af flere af dens egne websteder: et tilfældigt token for det nuværende besøg, læsbart på hvert af dem. Ikke partitioneret, så det virker kun, hvor din browser tillader tredjepartscookies; forsvinder, når browseren lukkes.
cookie-purpose-node = Sættes kun, når Tessera kører på flere servere: navnet på den server, der svarede dig, så dine næste forespørgsler går til den samme. Den indeholder intet om dig og forsvinder, når du lukker browseren.
cookie-storage-session = sessionslager

## Logging in, registering and the account page

login-title = Log ind
login-email = E-mail
login-password = Adgangskode
login-remember = Husk mig
login-submit = Log ind
login-site = Site-ID
login-failed = Forkert e-mail eller adgangskode.
register-title = Opret en konto
register-name = Dit navn
register-email = E-mail
register-password = Adgangskode (mindst 8 tegn)
register-submit = Opret konto
register-closed = Der er lukket for oprettelse af konti på dette websted.
register-taken = Der findes allerede en konto med denne e-mail.
account-title = Din konto
account-sessions = Sessioner og huskede enheder
account-password = Skift adgangskode
account-email = Skift e-mail
account-signed-in-as = Logget ind som { $name }

## Account pages
## The account overview, sessions and remembered devices, password and email changes, the staff
## start page, and the notices shown after an action (some only ever seen by agents and admins).

account-name = Navn
account-role = Rolle
account-site = Site
role-user = bruger
role-agent = agent
role-admin = administrator
account-restored = Du blev logget ind automatisk med »Husk mig«. Du skal bruge din nuværende adgangskode for at ændre adgangskode eller e-mailadresse.
account-link-all-sessions = Alle sessioner på sitet
account-link-people = Personer
account-link-audit = Revisionslog
sessions-title = Dine sessioner
sessions-heading = Dine sessioner og huskede enheder
sessions-caption = Sessioner
sessions-col-person = Person
sessions-col-interface = Brugerflade
sessions-col-device = Enhed
sessions-col-ip = IP-adresse
sessions-col-started = Startet
sessions-col-last-seen = Sidst set
sessions-col-actions = Handlinger
sessions-this-device = Denne enhed
# A badge on a session that "Remember me" started.
sessions-remembered = husket
sessions-revoke = Tilbagekald
# $started is a date and time, $device e.g. "Firefox on Linux".
sessions-revoke-label = Tilbagekald sessionen, der startede { $started } på { $device }
sessions-none = Ingen aktive sessioner.
sessions-ip-unknown = ukendt
interface-portal = portal
interface-agent = agent
interface-admin = admin
devices-heading = Huskede enheder
devices-col-since = Husket siden
devices-col-last-used = Sidst brugt
devices-col-expires = Udløber
devices-forget = Glem
# $since is a date and time.
devices-forget-label = Glem enheden, der har været husket siden { $since }
devices-none = Ingen huskede enheder.
password-heading = Skift din adgangskode
password-intro = Når du skifter adgangskode, bliver du logget ud alle andre steder, og alle huskede enheder bliver glemt.
password-current = Nuværende adgangskode
password-new = Ny adgangskode (mindst 8 tegn)
password-confirm = Gentag den nye adgangskode
password-mismatch = De to nye adgangskoder er ikke ens.
password-wrong-current = Den nuværende adgangskode er forkert.
password-too-short = Adgangskoden skal være på mindst 8 tegn.
password-too-long = Adgangskoden må højst fylde 1024 byte.
email-heading = Skift din e-mailadresse
# HTML: keep the <strong> element around the address.
email-intro = Du logger ind med din e-mailadresse, som lige nu er <strong>{ $email }</strong>. Når du ændrer den, bliver du logget ud alle andre steder, og alle huskede enheder bliver glemt.
email-new = Ny e-mailadresse
email-submit = Skift e-mailadresse
email-invalid = Det er ikke en gyldig e-mailadresse.
email-taken = En anden konto på dette site bruger allerede den e-mailadresse.
home-intro = Dit arbejdsområde. Begynd på din kontoside.
notice-password-changed = Din adgangskode er ændret. Alle dine andre sessioner er logget ud, og huskede enheder er glemt.
notice-session-revoked = Sessionen er tilbagekaldt.
notice-device-forgotten = Enheden er glemt.
notice-account-disabled = Kontoen er deaktiveret; alle dens sessioner er afsluttet, og dens huskede enheder er glemt.
notice-account-enabled = Kontoen er aktiveret.
notice-role-changed = Rollen er ændret; personens sessioner er afsluttet, og personens huskede enheder er glemt.
notice-saved = Gemt.
notice-published = Gemt og udgivet: læserne kan se det nu.
notice-unpublished = Gemt og trukket tilbage: nu kan kun agenter se det.
notice-comment-approved = Kommentaren er godkendt og er nu offentlig.
notice-comment-rejected = Kommentaren er afvist.
notice-already-moderated = En anden modererede lige den kommentar.
notice-created = Oprettet.
notice-password-reset = Adgangskoden er nulstillet; alle personens sessioner er afsluttet, og personens huskede enheder er glemt.
notice-person-created = Personen er oprettet og kan logge ind med den adgangskode, du valgte.
notice-person-reset = Adgangskoden er nulstillet. Alle personens sessioner er afsluttet, og personens huskede enheder er glemt.
notice-site-created = Sitet er oprettet. Angiv dets værtsnavne og sprog nedenfor.
notice-site-saved = Sitets indstillinger er gemt.

## Error pages

error-not-found = Siden findes ikke.
error-forbidden = Du har ikke tilladelse til at gøre dette.
error-bad-request = Forespørgslen kunne ikke forstås.
error-internal = Der gik noget galt hos os. Prøv igen.
error-unavailable = Tjenesten er midlertidigt utilgængelig. Prøv igen om et øjeblik.
error-back = Tilbage til startsiden
