import type { Messages } from './en';

/** The connect page's texts in Polish (informal "ty", as booking apps address staff). */
export const pl: Messages = {
  lang: 'pl',
  dir: 'ltr',
  languageName: 'Polski',
  pageTitle: (business) => `Połączenia kalendarzy — ${business}`,
  heading: 'Połącz swój kalendarz',
  greeting: (staff) => `Cześć, ${staff}`,
  intro: (business) =>
    `${business} wpisuje Twoje wizyty do kalendarza, którego już używasz, i na bieżąco je aktualizuje. Wybierz kalendarz poniżej.`,
  whoAreYou: 'Kim jesteś?',
  whoAreYouHint: 'Wybierz swoje imię, aby zobaczyć i połączyć swoje kalendarze.',
  noStaff: 'Nie ma jeszcze nikogo do połączenia. Poproś firmę, aby dodała Cię w swojej aplikacji.',
  connect: (provider) => `Połącz ${provider}`,
  connectHint: 'Zalogujesz się u swojego dostawcy i udzielisz dostępu. calsync nigdy nie widzi Twojego hasła.',
  yourCalendars: 'Twoje kalendarze',
  noLinks: 'Nie połączono jeszcze żadnego kalendarza.',
  status: {
    active: 'Połączony i działa',
    connecting: 'Przygotowujemy Twój kalendarz…',
    needs_reauth: 'Wymaga ponownego połączenia',
    disconnecting: 'Odłączanie…',
    disconnected: 'Odłączony',
  },
  reason: {
    invalid_grant: 'Dostęp został cofnięty lub wygasł, więc nowe wizyty nie mogą trafić do tego kalendarza.',
    no_refresh_token: 'calsync nie ma trwałego dostępu do tego konta, więc nowe wizyty nie mogą do niego trafić.',
    unknown: 'calsync nie może już zapisywać w tym kalendarzu.',
  },
  heldNote: 'Wizyty umówione w międzyczasie czekają i pojawią się zaraz po ponownym połączeniu.',
  reconnect: (provider) => `Połącz ponownie ${provider}`,
  disconnect: 'Odłącz',
  disconnectingNote: 'calsync porządkuje ten kalendarz. To może potrwać minutę.',
  confirmTitle: (provider) => `Odłączyć kalendarz ${provider}?`,
  confirmAccount: (account) => `Konto: ${account}`,
  confirmRemove:
    'Wizyty dodane przez calsync zostaną usunięte z tego kalendarza. Twoje własne wydarzenia zostaną nietknięte.',
  confirmKeep:
    'Wizyty, które już są w tym kalendarzu, zostaną w nim, ale nie będą aktualizowane, gdy się zmienią lub zostaną odwołane.',
  confirmAfter: 'Nowe wizyty nie będą się już pojawiać w tym kalendarzu. Możesz go ponownie połączyć w każdej chwili.',
  confirmYes: 'Tak, odłącz',
  confirmNo: 'Nie, zostaw połączony',
  successTitle: (provider) => `Kalendarz ${provider} jest połączony`,
  successBody: (account) => `Twoje wizyty pojawią się w ${account} w ciągu minuty, a każda zmiana będzie uwzględniana.`,
  successNext: 'Możesz teraz zamknąć tę stronę.',
  backToCalendars: 'Wróć do moich kalendarzy',
  credentialsTitle: (provider) => `Połącz ${provider} za pomocą hasła`,
  credentialsIntro: 'Dla kalendarzy bez przycisku logowania: calsync sprawdzi te dane na serwerze.',
  preset: 'Usługa',
  serverUrl: 'Adres serwera',
  serverUrlHint: 'Tylko dla „Inny”, np. https://cloud.example.com/remote.php/dav',
  username: 'Nazwa użytkownika lub adres e-mail',
  password: 'Hasło',
  appPasswordHelp:
    'iCloud (i niektóre inne usługi) wymaga hasła do aplikacji: osobnego hasła, które tworzysz w ustawieniach konta dla jednej aplikacji. Zwykłe hasło nie zadziała, a hasło do aplikacji możesz w każdej chwili usunąć.',
  appPasswordLink: (service) => `Jak utworzyć hasło do aplikacji w ${service}`,
  credentialsSubmit: 'Połącz',
  whatToDo: 'Co teraz zrobić',
  errors: {
    expired: {
      title: 'Ten link wygasł',
      body: 'Dla Twojego bezpieczeństwa link do połączenia kalendarza działa tylko raz i tylko przez kilka minut.',
      next: 'Wróć do aplikacji, z której przychodzisz, i otwórz połączenie kalendarza jeszcze raz.',
    },
    denied: {
      title: 'Nic nie zostało połączone',
      body: (provider) => `Nie zezwolono na dostęp do kalendarza ${provider}, więc nic nie zostało połączone.`,
      next: (provider) => `Aby połączyć, spróbuj ponownie i wybierz „Zezwól” na stronie ${provider}.`,
    },
    wrongAccount: {
      title: 'Tego konta nie można połączyć',
      notStaffEmail: (account) => `Wybrane konto (${account}) nie należy do tej osoby. Nic nie zostało połączone.`,
      noStaffEmail:
        'Ta osoba nie ma jeszcze adresu e-mail w aplikacji, więc nie można połączyć dla niej żadnego konta. Nic nie zostało połączone.',
      domain: (domain) => `Kont z domeny ${domain} nie można tu połączyć. Nic nie zostało połączone.`,
      next: 'Spróbuj ponownie i zaloguj się na konto swojego służbowego adresu e-mail albo zapytaj firmę, którego konta użyć.',
    },
    failed: {
      title: 'Połączenie nie powiodło się',
      unreachable: (provider) => `Nie udało się połączyć z ${provider}. Nic nie zostało połączone.`,
      refused: (provider) => `${provider} nie przyjął autoryzacji. Nic nie zostało połączone.`,
      noOfflineAccess: (provider) => `${provider} nie przyznał trwałego dostępu (offline). Nic nie zostało połączone.`,
      noAccountAddress: (provider) => `Nie udało się odczytać adresu konta ${provider}. Nic nie zostało połączone.`,
      noCode: (provider) => `${provider} nie przesłał kodu autoryzacji. Nic nie zostało połączone.`,
      providerError: (provider) => `${provider} nie mógł autoryzować połączenia. Nic nie zostało połączone.`,
      usedLink: 'Ten link do połączenia został już użyty. Nic nie zostało połączone.',
      invalidLink: 'Ten link do połączenia jest nieprawidłowy. Nic nie zostało połączone.',
      expiredLink: 'Ten link do połączenia wygasł. Nic nie zostało połączone.',
      staffGone: 'Ta osoba już nie istnieje; nic nie zostało połączone.',
      unknownProvider: 'Nieznany dostawca kalendarza. Nic nie zostało połączone.',
      next: 'Spróbuj połączyć ponownie. Jeśli nadal się nie udaje, powiedz o tym firmie.',
    },
    server: {
      title: 'Coś poszło nie tak po naszej stronie',
      body: 'Nic nie zostało połączone ani zmienione.',
      next: 'Poczekaj chwilę i spróbuj ponownie.',
    },
    credentialsRefused: {
      title: 'Nie połączono',
      wrongCredentials: (server) =>
        `Serwer ${server} nie przyjął tej nazwy użytkownika i hasła. Sprawdź je (iCloud wymaga hasła dla aplikacji, nie hasła Apple ID). Nic nie zostało połączone.`,
      unreachable: (server) =>
        `Nie udało się połączyć z serwerem ${server}. Sprawdź adres serwera i spróbuj ponownie. Nic nie zostało połączone.`,
      refusedAddress: 'calsync nie może łączyć się z tym adresem serwera. Nic nie zostało połączone.',
      noServer: (server) =>
        `Pod tym adresem nie odpowiedział żaden serwer kalendarza ${server}. Sprawdź adres serwera. Nic nie zostało połączone.`,
      next: 'Wróć, popraw dane i spróbuj ponownie.',
    },
    refused: {
      title: 'Żądanie odrzucone',
      body: 'To żądanie nie pochodzi ze strony połączeń kalendarza.',
      next: 'Odśwież stronę i spróbuj ponownie.',
    },
    notFound: {
      title: 'Nie znaleziono',
      body: 'Tego kalendarza lub tej osoby nie ma na Twojej stronie.',
      next: 'Wróć do swoich kalendarzy i spróbuj ponownie.',
    },
  },
  footer: 'calsync dba o to, by wizyty w Twoim kalendarzu zgadzały się z firmą.',
};
