### Tessera UI strings: French.
### Same ids and variables as en.ftl. French typography: a no-break space (U+00A0) before
### ? ! ; : and inside « ». French puts 0 and 1 in the [one] plural category.

## Language and page chrome

language-name = Français
nav-help-center = Centre d’aide
nav-knowledge-base = Base de connaissances
nav-search = Rechercher
nav-login = Se connecter
nav-logout = Se déconnecter
nav-register = Créer un compte
nav-account = Votre compte
nav-cookies = Cookies
nav-skip = Aller au contenu
nav-language = Langue
nav-language-change = Changer de langue

## Search

search-label = Rechercher dans la base de connaissances
search-placeholder = Comment pouvons-nous vous aider ?
search-button = Rechercher
search-results =
    { $count ->
        [one] { $count } article trouvé pour « { $query } »
       *[other] { $count } articles trouvés pour « { $query } »
    }
search-none = Aucun article ne correspond à « { $query } ».

## Knowledge base

kb-categories = Catégories
kb-articles-in = Articles de la catégorie { $category }
kb-article-count =
    { $count ->
        [0] aucun article
        [one] un article
       *[other] { $count } articles
    }
kb-empty-category = Il n’y a encore aucun article ici.
kb-breadcrumb = Fil d’Ariane
kb-written-by = Rédigé par { $author }
kb-published = Publié le { $date }
kb-updated = Mis à jour le { $date }
kb-views =
    { $count ->
        [0] aucune vue
        [one] une vue
       *[other] { $count } vues
    }
# $language and $fallback are language names.
kb-fallback-notice = Cet article n’est pas encore disponible en { $language } ; il est affiché en { $fallback }.
kb-not-found = Cet article n’existe pas.

## Article votes

vote-question = Cet article vous a-t-il été utile ?
vote-yes = Oui
vote-no = Non
vote-yours-yes = Vous avez trouvé cet article utile.
vote-yours-no = Vous n’avez pas trouvé cet article utile.
vote-change = Vous pouvez modifier votre vote à tout moment.
vote-totals =
    { $up ->
        [one] { $up } personne l’a trouvé utile, { $down } non.
       *[other] { $up } personnes l’ont trouvé utile, { $down } non.
    }

## Comments

comments-heading =
    { $count ->
        [0] Aucun commentaire pour l’instant
        [one] Un commentaire
       *[other] { $count } commentaires
    }
comment-label = Votre commentaire
comment-name-label = Votre nom
comment-submit = Publier le commentaire
comment-pending = Votre commentaire est en attente de modération ; pour l’instant, il n’est visible que par vous.
comment-posted = Merci. Votre commentaire apparaîtra dès qu’il aura été approuvé par la modération.
comment-by = { $author }, le { $date }
comment-guest = Invité
comment-too-long = Un commentaire ne peut pas dépasser { $max } caractères.
comment-empty = Veuillez d’abord écrire quelque chose.
comment-too-many = Vous avez publié beaucoup de commentaires en peu de temps. Veuillez patienter un moment avant d’en publier un autre.

## Cookie consent banner

consent-title = Les cookies de ce centre d’aide
consent-text = Nous utilisons des cookies essentiels au fonctionnement de ce site. Avec votre accord, nous déposerions également un cookie facultatif qui reconnaît ce navigateur lorsque vous revenez, afin que vos votes, commentaires et conversations continuent de vous être associés.
consent-accept = Accepter les cookies facultatifs
consent-reject = Refuser les cookies facultatifs
consent-more = En savoir plus sur les cookies
consent-saved-accepted = Vous avez accepté les cookies facultatifs.
consent-saved-rejected = Vous avez refusé les cookies facultatifs.
consent-gpc = Votre navigateur envoie un signal Global Privacy Control ; les cookies facultatifs restent donc désactivés.
consent-current-accepted = Vous autorisez actuellement les cookies facultatifs.
consent-current-rejected = Actuellement, vous n’autorisez pas les cookies facultatifs.
consent-current-unset = Vous n’avez pas encore fait de choix.
consent-not-needed = Ce site ne dépose aucun cookie facultatif ; vous n’avez donc rien à choisir.

## Cookie policy page

cookies-title = Cookies
cookies-intro = Voici tous les cookies que Tessera peut déposer. Les cookies essentiels sont nécessaires au fonctionnement du site ; les cookies facultatifs ne sont déposés qu’avec votre consentement ou à votre demande (par exemple en cochant « Se souvenir de moi »).
cookies-col-name = Nom
cookies-col-description = Description
cookies-col-type = Type
cookies-col-applies = Concerne
cookie-category-essential = Essentiel
cookie-category-optional = Facultatif
cookie-lifetime-session = Session
cookie-lifetime-days =
    { $days ->
        [one] Persistant ({ $days } jour)
       *[other] Persistant ({ $days } jours)
    }
cookie-lifetime-hours =
    { $hours ->
        [one] Persistant ({ $hours } heure)
       *[other] Persistant ({ $hours } heures)
    }
cookie-lifetime-seconds =
    { $seconds ->
        [one] Persistant ({ $seconds } seconde)
       *[other] Persistant ({ $seconds } secondes)
    }
cookie-audience-users = Utilisateurs
cookie-audience-agents = Agents
cookie-audience-admins = Administrateurs

## Cookie purposes, one per cookie in the registry

cookie-purpose-portal-session = Votre session dans le centre d’aide. Ce cookie contient un identifiant aléatoire qui permet à Tessera de savoir que votre session est ouverte lorsque vous passez d’une page à l’autre ; aucune information vous concernant n’y est enregistrée.
cookie-purpose-agent-session = Votre session dans l’interface des agents, distincte des sessions du centre d’aide et de l’administration. Ce cookie ne contient qu’un identifiant aléatoire.
cookie-purpose-admin-session = Votre session dans l’interface d’administration, distincte des deux autres et fermée après une courte période d’inactivité. Ce cookie ne contient qu’un identifiant aléatoire.
cookie-purpose-remember-portal = Si vous cochez « Se souvenir de moi » en vous connectant, ce cookie contient un jeton qui vous reconnecte automatiquement quand vous revenez dans une session de navigation ultérieure. Il change à chaque utilisation ; si une copie est un jour utilisée par quelqu’un d’autre, toutes vos connexions mémorisées sont révoquées.
cookie-purpose-remember-agent = { cookie-purpose-remember-portal }
cookie-purpose-csrf = Un jeton de sécurité envoyé avec chaque formulaire que vous soumettez, afin que Tessera puisse distinguer vos propres envois de ceux falsifiés par d’autres sites web.
cookie-purpose-language = La langue que vous avez choisie dans le centre d’aide, afin que toutes les pages restent dans cette langue jusqu’à la fermeture du navigateur.
cookie-purpose-visitor = Un jeton aléatoire qui reconnaît ce navigateur lorsque vous revenez, afin que vos votes, commentaires, conversations et pages consultées restent liés d’une visite à l’autre. Il n’est déposé qu’avec votre consentement ; il identifie le navigateur et non votre personne, et il est conservé lorsque vous vous déconnectez.
cookie-purpose-consent = Mémorise si vous avez accepté ou refusé les cookies facultatifs, afin que nous ne vous reposions pas la question à chaque page. Il ne contient qu’un jeton aléatoire désignant ce choix.
cookie-purpose-visit = Déposé quand vous votez ou commentez en tant qu’invité sans avoir autorisé les cookies facultatifs : un jeton aléatoire qui garde votre vote et votre commentaire associés à vous jusqu’à la fermeture du navigateur. Il ne sert jamais à vous reconnaître plus tard.
cookie-purpose-agent-site = Si un agent coche « Se souvenir de moi », ce cookie mémorise l’identifiant de site de la dernière connexion, afin que le formulaire de connexion puisse le préremplir la prochaine fois.
cookie-purpose-messenger-visitor = Déposé par la fenêtre de discussion sur les sites web qui intègrent la messagerie de Tessera, uniquement avec votre consentement : un jeton aléatoire qui vous permet de retrouver vos conversations précédentes lorsque vous revenez sur ce site. Conservé séparément pour chaque site (partitionné), il ne peut donc pas vous suivre d’un site à l’autre.
cookie-purpose-messenger-visit = Déposé par la fenêtre de discussion lorsque vous discutez sans avoir autorisé les cookies facultatifs : un jeton aléatoire qui garde votre conversation associée à vous jusqu’à la fermeture du navigateur. Conservé séparément pour chaque site (partitionné).
cookie-purpose-loader-url = Déposé par le marqueur Tessera sur un site web qui intègre la messagerie, uniquement avec votre consentement : l’adresse de la version actuelle de la messagerie, afin que les pages suivantes chargent la discussion sans la redemander. Sécurisé sur les pages HTTPS.
cookie-purpose-loader-time = Déposé avec le précédent : le moment où le marqueur a appris cette adresse, pour savoir quand vérifier s’il existe une version plus récente.
cookie-purpose-tab-id = Stockage de session sur un site web qui intègre la messagerie : un nom aléatoire pour l’onglet du navigateur, afin que deux onglets distinguent leurs messages. Effacé à la fermeture de l’onglet.
cookie-purpose-open-state = Stockage de session sur un site web qui intègre la messagerie : si la fenêtre de discussion est ouverte, afin qu’elle le reste d’une page à l’autre. Effacé à la fermeture de l’onglet.
cookie-purpose-page-store = Stockage de session sur un site web qui intègre la messagerie, utilisé seulement si votre navigateur bloque le stockage propre de la fenêtre de discussion : le jeton de visiteur de la discussion, la conversation, ce que vous avez vu et votre réponse au consentement (jamais les messages). Effacé à la fermeture de l’onglet.
cookie-purpose-frame-store = Stockage de session de la fenêtre de discussion : la conversation, ce que vous avez vu, les messages récents, votre réponse au consentement, le jeton de visiteur de la discussion et tout message pas encore envoyé, avec le nom et l’adresse e-mail indiqués. Effacé à la fermeture de l’onglet.
cookie-purpose-monitor-visitor = Déposé par la balise Tessera sur un site dont le suivi des visiteurs utilise des cookies propriétaires (ou en repli quand les cookies tiers sont bloqués), uniquement avec votre consentement : un jeton aléatoire qui reconnaît ce navigateur quand vous revenez sur ce site.
cookie-purpose-monitor-visitor-session = Déposé par la balise Tessera, uniquement avec votre consentement, sur un site qui ne reconnaît les visiteurs que jusqu’à la fermeture du navigateur : un jeton aléatoire pour ce navigateur, jamais conservé plus longtemps.
cookie-purpose-monitor-session = Déposé par la balise Tessera, uniquement avec votre consentement : un jeton aléatoire qui désigne votre visite en cours sur ce site, pour que les pages vues pendant celle-ci comptent comme une seule visite.
cookie-purpose-last-visit = Déposé par la balise Tessera, uniquement avec votre consentement : la date de votre dernière visite sur ce site, signée par Tessera, pour reconnaître une visite de retour (et compter les jours depuis la précédente) même sans jeton de visiteur.
cookie-purpose-third-party-visitor = Déposé par Tessera sur un site dont le suivi des visiteurs utilise des cookies tiers, uniquement avec votre consentement : un jeton aléatoire qui reconnaît ce navigateur quand vous revenez sur ce site. Conservé séparément pour chaque site (partitionné).
cookie-purpose-third-party-visitor-session = Comme le précédent, pour les sites qui ne reconnaissent les visiteurs que jusqu’à la fermeture du navigateur. Conservé séparément pour chaque site (partitionné).
cookie-purpose-third-party-session = Déposé par Tessera, uniquement avec votre consentement : un jeton aléatoire qui désigne votre visite en cours sur un site dont le suivi utilise des cookies tiers. Conservé séparément pour chaque site (partitionné).
cookie-purpose-cross-domain-session = Déposé par Tessera, uniquement avec votre consentement, pour une entreprise dont le suivi relie une même visite sur plusieurs de ses sites : un jeton aléatoire qui désigne la visite en cours, lisible sur chacun d’eux. Non partitionné : il ne fonctionne que si votre navigateur autorise les cookies tiers ; effacé à la fermeture du navigateur.
cookie-purpose-node = Déposé uniquement lorsque Tessera fonctionne sur plusieurs serveurs : le nom du serveur qui vous a répondu, afin que vos requêtes suivantes aillent au même. Il ne contient rien sur vous et disparaît à la fermeture du navigateur.
cookie-storage-session = stockage de session

## Logging in, registering and the account page

login-title = Connexion
login-email = Adresse e-mail
login-password = Mot de passe
login-remember = Se souvenir de moi
login-submit = Se connecter
login-site = Identifiant du site
login-failed = Adresse e-mail ou mot de passe incorrect.
register-title = Créer un compte
register-name = Votre nom
register-email = Adresse e-mail
register-password = Mot de passe (8 caractères minimum)
register-submit = Créer le compte
register-closed = Les inscriptions sont fermées sur ce site.
register-taken = Un compte existe déjà avec cette adresse e-mail.
account-title = Votre compte
account-sessions = Sessions et appareils mémorisés
account-password = Changer de mot de passe
account-email = Changer d’adresse e-mail
account-signed-in-as = Connecté en tant que { $name }

## Account pages
## The account overview, sessions and remembered devices, password and email changes, the staff
## start page, and the notices shown after an action (some only ever seen by agents and admins).

account-name = Nom
account-role = Rôle
account-site = Site
role-user = utilisateur
role-agent = agent
role-admin = administrateur
account-restored = Vous avez été connecté automatiquement grâce à « Se souvenir de moi ». Pour changer de mot de passe ou d’adresse e-mail, il vous faut votre mot de passe actuel.
account-link-all-sessions = Toutes les sessions du site
account-link-people = Personnes
account-link-audit = Journal d’audit
sessions-title = Vos sessions
sessions-heading = Vos sessions et appareils mémorisés
sessions-caption = Sessions
sessions-col-person = Personne
sessions-col-interface = Interface
sessions-col-device = Appareil
sessions-col-ip = Adresse IP
sessions-col-started = Début
sessions-col-last-seen = Dernière activité
sessions-col-actions = Actions
sessions-this-device = Cet appareil
# A badge on a session that "Remember me" started.
sessions-remembered = mémorisée
sessions-revoke = Révoquer
# $started is a date and time, $device e.g. "Firefox on Linux".
sessions-revoke-label = Révoquer la session ouverte le { $started } sur { $device }
sessions-none = Aucune session active.
sessions-ip-unknown = inconnue
interface-portal = portail
interface-agent = agent
interface-admin = administration
devices-heading = Appareils mémorisés
devices-col-since = Mémorisé depuis le
devices-col-last-used = Dernière utilisation
devices-col-expires = Expiration
devices-forget = Oublier
# $since is a date and time.
devices-forget-label = Oublier l’appareil mémorisé depuis le { $since }
devices-none = Aucun appareil mémorisé.
password-heading = Changer votre mot de passe
password-intro = Changer de mot de passe vous déconnecte partout ailleurs et fait oublier tous les appareils mémorisés.
password-current = Mot de passe actuel
password-new = Nouveau mot de passe (8 caractères minimum)
password-confirm = Confirmez le nouveau mot de passe
password-mismatch = Les deux nouveaux mots de passe ne sont pas identiques.
password-wrong-current = Le mot de passe actuel est incorrect.
password-too-short = Le mot de passe doit comporter au moins 8 caractères.
password-too-long = Le mot de passe ne doit pas dépasser 1024 octets.
email-heading = Changer votre adresse e-mail
# HTML: keep the <strong> element around the address.
email-intro = Vous vous connectez avec votre adresse e-mail, actuellement <strong>{ $email }</strong>. La changer vous déconnecte partout ailleurs et fait oublier tous les appareils mémorisés.
email-new = Nouvelle adresse e-mail
email-submit = Changer d’adresse e-mail
email-invalid = Cette adresse e-mail n’est pas valide.
email-taken = Un autre compte de ce site utilise déjà cette adresse e-mail.
home-intro = Votre espace de travail. Commencez par la page de votre compte.
notice-password-changed = Votre mot de passe a été changé. Toutes vos autres sessions ont été fermées et les appareils mémorisés ont été oubliés.
notice-session-revoked = La session a été révoquée.
notice-device-forgotten = L’appareil a été oublié.
notice-account-disabled = Le compte a été désactivé ; toutes ses sessions ont pris fin et ses appareils mémorisés ont été oubliés.
notice-account-enabled = Le compte a été activé.
notice-role-changed = Le rôle a été modifié ; les sessions de la personne ont pris fin et ses appareils mémorisés ont été oubliés.
notice-saved = Enregistré.
notice-published = Enregistré et publié : les lecteurs peuvent le voir dès maintenant.
notice-unpublished = Enregistré et dépublié : seuls les agents peuvent le voir désormais.
notice-comment-approved = Le commentaire a été approuvé ; il est désormais public.
notice-comment-rejected = Le commentaire a été rejeté.
notice-already-moderated = Quelqu’un d’autre vient de modérer ce commentaire.
notice-created = Créé.
notice-password-reset = Le mot de passe a été réinitialisé ; toutes les sessions de cette personne ont pris fin et ses appareils mémorisés ont été oubliés.
notice-person-created = La personne a été créée ; elle peut se connecter avec le mot de passe que vous avez choisi.
notice-person-reset = Le mot de passe a été réinitialisé. Toutes les sessions de la personne ont pris fin et ses appareils mémorisés ont été oubliés.
notice-site-created = Le site a été créé. Définissez ses noms d’hôte et ses langues ci-dessous.
notice-site-saved = Les paramètres du site ont été enregistrés.

## Error pages

error-not-found = Cette page n’existe pas.
error-forbidden = Cette action ne vous est pas autorisée.
error-bad-request = Cette requête n’a pas pu être comprise.
error-internal = Une erreur s’est produite de notre côté. Veuillez réessayer.
error-unavailable = Le service est momentanément indisponible. Veuillez réessayer dans un instant.
error-back = Retour à la page d’accueil
