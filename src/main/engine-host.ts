/**
 * The main process's side of the engine process: forwards contract calls and slice requests,
 * relays events, and when the engine process dies unexpectedly (a native crash, out of memory)
 * answers the calls in flight with a typed error, starts a new one, re-grants and re-opens what
 * the user had opened, and tells the renderer (`engine.restarted`). The window never goes down.
 */
import type { EventName, Method, Reply } from '../shared/api';
import type { Resource } from '../core/session/resources';
import type { ProviderProbe } from '../core/inference/providers';
import type { ChildMessage, EngineInit, HostMessage } from './engine-protocol';

/** A running engine process, whatever started it (Electron's utilityProcess, Node's fork). */
export interface EngineChannel {
  post(msg: HostMessage): void;
  onMessage(cb: (msg: ChildMessage) => void): void;
  onExit(cb: (reason: string) => void): void;
  kill(): void;
}

type Pending = { kind: 'call'; resolve: (r: Reply<Method>) => void } | { kind: 'slice'; resolve: (r: Resource) => void };

/** Restarts allowed within a minute before the host gives up (a crash loop helps nobody). */
const MAX_RESTARTS_PER_MINUTE = 5;

export class EngineHost {
  private channel!: EngineChannel;
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly granted: string[][] = [];
  private readonly opened: unknown[] = [];
  private readonly closed = new Set<string>();
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly restartTimes: number[] = [];
  private disposed = false;
  restarts = 0;

  constructor(
    private readonly spawn: () => EngineChannel,
    private readonly init: EngineInit,
    /** Runs the engine's GPU checks (probe-relay.ts); none: the engine is told the check could not run. */
    private readonly probe?: ProviderProbe,
    /** The engine's warnings (an audit trail it cannot write): the app writes them to its log. */
    private readonly onWarn?: (message: string) => void,
  ) {
    this.start();
  }

  private start(): void {
    const ch = this.spawn();
    this.channel = ch;
    ch.onMessage((m) => this.receive(m, ch));
    ch.onExit((reason) => {
      if (ch === this.channel) this.died(reason);
    });
    ch.post({ type: 'init', options: this.init });
    for (const paths of this.granted) ch.post({ type: 'grant', paths });
    // re-open what was open before any new call is answered (calls wait for `ready`)
    this.ready = Promise.all(this.opened.map((params) => this.post('studies.open', params)))
      .then(() => Promise.all([...this.closed].map((studyInstanceUid) => this.post('studies.close', { studyInstanceUid }))))
      .then(() => undefined);
  }

  private ready: Promise<void> = Promise.resolve();

  private post(method: string, params: unknown): Promise<Reply<Method>> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, { kind: 'call', resolve });
      this.channel.post({ type: 'call', id, method, params });
    });
  }

  private receive(m: ChildMessage, ch: EngineChannel): void {
    if (m.type === 'event') {
      for (const l of this.listeners) l(m.event, m.payload);
      return;
    }
    if (m.type === 'warn') {
      this.onWarn?.(m.message);
      return;
    }
    if (m.type === 'probe') {
      // answered on the channel that asked (a restarted engine asks again itself)
      const run = this.probe ?? (() => Promise.resolve({ kind: 'failed' as const, reason: 'the GPU check cannot run in this process' }));
      void run(m.provider, m.modelPath).then(
        (skip) => ch.post({ type: 'probed', id: m.id, skip }),
        (err: unknown) => ch.post({ type: 'probed', id: m.id, skip: { kind: 'failed', reason: `the GPU check failed: ${(err as Error).message}` } }),
      );
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'reply' && p.kind === 'call') p.resolve(m.reply);
    else if (m.type === 'resource' && p.kind === 'slice') p.resolve({ status: m.status, headers: m.headers, body: m.body });
  }

  private died(reason: string): void {
    const message = `the analysis engine stopped (${reason}) and was restarted; try again`;
    for (const p of this.pending.values()) {
      if (p.kind === 'call') p.resolve({ ok: false, error: { code: 'INTERNAL', message } });
      else p.resolve({ status: 503, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'INTERNAL', message } }) });
    }
    this.pending.clear();
    if (this.disposed) return;
    const now = Date.now();
    this.restartTimes.push(now);
    while (this.restartTimes.length && now - this.restartTimes[0] > 60_000) this.restartTimes.shift();
    if (this.restartTimes.length > MAX_RESTARTS_PER_MINUTE) {
      for (const l of this.listeners) l('engine.restarted', { reason: `${reason}; not restarted again: ${MAX_RESTARTS_PER_MINUTE} crashes within a minute`, restarts: this.restarts });
      this.disposed = true;
      return;
    }
    this.restarts++;
    this.start();
    for (const l of this.listeners) l('engine.restarted', { reason, restarts: this.restarts });
  }

  grant(paths: string[]): void {
    this.granted.push(paths);
    this.channel.post({ type: 'grant', paths });
  }

  async call(method: string, params: unknown): Promise<Reply<Method>> {
    if (this.disposed) return { ok: false, error: { code: 'INTERNAL', message: 'the analysis engine is not running' } };
    await this.ready;
    const r = await this.post(method, params);
    // what to re-open after a crash: opened studies, minus the ones closed since
    if (r.ok && method === 'studies.open' && !this.opened.some((p) => JSON.stringify(p) === JSON.stringify(params))) this.opened.push(params);
    if (r.ok && method === 'studies.close') this.closed.add((params as { studyInstanceUid: string }).studyInstanceUid);
    if (r.ok && method === 'studies.open') for (const st of (r.value as { studies: { studyInstanceUid: string }[] }).studies) this.closed.delete(st.studyInstanceUid);
    return r;
  }

  async slice(seriesId: string, index: number): Promise<Resource> {
    if (this.disposed) return { status: 503, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'INTERNAL', message: 'the analysis engine is not running' } }) };
    await this.ready;
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, { kind: 'slice', resolve });
      this.channel.post({ type: 'slice', id, seriesId, index });
    });
  }

  onEvent(listener: (event: EventName, payload: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.disposed = true;
    this.channel.kill();
  }
}
