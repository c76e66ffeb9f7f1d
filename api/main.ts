import { loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { createLogger } from '../lib/logger';
import { SecretBox } from '../lib/secretBox';
import { connectClient } from '../lib/temporal';
import { createApp } from './app';

async function main() {
  const config = loadConfig();
  const logger = createLogger('api', config.logLevel);
  const db = createDb(config.databaseUrl);
  const temporal = await connectClient(config);
  const app = createApp({ db, temporal, secrets: new SecretBox(config.tokenKeys), config, logger });
  const server = app.listen(config.apiPort, process.env.API_HOST ?? '127.0.0.1', () => {
    logger.info({ port: config.apiPort }, 'api listening');
    console.log(`api listening on http://127.0.0.1:${config.apiPort}`);
  });
  const stop = () => {
    server.close(() => void Promise.all([db.destroy(), temporal.connection.close()]).finally(() => process.exit(0)));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
