/**
 * Writing DICOM Part 10 files through dcmjs (a well-kept reader/writer; ReSight never encodes
 * export objects by hand). Data sets are dcmjs "naturalized" objects: keyword -> value, sequences
 * as arrays of objects. dcmjs always encodes text as UTF-8, so every data set we write declares
 * SpecificCharacterSet ISO_IR 192: Japanese (or any) names survive byte-exactly.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as dcmjs from 'dcmjs';

/** A naturalized data set (dcmjs): keyword -> value. */
export type DicomValue = string | number | number[] | string[] | ArrayBuffer[] | NaturalDataset[] | { [k: string]: string };
export interface NaturalDataset {
  [keyword: string]: DicomValue | undefined | Record<string, string>;
}

interface DcmjsData {
  DicomMetaDictionary: {
    denaturalizeDataset(ds: NaturalDataset): unknown;
    naturalizeDataset(dict: unknown): NaturalDataset;
  };
  DicomDict: new (meta: unknown) => { dict: unknown; write(options?: unknown): ArrayBuffer };
  DicomMessage: { readFile(buffer: ArrayBuffer): { dict: unknown; meta: unknown } };
}
const data = dcmjs.data as DcmjsData;

/** ReSight's implementation identity in File Meta (0002,0012)/(0002,0013). */
export const IMPLEMENTATION_CLASS_UID = '2.25.246196417337104434155493557702327453779';
export const IMPLEMENTATION_VERSION_NAME = 'RESIGHT_0_1';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** A new UID under the 2.25 (UUID-derived) root, from 128 random bits (PS3.5 B.2). */
export function newUid(): string {
  return uuidToUid(randomBytes(16));
}

/** 2.25.<decimal of 128 bits>: what PS3.5 B.2 prescribes for UUID-derived UIDs. */
export function uuidToUid(bytes: Uint8Array): string {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(bytes[i]);
  return `2.25.${v.toString()}`;
}

/** A UID derived deterministically from `parts` (same inputs -> same UID). */
export function derivedUid(...parts: string[]): string {
  return uuidToUid(createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16));
}

/** DICOM DA and TM of a moment (local time, as DICOM dates are). */
export function dicomDateTime(d: Date): { date: string; time: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    date: `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`,
    time: `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`,
  };
}

/** Encode `ds` as a Part 10 file (Explicit VR Little Endian). */
export function encodePart10(ds: NaturalDataset): Uint8Array {
  const sopClass = ds.SOPClassUID;
  const sopInstance = ds.SOPInstanceUID;
  if (typeof sopClass !== 'string' || typeof sopInstance !== 'string') throw new Error('SOPClassUID and SOPInstanceUID are required');
  const meta: NaturalDataset = {
    FileMetaInformationVersion: [new Uint8Array([0, 1]).buffer],
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sopInstance,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const dict = new data.DicomDict(data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = data.DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(dict.write());
}

/** Read a Part 10 file back into a naturalized data set (tests and round trips). */
export function decodePart10(bytes: Uint8Array): NaturalDataset {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return data.DicomMetaDictionary.naturalizeDataset(data.DicomMessage.readFile(ab).dict);
}

/** A coded concept (PS3.3 Table 8.8-1 Code Sequence Macro) as one sequence item. */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}
export const codeItem = (c: Code): NaturalDataset => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });
