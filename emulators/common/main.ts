/** Runs a standalone emulator until SIGINT/SIGTERM; `start` listens and says where. */
export function runEmulatorMain(start: () => Promise<{ close(): Promise<void> }>): void {
  start()
    .then((running) => {
      const stop = (): void => {
        void running.close().finally(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
