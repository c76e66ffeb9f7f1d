import type { Messages } from './en';

/** The connect page's texts in French ("vous", as a business addresses its staff in writing). */
export const fr: Messages = {
  lang: 'fr',
  dir: 'ltr',
  languageName: 'Français',
  pageTitle: (business) => `Connexion des agendas — ${business}`,
  heading: 'Connectez votre agenda',
  greeting: (staff) => `Bonjour ${staff}`,
  intro: (business) =>
    `${business} place vos rendez-vous dans l’agenda que vous utilisez déjà et les tient à jour. Choisissez votre agenda ci-dessous.`,
  whoAreYou: 'Qui êtes-vous ?',
  whoAreYouHint: 'Choisissez votre nom pour voir et connecter vos agendas.',
  noStaff: 'Personne à connecter pour l’instant. Demandez à l’entreprise de vous ajouter dans son application.',
  connect: (provider) => `Connecter ${provider}`,
  connectHint:
    'Vous vous connecterez chez votre fournisseur et donnerez votre accord. calsync ne voit jamais votre mot de passe.',
  yourCalendars: 'Vos agendas',
  noLinks: 'Aucun agenda connecté pour l’instant.',
  status: {
    active: 'Connecté et fonctionnel',
    connecting: 'Préparation de votre agenda…',
    needs_reauth: 'À reconnecter',
    disconnecting: 'Déconnexion…',
    disconnected: 'Déconnecté',
  },
  reason: {
    invalid_grant: 'L’accès a été retiré ou a expiré : les nouveaux rendez-vous ne peuvent plus atteindre cet agenda.',
    no_refresh_token:
      'calsync n’a pas d’accès durable à ce compte : les nouveaux rendez-vous ne peuvent pas l’atteindre.',
    unknown: 'calsync ne peut plus écrire dans cet agenda.',
  },
  heldNote: 'Les rendez-vous pris entre-temps sont conservés et apparaîtront dès que vous reconnecterez l’agenda.',
  reconnect: (provider) => `Reconnecter ${provider}`,
  disconnect: 'Déconnecter',
  disconnectingNote: 'calsync range cet agenda. Cela peut prendre une minute.',
  confirmTitle: (provider) => `Déconnecter votre agenda ${provider} ?`,
  confirmAccount: (account) => `Compte : ${account}`,
  confirmRemove:
    'Les rendez-vous que calsync a ajoutés à cet agenda en seront retirés. Vos propres événements ne sont pas touchés.',
  confirmKeep:
    'Les rendez-vous déjà présents dans cet agenda y restent, mais ne seront plus mis à jour s’ils changent ou sont annulés.',
  confirmAfter:
    'Les nouveaux rendez-vous n’apparaîtront plus dans cet agenda. Vous pourrez le reconnecter à tout moment.',
  confirmYes: 'Oui, déconnecter',
  confirmNo: 'Non, le garder connecté',
  successTitle: (provider) => `Votre agenda ${provider} est connecté`,
  successBody: (account) =>
    `Vos rendez-vous apparaîtront dans ${account} d’ici une minute, et chaque changement suivra.`,
  successNext: 'Vous pouvez fermer cette page.',
  backToCalendars: 'Retour à mes agendas',
  credentialsTitle: (provider) => `Connecter ${provider} avec un mot de passe`,
  credentialsIntro: 'Pour les agendas sans bouton de connexion : calsync vérifie ces informations auprès du serveur.',
  preset: 'Service',
  serverUrl: 'Adresse du serveur',
  serverUrlHint: 'Seulement pour « Autre », p. ex. https://cloud.example.com/remote.php/dav',
  username: 'Nom d’utilisateur ou adresse e-mail',
  password: 'Mot de passe',
  appPasswordHelp:
    'iCloud (et quelques autres) demande un mot de passe pour app : un mot de passe distinct que vous créez dans les réglages de votre compte pour une seule app. Votre mot de passe habituel ne fonctionnera pas, et vous pouvez supprimer celui de l’app à tout moment.',
  appPasswordLink: (service) => `Créer un mot de passe pour app chez ${service}`,
  credentialsSubmit: 'Connecter',
  whatToDo: 'Que faire maintenant',
  errors: {
    expired: {
      title: 'Ce lien a expiré',
      body: 'Pour votre sécurité, un lien de connexion d’agenda ne fonctionne qu’une fois et seulement quelques minutes.',
      next: 'Revenez à l’application d’où vous venez et ouvrez à nouveau la connexion de l’agenda.',
    },
    denied: {
      title: 'Rien n’a été connecté',
      body: (provider) => `L’accès à votre agenda ${provider} n’a pas été autorisé : rien n’a été connecté.`,
      next: (provider) => `Pour le connecter, réessayez et choisissez « Autoriser » sur la page de ${provider}.`,
    },
    wrongAccount: {
      title: 'Ce compte ne peut pas être connecté',
      notStaffEmail: (account) =>
        `Le compte choisi (${account}) n’est pas celui de cette personne. Rien n’a été connecté.`,
      noStaffEmail:
        'Cette personne n’a pas encore d’adresse e-mail dans l’application : aucun compte ne peut être connecté pour elle. Rien n’a été connecté.',
      domain: (domain) => `Les comptes de ${domain} ne peuvent pas être connectés ici. Rien n’a été connecté.`,
      next: 'Réessayez avec le compte de votre adresse e-mail professionnelle, ou demandez à l’entreprise quel compte utiliser.',
    },
    failed: {
      title: 'La connexion a échoué',
      unreachable: (provider) => `${provider} est injoignable. Rien n’a été connecté.`,
      refused: (provider) => `${provider} n’a pas accepté l’autorisation. Rien n’a été connecté.`,
      noOfflineAccess: (provider) => `${provider} n’a pas accordé d’accès durable (hors ligne). Rien n’a été connecté.`,
      noAccountAddress: (provider) => `L’adresse du compte ${provider} n’a pas pu être lue. Rien n’a été connecté.`,
      noCode: (provider) => `${provider} n’a envoyé aucun code d’autorisation. Rien n’a été connecté.`,
      providerError: (provider) => `${provider} n’a pas pu autoriser la connexion. Rien n’a été connecté.`,
      usedLink: 'Ce lien de connexion a déjà été utilisé. Rien n’a été connecté.',
      invalidLink: 'Ce lien de connexion n’est pas valide. Rien n’a été connecté.',
      expiredLink: 'Ce lien de connexion a expiré. Rien n’a été connecté.',
      staffGone: 'Cette personne n’existe plus ; rien n’a été connecté.',
      unknownProvider: 'Fournisseur d’agenda inconnu. Rien n’a été connecté.',
      next: 'Réessayez. Si cela échoue encore, prévenez l’entreprise.',
    },
    server: {
      title: 'Un problème est survenu de notre côté',
      body: 'Rien n’a été connecté ni modifié.',
      next: 'Patientez un instant et réessayez.',
    },
    credentialsRefused: {
      title: 'Non connecté',
      wrongCredentials: (server) =>
        `Le serveur ${server} n’a pas accepté ce nom d’utilisateur et ce mot de passe. Vérifiez-les (iCloud demande un mot de passe pour app, pas celui de votre identifiant Apple). Rien n’a été connecté.`,
      unreachable: (server) =>
        `Le serveur ${server} est injoignable. Vérifiez l’adresse du serveur et réessayez. Rien n’a été connecté.`,
      refusedAddress: 'calsync ne peut pas se connecter à cette adresse de serveur. Rien n’a été connecté.',
      noServer: (server) =>
        `Aucun serveur de calendrier ${server} n’a répondu à cette adresse. Vérifiez l’adresse du serveur. Rien n’a été connecté.`,
      next: 'Revenez en arrière, corrigez les informations et réessayez.',
    },
    refused: {
      title: 'Demande refusée',
      body: 'Cette demande ne vient pas de la page de connexion des agendas.',
      next: 'Rechargez la page et réessayez.',
    },
    notFound: {
      title: 'Introuvable',
      body: 'Cet agenda ou cette personne ne figure pas sur votre page.',
      next: 'Revenez à vos agendas et réessayez.',
    },
  },
  footer: 'calsync tient les rendez-vous de votre agenda à jour avec l’entreprise.',
};
