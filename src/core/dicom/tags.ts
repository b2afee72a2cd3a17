/**
 * The tag browser's view of one instance: every element in file order (sequences nested), with
 * its keyword from the DICOM dictionary (dcmjs's copy of PS3.6), VR and a printable value. Text
 * is decoded with the file's character set; binary values (pixel data, OB/OW/UN) are summarised
 * by length, never sent whole.
 */
import type { DataSet, Element } from 'dicom-parser';
import * as dcmjs from 'dcmjs';
import type { TagEntry } from '../../shared/dicom';
import { decodeDicomText, parseSpecificCharacterSet } from './charset';
import { readDicomFile } from './read';

interface Dictionary {
  dictionary: Record<string, { name?: string; vr?: string } | undefined>;
}
const dict = (dcmjs.data as { DicomMetaDictionary: Dictionary }).DicomMetaDictionary.dictionary;

const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
const MAX_VALUE = 256;

const groupElement = (tag: string) => `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5, 9).toUpperCase()})`;

function numbers(ds: DataSet, el: Element, vr: string): string {
  const size = vr === 'US' || vr === 'SS' ? 2 : vr === 'FD' ? 8 : 4;
  const n = Math.min(16, Math.floor(el.length / size));
  const out: (number | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    if (vr === 'US') out.push(ds.uint16(el.tag, i));
    else if (vr === 'SS') out.push(ds.int16(el.tag, i));
    else if (vr === 'UL') out.push(ds.uint32(el.tag, i));
    else if (vr === 'SL') out.push(ds.int32(el.tag, i));
    else if (vr === 'FL') out.push(ds.float(el.tag, i));
    else out.push(ds.double(el.tag, i));
  }
  return out.join('\\') + (el.length / size > n ? '\\…' : '');
}

function walk(ds: DataSet, charsets: string[], depth: number, out: TagEntry[]): void {
  for (const key of Object.keys(ds.elements).sort()) {
    const el = ds.elements[key];
    const tag = groupElement(key);
    const d = dict[tag];
    const vr = el.vr ?? d?.vr ?? 'UN';
    const entry: TagEntry = { tag, vr, keyword: d?.name ?? (Number.parseInt(key.slice(1, 5), 16) % 2 ? 'private' : ''), value: '', depth };
    if (el.items) {
      entry.value = `${el.items.length} item(s)`;
      out.push(entry);
      for (const [i, item] of el.items.entries()) {
        out.push({ tag: '(FFFE,E000)', vr: '', keyword: `Item ${i + 1}`, value: '', depth: depth + 1 });
        if (item.dataSet) walk(item.dataSet, charsets, depth + 2, out);
      }
      continue;
    }
    if (key === 'x7fe00010' || el.encapsulatedPixelData) entry.value = `<${el.length === 0xffffffff ? 'encapsulated' : el.length} bytes>`;
    else if (TEXT_VRS.has(vr)) {
      const raw = new Uint8Array(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, Math.min(el.length, 4096));
      const text = decodeDicomText(raw, charsets, vr).replace(/\0/g, '').trim();
      entry.value = text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
    } else if (['US', 'SS', 'UL', 'SL', 'FL', 'FD'].includes(vr)) entry.value = numbers(ds, el, vr);
    else if (vr === 'AT' && el.length >= 4) entry.value = `(${ds.uint16(el.tag, 0)?.toString(16).padStart(4, '0')},${ds.uint16(el.tag, 1)?.toString(16).padStart(4, '0')})`.toUpperCase();
    else entry.value = `<${el.length} bytes>`;
    out.push(entry);
  }
}

/** Every element of the file at `path` (header and pixel data summarised), for the tag browser. */
export function listTags(path: string): TagEntry[] {
  const parsed = readDicomFile(path);
  const charsets = parseSpecificCharacterSet(parsed.dataSet.string('x00080005'));
  const out: TagEntry[] = [];
  walk(parsed.dataSet, charsets, 0, out);
  return out;
}
