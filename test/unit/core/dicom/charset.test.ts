import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  UnsupportedCharsetError,
  decodeDicomText,
  isDefaultCharset,
  isSupportedCharset,
  parseSpecificCharacterSet,
} from '../../../../src/core/dicom/charset';

/**
 * Builds bytes from pieces: strings contribute one byte per character (so they must only hold
 * U+0000-U+00FF, written as \xNN for non-ASCII) and arrays contribute their numbers.
 */
function bytes(...pieces: ReadonlyArray<string | readonly number[]>): Uint8Array {
  const out: number[] = [];
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      for (let i = 0; i < piece.length; i++) {
        const code = piece.charCodeAt(i);
        if (code > 0xff) throw new Error(`test bug: non-byte character in ${JSON.stringify(piece)}`);
        out.push(code);
      }
    } else {
      out.push(...piece);
    }
  }
  return Uint8Array.from(out);
}

const decode = (charsets: string, raw: Uint8Array, vr?: string): string =>
  decodeDicomText(raw, parseSpecificCharacterSet(charsets), vr);

describe('parseSpecificCharacterSet', () => {
  it('splits on backslash, keeps an empty value 1 and trims padding', () => {
    assert.deepEqual(parseSpecificCharacterSet(undefined), []);
    assert.deepEqual(parseSpecificCharacterSet(''), []);
    assert.deepEqual(parseSpecificCharacterSet('  '), []);
    assert.deepEqual(parseSpecificCharacterSet('ISO_IR 100'), ['ISO_IR 100']);
    assert.deepEqual(parseSpecificCharacterSet('ISO_IR 192\0'), ['ISO_IR 192']);
    assert.deepEqual(parseSpecificCharacterSet('\\ISO 2022 IR 87'), ['', 'ISO 2022 IR 87']);
    assert.deepEqual(parseSpecificCharacterSet('ISO 2022 IR 13\\ISO 2022 IR 87 '), ['ISO 2022 IR 13', 'ISO 2022 IR 87']);
    assert.deepEqual(parseSpecificCharacterSet('ISO 2022 IR 100\\\\ISO 2022 IR 126'), ['ISO 2022 IR 100', 'ISO 2022 IR 126']);
  });
});

describe('isDefaultCharset / isSupportedCharset', () => {
  it('recognises the default repertoire only', () => {
    assert.equal(isDefaultCharset([]), true);
    assert.equal(isDefaultCharset(['']), true);
    assert.equal(isDefaultCharset(['ISO_IR 6']), true);
    assert.equal(isDefaultCharset(['ISO 2022 IR 6']), true);
    assert.equal(isDefaultCharset(['ISO_IR 100']), false);
    assert.equal(isDefaultCharset(['', 'ISO 2022 IR 87']), false);
    assert.equal(isDefaultCharset(['ISO_IR 192']), false);
    assert.equal(isDefaultCharset(['NOT_A_CHARSET']), false);
  });

  it('knows every defined term of PS3.3 C.12.1.1.2 and tolerates common misspellings', () => {
    const terms = [
      '', 'ISO_IR 6', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 144', 'ISO_IR 127',
      'ISO_IR 126', 'ISO_IR 138', 'ISO_IR 148', 'ISO_IR 203', 'ISO_IR 13', 'ISO_IR 166', 'ISO_IR 192',
      'GB18030', 'GBK', 'ISO 2022 IR 6', 'ISO 2022 IR 100', 'ISO 2022 IR 13', 'ISO 2022 IR 87',
      'ISO 2022 IR 159', 'ISO 2022 IR 149', 'ISO 2022 IR 58', 'ISO 2022 IR 203',
      'ISO-IR 144', 'ISO_2022_IR+126', 'iso_ir 192', 'ISO IR 100',
    ];
    for (const term of terms) assert.equal(isSupportedCharset(term), true, term);
    assert.equal(isSupportedCharset('ISO 2022 IR 146'), false);
    assert.equal(isSupportedCharset('ISOIR 192x'), false);
  });
});

describe('decodeDicomText: PS3.5 Annex H (Japanese)', () => {
  // H.3.1: value 1 empty (ASCII), JIS X 0208 invoked with ESC $ B, back to ASCII with ESC ( B.
  const h31 = [
    0x59, 0x61, 0x6d, 0x61, 0x64, 0x61, 0x5e, 0x54, 0x61, 0x72, 0x6f, 0x75, 0x3d, 0x1b, 0x24, 0x42, 0x3b, 0x33,
    0x45, 0x44, 0x1b, 0x28, 0x42, 0x5e, 0x1b, 0x24, 0x42, 0x42, 0x40, 0x4f, 0x3a, 0x1b, 0x28, 0x42, 0x3d, 0x1b,
    0x24, 0x42, 0x24, 0x64, 0x24, 0x5e, 0x24, 0x40, 0x1b, 0x28, 0x42, 0x5e, 0x1b, 0x24, 0x42, 0x24, 0x3f, 0x24,
    0x6d, 0x24, 0x26, 0x1b, 0x28, 0x42,
  ];
  // H.3.2: value 1 ISO 2022 IR 13 (katakana in G1 from the start), back to romaji with ESC ( J.
  const h32 = [
    0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0xc0, 0xdb, 0xb3, 0x3d, 0x1b, 0x24, 0x42, 0x3b, 0x33, 0x45, 0x44, 0x1b, 0x28,
    0x4a, 0x5e, 0x1b, 0x24, 0x42, 0x42, 0x40, 0x4f, 0x3a, 0x1b, 0x28, 0x4a, 0x3d, 0x1b, 0x24, 0x42, 0x24, 0x64,
    0x24, 0x5e, 0x24, 0x40, 0x1b, 0x28, 0x4a, 0x5e, 0x1b, 0x24, 0x42, 0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26, 0x1b,
    0x28, 0x4a,
  ];

  it('H.3.1 ISO 2022 IR 87 person name', () => {
    assert.equal(decode('\\ISO 2022 IR 87', bytes(h31), 'PN'), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
    // Same result when ISO 2022 IR 6 is spelled out as value 1, or the VR is not given.
    assert.equal(decode('ISO 2022 IR 6\\ISO 2022 IR 87', bytes(h31)), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('H.3.2 ISO 2022 IR 13 + IR 87 person name (half-width katakana)', () => {
    assert.equal(decode('ISO 2022 IR 13\\ISO 2022 IR 87', bytes(h32), 'PN'), 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('ISO_IR 13 alone maps 0xA1-0xDF to U+FF61-U+FF9F and keeps GL as ASCII', () => {
    assert.equal(decode('ISO_IR 13', bytes('\xd4\xcf\xc0\xde^\xc0\xdb\xb3'), 'PN'), 'ﾔﾏﾀﾞ^ﾀﾛｳ');
    assert.equal(decode('ISO_IR 13', bytes('\xa1\xdf')), '\uff61\uff9f');
    // 0x5C stays the value delimiter rather than YEN SIGN (see the module comment).
    assert.equal(decode('ISO_IR 13', bytes('\xb1\\\xb2')), 'ｱ\\ｲ');
  });

  it('ISO 2022 IR 13 designated by ESC ) I after ASCII', () => {
    assert.equal(
      decode('\\ISO 2022 IR 13', bytes('ASCII+', '\x1b\x29\x49\xd4\xcf\xc0\xde\x5e\x1b\x29\x49\xc0\xdb\xb3'), 'PN'),
      'ASCII+ﾔﾏﾀﾞ^ﾀﾛｳ',
    );
  });

  it('ISO 2022 IR 159 (JIS X 0212) alongside IR 87: Mori^Ogai', () => {
    // pydicom's encoding of "Mori^Ogai=森^鷗外=もり^おうがい"; 鷗 is JIS X 0212 0x6C3F.
    const raw = [
      0x4d, 0x6f, 0x72, 0x69, 0x5e, 0x4f, 0x67, 0x61, 0x69, 0x3d, 0x1b, 0x24, 0x42, 0x3f, 0x39, 0x1b, 0x28, 0x42,
      0x5e, 0x1b, 0x24, 0x28, 0x44, 0x6c, 0x3f, 0x1b, 0x24, 0x42, 0x33, 0x30, 0x1b, 0x28, 0x42, 0x3d, 0x1b, 0x24,
      0x42, 0x24, 0x62, 0x24, 0x6a, 0x1b, 0x28, 0x42, 0x5e, 0x1b, 0x24, 0x42, 0x24, 0x2a, 0x24, 0x26, 0x24, 0x2c,
      0x24, 0x24, 0x1b, 0x28, 0x42,
    ];
    assert.equal(
      decode('ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 159', bytes(raw), 'PN'),
      'Mori^Ogai=森^鷗外=もり^おうがい',
    );
  });

  it('JIS X 0201, 0208 and 0212 mixed in multi-line text', () => {
    // vtk-dicom's test text: 元気 (0208), 騏 (0208) 驎 (0212), then katakana in G1 after LF.
    const raw = bytes(
      'JISX0208: \x1b$B855$\x1b(J\n',
      'JISX0212: \x1b$BqV\x1b$(DiQ\x1b(J\n',
      'JISX0201: \xba\xdd\xc6\xc1\xca\n',
    );
    assert.equal(
      decode('ISO 2022 IR 13\\ISO 2022 IR 87\\ISO 2022 IR 159', raw, 'LT'),
      'JISX0208: 元気\nJISX0212: 騏驎\nJISX0201: ｺﾝﾆﾁﾊ\n',
    );
  });

  it('delimiter bytes inside two-byte JIS characters are not delimiters', () => {
    // Each JIS X 0208 character here has 0x5C ('\') or 0x5E ('^') as one of its bytes.
    const raw = bytes(
      '\xd4\xcf\xc0\xde^\xc0\xdb\xb3\\',
      '\x1b$BL\\K\\\x1b(J^\x1b$B\\\\\\3\x1b(J\\',
      '\x1b$B$\\\x1b(J^\x1b$B%\\\x1b(J',
    );
    const text = decode('ISO 2022 IR 13\\ISO 2022 IR 87', raw, 'PN');
    assert.equal(text, 'ﾔﾏﾀﾞ^ﾀﾛｳ\\目本^樛楹\\ぼ^ボ');
    assert.equal(text.split('\\').length, 3);
  });

  it('an incomplete two-byte character becomes U+FFFD instead of throwing', () => {
    assert.equal(decode('\\ISO 2022 IR 87', bytes('A\x1b$B;3E\x1b(BZ')), 'A山\ufffdZ');
    assert.equal(decode('\\ISO 2022 IR 159', bytes('A\x1b$(Dl\x1b(BZ')), 'A\ufffdZ');
  });
});

describe('decodeDicomText: PS3.5 Annex I (Korean)', () => {
  it('I.2 ISO 2022 IR 149 person name', () => {
    const raw = [
      0x48, 0x6f, 0x6e, 0x67, 0x5e, 0x47, 0x69, 0x6c, 0x64, 0x6f, 0x6e, 0x67, 0x3d, 0x1b, 0x24, 0x29, 0x43, 0xfb,
      0xf3, 0x5e, 0x1b, 0x24, 0x29, 0x43, 0xd1, 0xce, 0xd4, 0xd7, 0x3d, 0x1b, 0x24, 0x29, 0x43, 0xc8, 0xab, 0x5e,
      0x1b, 0x24, 0x29, 0x43, 0xb1, 0xe6, 0xb5, 0xbf,
    ];
    assert.equal(decode('\\ISO 2022 IR 149', bytes(raw), 'PN'), 'Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('I.3 ISO 2022 IR 149 multi-line text (state resets at each line)', () => {
    const raw = bytes(
      '\x1b$)CThe first line includes \xc7\xd1\xb1\xdb .\n\n',
      '\x1b$)CThe second line includes \xc7\xd1\xb1\xdb , too.\n\n',
      'The third line',
    );
    assert.equal(
      decode('\\ISO 2022 IR 149', raw, 'LT'),
      'The first line includes 한글 .\n\nThe second line includes 한글 , too.\n\nThe third line',
    );
  });

  it('ISO 2022 IR 149 listed alone decodes escape-less EUC-KR (common in the wild)', () => {
    assert.equal(decode('ISO 2022 IR 149', bytes('\xb1\xe8\xc8\xf1\xc1\xdf')), '김희중');
  });
});

describe('decodeDicomText: PS3.5 Annexes J and K (Chinese)', () => {
  it('J.1 ISO_IR 192 (UTF-8) person name', () => {
    const raw = [
      0x57, 0x61, 0x6e, 0x67, 0x5e, 0x58, 0x69, 0x61, 0x6f, 0x44, 0x6f, 0x6e, 0x67, 0x3d, 0xe7, 0x8e, 0x8b, 0x5e,
      0xe5, 0xb0, 0x8f, 0xe6, 0x9d, 0xb1, 0x3d,
    ];
    assert.equal(decode('ISO_IR 192', bytes(raw), 'PN'), 'Wang^XiaoDong=王^小東=');
  });

  it('J.2 ISO_IR 192 multi-line text', () => {
    const raw = bytes(
      'The first line includes \xe4\xb8\xad\xe6\x96\x87.\r\n',
      'The second line includes \xe4\xb8\xad\xe6\x96\x87, too.\r\n',
      'The third line.\r\n',
    );
    assert.equal(
      decode('ISO_IR 192', raw, 'LT'),
      'The first line includes 中文.\r\nThe second line includes 中文, too.\r\nThe third line.\r\n',
    );
  });

  it('J.3 GB18030 person name', () => {
    const raw = [
      0x57, 0x61, 0x6e, 0x67, 0x5e, 0x58, 0x69, 0x61, 0x6f, 0x44, 0x6f, 0x6e, 0x67, 0x3d, 0xcd, 0xf5, 0x5e, 0xd0,
      0xa1, 0xb6, 0xab, 0x3d,
    ];
    assert.equal(decode('GB18030', bytes(raw), 'PN'), 'Wang^XiaoDong=王^小东=');
  });

  it('J.4 GB18030 multi-line text', () => {
    const raw = bytes(
      'The first line includes \xd6\xd0\xce\xc4.\r\n',
      'The second line includes \xd6\xd0\xce\xc4, too.\r\n',
      'The third line.\r\n',
    );
    assert.equal(
      decode('GB18030', raw, 'LT'),
      'The first line includes 中文.\r\nThe second line includes 中文, too.\r\nThe third line.\r\n',
    );
  });

  it('GB18030 four-byte sequences and GBK traditional characters', () => {
    assert.equal(decode('GB18030', bytes('\x81\x30\x8a\x30\xa8\xa2\xfe\x5f')), 'ãá㥮');
    assert.equal(decode('GBK', bytes('Wang^XiaoDong=\xcd\xf5^\xd0\xa1\x96\x7c='), 'PN'), 'Wang^XiaoDong=王^小東=');
  });

  it('GB18030 trail bytes equal to 0x5C stay inside their character', () => {
    const text = decode('GB18030', bytes('Wang^XiaoDong\\\xcd\xf5^\xd0\\\xb6\xab\\'), 'PN');
    assert.equal(text.split('\\').length, 3);
    assert.ok(text.startsWith('Wang^XiaoDong\\王^'));
    assert.ok(text.endsWith('东\\'));
  });

  it('K.2 ISO 2022 IR 58 person name', () => {
    const raw = [
      0x5a, 0x68, 0x61, 0x6e, 0x67, 0x5e, 0x58, 0x69, 0x61, 0x6f, 0x44, 0x6f, 0x6e, 0x67, 0x3d, 0x1b, 0x24, 0x29,
      0x41, 0xd5, 0xc5, 0x5e, 0x1b, 0x24, 0x29, 0x41, 0xd0, 0xa1, 0xb6, 0xab, 0x3d, 0x20,
    ];
    assert.equal(decode('\\ISO 2022 IR 58', bytes(raw), 'PN'), 'Zhang^XiaoDong=张^小东= ');
  });

  it('K.3 ISO 2022 IR 58 multi-line text', () => {
    const raw = [
      0x31, 0x29, 0x20, 0x1b, 0x24, 0x29, 0x41, 0xb5, 0xda, 0xd2, 0xbb, 0xd0, 0xd0, 0xce, 0xc4, 0xd7, 0xd6, 0xa1,
      0xa3, 0x0d, 0x0a, 0x32, 0x29, 0x20, 0x1b, 0x24, 0x29, 0x41, 0xb5, 0xda, 0xb6, 0xfe, 0xd0, 0xd0, 0xce, 0xc4,
      0xd7, 0xd6, 0xa1, 0xa3, 0x0d, 0x0a, 0x33, 0x29, 0x20, 0x1b, 0x24, 0x29, 0x41, 0xb5, 0xda, 0xc8, 0xfd, 0xd0,
      0xd0, 0xce, 0xc4, 0xd7, 0xd6, 0xa1, 0xa3, 0x0d, 0x0a,
    ];
    assert.equal(decode('\\ISO 2022 IR 58', bytes(raw), 'LT'), '1) 第一行文字。\r\n2) 第二行文字。\r\n3) 第三行文字。\r\n');
  });

  it('ISO_IR 192 ignores code-extension values that follow it', () => {
    assert.equal(decode('ISO_IR 192\\ISO 2022 IR 100', bytes('Buc^J\xc3\xa9r\xc3\xb4me'), 'PN'), 'Buc^Jérôme');
  });
});

describe('decodeDicomText: single-byte character sets (Clunie / pydicom samples)', () => {
  const samples: ReadonlyArray<readonly [ir: number, text: string, raw: string]> = [
    [100, 'Buc^Jérôme', 'Buc^J\xe9r\xf4me'],
    [100, 'Äneas^Rüdiger', '\xc4neas^R\xfcdiger'],
    [101, 'Wałęsa', 'Wa\xb3\xeasa'],
    [109, 'antaŭnomo', 'anta\xfdnomo'],
    [110, 'vārds', 'v\xe0rds'],
    [144, 'Люкceмбypг', '\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3'],
    [127, 'قباني^لنزار', '\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1'],
    [126, 'Διονυσιος', '\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2'],
    [138, 'שרון^דבורה', '\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4'],
    [148, 'Çavuşoğlu', '\xc7avu\xfeo\xf0lu'],
    [166, 'นามสกุล', '\xb9\xd2\xc1\xca\xa1\xd8\xc5'],
  ];

  it('decodes each ISO_IR term without code extensions', () => {
    for (const [ir, text, raw] of samples) {
      assert.equal(decode(`ISO_IR ${ir}`, bytes(raw), 'PN'), text, `ISO_IR ${ir}`);
    }
  });

  it('decodes each ISO 2022 IR term as a code extension after ASCII', () => {
    const finals: Readonly<Record<number, string>> = {
      100: 'A', 101: 'B', 109: 'C', 110: 'D', 144: 'L', 127: 'G', 126: 'F', 138: 'H', 148: 'M', 166: 'T',
    };
    for (const [ir, text, raw] of samples) {
      const final = finals[ir];
      if (final === undefined) continue;
      // Re-designate after every '^' as the standard requires, as pydicom's ENCODED_NAMES do.
      const encoded = raw.split('^').map((part) => `\x1b-${final}${part}`).join('^');
      assert.equal(decode(`\\ISO 2022 IR ${ir}`, bytes('ASCII+', encoded), 'PN'), `ASCII+${text}`, `ISO 2022 IR ${ir}`);
    }
  });

  it('ISO_IR 203 (Latin-9) differs from Latin-1 where it should', () => {
    assert.equal(decode('ISO_IR 203', bytes('c\xbdur 5 \xa4 \xa6\xbe')), 'cœur 5 € ŠŸ');
    assert.equal(decode('ISO_IR 100', bytes('c\xbdur 5 \xa4 \xa6\xbe')), 'c½ur 5 ¤ ¦¾');
    assert.equal(decode('\\ISO 2022 IR 203', bytes('\x1b-b\xa4')), '€');
  });

  it('Latin-1 is exact ISO 8859-1: 0x80-0x9F are C1 controls, not windows-1252', () => {
    assert.equal(decode('ISO_IR 100', bytes('\x80\x9f\xa0\xff')), '\u0080\u009f\u00a0\u00ff');
  });

  it('Latin-5 uses ISO 8859-9 for 0x80-0x9F as well', () => {
    // WHATWG aliases iso-8859-9 to windows-1254, which would turn 0x80 into '€'.
    assert.equal(decode('ISO_IR 148', bytes('\x80\xd0\xdd\xfe')), '\u0080Ğİş');
  });

  it('switches sets mid-value with escape sequences', () => {
    assert.equal(
      decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('Dionysios is \x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2'), 'LO'),
      'Dionysios is Διονυσιος',
    );
    // Value 1 is the initial G1 when no escape is present.
    assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 144', bytes('R\xf6ntgenaufnahme'), 'LO'), 'Röntgenaufnahme');
  });
});

describe('decodeDicomText: state resets', () => {
  const threeValues = bytes(
    'Buc^J\xe9r\xf4me\\',
    '\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2\\',
    '\x1b-L\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3',
  );

  it('multi-valued text: each value after "\\" starts from value 1', () => {
    const charsets = 'ISO 2022 IR 100\\ISO 2022 IR 144\\ISO 2022 IR 126';
    assert.equal(decode(charsets, threeValues, 'LO'), 'Buc^Jérôme\\Διονυσιος\\Люкceмбypг');
    assert.equal(decode(charsets, threeValues, 'PN'), 'Buc^Jérôme\\Διονυσιος\\Люкceмбypг');
    // No escape after the delimiter: Latin-1 (value 1) again, not Greek.
    assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('\x1b-F\xc4\\\xc4'), 'LO'), 'Δ\\Ä');
    assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('\x1b-F\xc4\\\xc4')), 'Δ\\Ä');
  });

  it('single-valued free text (LT/ST/UT) treats "\\" as a character, not a reset', () => {
    for (const vr of ['LT', 'ST', 'UT']) {
      assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('\x1b-F\xc4\\\xc4'), vr), 'Δ\\Δ', vr);
    }
  });

  it('control characters (CR, LF, FF, TAB) reset every VR', () => {
    for (const control of ['\r', '\n', '\f', '\t']) {
      const raw = bytes(`\x1b-F\xc4${control}\xc4`);
      assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', raw, 'LT'), `Δ${control}Ä`, JSON.stringify(control));
      assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', raw, 'LO'), `Δ${control}Ä`, JSON.stringify(control));
    }
  });

  it('PN component groups ("=") and components ("^") restart in the initial state', () => {
    assert.equal(
      decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('Dionysios=\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2'), 'PN'),
      'Dionysios=Διονυσιος',
    );
    assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('\x1b-F\xc4=\xc4^\x1b-F\xc4^\xc4'), 'PN'), 'Δ=Ä^Δ^Ä');
    // pydicom's "missing escape after ^" case: the rest falls back to value 1's (absent) G1, i.e. Latin-1.
    assert.equal(
      decode('\\ISO 2022 IR 13', bytes('ASCII+\x1b\x29\x49\xd4\xcf\xc0\xde\x5e\xc0\xdb\xb3'), 'PN'),
      'ASCII+ﾔﾏﾀﾞ^ÀÛ³',
    );
    // Outside PN, '^' and '=' are ordinary characters.
    assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 126', bytes('\x1b-F\xc4=\xc4^\xc4'), 'LO'), 'Δ=Δ^Δ');
  });

  it('a two-byte G0 set is also left at the next line', () => {
    assert.equal(decode('\\ISO 2022 IR 87', bytes('\x1b$B;3\nA'), 'LT'), '山\nA');
  });
});

describe('decodeDicomText: robustness', () => {
  it('falls back to Latin-1 for unknown terms without throwing', () => {
    assert.equal(decode('ISO_IR 999', bytes('Buc^J\xe9r\xf4me'), 'PN'), 'Buc^Jérôme');
    assert.equal(decode('WINDOWS-1252', bytes('Buc^J\xe9r\xf4me'), 'PN'), 'Buc^Jérôme');
    // An unknown later value is ignored; value 1 still applies.
    assert.equal(decode('ISO 2022 IR 100\\ISO 2022 IR 146', bytes('Buc^J\xe9r\xf4me'), 'PN'), 'Buc^Jérôme');
    // Default repertoire with stray high bytes: Latin-1 too.
    assert.equal(decode('', bytes('J\xe9r\xf4me')), 'Jérôme');
  });

  it('accepts misspelled terms seen in the wild', () => {
    assert.equal(decode('ISO-IR 144', bytes('\xbb\xee\xda')), 'Люк');
    assert.equal(decode('iso_ir 192', bytes('J\xc3\xa9r\xc3\xb4me')), 'Jérôme');
    assert.equal(decode('ISO 2022 IR 100\\ISO_2022_IR+126', bytes('D=\x1b-F\xc4'), 'PN'), 'D=Δ');
  });

  it('UnsupportedCharsetError is available for strict callers', () => {
    const err = new UnsupportedCharsetError('ISO 2022 IR 146');
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'UNSUPPORTED_CHARSET');
    assert.equal(err.term, 'ISO 2022 IR 146');
    assert.equal(err.name, 'UnsupportedCharsetError');
    assert.match(err.message, /ISO 2022 IR 146/);
  });

  it('honours recognised escapes even when the set is undeclared, and drops unknown ones', () => {
    assert.equal(decode('ISO_IR 100', bytes('\x1b-F\xc4')), 'Δ');
    assert.equal(decode('ISO_IR 100', bytes('A\x1b%GB\xe9')), 'ABé'); // ESC % G is not a DICOM designation
    assert.equal(decode('ISO 2022 IR 100', bytes('A\x1b-')), 'A'); // truncated at the end
    assert.equal(decode('ISO 2022 IR 100', bytes('A\x1b-A')), 'A'); // value ends with an escape
  });

  it('handles empty and long values', () => {
    assert.equal(decode('ISO_IR 100', new Uint8Array(0)), '');
    assert.equal(decode('ISO 2022 IR 87', new Uint8Array(0)), '');
    const long = new Uint8Array(10_000).fill(0xe9);
    assert.equal(decode('ISO_IR 100', long), 'é'.repeat(10_000));
    const ascii = new Uint8Array(10_000).fill(0x41);
    assert.equal(decode('ISO_IR 192', ascii), 'A'.repeat(10_000));
  });

  it('keeps padding and NUL bytes for the caller to trim', () => {
    assert.equal(decode('ISO_IR 100', bytes('Jos\xe9 ')), 'José ');
    assert.equal(decode('', bytes('ABC\0')), 'ABC\0');
  });
});

describe('decodeDicomText: ASCII fast path', () => {
  it('pure ASCII never calls TextDecoder, whatever the charset', () => {
    const proto = TextDecoder.prototype;
    const original = proto.decode;
    let calls = 0;
    proto.decode = function (this: InstanceType<typeof TextDecoder>, ...args: Parameters<typeof original>) {
      calls++;
      return original.apply(this, args);
    };
    try {
      const raw = bytes('Doe^John=Smith\\CT HEAD W/O CONTRAST\r\n');
      for (const charsets of [
        '', 'ISO_IR 100', 'ISO_IR 192', 'GB18030', 'GBK', 'ISO_IR 126', '\\ISO 2022 IR 87',
        'ISO 2022 IR 13\\ISO 2022 IR 87', '\\ISO 2022 IR 149', '\\ISO 2022 IR 58', 'UNKNOWN',
      ]) {
        assert.equal(decode(charsets, raw, 'PN'), 'Doe^John=Smith\\CT HEAD W/O CONTRAST\r\n', charsets);
      }
      assert.equal(calls, 0);
      // Sanity check that the spy sees real decoding.
      assert.equal(decode('ISO_IR 192', bytes('\xc3\xa9')), 'é');
      assert.ok(calls > 0);
    } finally {
      proto.decode = original;
    }
  });
});
