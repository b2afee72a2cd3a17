/**
 * The font engine pdf-lib embeds custom fonts with: upstream fontkit 2, adapted to the interface
 * pdf-lib 1.17 expects. Why not pdf-lib's own fork (@pdf-lib/fontkit 1.1.1, unmaintained since
 * 2020): its subsetter writes a TrueType subset with a short `loca` table without padding the
 * glyph records, so after the first odd-length glyph every offset is a byte off and the glyphs
 * render blank (Japanese patient names came out invisible, though pdftotext still extracted
 * them). Upstream fixed that in fontkit 1.8. The one interface gap: pdf-lib serialises a subset
 * through `encodeStream()` (a Node stream in fontkit 1.x); fontkit 2 has `encode()` returning the
 * bytes, so the adapter gives each subset an `encodeStream()` that emits them.
 */
import { EventEmitter } from 'node:events';
import * as upstream from 'fontkit';
import type { Fontkit } from 'pdf-lib/cjs/types/fontkit';

interface Subset2 {
  encode(): Uint8Array;
  encodeStream?: () => EventEmitter;
}

function withEncodeStream(subset: Subset2): Subset2 {
  subset.encodeStream = () => {
    const out = new EventEmitter();
    // emitted after pdf-lib has attached its listeners
    setImmediate(() => {
      try {
        out.emit('data', subset.encode());
        out.emit('end');
      } catch (err) {
        out.emit('error', err);
      }
    });
    return out;
  };
  return subset;
}

export const fontkit: Fontkit = {
  create(buffer: Uint8Array, postscriptName?: string) {
    const font = upstream.create(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength), postscriptName);
    if (!('createSubset' in font)) throw new Error('a font collection (.ttc/.dfont) needs the name of one of its fonts');
    const createSubset = font.createSubset.bind(font);
    Object.assign(font, { createSubset: () => withEncodeStream(createSubset() as unknown as Subset2) });
    return font as unknown as ReturnType<Fontkit['create']>;
  },
};
