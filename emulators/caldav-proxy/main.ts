import { runEmulatorMain } from '../common/main';
import { createCalDavProxy } from './server';

runEmulatorMain(async () => {
  const target = process.env.CALDAV_PROXY_TARGET;
  if (!target) throw new Error('CALDAV_PROXY_TARGET (the CalDAV server to stand in front of) is required');
  const port = Number(process.env.CALDAV_PROXY_PORT ?? 5232);
  const running = await createCalDavProxy(target).listen(port, '127.0.0.1');
  console.log(`caldav-proxy listening on http://127.0.0.1:${running.port} in front of ${target}`);
  return running;
});
