import { loadConfig } from '../lib/config';
import { createDb, ensureDatabase, migrateLatest } from '../lib/db';

async function main() {
  const { databaseUrl } = loadConfig();
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl);
  try {
    await migrateLatest(db);
    console.log('migrations: up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
