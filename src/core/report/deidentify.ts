/**
 * De-identification of everything an export writes, after DICOM PS3.15 Annex E, Basic
 * Application Level Confidentiality Profile, applied to the attributes ReSight's outputs carry
 * (exports are built from a small set of attributes, so the profile reduces to this table):
 *
 * | attribute                                   | action (Table E.1-1)                   |
 * |---------------------------------------------|----------------------------------------|
 * | Patient's Name, Patient ID                  | Z/D: replaced by a pseudonym           |
 * | Patient's Birth Date, Patient's Sex         | Z: emptied                             |
 * | Study/Series/SOP Instance UID, Frame of Ref | U: replaced, consistently per export   |
 * | Study Date/Time                             | Z: emptied, or shifted (option)        |
 * | Content/Series/Instance dates (the export)  | D: dummy 1900-01-01, or shifted        |
 * | Accession Number, Study ID                  | Z: emptied                             |
 * | Institution Name, Referring Physician       | X/Z: removed                           |
 * | Study/Series Description                    | X: removed                             |
 * | reviewer names (Observer, operators)        | X: withheld                            |
 *
 * and the outputs declare it: Patient Identity Removed YES, De-identification Method (Code
 * Sequence 113100 with 113104 and 113105, plus 113107 when dates are shifted). Free text the
 * reviewer typed is kept, with every identifying value of the context redacted from it; PDF text (the "burned-in header")
 * is built from the de-identified values only. One Deidentifier per export: its random secret
 * makes the UID map and pseudonyms consistent within the export and unlinkable across exports
 * (pass `secret` to link exports of one research project on purpose).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Code } from './dicom-write';
import { uuidToUid } from './dicom-write';

export const BASIC_PROFILE: Code = { value: '113100', scheme: 'DCM', meaning: 'Basic Application Confidentiality Profile' };
export const MODIFIED_DATES_OPTION: Code = { value: '113107', scheme: 'DCM', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' };
/**
 * The options the free text is handled under: the reviewer's comments and impression and the SR's
 * TEXT items are kept, cleaned of every identifying value of the context (Clean Structured Content);
 * the export's own descriptions (Series Description, Derivation and Contribution Description) are
 * written from de-identified values only (Clean Descriptors). PS3.15 E.3.5, E.3.6.
 */
export const CLEAN_STRUCTURED_CONTENT_OPTION: Code = { value: '113104', scheme: 'DCM', meaning: 'Clean Structured Content Option' };
export const CLEAN_DESCRIPTORS_OPTION: Code = { value: '113105', scheme: 'DCM', meaning: 'Clean Descriptors Option' };

export interface DeidentifyOptions {
  /** Shift dates by this many days (the Modified Dates option) instead of emptying them. */
  dateShiftDays?: number;
  /** Key for the UID map and pseudonyms (default: random per export). */
  secret?: Uint8Array;
}

export class Deidentifier {
  private readonly secret: Uint8Array;
  private readonly uids = new Map<string, string>();
  readonly dateShiftDays: number | undefined;
  /** Identifying strings seen (names, IDs, ...): redacted from free text, checked by tests. */
  private readonly identifying = new Set<string>();

  constructor(options: DeidentifyOptions = {}) {
    if (options.dateShiftDays !== undefined && (!Number.isInteger(options.dateShiftDays) || options.dateShiftDays === 0)) {
      throw new RangeError('a date shift must be a whole, non-zero number of days (omit it to remove dates)');
    }
    this.secret = options.secret ?? randomBytes(32);
    this.dateShiftDays = options.dateShiftDays;
  }

  private mac(kind: string, value: string): Buffer {
    return createHmac('sha256', this.secret).update(kind).update('\u0000').update(value).digest();
  }

  /**
   * Remember identifying values to redact from free text. Person names are also split into
   * their components (family, given, ... of 2+ characters); other values (IDs, accession,
   * institution, dates) only as a whole, and only when specific enough (4+ characters, or not
   * just digits), so "12 mm" in a comment survives a Patient ID of 12.
   */
  noteIdentifying(...values: (string | undefined)[]): void {
    for (const v of values) {
      const t = v?.trim();
      if (t && (t.length >= 4 || !/^\d+$/.test(t))) this.identifying.add(t);
    }
  }

  notePersonName(...names: (string | undefined)[]): void {
    this.noteNames(names, 2);
  }

  /** Names whole and by component as DICOM writes them (Sato^Hanako) and as people type them (Hanako Sato, Sato, Hanako), components of `minPart`+ characters. */
  private noteNames(names: readonly (string | undefined)[], minPart: number): void {
    for (const n of names) {
      if (!n) continue;
      this.noteIdentifying(n);
      for (const part of n.split(/[\^=\s,]+/)) if (part.trim().length >= minPart) this.identifying.add(part.trim());
    }
  }

  /** The same replacement UID for the same original within this export (PS3.15 action U). */
  uid(original: string): string {
    let u = this.uids.get(original);
    if (!u) {
      u = uuidToUid(this.mac('uid', original).subarray(0, 16));
      this.uids.set(original, u);
    }
    return u;
  }

  /** Every original -> replacement UID pair used (for the export's mapping log, kept by the caller). */
  uidMap(): ReadonlyMap<string, string> {
    return this.uids;
  }

  patientId(original: string): string {
    this.noteIdentifying(original);
    return `ANON-${this.mac('pid', original).toString('hex').slice(0, 10).toUpperCase()}`;
  }

  patientName(original: string): string {
    this.notePersonName(original);
    return `ANONYMOUS^${this.mac('pn', original).toString('hex').slice(0, 6).toUpperCase()}`;
  }

  /**
   * The moment an export was made, as the outputs may show it: shifted by the option's days, or
   * without the option a fixed dummy (1900-01-01), since the export date can reveal the scan's.
   */
  moment(d: Date): Date {
    if (this.dateShiftDays === undefined) return new Date(Date.UTC(1900, 0, 1));
    return new Date(d.getTime() + this.dateShiftDays * 86_400_000);
  }

  /** Remember DICOM dates (DA, YYYYMMDD) to redact from free text, as DA and as people type
   * them: 1961-03-17, 17.03.1961, 3/17/1961, 1961年3月17日, ... */
  noteDate(...das: (string | undefined)[]): void {
    for (const da of das) if (da) this.noteIdentifying(da, ...dateSpellings(da));
  }

  /** A DICOM DA (YYYYMMDD) shifted by the option's days, or '' (emptied) without it. */
  date(original: string | undefined): string {
    if (!original) return '';
    this.noteDate(original);
    if (this.dateShiftDays === undefined) return '';
    const m = /^(\d{4})(\d{2})(\d{2})/.exec(original);
    if (!m) return '';
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    d.setUTCDate(d.getUTCDate() + this.dateShiftDays);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  }

  /**
   * Other people the source files name (operators, physicians): the whole name, and its parts of
   * 3+ characters only. Unlike the patient's, these names are often short ("An^Li"), and their
   * 2-letter parts would take ordinary words out of every comment ("an irregular nodule").
   */
  noteOtherPeople(...names: (string | undefined)[]): void {
    this.noteNames(names, 3);
  }

  /**
   * Codes and texts of the source that identify (device serial, station, other IDs, addresses),
   * when specific enough to be told from ordinary words: 4+ characters with a digit or a space
   * (CT-ROOM-7, SN31337, an address). A station called "CT" or "MR1" would redact the modality
   * from every comment, one called "Radiology" the word.
   */
  noteCodes(...values: (string | undefined)[]): void {
    for (const v of values) {
      const t = v?.trim();
      if (t && t.length >= 4 && /[\d\s]/.test(t)) this.identifying.add(t);
    }
  }

  /** Free text with every identifying value seen so far replaced by '[redacted]'. */
  redact(text: string): string {
    // Every UID-shaped number first, whole, replaced as the outputs replace it (one seen only
    // here gets its own consistent replacement): 1.2.3.4.11 must not become 1.2.3.4.1's
    // replacement plus "1", and a UID with an accession or a date among its components must not
    // be cut apart by the values' redaction
    const uid = /(?<![\d.])\d+(?:\.\d+){4,}(?!\.?\d)/g;
    let out = '';
    let last = 0;
    for (const m of text.matchAll(uid)) {
      out += this.redactValues(text.slice(last, m.index)) + this.uid(m[0]);
      last = (m.index ?? 0) + m[0].length;
    }
    return out + this.redactValues(text.slice(last));
  }

  private redactValues(text: string): string {
    let out = text;
    const values = [...this.identifying].sort((a, b) => b.length - a.length);
    for (const v of values) {
      const re = v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // ASCII: as a whole word, any case; other scripts: any case (MÜLLER, müller), and without
      // word bounds, since Japanese writes 山田太郎さん with no space to bound a name by
      if (/^[\x20-\x7e]+$/.test(v)) out = out.replace(new RegExp(`(?<![A-Za-z0-9])${re}(?![A-Za-z0-9])`, 'gi'), '[redacted]');
      else out = out.replace(new RegExp(re, 'giu'), '[redacted]');
    }
    return out;
  }

  /** De-identification Method Code Sequence items. */
  methodCodes(): Code[] {
    return [BASIC_PROFILE, CLEAN_STRUCTURED_CONTENT_OPTION, CLEAN_DESCRIPTORS_OPTION, ...(this.dateShiftDays === undefined ? [] : [MODIFIED_DATES_OPTION])];
  }

  /** De-identification Method (0012,0063) text. */
  methodText(): string {
    // LO: at most 64 characters
    // never the number of days: with it, any shifted date gives the real one back
    return `PS3.15 Basic Profile (ReSight)${this.dateShiftDays === undefined ? '' : ', dates shifted'}`;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The ways a person writes the DICOM date `da` (YYYYMMDD) in free text. */
export function dateSpellings(da: string): string[] {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da.trim());
  if (!m) return [];
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  const mn = String(Number(mo));
  const dn = String(Number(d));
  const out = new Set<string>();
  for (const sep of ['-', '/', '.']) {
    out.add(`${y}${sep}${mo}${sep}${d}`);
    out.add(`${y}${sep}${mn}${sep}${dn}`);
    for (const [a, b] of [
      [d, mo],
      [dn, mn],
      [mo, d],
      [mn, dn],
    ]) out.add(`${a}${sep}${b}${sep}${y}`);
  }
  out.add(`${y}年${mn}月${dn}日`);
  out.add(`${y}年${mo}月${d}日`);
  // with the month's English name, as clinical notes write it: 17 Mar 1961, 17-Mar-1961, March 17, 1961
  const names = [MONTHS[Number(mo) - 1], MONTHS[Number(mo) - 1]?.slice(0, 3)].filter((x): x is string => x !== undefined);
  for (const name of names) {
    for (const day of new Set([d, dn])) {
      for (const sep of [' ', '-', '/']) out.add(`${day}${sep}${name}${sep}${y}`);
      out.add(`${name} ${day} ${y}`);
      out.add(`${name} ${day}, ${y}`);
      out.add(`${name}. ${day}, ${y}`);
    }
  }
  return [...out];
}
