import type { Request } from 'express';
import { en, type Messages } from './en';
import { es } from './es';
import { fa } from './fa';
import { fr } from './fr';
import { CONNECT_LANGUAGES, type ConnectLanguage } from './languages';
import { pl } from './pl';

export type { Messages } from './en';
export { CONNECT_LANGUAGES, type ConnectLanguage } from './languages';

const messages: Record<ConnectLanguage, Messages> = { en, es, pl, fr, fa };

/**
 * The tenant's choice when it made one, else the best of the browser's Accept-Language (Express
 * negotiates: `es-MX` takes `es`), else English.
 */
export function messagesFor(req: Request, tenantLanguage?: unknown): Messages {
  if (typeof tenantLanguage === 'string' && tenantLanguage in messages) {
    return messages[tenantLanguage as ConnectLanguage];
  }
  const best = req.acceptsLanguages(...CONNECT_LANGUAGES);
  return typeof best === 'string' ? messages[best as ConnectLanguage] : en;
}

export function messagesOf(language: ConnectLanguage): Messages {
  return messages[language];
}
