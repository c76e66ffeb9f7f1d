import path from 'node:path';
import { runEmulatorMain } from '../common/main';
import { ensureEmulatorCertificate } from './certificate';
import { createMicrosoftEmulator } from './server';

/**
 * Standalone: `npm run emulator:microsoft` serves https://127.0.0.1:4200. The CA it signs with is
 * written to MICROSOFT_EMULATOR_CERT_DIR (default data/): point NODE_EXTRA_CA_CERTS of the
 * processes that call it at that file.
 */
runEmulatorMain(async () => {
  const port = Number(process.env.MICROSOFT_EMULATOR_PORT ?? 4200);
  const dir = process.env.MICROSOFT_EMULATOR_CERT_DIR ?? path.resolve(__dirname, '..', '..', 'data');
  const tls = await ensureEmulatorCertificate(dir);
  const running = await createMicrosoftEmulator({
    tls,
    allowHttpLoopback: process.env.MS_EMULATOR_ALLOW_HTTP_LOOPBACK === '1',
  }).listen(port, '127.0.0.1');
  console.log(`microsoft-emulator listening on ${running.url} (CA: ${tls.caPath})`);
  return running;
});
