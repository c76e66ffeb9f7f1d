import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { SecretBox } from '../lib/secretBox';

/** What activities need from the process that hosts them: created once per worker. */
export interface ActivityDeps {
  db: Knex;
  secrets: SecretBox;
  config: Config;
  logger: Logger;
  /** For activities that hand work to other workflows (replays, webhook deliveries). */
  temporal: Client;
}
