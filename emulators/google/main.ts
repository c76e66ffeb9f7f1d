import { runEmulatorMain } from '../common/main';
import { createGoogleEmulator } from './server';

runEmulatorMain(async () => {
  const port = Number(process.env.GOOGLE_EMULATOR_PORT ?? 4100);
  const running = await createGoogleEmulator().listen(port, '127.0.0.1');
  console.log(`google-emulator listening on http://127.0.0.1:${running.port}`);
  return running;
});
