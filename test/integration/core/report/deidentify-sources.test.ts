/**
 * A de-identified export redacts from the reviewer's free text the identifying values of the
 * source files that no output shows (operators, physicians, other IDs, the device's serial, the
 * station, addresses), in any case, as it redacts the patient's name.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { dispatch } from '../../../../src/core/session/dispatch';
import { Session } from '../../../../src/core/session/session';
import { explicitElement, withElementsBeforePixelData } from '../../../helpers/dicom-bytes';
import { DEMO } from '../../../helpers/session';
import { tempDir } from '../../../helpers/tmp';

const SOURCE_VALUES: [number, number, string, string][] = [
  [0x0008, 0x1070, 'PN', 'Kato^Saburo'],
  [0x0008, 0x1050, 'PN', 'Tanaka^Jiro'],
  [0x0010, 0x1000, 'LO', 'OPID-5566'],
  [0x0018, 0x1000, 'LO', 'SN-XYZ-31337'],
  [0x0008, 0x1010, 'SH', 'CT-ROOM-7'],
  [0x0008, 0x0081, 'ST', '1 Example Street'],
];

describe('de-identification and the source files\' other identifying values', () => {
  it('redacts operators, physicians, other IDs, the device serial, the station and the address from comments', { timeout: 180_000 }, async (t) => {
    const root = tempDir(t, 'deid-sources');
    const study = path.join(root, 'study');
    fs.mkdirSync(study);
    const even = (v: string) => Buffer.from(v.length % 2 ? `${v} ` : v, 'latin1');
    for (const f of fs.readdirSync(DEMO).filter((n) => n.endsWith('.dcm'))) {
      const els = SOURCE_VALUES.map(([g, e, vr, v]) => explicitElement(g, e, vr, even(v)));
      fs.writeFileSync(path.join(study, f), withElementsBeforePixelData(fs.readFileSync(path.join(DEMO, f)), els));
    }
    const s = new Session({ cacheDir: null, audit: null, exportDir: path.join(root, 'exports'), sliceUrl: (id) => `/s/${id}/{i}` });
    t.after(() => s.dispose());
    s.grant([study]);
    const seriesId = (await s.open({ paths: [study] })).studies[0]?.series[0]?.id as string;
    const ended = new Promise<string>((resolve) => s.onEvent((e) => (e === 'analysis.done' || e === 'analysis.failed') && resolve(e)));
    s.startAnalysis({ seriesId });
    assert.equal(await ended, 'analysis.done');
    const finding = s.getAnalysis({ seriesId }).analysis?.findings[0];
    assert.ok(finding);
    const comment = 'KATO scanned it, Dr tanaka read it; old ID opid-5566, scanner SN-XYZ-31337 in CT-ROOM-7 at 1 Example Street';
    assert.ok((await dispatch(s, 'review.set', { seriesId, findingId: finding.id, decision: 'edited', comment })).ok);
    const r = await s.exportReport({ seriesId, formats: ['json'], deidentify: true });
    const json = fs.readFileSync(path.join(root, 'exports', r.folder, r.files[0]?.name as string), 'utf8');
    const kept = (JSON.parse(json) as { series: { reviews: { comment?: string }[] }[] }).series[0]?.reviews[0]?.comment;
    assert.equal(kept, '[redacted] scanned it, Dr [redacted] read it; old ID [redacted], scanner [redacted] in [redacted] at [redacted]');
    for (const [, , , v] of SOURCE_VALUES) for (const part of v.split('^')) assert.ok(!json.toLowerCase().includes(part.toLowerCase()), part);
  });
});
