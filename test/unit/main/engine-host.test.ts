/** The engine host's bookkeeping with a scripted engine: replies, crash replies, re-open minus closed, give-up. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineChannel } from '../../../src/main/engine-host';
import { EngineHost } from '../../../src/main/engine-host';
import type { ChildMessage, HostMessage } from '../../../src/main/engine-protocol';

/** An engine that answers studies.open/close/list from a set, and can be made to die. */
function fakeEngines() {
  const log: HostMessage[][] = [];
  const kills: (() => void)[] = [];
  const spawn = (): EngineChannel => {
    const sent: HostMessage[] = [];
    log.push(sent);
    let onMsg: (m: ChildMessage) => void = () => undefined;
    let onExit: (r: string) => void = () => undefined;
    const open = new Set<string>();
    kills.push(() => onExit('SIGKILL'));
    return {
      post: (m) => {
        sent.push(m);
        if (m.type !== 'call') return;
        const p = m.params as { paths?: string[]; studyInstanceUid?: string };
        let value: unknown = {};
        if (m.method === 'studies.open') for (const x of p.paths ?? []) open.add(x);
        if (m.method === 'studies.open') value = { studies: (p.paths ?? []).map((x) => ({ studyInstanceUid: x })) };
        if (m.method === 'studies.close') open.delete(p.studyInstanceUid ?? '');
        if (m.method === 'studies.list') value = { studies: [...open].map((x) => ({ studyInstanceUid: x })) };
        if (m.method === 'hang') return;
        queueMicrotask(() => onMsg({ type: 'reply', id: m.id, reply: { ok: true, value } as never }));
      },
      onMessage: (cb) => (onMsg = cb),
      onExit: (cb) => (onExit = cb),
      kill: () => undefined,
    };
  };
  return { spawn, log, crash: () => kills[kills.length - 1]() };
}

describe('engine host', () => {
  it('re-opens what was open, minus what was closed, before answering new calls', async () => {
    const f = fakeEngines();
    const host = new EngineHost(f.spawn, {});
    host.grant(['/a', '/b']);
    await host.call('studies.open', { paths: ['/a'] });
    await host.call('studies.open', { paths: ['/b'] });
    await host.call('studies.open', { paths: ['/a'] });
    await host.call('studies.close', { studyInstanceUid: '/a' });
    const hanging = host.call('hang', {});
    await new Promise((r) => setImmediate(r)); // the call is on its way to the engine
    f.crash();
    const r = await hanging;
    assert.equal(!r.ok && r.error.code, 'INTERNAL');
    const list = (await host.call('studies.list', {})) as { ok: true; value: { studies: { studyInstanceUid: string }[] } };
    assert.deepEqual(list.value.studies.map((s) => s.studyInstanceUid), ['/b']);
    const second = f.log[1];
    assert.deepEqual(second.slice(0, 2).map((m) => m.type), ['init', 'grant'], 'init and grants first');
    assert.equal(second.filter((m) => m.type === 'call' && m.method === 'studies.open').length, 2, 'each opened set once, not once per open');
    host.dispose();
  });

  it('gives up after 5 crashes in a minute: calls and slices answer at once, never hang', async () => {
    const f = fakeEngines();
    const host = new EngineHost(f.spawn, {});
    const events: string[] = [];
    host.onEvent((e, p) => events.push(`${e}:${(p as { restarts: number }).restarts}`));
    for (let i = 0; i < 6; i++) f.crash();
    assert.equal(host.restarts, 5);
    assert.equal(events.length, 6);
    const r = await host.call('studies.list', {});
    assert.equal(!r.ok && r.error.code, 'INTERNAL');
    assert.equal((await host.slice('s', 0)).status, 503);
  });
});

describe('engine warnings', () => {
  it('reach the app (its log) when the engine sends one: an audit trail it cannot write must not go unnoticed', () => {
    let onMsg: (m: ChildMessage) => void = () => undefined;
    const spawn = (): EngineChannel => ({ post: () => undefined, onMessage: (cb) => (onMsg = cb), onExit: () => undefined, kill: () => undefined });
    const said: string[] = [];
    new EngineHost(spawn, {}, undefined, (m) => said.push(m));
    onMsg({ type: 'warn', message: 'the audit trail could not be written in /x (EACCES); the work goes on without it' });
    assert.deepEqual(said, ['the audit trail could not be written in /x (EACCES); the work goes on without it']);
  });
});
