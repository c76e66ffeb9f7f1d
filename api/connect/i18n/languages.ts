/** Every language the connect page speaks (one file each beside this one); the tenant setting `connectLanguage` names one. */
export const CONNECT_LANGUAGES = ['en', 'es', 'pl', 'fr', 'fa'] as const;
export type ConnectLanguage = (typeof CONNECT_LANGUAGES)[number];
