/**
 * The engine process: the core Session (DICOM decoding, ONNX Runtime inference, explanations,
 * exports) outside the main process, so a crash in native code (ONNX Runtime, a codec) takes
 * down only this process; the main process restarts it and the window stays (engine-host.ts).
 * Runs as an Electron utility process (process.parentPort) or, in tests, a Node child process.
 */
import type { ProviderName } from '../shared/analysis';
import { dispatch } from '../core/session/dispatch';
import { sliceResource } from '../core/session/resources';
import { Session } from '../core/session/session';
import { openAuditLog } from '../core/audit/log';
import { setProbeOverride } from '../core/inference/providers';
import type { ChildMessage, HostMessage } from './engine-protocol';
import { ProbeRelay } from './probe-relay';
import { APP_ORIGIN } from './security';

interface ParentPort {
  on(event: 'message', cb: (e: { data: HostMessage }) => void): void;
  postMessage(msg: ChildMessage): void;
}
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const post = (msg: ChildMessage) => (parentPort ? parentPort.postMessage(msg) : process.send?.(msg));

// in the desktop app (a utility process) the GPU checks run in the main process's processes: a
// child of this one would be the app binary, which does not run as Node (probe-relay.ts)
const relay = new ProbeRelay(post);
if (parentPort) setProbeOverride(relay.probe);

let session: Session | null = null;
const queue: HostMessage[] = [];

async function handle(msg: HostMessage): Promise<void> {
  if (msg.type === 'probed') {
    relay.answer(msg.id, msg.skip);
    return;
  }
  if (msg.type === 'init') {
    const o = msg.options;
    session = new Session({
      modelCard: o.modelCard,
      provider: o.provider as ProviderName | undefined,
      threads: o.threads,
      dataDir: o.dataDir,
      // its warnings reach the app's log (a utility process's stderr reaches no one)
      audit: openAuditLog(o.dataDir, 'desktop', (message) => post({ type: 'warn', message })),
      cacheDir: o.cacheDir,
      exportDir: o.exportDir,
      sliceUrl: (id) => `${APP_ORIGIN}/series/${encodeURIComponent(id)}/slice/{i}`,
      exportUrl: (folder, name) => `${APP_ORIGIN}/exports/${encodeURIComponent(folder)}/${name.split('/').map(encodeURIComponent).join('/')}`,
    });
    session.onEvent((event, payload) => post({ type: 'event', event, payload }));
    for (const m of queue.splice(0)) void handle(m);
    return;
  }
  if (!session) {
    queue.push(msg);
    return;
  }
  if (msg.type === 'grant') session.grant(msg.paths);
  else if (msg.type === 'call') post({ type: 'reply', id: msg.id, reply: await dispatch(session, msg.method, msg.params) });
  else if (msg.type === 'slice') {
    const r = await sliceResource(session, msg.seriesId, msg.index);
    // a copy: the volume's SharedArrayBuffer cannot cross the process boundary
    post({ type: 'resource', id: msg.id, status: r.status, headers: r.headers, body: typeof r.body === 'string' ? r.body : new Uint8Array(r.body) });
  }
}

// The host stops this process by killing it (utilityProcess.kill: SIGTERM on POSIX): the
// session's end goes into the audit trail first. (Windows terminates without a signal: there
// the trail has the start without its stop.)
process.once('SIGTERM', () => {
  session?.recordStop();
  process.exit(0);
});

if (parentPort) parentPort.on('message', (e) => void handle(e.data));
else process.on('message', (m) => void handle(m as HostMessage));
