import { createGoogleEmulator } from './server';

async function main(): Promise<void> {
  const port = Number(process.env.GOOGLE_EMULATOR_PORT ?? 4100);
  const running = await createGoogleEmulator().listen(port, '127.0.0.1');
  console.log(`google-emulator listening on http://127.0.0.1:${running.port}`);
  const stop = (): void => {
    void running.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
