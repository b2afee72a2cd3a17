/** The small pieces of core/report: de-identification rules, key-image annotations, PNG, CSV, person names, finding labels and review status. */
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Deidentifier } from '../../../../src/core/report/deidentify';
import { derivedUid, newUid } from '../../../../src/core/report/dicom-write';
import { encodePng } from '../../../../src/core/report/png';
import { captionFallbacks, compositeSlice, fitCaption, formatScale, keyImageCaption, renderKeyImage, scaleBarMm, wrapCaption } from '../../../../src/core/report/render';
import { drawText } from '../../../../src/core/report/font';
import { cosinesOfLetters, directionLetters } from '../../../../src/shared/orientation';
import { csvField } from '../../../../src/core/report/tabular';
import { patientPointText } from '../../../../src/core/report/context';
import { classCode, procedureCode } from '../../../../src/core/report/sr';
import { toPersonName } from '../../../../src/core/report/person-name';
import { draftReasons, findingLabels, reviewedFindings, reviewStatus } from '../../../../src/core/report/context';
import type { ReportContext } from '../../../../src/core/report/context';
import type { Finding } from '../../../../src/shared/analysis';
import { colormapLut } from '../../../../src/shared/colormap';

describe('de-identification', () => {
  it('maps a UID to the same new UID within an export and to another in the next export', () => {
    const a = new Deidentifier();
    const b = new Deidentifier();
    const u = '1.2.840.113619.2.55.3.1234';
    assert.equal(a.uid(u), a.uid(u));
    assert.notEqual(a.uid(u), b.uid(u));
    assert.match(a.uid(u), /^2\.25\.\d{1,39}$/);
    assert.ok(a.uid(u).length <= 64);
    const secret = new Uint8Array(32).fill(1);
    assert.equal(new Deidentifier({ secret }).uid(u), new Deidentifier({ secret }).uid(u), 'a shared secret links exports on purpose');
  });

  it('empties dates by default and shifts them with the Modified Dates option', () => {
    assert.equal(new Deidentifier().date('20200109'), '');
    const d = new Deidentifier({ dateShiftDays: -30 });
    assert.equal(d.date('20200109'), '20191210');
    assert.deepEqual(d.methodCodes().map((c) => c.value), ['113100', '113104', '113105', '113107']);
  });

  it('replaces names and IDs with pseudonyms and redacts them from free text', () => {
    const d = new Deidentifier();
    const name = d.patientName('山田^太郎');
    assert.match(name, /^ANONYMOUS\^[0-9A-F]{6}$/);
    assert.match(d.patientId('PID-12345'), /^ANON-[0-9A-F]{10}$/);
    assert.equal(d.redact('call 山田 about PID-12345'), 'call [redacted] about [redacted]');
    d.patientId('12');
    d.noteIdentifying('St Mary Hospital');
    assert.equal(d.redact('grew to 12 mm, seen at St Mary Hospital; first seen at st'), 'grew to 12 mm, seen at [redacted]; first seen at st', 'short numeric IDs and parts of institutions are not redacted');
  });

  it('redacts the parts of a name typed as people write it ("Sato, Hanako"), not only as DICOM does', () => {
    const d = new Deidentifier();
    d.notePersonName('Sato, Hanako');
    assert.equal(d.redact('asked Sato; Hanako agrees'), 'asked [redacted]; [redacted] agrees');
  });

  it('redacts a date from free text however it was typed, not only as DICOM writes it', () => {
    const d = new Deidentifier();
    d.noteDate('19610317');
    assert.equal(d.date('20190704'), '');
    assert.equal(
      d.redact('born 19610317 / 1961-03-17 / 17.03.1961 / 3/17/1961 / 1961年3月17日; scanned 2019-07-04 and 04/07/2019; 12 mm'),
      'born [redacted] / [redacted] / [redacted] / [redacted] / [redacted]; scanned [redacted] and [redacted]; 12 mm',
    );
    assert.equal(d.redact('2019-07-041 and 11961-03-17'), '2019-07-041 and 11961-03-17', 'not inside longer numbers');
    assert.equal(d.redact('born 17 Mar 1961, 17-MAR-1961, March 17, 1961, mar 17 1961; scanned Jul 4, 2019 and 04 July 2019'), 'born [redacted], [redacted], [redacted], [redacted]; scanned [redacted] and [redacted]');
  });

  it('says dates were shifted but never by how much (the offset would give the real dates back)', () => {
    const d = new Deidentifier({ dateShiftDays: -30 });
    assert.equal(d.methodText(), 'PS3.15 Basic Profile (ReSight), dates shifted');
    assert.equal(new Deidentifier().methodText(), 'PS3.15 Basic Profile (ReSight)');
  });

  it('replaces a UID in free text whole, never by the longest known UID it starts with', () => {
    const d = new Deidentifier();
    const slice1 = d.uid('1.2.392.778899.4.1');
    const slice11 = d.uid('1.2.392.778899.4.11');
    assert.equal(d.redact('see 1.2.392.778899.4.11 and 1.2.392.778899.4.1.'), `see ${slice11} and ${slice1}.`);
    // one the export does not reference is replaced too, consistently
    const other = d.redact('prior 1.2.840.99.7.123');
    assert.match(other, /^prior 2\.25\.\d+$/);
    assert.equal(d.redact('prior 1.2.840.99.7.123'), other);
    assert.equal(d.redact('12.5 mm, v2.4.1, 10.0.0.5'), '12.5 mm, v2.4.1, 10.0.0.5', 'decimals, versions and addresses are not UIDs');
  });

  it('replaces a UID whole even when an identifying value is one of its components', () => {
    const d = new Deidentifier();
    d.noteIdentifying('12345');
    assert.equal(d.redact('see 1.2.840.113619.2.12345.1, accession 12345'), `see ${d.uid('1.2.840.113619.2.12345.1')}, accession [redacted]`);
  });

  it('redacts the other people and codes of the source without taking ordinary words with them', () => {
    const d = new Deidentifier();
    d.noteOtherPeople('An^Li', 'Kato^Saburo');
    d.noteCodes('CT', 'MR1', 'Radiology', 'CT-ROOM-7', 'SN31337');
    assert.equal(
      d.redact('an irregular nodule on CT, MR1 next; An^Li and KATO; CT-ROOM-7, serial SN31337; radiology'),
      'an irregular nodule on CT, MR1 next; [redacted] and [redacted]; [redacted], serial [redacted]; radiology',
    );
  });

  it('redacts names in any script in any case (MÜLLER for Müller)', () => {
    const d = new Deidentifier();
    d.notePersonName('Müller^Jürgen');
    d.noteIdentifying('Klinikum Süd');
    assert.equal(d.redact('MÜLLER JÜRGEN, müller; KLINIKUM SÜD / klinikum süd'), '[redacted] [redacted], [redacted]; [redacted] / [redacted]');
    d.notePersonName('山田^太郎');
    assert.equal(d.redact('山田太郎さん'), '[redacted][redacted]さん');
  });

  it('refuses a date shift of 0 days (it would keep the real dates) and keeps the method text within LO', () => {
    assert.throws(() => new Deidentifier({ dateShiftDays: 0 }), RangeError);
    assert.throws(() => new Deidentifier({ dateShiftDays: 1.5 }), RangeError);
    assert.ok(new Deidentifier({ dateShiftDays: -36500 }).methodText().length <= 64);
    assert.equal(new Deidentifier().moment(new Date('2026-11-28T10:00:00Z')).toISOString(), '1900-01-01T00:00:00.000Z', 'the export date is a dummy');
  });
});

describe('a point in patient coordinates', () => {
  it('is the slice\'s position plus the pixel\'s steps along the row and column directions, with the side each sign means', () => {
    const axial = { sliceMeta: [{ position: [-200, -150, -13.6] as [number, number, number] }] };
    assert.equal(patientPointText(axial, 0, [100, 128], [1, 0, 0, 0, 1, 0], [0.78125, 0.78125]), 'R 121.9, A 50.0, I 13.6 mm');
    // a sagittal image (rows along y, columns down the body) with rectangular pixels: row spacing 2, column spacing 1
    const sagittal = { sliceMeta: [{ position: [50, -100, 100] as [number, number, number] }] };
    assert.equal(patientPointText(sagittal, 0, [10, 20], [0, 1, 0, 0, 0, -1], [2, 1]), 'L 50.0, A 90.0, S 60.0 mm');
    assert.equal(patientPointText({ sliceMeta: [{}] }, 0, [1, 1], [1, 0, 0, 0, 1, 0], [1, 1]), '', 'no position, no point');
  });
});

describe('key images', () => {
  it('names image directions from ImageOrientationPatient', () => {
    assert.equal(directionLetters([1, 0, 0]), 'L');
    assert.equal(directionLetters([-1, 0, 0]), 'R');
    assert.equal(directionLetters([0, 1, 0]), 'P');
    assert.equal(directionLetters([0, 0, -1]), 'F');
    assert.equal(directionLetters([0.8, 0, 0.6]), 'LH');
  });

  it('turns PatientOrientation letters back into directions that name the same letters (radiographs)', () => {
    // every valid combination: one letter per axis, up to three, any order
    const axes = [['L', 'R'], ['A', 'P'], ['H', 'F']];
    const combos: string[] = [];
    const walk = (prefix: string, used: number[]) => {
      if (prefix) combos.push(prefix);
      if (prefix.length === 3) return;
      axes.forEach((pair, k) => !used.includes(k) && pair.forEach((c) => walk(prefix + c, [...used, k])));
    };
    walk('', []);
    assert.equal(combos.length, 6 + 24 + 48);
    for (const letters of combos) assert.equal(directionLetters(cosinesOfLetters(letters)), letters);
    assert.equal(directionLetters(cosinesOfLetters('R').map((x) => -x)), 'L', 'the opposite edge');
  });

  it('picks a round scale bar about a fifth of the field of view, and labels the colour bar', () => {
    assert.equal(scaleBarMm(400), 50);
    assert.equal(scaleBarMm(240), 20);
    assert.equal(formatScale(0.0312), '0.031');
    assert.equal(formatScale(45.2), '45');
  });

  it('composites the heatmap above the threshold only, with the shared colour map', () => {
    const values = new Float32Array([-1000, 40, 40, 3000]);
    const heat = new Float32Array([0, 0.1, 1, 1]);
    const img = compositeSlice({ rows: 2, columns: 2, values, window: { center: 40, width: 400 }, heat, overlay: { colormap: 'jet', opacity: 1, threshold: 0.2 } });
    assert.deepEqual([...img.rgb.subarray(0, 3)], [0, 0, 0], 'air is black in a soft-tissue window');
    assert.deepEqual([...img.rgb.subarray(3, 6)], [128, 128, 128], 'below the threshold: grey only');
    const lut = colormapLut('jet');
    assert.deepEqual([...img.rgb.subarray(6, 9)], [...lut.subarray(765, 768)], 'at opacity 1 the colour map itself');
    const annotated = renderKeyImage({ rows: 64, columns: 64, values: new Float32Array(64 * 64), window: { center: 40, width: 400 }, heat: null, pixelSpacing: [1, 1], imageOrientationPatient: [1, 0, 0, 0, 1, 0] });
    assert.ok(annotated.rgb.some((v) => v === 255), 'annotations are drawn');
  });

  it('the AI caption names the label, class and score, wraps at spaces, and says not for diagnosis', () => {
    assert.equal(keyImageCaption('F1', 'lung_nodule', 0.99836), 'RESIGHT AI F1 LUNG NODULE P 0.998 -\nNOT FOR DIAGNOSIS');
    assert.equal(keyImageCaption('F5', 'lung_nodule', undefined), 'RESIGHT AI F5 LUNG NODULE -\nNOT FOR DIAGNOSIS', 'no score');
    assert.equal(keyImageCaption('F4', 'lung_nodule', 0.404, 'pending'), 'RESIGHT AI F4 LUNG NODULE P 0.404 -\nNOT REVIEWED -\nNOT FOR DIAGNOSIS', 'a finding nobody reviewed says so');
    assert.equal(keyImageCaption('F1', 'liver_lesion', 0.98, 'accepted'), 'RESIGHT AI F1 LIVER LESION P 0.980 -\nACCEPTED BY REVIEWER -\nNOT FOR DIAGNOSIS');
    assert.equal(keyImageCaption('F5', 'lung_nodule', undefined, 'added'), 'RESIGHT F5 LUNG NODULE -\nADDED BY REVIEWER -\nNOT FOR DIAGNOSIS', 'the reviewer\'s own finding is not called the AI\'s');
    assert.deepEqual(wrapCaption('RESIGHT AI F1 LUNG NODULE P 0.998 -\nNOT FOR DIAGNOSIS', 1000, 1), ['RESIGHT AI F1 LUNG NODULE P 0.998 -', 'NOT FOR DIAGNOSIS']);
    assert.deepEqual(wrapCaption('RESIGHT AI F1 LUNG', 6 * 10, 1), ['RESIGHT AI', 'F1 LUNG']);
    const plain = { rows: 256, columns: 256, values: new Float32Array(256 * 256), window: { center: 40, width: 400 }, heat: null };
    const a = renderKeyImage(plain).rgb;
    const b = renderKeyImage({ ...plain, caption: keyImageCaption('F1', 'lung_nodule', 0.5) }).rgb;
    let changed = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++;
    assert.ok(changed > 300, 'the caption is burned in');
  });

  it('on a small image the shorter caption still says where the review stands and whose finding it is', () => {
    for (const [w, h] of [[384, 384], [256, 192], [128, 128]] as const) {
      const rejected = fitCaption(w, h, [keyImageCaption('F2', 'liver_lesion', 0.29, 'rejected'), ...captionFallbacks('rejected')]);
      assert.match(rejected?.text ?? '', /REJECTED/, `${w} x ${h}: ${rejected?.text}`);
      const added = fitCaption(w, h, [keyImageCaption('F5', 'lung_nodule', undefined, 'added'), ...captionFallbacks('added')]);
      assert.match(added?.text ?? '', /ADDED/, `${w} x ${h}`);
      assert.doesNotMatch(added?.text ?? '', /\bAI\b/, 'never the AI\'s');
    }
  });

  it('on a small image the caption is shorter, never cut at the edge or drawn over the top letter, and starts below the letter\'s row', () => {
    for (const side of [64, 96, 128, 160, 192, 512]) {
      const plain = { rows: side, columns: side, values: new Float32Array(side * side), window: { center: 40, width: 400 }, heat: null, imageOrientationPatient: [1, 0, 0, 0, 1, 0] };
      const a = renderKeyImage(plain);
      const b = renderKeyImage({ ...plain, caption: keyImageCaption('F1', 'lung_nodule', 0.5) });
      // the caption's pixels: where the two differ
      let maxX = -1;
      let maxY = -1;
      let minY = side;
      for (let i = 0; i < a.rgb.length; i += 3) {
        if (a.rgb[i] === b.rgb[i] && a.rgb[i + 1] === b.rgb[i + 1] && a.rgb[i + 2] === b.rgb[i + 2]) continue;
        maxX = Math.max(maxX, (i / 3) % side);
        maxY = Math.max(maxY, Math.floor(i / 3 / side));
        minY = Math.min(minY, Math.floor(i / 3 / side));
      }
      // the top letter's lowest row: where the plain image has white at the top centre
      let letterBottom = -1;
      for (let y = 0; y < side / 4; y++) for (let x = Math.floor(side / 2) - 8; x < side / 2 + 8; x++) if (a.rgb[(y * side + x) * 3] === 255) letterBottom = y;
      assert.ok(letterBottom > 0, `${side} px: the top letter is drawn`);
      assert.ok(maxX >= 0, `${side} px: a caption is drawn`);
      // the top letter is centred: the caption stays left of it, with room, below its row (so the
      // letter does not read as the caption's next word), and in the top third
      assert.ok(maxX < side / 2 - 4, `${side} px: the caption reaches x ${maxX}, into the top letter`);
      assert.ok(minY > letterBottom, `${side} px: the caption starts at row ${minY}, on the top letter's row (to ${letterBottom})`);
      assert.ok(maxY < side / 3, `${side} px: the caption reaches row ${maxY}`);
    }
  });

  it('the scale bar says mm in lower case (the font has an m), other text in capitals', () => {
    const draw = (t: string) => {
      const rgb = new Uint8Array(40 * 12 * 3);
      drawText(rgb, 40, 12, t, 1, 1, 1);
      return Buffer.from(rgb);
    };
    assert.notDeepEqual(draw('50 mm'), draw('50 MM'));
    assert.deepEqual(draw('ab'), draw('AB'), 'letters without a lower-case glyph are drawn as capitals');
  });

  it('a MONOCHROME1 key image is shown inverted (lowest value white), as the viewer shows it', () => {
    const values = new Float32Array([-1000, 3000]);
    const plain = compositeSlice({ rows: 1, columns: 2, values, window: { center: 40, width: 400 }, heat: null });
    const inverted = compositeSlice({ rows: 1, columns: 2, values, window: { center: 40, width: 400 }, heat: null, invert: true });
    assert.deepEqual([...plain.rgb], [0, 0, 0, 255, 255, 255]);
    assert.deepEqual([...inverted.rgb], [255, 255, 255, 0, 0, 0]);
  });

  it('encodes a valid PNG whose pixels are the image', () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
    const png = Buffer.from(encodePng({ width: 2, height: 2, rgb }));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idat = png.indexOf('IDAT');
    const len = png.readUInt32BE(idat - 4);
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + len));
    assert.deepEqual([...raw], [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 9, 9, 9]);
  });
});

describe('identifiers and text', () => {
  it('makes 2.25 UIDs', () => {
    assert.match(newUid(), /^2\.25\.\d+$/);
    assert.equal(derivedUid('a', 'b'), derivedUid('a', 'b'));
    assert.notEqual(derivedUid('a', 'b'), derivedUid('ab'));
  });

  it('quotes CSV fields per RFC 4180', () => {
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField(null), '');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`, 'formulas are shown, not run');
    assert.equal(classCode('lung_nodule').value, 'LUNG_NODULE');
    const a = classCode('ground_glass_opacity_solid').value;
    const b = classCode('ground_glass_opacity_mixed').value;
    assert.notEqual(a, b, 'long names keep distinct codes');
    assert.ok(a.length <= 16 && b.length <= 16);
    assert.notEqual(classCode('肺結節').value, classCode('肝病変').value, 'non-ASCII names too');
  });

  it('the SR names the procedure by the series\' modality, never CT for an MR', () => {
    assert.deepEqual(procedureCode('CT'), { value: '77477000', scheme: 'SCT', meaning: 'Computed Tomography' });
    assert.deepEqual(procedureCode('MR'), { value: '113091000', scheme: 'SCT', meaning: 'Magnetic Resonance Imaging' });
    assert.deepEqual(procedureCode('US'), { value: 'US', scheme: 'DCM', meaning: 'Ultrasound' });
    assert.deepEqual(procedureCode('XYZ'), { value: 'OT', scheme: 'DCM', meaning: 'Other' });
  });
});

describe('person names as people type them, made DICOM PN', () => {
  it('given name first, family name last (Western order): Family^Given', () => {
    assert.equal(toPersonName('Hanako Sato'), 'Sato^Hanako');
    assert.equal(toPersonName('  Hanako   Sato '), 'Sato^Hanako', 'spaces collapsed and trimmed');
    assert.equal(toPersonName('John Robert Adams'), 'Adams^John Robert', 'several given names stay in the given component');
  });

  it('the comma form: family name, then given names', () => {
    assert.equal(toPersonName('Sato, Hanako'), 'Sato^Hanako');
    assert.equal(toPersonName('Sato,Hanako'), 'Sato^Hanako');
    assert.equal(toPersonName('van Beethoven, Ludwig'), 'van Beethoven^Ludwig', 'a family name of several words');
    assert.equal(toPersonName('Sato, Hanako, MD'), 'Sato^Hanako^^^MD', 'after a second comma: the suffix');
    assert.equal(toPersonName('Sato, Dr Hanako'), 'Sato^Hanako^^Dr');
    assert.equal(toPersonName('Sato,'), 'Sato');
  });

  it('keeps what is typed in PN form already (carets, component groups)', () => {
    assert.equal(toPersonName('Sato^Hanako'), 'Sato^Hanako');
    assert.equal(toPersonName('Sato ^ Hanako '), 'Sato^Hanako', 'spaces around the carets trimmed');
    assert.equal(toPersonName('Adams^John Robert Quincy^^Rev.^B.A. M.Div.'), 'Adams^John Robert Quincy^^Rev.^B.A. M.Div.');
    assert.equal(toPersonName('Yamada^Tarou=山田^太郎=やまだ^たろう'), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
    assert.equal(toPersonName('佐藤^花子'), '佐藤^花子');
  });

  it('Japanese, Chinese and Korean names are family name first', () => {
    assert.equal(toPersonName('佐藤 花子'), '佐藤^花子');
    assert.equal(toPersonName('佐藤\u3000花子'), '佐藤^花子', 'an ideographic space');
    assert.equal(toPersonName('佐藤花子'), '佐藤花子', 'no space: one component');
    assert.equal(toPersonName('김 민준'), '김^민준');
  });

  it('honorifics, generations and degrees go into the prefix and suffix components', () => {
    assert.equal(toPersonName('Dr Hanako Sato'), 'Sato^Hanako^^Dr');
    assert.equal(toPersonName('Dr. Hanako Sato'), 'Sato^Hanako^^Dr.');
    assert.equal(toPersonName('Prof Hanako Sato MD'), 'Sato^Hanako^^Prof^MD');
    assert.equal(toPersonName('John Smith Jr.'), 'Smith^John^^^Jr.');
    assert.equal(toPersonName('Dr Test'), 'Test^^^Dr');
    assert.equal(toPersonName('Dr'), 'Dr', 'a lone word is a name, whatever it looks like');
  });

  it('a single word is the family name; blank is empty; what a PN cannot hold becomes a space', () => {
    assert.equal(toPersonName('Sato'), 'Sato');
    assert.equal(toPersonName(''), '');
    assert.equal(toPersonName('   '), '');
    assert.equal(toPersonName('Hanako\\Sato'), 'Sato^Hanako', 'a backslash would split the value in two');
    assert.equal(toPersonName('Hanako\tSato\n'), 'Sato^Hanako');
  });

  it('always a valid PN: at most 5 components and 3 groups, no trailing carets, 64 characters a group', () => {
    assert.equal(toPersonName('a^b^c^d^e^f'), 'a^b^c^d^e f', 'a sixth component joins the fifth');
    assert.equal(toPersonName('Sato^Hanako^^^^'), 'Sato^Hanako', 'trailing empty components dropped');
    assert.equal(toPersonName('A=B=C=D'), 'A=B=C', 'a fourth group dropped');
    const long = toPersonName('Maria Fernanda Guadalupe Hernandez Rodriguez de la Santisima Trinidad');
    assert.ok(long.length <= 64, `${long.length} characters`);
    assert.match(long, /^Trinidad\^Maria/, 'given names shortened first, the family name kept');
    assert.ok(toPersonName('x'.repeat(100)).length === 64, 'one long word is cut');
    for (const v of ['a^b^c^d^e^f', 'A=B=C=D', 'Sato^Hanako^^^^', 'x'.repeat(100)]) {
      const pn = toPersonName(v);
      assert.ok(pn.split('=').length <= 3 && pn.split('=').every((g) => g.split('^').length <= 5 && g.length <= 64 && !g.endsWith('^')), `${v} -> ${pn}`);
    }
  });

  it('an empty part of the comma form is skipped: "Sato, ,Hanako" is Sato^Hanako', () => {
    assert.equal(toPersonName('Sato, ,Hanako'), 'Sato^Hanako');
  });
});

describe('finding labels and review status', () => {
  const finding = (cls: string, a: number, b: number): Finding => ({ id: `${cls}:${a}-${b}`, class: cls, sliceStart: a, sliceEnd: b, keySlice: a, score: 0.9, threshold: 0.5, keySopInstanceUid: '1.2.3', centroid: null }) as Finding;
  const base = (over: Partial<ReportContext> = {}): ReportContext =>
    ({
      series: { seriesInstanceUid: '1.2.3.4', modality: 'CT' },
      analysis: { findings: [finding('lung_nodule', 30, 32), finding('liver_lesion', 7, 20), finding('lung_nodule', 7, 7)] },
      reviews: [],
      added: [{ id: 'added:lung_nodule:3', class: 'lung_nodule', sliceStart: 3, sliceEnd: 3 }],
      reviewer: 'Hanako Sato',
      ...over,
    }) as unknown as ReportContext;

  it('labels findings F1, F2, ... in slice order, then the reviewer\'s', () => {
    assert.deepEqual([...findingLabels(base())], [
      ['liver_lesion:7-20', 'F1'],
      ['lung_nodule:7-7', 'F2'],
      ['lung_nodule:30-32', 'F3'],
      ['added:lung_nodule:3', 'F4'],
    ]);
  });

  it('labels them from the head down on an axial stack read head to feet (readingStep -1), as the viewer lists them', () => {
    const ctx = base({ series: { seriesInstanceUid: '1.2.3.4', modality: 'CT', readingStep: -1 } });
    assert.deepEqual([...findingLabels(ctx)], [
      ['lung_nodule:30-32', 'F1'],
      ['liver_lesion:7-20', 'F2'],
      ['lung_nodule:7-7', 'F3'],
      ['added:lung_nodule:3', 'F4'],
    ]);
    assert.deepEqual(reviewedFindings(ctx).map((x) => x.finding.id), ['lung_nodule:30-32', 'liver_lesion:7-20', 'lung_nodule:7-7'], 'the report lists them in that order');
  });

  it('counts a finding left at pending as not reviewed, and says what keeps the report a draft', () => {
    const at = '2026-11-28T10:00:00Z';
    const ctx = base({ reviews: [{ findingId: 'liver_lesion:7-20', decision: 'accepted', at }, { findingId: 'lung_nodule:7-7', decision: 'pending', at }] });
    const st = reviewStatus(ctx);
    assert.deepEqual(st, { findings: 3, pending: ['F2', 'F3'], signOff: 'none', reviewer: 'named' });
    assert.deepEqual(draftReasons(st), ['not signed off in the viewer', '2 of 3 AI findings not reviewed (F2, F3)']);
    assert.deepEqual(draftReasons(reviewStatus(base({ reviewer: undefined, signOff: { at, current: false } }))), [
      'the review changed after the sign-off in the viewer (a decision, the impression or a measurement)',
      '3 of 3 AI findings not reviewed (F1, F2, F3)',
      'no reviewer named',
    ]);
    const deid = base({ reviewer: undefined, deidentified: { methodText: 'x', methodCodes: [] }, signOff: { at, current: true }, reviews: ['liver_lesion:7-20', 'lung_nodule:7-7', 'lung_nodule:30-32'].map((findingId) => ({ findingId, decision: 'rejected' as const, at })) });
    assert.deepEqual(reviewStatus(deid), { findings: 3, pending: [], signOff: 'current', reviewer: 'withheld' });
    assert.deepEqual(draftReasons(reviewStatus(deid)), [], 'signed off, all reviewed, the name withheld on purpose: final');
  });

  it('a reviewer "name" that makes no DICOM name (only commas or backslashes) names nobody: a draft reason', () => {
    assert.equal(reviewStatus(base({ reviewer: ',' })).reviewer, 'none');
    assert.equal(reviewStatus(base({ reviewer: ' \\ ' })).reviewer, 'none');
  });
});
