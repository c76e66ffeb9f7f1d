/**
 * The connect page's texts in English: the reference every other language file follows
 * (`Messages` is this object's shape). Values that come from the tenant or a provider are passed
 * in and escaped by the templates, never here.
 */
export const en = {
  lang: 'en',
  dir: 'ltr' as 'ltr' | 'rtl',
  languageName: 'English',
  pageTitle: (business: string) => `Calendar connections — ${business}`,
  heading: 'Connect your calendar',
  greeting: (staff: string) => `Hello, ${staff}`,
  intro: (business: string) =>
    `${business} puts your bookings in the calendar you already use, and keeps them up to date. Choose your calendar below.`,
  whoAreYou: 'Who are you?',
  whoAreYouHint: 'Choose your name to see and connect your calendars.',
  noStaff: 'There is nobody to connect yet. Ask the business to add you in their app.',
  connect: (provider: string) => `Connect ${provider}`,
  connectHint: 'You will sign in with your provider and allow access. calsync never sees your password.',
  yourCalendars: 'Your calendars',
  noLinks: 'No calendar connected yet.',
  status: {
    active: 'Connected and working',
    connecting: 'Getting your calendar ready…',
    needs_reauth: 'Needs you to reconnect',
    disconnecting: 'Disconnecting…',
    disconnected: 'Disconnected',
  } as Record<string, string>,
  reason: {
    invalid_grant: 'Access was withdrawn or has run out, so new bookings cannot reach this calendar.',
    no_refresh_token: 'calsync has no lasting access to this account, so new bookings cannot reach it.',
    unknown: 'calsync can no longer write to this calendar.',
  } as Record<string, string>,
  heldNote: 'Bookings made meanwhile are kept and will appear as soon as you reconnect.',
  reconnect: (provider: string) => `Reconnect ${provider}`,
  disconnect: 'Disconnect',
  disconnectingNote: 'calsync is tidying up this calendar. This can take a minute.',
  confirmTitle: (provider: string) => `Disconnect your ${provider} calendar?`,
  confirmAccount: (account: string) => `Account: ${account}`,
  confirmRemove:
    'The bookings calsync added to this calendar will be removed from it. Your own events are not touched.',
  confirmKeep:
    'The bookings already in this calendar stay there, but they will no longer be updated if they change or are cancelled.',
  confirmAfter: 'New bookings will no longer appear in this calendar. You can connect it again at any time.',
  confirmYes: 'Yes, disconnect',
  confirmNo: 'No, keep it connected',
  successTitle: (provider: string) => `Your ${provider} calendar is connected`,
  successBody: (account: string) =>
    `Your bookings will appear in ${account} within a minute, and every change will follow.`,
  successNext: 'You can close this page now.',
  backToCalendars: 'Back to my calendars',
  credentialsTitle: (provider: string) => `Connect ${provider} with a password`,
  credentialsIntro: 'For calendars that have no sign-in button: calsync checks these details with the server.',
  preset: 'Service',
  serverUrl: 'Server address',
  serverUrlHint: 'Only needed for “Other”, e.g. https://cloud.example.com/remote.php/dav',
  username: 'User name or e-mail address',
  password: 'Password',
  appPasswordHelp:
    'iCloud (and some others) needs an app-specific password: a separate password you create in your account settings for one app. Your usual password will not work, and you can delete the app password at any time.',
  appPasswordLink: (service: string) => `How to create an app-specific password for ${service}`,
  credentialsSubmit: 'Connect',
  whatToDo: 'What to do now',
  errors: {
    expired: {
      title: 'This link has expired',
      body: 'For your safety, a calendar connection link works only once and only for a few minutes.',
      next: 'Go back to the app you came from and open the calendar connection again.',
    },
    denied: {
      title: 'Nothing was connected',
      body: (provider: string) => `Access to your ${provider} calendar was not allowed, so nothing was connected.`,
      next: (provider: string) => `To connect, try again and choose “Allow” on the ${provider} page.`,
    },
    wrongAccount: {
      title: 'This account cannot be connected',
      notStaffEmail: (account: string) =>
        `The account you chose (${account}) is not this staff member's. Nothing was connected.`,
      noStaffEmail:
        'This staff member has no e-mail address in the app yet, so no account can be connected for them. Nothing was connected.',
      domain: (domain: string) => `Accounts of ${domain} cannot be connected here. Nothing was connected.`,
      next: 'Try again and sign in with the account of your work e-mail address, or ask the business which account to use.',
    },
    failed: {
      title: 'Connection failed',
      unreachable: (provider: string) => `${provider} could not be reached. Nothing was connected.`,
      refused: (provider: string) => `${provider} did not accept the authorization. Nothing was connected.`,
      noOfflineAccess: (provider: string) => `${provider} granted no lasting (offline) access. Nothing was connected.`,
      noAccountAddress: (provider: string) =>
        `The ${provider} account's address could not be read. Nothing was connected.`,
      noCode: (provider: string) => `${provider} sent no authorization code. Nothing was connected.`,
      providerError: (provider: string) => `${provider} could not authorize the connection. Nothing was connected.`,
      usedLink: 'This connection link has already been used. Nothing was connected.',
      invalidLink: 'This connection link is not valid. Nothing was connected.',
      expiredLink: 'This connection link has expired. Nothing was connected.',
      staffGone: 'The staff member no longer exists; nothing was connected.',
      unknownProvider: 'Unknown calendar provider. Nothing was connected.',
      next: 'Try connecting again. If it keeps failing, tell the business.',
    },
    server: {
      title: 'Something went wrong on our side',
      body: 'Nothing was connected or changed.',
      next: 'Wait a moment and try again.',
    },
    credentialsRefused: {
      title: 'Not connected',
      wrongCredentials: (server: string) =>
        `The ${server} server did not accept this username and password. Check them (iCloud needs an app-specific password, not your Apple ID password). Nothing was connected.`,
      unreachable: (server: string) =>
        `The ${server} server could not be reached. Check the server address and try again. Nothing was connected.`,
      refusedAddress: 'calsync may not connect to that server address. Nothing was connected.',
      noServer: (server: string) =>
        `No ${server} calendar server answered at that address. Check the server address. Nothing was connected.`,
      next: 'Go back, correct the details and try again.',
    },
    refused: {
      title: 'Request refused',
      body: 'This request did not come from the calendar connection page.',
      next: 'Reload the page and try again.',
    },
    notFound: {
      title: 'Not found',
      body: 'This calendar or person is not on your page.',
      next: 'Go back to your calendars and try again.',
    },
  },
  footer: 'calsync keeps the bookings in your calendar in step with the business.',
};

export type Messages = typeof en;
