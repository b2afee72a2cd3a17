/**
 * The renderer's side of the contract (src/shared/api.ts): `window.resight` when the Electron
 * preload provides it, otherwise a client for the browser bridge (`resight serve`): calls and
 * events over one WebSocket, slices over HTTP, both with the per-launch token from the URL.
 */
import type { EventName, Events, Method, Params, Reply, ResightApi, Results } from '../../shared/api';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

declare global {
  interface Window {
    resight?: ResightApi;
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export function bridgeClient(loc: Location = window.location): ResightApi {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const wsUrl = `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws?token=${encodeURIComponent(token)}`;
  const pending = new Map<number, Pending>();
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;

  const open = (): Promise<WebSocket> => {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      ws.onopen = () => {
        socket = ws;
        opening = null;
        resolve(ws);
      };
      ws.onerror = () => {
        opening = null;
        reject(new ApiError('BRIDGE_UNREACHABLE', 'cannot reach the ReSight engine'));
      };
      ws.onclose = () => {
        socket = null;
        for (const p of pending.values()) p.reject(new ApiError('BRIDGE_CLOSED', 'the connection to the ReSight engine closed'));
        pending.clear();
      };
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as { id?: number | null; reply?: Reply<Method>; event?: EventName; payload?: unknown };
        if (msg.event) {
          for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
          return;
        }
        if (typeof msg.id !== 'number' || !msg.reply) return;
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.reply.ok) p.resolve(msg.reply.value);
        else p.reject(new ApiError(msg.reply.error.code, msg.reply.error.message));
      };
    });
    return opening;
  };

  return {
    async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
      const ws = await open();
      const id = nextId++;
      return new Promise<Results[M]>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      void open().catch(() => undefined);
      return () => set.delete(listener as (p: unknown) => void);
    },
    sliceUrl(seriesId: string, index: number): string {
      return `/series/${encodeURIComponent(seriesId)}/slice/${index}?token=${encodeURIComponent(token)}`;
    },
  };
}

export function getApi(): ResightApi {
  return window.resight ?? bridgeClient();
}

/** A grey slice: one modality value per pixel. */
export interface GreySlice {
  rows: number;
  columns: number;
  samples: 1;
  /**
   * Modality values: int16 as the engine sends most CT and MR (kept so: the viewer holds every
   * loaded slice, and float32 would double that: 1 MiB against 0.5 MiB per 512x512 slice), else
   * float32. The GPU gets float32 either way (gl.ts).
   */
  values: Float32Array | Int16Array;
}

/**
 * A colour slice (RGB ultrasound, photographs, Secondary Captures such as ReSight's own key
 * images), shown in colour. Its samples live in `rgb`, not `values`, so code written for one value
 * per pixel does not compile against it by accident; measurements take its luminance
 * (viewer/slice.ts scalarValues), as the report's ROI statistics do.
 */
export interface ColourSlice {
  rows: number;
  columns: number;
  samples: 3;
  /**
   * R G B interleaved, row-major. 8-bit colour (nearly all of it) as bytes: 0.75 MiB per 512x512
   * slice where the engine's float32 would take 3 MiB; deeper colour as float32.
   */
  rgb: Uint8Array | Float32Array;
}

export type SliceData = GreySlice | ColourSlice;

/** Colour samples as bytes when every one is a whole number in 0..255 (8-bit colour), else as float32. */
export function compactRgb(v: Float32Array | Int16Array): Uint8Array | Float32Array {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!(x >= 0 && x <= 255 && Number.isInteger(x))) return v instanceof Float32Array ? v : Float32Array.from(v);
  }
  return Uint8Array.from(v);
}

/** Slice i's modality values (or colour samples): from the bridge's HTTP endpoint or Electron's app protocol (same-origin only). */
export async function loadSlice(api: ResightApi, seriesId: string, index: number, signal?: AbortSignal): Promise<SliceData> {
  // eslint-disable-next-line no-restricted-syntax -- same-origin only: the local bridge / the app:// protocol, never the network
  const res = await fetch(api.sliceUrl(seriesId, index), { cache: 'no-store', ...(signal ? { signal } : {}) });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string; file?: string } } | null;
    const e = body?.error;
    // "CT0011.dcm: the file is cut short ... [FILE_TRUNCATED]": which file, what is wrong, the code to look up
    throw new ApiError(e?.code ?? 'SLICE_FAILED', e ? `${e.file ? `${e.file}: ` : ''}${e.message} [${e.code}]` : `slice ${index}: HTTP ${res.status}`);
  }
  const rows = Number(res.headers.get('x-resight-rows'));
  const columns = Number(res.headers.get('x-resight-columns'));
  const buf = await res.arrayBuffer();
  const int16 = res.headers.get('x-resight-dtype') === 'int16';
  const samples = Number(res.headers.get('x-resight-samples') ?? '1');
  const values = int16 ? new Int16Array(buf) : new Float32Array(buf);
  if (samples === 3 && values.length === rows * columns * 3) return { rows, columns, samples: 3, rgb: compactRgb(values) };
  return { rows, columns, samples: 1, values };
}
