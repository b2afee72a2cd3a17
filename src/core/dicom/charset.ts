/**
 * Decoding of DICOM text values according to Specific Character Set (0008,0005).
 *
 * dicom-parser reads every string as if it were ASCII, which garbles any study whose
 * names or descriptions use another repertoire. This module turns the raw value bytes into
 * a JavaScript string, following PS3.3 C.12.1.1.2 (the defined terms) and PS3.5 6.1 (ISO 2022
 * code extensions as DICOM restricts them):
 *
 * - Single-byte sets without extensions: default (empty / ISO_IR 6), ISO_IR 100, 101, 109, 110,
 *   144, 127, 126, 138, 148, 203, 13 and 166, each as G0 = ASCII (JIS X 0201 romaji for IR 13)
 *   in GL and the set's upper half in GR.
 * - Their "ISO 2022 IR n" code-extension forms plus the multi-byte extensions ISO 2022 IR 87
 *   (JIS X 0208, G0), 159 (JIS X 0212, G0), 149 (KS X 1001, G1) and 58 (GB 2312, G1). Escape
 *   sequences switch G0/G1 mid-value; value 1 of the list is the initial state.
 * - Sets that forbid code extensions and are decoded as a whole: ISO_IR 192 (UTF-8), GB18030,
 *   GBK.
 *
 * Everything is decoded with Node's built-in TextDecoder (full ICU) or small tables built from
 * it once; there are no dependencies.
 *
 * Robustness choices (a viewer must show *something* for every study, so decoding never
 * throws):
 * - An unknown term (after tolerating common misspellings such as "ISO-IR 100") as value 1 makes
 *   bytes 0x80-0xFF decode as Latin-1, which is what most mislabelled data really is; unknown
 *   later values are ignored. Callers that want strictness can check `isSupportedCharset` and
 *   throw `UnsupportedCharsetError` themselves.
 * - Any escape sequence this module recognises is honoured even when its set is not declared
 *   in (0008,0005); unrecognised escape sequences are dropped without changing the state.
 * - Bytes that a two-byte set cannot map become U+FFFD rather than an error.
 * - JIS X 0201 romaji (ISO_IR 13 G0) decodes as ASCII, not with 0x5C as YEN SIGN and 0x7E as
 *   OVERLINE: callers split the decoded string on '\' for multiple values, and Shift_JIS
 *   decoders (which pydicom uses for this term) do the same.
 * - Trailing padding (space or NUL) is kept; trimming is the caller's, per VR.
 */

/** Parsed (0008,0005) value: the list of defined terms, e.g. ['', 'ISO 2022 IR 87'] or ['ISO_IR 192']. */
export function parseSpecificCharacterSet(value: string | undefined): string[] {
  if (value === undefined) return [];
  // CS values are padded with spaces (some writers use NUL); leading/trailing ones are not significant.
  const parts = value.split('\\').map((part) => part.replace(/^[\s\0]+|[\s\0]+$/g, ''));
  // Value 1 may be legitimately empty ("\ISO 2022 IR 87": default repertoire first); later empty
  // values carry no meaning.
  const terms = parts.filter((term, index) => index === 0 || term !== '');
  return terms.every((term) => term === '') ? [] : terms;
}

/**
 * Thrown by callers that opt into strictness (see the module comment); `decodeDicomText`
 * itself never throws it.
 */
export class UnsupportedCharsetError extends Error {
  readonly code = 'UNSUPPORTED_CHARSET' as const;
  readonly term: string;

  constructor(term: string) {
    super(`Unsupported Specific Character Set (0008,0005) term: "${term}"`);
    this.name = 'UnsupportedCharsetError';
    this.term = term;
  }
}

// ---------------------------------------------------------------------------------------------
// Character sets and the defined terms that name them

/** Sets that can occupy G1 (bytes 0x80-0xFF). Single-byte ones decode via a 128-entry table. */
type SingleByteG1 =
  | 'latin1'
  | 'iso-8859-2'
  | 'iso-8859-3'
  | 'iso-8859-4'
  | 'iso-8859-5'
  | 'iso-8859-6'
  | 'iso-8859-7'
  | 'iso-8859-8'
  | 'iso-8859-9'
  | 'iso-8859-15'
  | 'tis-620'
  | 'jisx0201-katakana';
type MultiByteG1 = 'ksx1001' | 'gb2312';
type G1Set = SingleByteG1 | MultiByteG1;
/** Sets that can occupy G0 (bytes 0x21-0x7E). JIS X 0201 romaji is folded into 'ascii' (see above). */
type G0Set = 'ascii' | 'jisx0208' | 'jisx0212';

/** What one defined term means for decoding. */
type CharsetSpec =
  | { readonly kind: 'iso2022'; readonly initialG1: G1Set | null }
  /** A G0 multi-byte set, which cannot be the initial state (it needs an escape to be invoked). */
  | { readonly kind: 'g0-extension' }
  /** A set that forbids code extensions; the whole value is one TextDecoder call. */
  | { readonly kind: 'whole'; readonly label: 'utf-8' | 'gb18030' | 'gbk' };

/** Keyed by ISO-IR registration number: "ISO_IR n" and "ISO 2022 IR n" decode the same way. */
const ISO_IR_SPECS: ReadonlyMap<number, CharsetSpec> = new Map<number, CharsetSpec>([
  [6, { kind: 'iso2022', initialG1: null }],
  [100, { kind: 'iso2022', initialG1: 'latin1' }],
  [101, { kind: 'iso2022', initialG1: 'iso-8859-2' }],
  [109, { kind: 'iso2022', initialG1: 'iso-8859-3' }],
  [110, { kind: 'iso2022', initialG1: 'iso-8859-4' }],
  [144, { kind: 'iso2022', initialG1: 'iso-8859-5' }],
  [127, { kind: 'iso2022', initialG1: 'iso-8859-6' }],
  [126, { kind: 'iso2022', initialG1: 'iso-8859-7' }],
  [138, { kind: 'iso2022', initialG1: 'iso-8859-8' }],
  [148, { kind: 'iso2022', initialG1: 'iso-8859-9' }],
  [203, { kind: 'iso2022', initialG1: 'iso-8859-15' }],
  [166, { kind: 'iso2022', initialG1: 'tis-620' }],
  [13, { kind: 'iso2022', initialG1: 'jisx0201-katakana' }],
  [87, { kind: 'g0-extension' }],
  [159, { kind: 'g0-extension' }],
  // Strictly only valid as value 2+, but Korean/Chinese files often list them alone and then
  // omit the escape; treating them as the initial G1 decodes both forms.
  [149, { kind: 'iso2022', initialG1: 'ksx1001' }],
  [58, { kind: 'iso2022', initialG1: 'gb2312' }],
  [192, { kind: 'whole', label: 'utf-8' }],
]);

const DEFAULT_SPEC: CharsetSpec = { kind: 'iso2022', initialG1: null };

/** Tolerates case, padding and the separators seen in the wild: "ISO-IR 144", "ISO_2022_IR+126", "iso ir 192". */
const ISO_IR_TERM = /^ISO[\s_-]*(?:2022[\s_-]*)?IR[\s_+-]*(\d+)$/;

function resolveTerm(term: string): CharsetSpec | undefined {
  const t = term.trim().toUpperCase();
  if (t === '') return DEFAULT_SPEC;
  if (t === 'GB18030') return { kind: 'whole', label: 'gb18030' };
  if (t === 'GBK') return { kind: 'whole', label: 'gbk' };
  const match = ISO_IR_TERM.exec(t);
  return match ? ISO_IR_SPECS.get(Number(match[1])) : undefined;
}

/** Whether `decodeDicomText` knows the term (for callers that log or reject unknown ones). */
export function isSupportedCharset(term: string): boolean {
  return resolveTerm(term) !== undefined;
}

/** True when the charset list is plain ASCII-compatible single-byte default (fast path). */
export function isDefaultCharset(charsets: readonly string[]): boolean {
  return charsets.every((term) => {
    const spec = resolveTerm(term);
    return spec !== undefined && spec.kind === 'iso2022' && spec.initialG1 === null;
  });
}

/**
 * Escape sequences (bytes after ESC) that DICOM uses, PS3.3 Tables C.12-3/C.12-4. "ESC ( J"
 * (JIS X 0201 romaji) is read as ASCII; "ESC $ @" (JIS C 6226-1978) is JIS X 0208's predecessor
 * and shares its code points for all practical purposes.
 */
type Designation = { readonly g0: G0Set } | { readonly g1: G1Set };
const ESCAPES: ReadonlyMap<string, Designation> = new Map<string, Designation>([
  ['(B', { g0: 'ascii' }],
  ['(J', { g0: 'ascii' }],
  [')I', { g1: 'jisx0201-katakana' }],
  ['-A', { g1: 'latin1' }],
  ['-B', { g1: 'iso-8859-2' }],
  ['-C', { g1: 'iso-8859-3' }],
  ['-D', { g1: 'iso-8859-4' }],
  ['-L', { g1: 'iso-8859-5' }],
  ['-G', { g1: 'iso-8859-6' }],
  ['-F', { g1: 'iso-8859-7' }],
  ['-H', { g1: 'iso-8859-8' }],
  ['-M', { g1: 'iso-8859-9' }],
  ['-b', { g1: 'iso-8859-15' }],
  ['-T', { g1: 'tis-620' }],
  ['$B', { g0: 'jisx0208' }],
  ['$@', { g0: 'jisx0208' }],
  ['$(B', { g0: 'jisx0208' }],
  ['$(D', { g0: 'jisx0212' }],
  ['$)C', { g1: 'ksx1001' }],
  ['$)A', { g1: 'gb2312' }],
]);

// ---------------------------------------------------------------------------------------------
// Decoders

/** The global TextDecoder's instance type (lib is ES2022 without DOM, so @types/node types the global only as a value). */
type Decoder = InstanceType<typeof TextDecoder>;

const decoders = new Map<string, Decoder | null>();

/**
 * One cached TextDecoder per label, created on first use so that pure-ASCII studies never
 * construct any. Null when the runtime lacks the encoding (a small-ICU build); callers then
 * fall back to Latin-1 instead of failing.
 */
function decoderFor(label: string): Decoder | null {
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      decoder = null;
    }
    decoders.set(label, decoder);
  }
  return decoder;
}

/** WHATWG maps some ISO labels to Windows code pages; they agree with ISO on 0xA0-0xFF, which is all we take from them. */
const TABLE_SOURCE_LABEL: Readonly<Record<Exclude<SingleByteG1, 'latin1' | 'jisx0201-katakana'>, string>> = {
  'iso-8859-2': 'iso-8859-2',
  'iso-8859-3': 'iso-8859-3',
  'iso-8859-4': 'iso-8859-4',
  'iso-8859-5': 'iso-8859-5',
  'iso-8859-6': 'iso-8859-6',
  'iso-8859-7': 'iso-8859-7',
  'iso-8859-8': 'iso-8859-8',
  'iso-8859-9': 'iso-8859-9',
  'iso-8859-15': 'iso-8859-15',
  'tis-620': 'windows-874',
};

const REPLACEMENT = 0xfffd;
const tables = new Map<SingleByteG1, Uint16Array>();

/**
 * UTF-16 code units for bytes 0x80-0xFF of a single-byte set. 0x80-0x9F are the C1 controls in
 * every ISO 8859 part, so they map to U+0080-U+009F (TextDecoder's 'iso-8859-1' would give
 * windows-1252 punctuation instead).
 */
function tableFor(set: SingleByteG1): Uint16Array {
  const cached = tables.get(set);
  if (cached) return cached;
  const table = new Uint16Array(128);
  for (let i = 0; i < 128; i++) table[i] = 0x80 + i;
  if (set === 'jisx0201-katakana') {
    // JIS X 0201 katakana 0xA1-0xDF are exactly the Unicode halfwidth forms U+FF61-U+FF9F.
    for (let b = 0xa0; b <= 0xff; b++) table[b - 0x80] = b >= 0xa1 && b <= 0xdf ? 0xff61 + (b - 0xa1) : REPLACEMENT;
  } else if (set !== 'latin1') {
    const decoder = decoderFor(TABLE_SOURCE_LABEL[set]);
    if (decoder) {
      // Byte by byte, so every entry is exactly one code unit (U+FFFD for unassigned positions).
      for (let b = 0xa0; b <= 0xff; b++) table[b - 0x80] = decoder.decode(Uint8Array.of(b)).charCodeAt(0);
    }
  }
  tables.set(set, table);
  return table;
}

/** Appends code units and decoded runs without quadratic string growth on long UT values. */
class TextBuilder {
  private readonly parts: string[] = [];
  private units: number[] = [];

  unit(code: number): void {
    this.units.push(code);
    if (this.units.length >= 4096) this.flushUnits();
  }

  text(s: string): void {
    this.flushUnits();
    this.parts.push(s);
  }

  toString(): string {
    this.flushUnits();
    return this.parts.join('');
  }

  private flushUnits(): void {
    if (this.units.length === 0) return;
    this.parts.push(String.fromCharCode(...this.units));
    this.units = [];
  }
}

/**
 * Bytes as Latin-1 (also exact for ASCII). A plain loop: for the short values typical of DICOM
 * it beats spreading a typed array into fromCharCode several times over, and it has no
 * argument-count limit.
 */
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

function decodeWith(label: string, bytes: Uint8Array): string {
  const decoder = decoderFor(label);
  return decoder ? decoder.decode(bytes) : latin1(bytes);
}

const ESC = 0x1b;

/**
 * Which GL bytes act as delimiters that return to the initial state (PS3.5 6.1.2.5.3): '\'
 * between values of multi-valued VRs, plus '^' and '=' in PN. LT, ST and UT are single-valued
 * free text where '\' is an ordinary character, so only control characters reset them.
 */
function delimitersFor(vr: string | undefined): readonly number[] {
  switch (vr) {
    case 'PN':
      return [0x5c, 0x5e, 0x3d];
    case 'LT':
    case 'ST':
    case 'UT':
      return [];
    default:
      return [0x5c];
  }
}

/**
 * Decode a text element's raw bytes. vr matters: for PN, each component group (split on '=')
 * restarts in the default G0/G1 state; for other VRs, code extensions reset at CR/LF/FF/TAB and
 * at '\\' for multi-valued.
 *
 * "Default state" is the one value 1 of `charsets` designates. PN also resets at '^' and '\'
 * (the standard requires the initial set to be active before both), and every VR resets at any
 * C0 control other than ESC. Never throws; see the module comment for the fallbacks.
 */
export function decodeDicomText(bytes: Uint8Array, charsets: readonly string[], vr?: string): string {
  // Fast path: every supported value 1 is ASCII-compatible, so bytes below 0x80 without an
  // escape sequence are the same characters whatever the charset; no TextDecoder is needed.
  let plain = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b >= 0x80 || b === ESC) {
      plain = false;
      break;
    }
  }
  if (plain) return latin1(bytes);

  // Unknown value 1 falls back to Latin-1 for the upper half (see the module comment).
  const first = charsets.length > 0 ? (resolveTerm(charsets[0]) ?? { kind: 'iso2022', initialG1: 'latin1' }) : DEFAULT_SPEC;
  if (first.kind === 'whole') return decodeWith(first.label, bytes);
  // Default repertoire (no G1) with high bytes anyway: Latin-1 is the common intent.
  const initialG1: G1Set = first.kind === 'iso2022' && first.initialG1 !== null ? first.initialG1 : 'latin1';
  return decodeIso2022(bytes, initialG1, delimitersFor(vr));
}

/** The ISO 2022 state machine, restricted to what DICOM uses: designation to G0/G1, with G0 in GL and G1 in GR. */
function decodeIso2022(bytes: Uint8Array, initialG1: G1Set, delimiters: readonly number[]): string {
  const out = new TextBuilder();
  let g0: G0Set = 'ascii';
  let g1: G1Set = initialG1;
  const n = bytes.length;
  let i = 0;

  while (i < n) {
    const b = bytes[i];

    if (b === ESC) {
      // ESC, intermediates 0x20-0x2F, final 0x30-0x7E (ISO 2022 / ECMA-35 syntax).
      let j = i + 1;
      while (j < n && bytes[j] >= 0x20 && bytes[j] <= 0x2f) j++;
      if (j < n && bytes[j] >= 0x30 && bytes[j] <= 0x7e) {
        const designation = ESCAPES.get(String.fromCharCode(...bytes.subarray(i + 1, j + 1)));
        if (designation) {
          if ('g0' in designation) g0 = designation.g0;
          else g1 = designation.g1;
        }
        i = j + 1;
      } else {
        // Truncated or malformed: drop the ESC and whatever intermediates followed it.
        i = j;
      }
      continue;
    }

    if (b >= 0x80) {
      if (g1 === 'ksx1001' || g1 === 'gb2312') {
        // Already EUC form: the run of GR bytes decodes as-is (euc-kr is a superset of KS X 1001
        // in GR; gb18030 of GB 2312).
        let j = i + 1;
        while (j < n && bytes[j] >= 0x80) j++;
        out.text(decodeWith(g1 === 'ksx1001' ? 'euc-kr' : 'gb18030', bytes.subarray(i, j)));
        i = j;
      } else {
        out.unit(tableFor(g1)[b - 0x80]);
        i++;
      }
      continue;
    }

    if (b >= 0x21 && b <= 0x7e && g0 !== 'ascii') {
      // Two-byte G0 run. Delimiter bytes here are halves of characters (e.g. 0x245E is "ま"),
      // which is why the standard demands a switch back to ASCII before real delimiters.
      let j = i + 1;
      while (j < n && bytes[j] >= 0x21 && bytes[j] <= 0x7e) j++;
      out.text(decodeJis(g0, bytes.subarray(i, j)));
      i = j;
      continue;
    }

    out.unit(b);
    i++;
    // C0 controls (CR, LF, FF, TAB, ...) and the VR's delimiters return to the initial state.
    if (b < 0x20 || delimiters.includes(b)) {
      g0 = 'ascii';
      g1 = initialG1;
    }
  }
  return out.toString();
}

/**
 * JIS X 0208 / 0212 bytes in G0 (0x21-0x7E pairs) become EUC-JP by setting the high bit of each
 * byte; JIS X 0212 additionally takes the SS3 (0x8F) prefix per character.
 */
function decodeJis(set: 'jisx0208' | 'jisx0212', run: Uint8Array): string {
  if (set === 'jisx0208') {
    const euc = new Uint8Array(run.length);
    for (let k = 0; k < run.length; k++) euc[k] = run[k] | 0x80;
    return decodeWith('euc-jp', euc);
  }
  const pairs = run.length >> 1;
  const euc = new Uint8Array(pairs * 3);
  for (let k = 0; k < pairs; k++) {
    euc[3 * k] = 0x8f;
    euc[3 * k + 1] = run[2 * k] | 0x80;
    euc[3 * k + 2] = run[2 * k + 1] | 0x80;
  }
  const text = decodeWith('euc-jp', euc);
  return run.length % 2 === 1 ? text + String.fromCharCode(REPLACEMENT) : text;
}
