/// <reference lib="dom" />
/**
 * The export dialog says where the review stands before it writes anything, and the documents
 * say the same: Debian's Chromium (headless) driven by playwright-core against `resight serve
 * resources/demo` and the real engine, as test/e2e/viewer.test.ts starts them. With nothing
 * decided, the dialog counts the findings not reviewed (pending), says the series is not signed
 * off and no reviewer is named, and that the export is a draft the PDF and SR will call one; the
 * PDF written then carries that DRAFT line. Once every finding is decided and the series signed
 * off, and a reviewer named the way people write names ("Hanako Sato"), it says so and the PDF is
 * no draft, and the SR names the reviewer in DICOM PN form (Sato^Hanako); the impression typed
 * before Sign off is saved first and reaches the PDF and the SR. A decision changed after the
 * sign-off makes it stale, and the dialog says that too; in Japanese as well.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureCliBuilt } from '../helpers/cli';
import { ensureRendererBuilt, launchViewer, noChromium, saveShot, signOffAnyway, stopServer } from '../helpers/viewer';
import { tempDir } from '../helpers/tmp';
import { decodePart10 } from '../../src/core/report/dicom-write';
import type { NaturalDataset } from '../../src/core/report/dicom-write';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = noChromium || (!has('pdftotext') && 'poppler-utils not installed');

let server: ChildProcess;
let data = '';
let url = '';
let browser: Browser;
let page: Page;

const shot = (name: string) => saveShot(page, name);

/** `resight serve <root>` with its own cache and data folders, and Chromium on its page. */
async function startViewer(root: string, dataDir: string, cache: string): Promise<void> {
  ({ server, url, browser, page } = await launchViewer(root, dataDir, cache));
}

/** Run the export as the dialog stands; the folder it wrote (under the data folder's exports). */
async function exportNow(): Promise<string> {
  await page.click('[data-testid=export-run]');
  await page.waitForSelector('[data-testid=export-result]', { timeout: 80_000 });
  const folder = /export folder (\S+)/.exec(await page.locator('[data-testid=export-result] p').first().innerText())?.[1] ?? '';
  assert.ok(folder, 'the dialog names the export folder');
  return path.join(data, 'exports', folder);
}

/** Close the dialog with its Close button (beside Export) and wait until it is gone: reopened, it reads the review afresh. */
async function closeExport(): Promise<void> {
  await page.locator('[data-testid=export-run]').locator('xpath=following-sibling::button').click();
  await page.locator('[data-testid=export-review-status]').waitFor({ state: 'detached' });
}

const pdfText = (file: string) => spawnSync('pdftotext', [file, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');

/** The review-status block and the Export button: the block comes first. */
async function statusBeforeButton(): Promise<boolean> {
  return page.evaluate(() => {
    const status = document.querySelector('[data-testid=export-review-status]');
    const run = document.querySelector('[data-testid=export-run]');
    return !!status && !!run && (status.compareDocumentPosition(run) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  });
}

describe('the export dialog says where the review stands, and the documents agree (e2e)', { skip }, () => {
  let findings = 0;
  before(
    async () => {
      await ensureCliBuilt();
      ensureRendererBuilt();
      data = tempDir({ after }, 'e2e-export-data');
      await startViewer('resources/demo', data, tempDir({ after }, 'e2e-export-cache'));
      await page.goto(url);
      await page.waitForSelector('[data-testid=series-item]');
      await page.waitForFunction(() => /\d+ \/ 45/.test(document.querySelector('[data-testid=corner-bl]')?.textContent ?? ''));
      await page.click('[data-testid=analyze]');
      await page.waitForSelector('[data-testid=finding]', { timeout: 110_000 });
      findings = await page.locator('[data-testid=finding]').count();
    },
    { timeout: 180_000 },
  );
  after(async () => {
    await browser?.close();
    await stopServer(server);
  });

  it('with nothing decided: the findings not reviewed, no sign-off, no reviewer, a draft; the PDF says DRAFT', { timeout: 120_000 }, async () => {
    assert.ok(findings >= 2, 'the demo has findings to review');
    await page.click('[data-testid=export-button]');
    const status = page.locator('[data-testid=export-review-status]');
    await status.waitFor();
    assert.equal(await page.locator('[data-testid=export-reviewer]').getAttribute('placeholder'), 'Hanako Sato', 'a name as people write it, not DICOM\'s caret form');
    assert.match(await page.locator('[data-testid=export-status-findings]').innerText(), new RegExp(`^${findings} of ${findings} AI findings not reviewed yet \\(pending\\): F1 lung nodule slices 6–8, F2 `), 'labelled from the head down, as the panel lists them');
    assert.equal(await page.locator('[data-testid=export-status-signoff]').innerText(), 'The series is not signed off.');
    assert.equal(await page.locator('[data-testid=export-status-reviewer]').innerText(), 'No reviewer named.');
    assert.match(await page.locator('[data-testid=export-status-draft]').innerText(), /as a draft: the PDF report and the SR say so/);
    assert.equal(await status.getAttribute('data-draft'), 'true');
    assert.ok(await statusBeforeButton(), 'said before the Export button');
    // choosing none of the documents that state it: the dialog does not promise they will
    for (const f of ['pdf', 'sr', 'sc']) await page.uncheck(`[data-testid=export-${f}]`);
    await page.check('[data-testid=export-json]');
    assert.match(await page.locator('[data-testid=export-status-draft]').innerText(), /the formats chosen do not say so/);
    await page.uncheck('[data-testid=export-json]');
    for (const f of ['pdf', 'sr']) await page.check(`[data-testid=export-${f}]`);
    await shot('export-dialog-draft');
    const dir = await exportNow();
    const text = pdfText(path.join(dir, 'report.pdf'));
    assert.match(text, new RegExp(`DRAFT - not signed off in the viewer; ${findings} of ${findings} AI findings not reviewed \\(F1, .*F${findings}\\); no reviewer named\\.`), 'the PDF says what the dialog said');
    const sr = decodePart10(fs.readFileSync(path.join(dir, 'report-sr.dcm')));
    const statusText = (sr.ContentSequence as NaturalDataset[]).find((c) => (c.ConceptNameCodeSequence as NaturalDataset[] | undefined)?.[0]?.CodeValue === 'REVSTATUS')?.TextValue;
    assert.match(String(statusText), /^Draft: not signed off in the viewer; /, 'and so does the SR');
    await closeExport();
  });

  it('every finding decided, signed off, a reviewer named: no draft, and the SR names the reviewer Family^Given', { timeout: 120_000 }, async () => {
    const rows = page.locator('[data-testid=finding]');
    for (let i = 0; i < findings; i++) await rows.nth(i).locator(i % 2 ? '[data-testid=reject]' : '[data-testid=accept]').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=finding].accepted, [data-testid=finding].rejected').length === n, findings);
    // the impression typed but not saved: Sign off saves it first, so it is part of what is signed off
    await page.fill('[data-testid=impression]', 'Nodule F1: CT follow-up in 3 months.\nLiver: no further action.');
    assert.equal(await page.locator('[data-testid=impression-state]').innerText(), 'Not saved yet');
    // the reviewer names themself beside Sign off: the sign-off records it, the export dialog shows it
    await page.fill('[data-testid=signoff-reviewer]', 'Hanako Sato');
    // slices not yet viewed: the panel asks first, and the reviewer signs off anyway
    await signOffAnyway(page);
    assert.match(await page.locator('[data-testid=signoff-status]').innerText(), /\(by Hanako Sato\)|by Hanako Sato/);
    assert.equal(await page.locator('[data-testid=impression-state]').innerText(), 'Saved');
    await page.click('[data-testid=export-button]');
    const status = page.locator('[data-testid=export-review-status]');
    await status.waitFor();
    assert.equal(await page.locator('[data-testid=export-reviewer]').inputValue(), 'Hanako Sato', 'the same name, typed once');
    assert.equal(await page.locator('[data-testid=export-status-findings]').innerText(), `All ${findings} AI findings reviewed.`);
    // good news, not in the warning's colour
    assert.equal(await page.locator('[data-testid=export-status-findings]').getAttribute('class'), 'good');
    assert.match(await page.locator('[data-testid=export-status-signoff]').innerText(), /^Signed off at .+\.$/);
    assert.equal(await page.locator('[data-testid=export-status-reviewer]').count(), 0);
    assert.equal(await page.locator('[data-testid=export-status-draft]').count(), 0, 'nothing to call a draft');
    assert.equal(await status.getAttribute('data-draft'), 'false');
    await shot('export-dialog-final');
    const dir = await exportNow();
    const text = pdfText(path.join(dir, 'report.pdf'));
    assert.doesNotMatch(text, /DRAFT|not reviewed/);
    const layout = spawnSync('pdftotext', ['-layout', path.join(dir, 'report.pdf'), '-'], { encoding: 'utf8' }).stdout;
    assert.match(layout, /^Reviewer\s+Hanako Sato$/m, 'the name as typed');
    assert.match(layout, /^Review\s+signed off in the viewer at .+ by Hanako Sato$/m, 'the sign-off carries the name, not "no name was recorded"');
    assert.match(text, /Impression \(reviewer\) Nodule F1: CT follow-up in 3 months\. Liver: no further action\./, 'the impression, saved before the sign-off, is in the signed-off PDF');
    const sr = decodePart10(fs.readFileSync(path.join(dir, 'report-sr.dcm')));
    const person = (sr.ContentSequence as NaturalDataset[]).find((c) => c.ValueType === 'PNAME')?.PersonName;
    const pn = Array.isArray(person) ? person[0] : person;
    assert.equal(typeof pn === 'string' ? pn : (pn as { Alphabetic?: string } | undefined)?.Alphabetic, 'Sato^Hanako', 'Person Observer Name in DICOM PN form');
    const impression = (sr.ContentSequence as NaturalDataset[]).find((c) => (c.ConceptNameCodeSequence as NaturalDataset[] | undefined)?.[0]?.CodeValue === '121073')?.TextValue;
    assert.equal(String(impression).replace(/\r\n/g, '\n'), 'Nodule F1: CT follow-up in 3 months.\nLiver: no further action.', 'the SR carries it as TEXT Impression');
    await closeExport();
  });

  it('a measurement drawn after the sign-off makes it stale too: the report would list what was not signed off', { timeout: 60_000 }, async () => {
    assert.equal(await page.locator('[data-testid=signoff-status]').getAttribute('data-current'), 'true');
    await page.click('[data-testid=tool-length]');
    const box = await page.locator('[data-testid=viewport-canvas]').boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 4 });
    await page.mouse.up();
    await page.locator('[data-testid=measurement]').first().waitFor();
    await page.waitForSelector('[data-testid=signoff-status][data-current=false]');
    // signed off again, with the measurement: current
    await signOffAnyway(page);
    await page.locator('[data-testid=measurement-delete]').first().click();
    await page.waitForSelector('[data-testid=signoff-status][data-current=false]');
    await signOffAnyway(page);
    await page.click('[data-testid=tool-wl]');
  });

  it('an impression edited and then left (for the export, another series) is saved, not left in the box while the report takes the old one', { timeout: 60_000 }, async () => {
    assert.equal(await page.locator('[data-testid=signoff-status]').getAttribute('data-current'), 'true');
    await page.locator('[data-testid=impression]').click();
    await page.keyboard.press('End');
    await page.keyboard.type(' Reviewed with the prior.');
    assert.equal(await page.locator('[data-testid=impression-state]').innerText(), 'Not saved yet');
    await page.click('[data-testid=export-button]');
    await page.locator('[data-testid=export-review-status]').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=impression-state]')?.textContent === 'Saved');
    // a changed impression is a changed review: the sign-off no longer holds, and the dialog says so
    await page.waitForSelector('[data-testid=signoff-status][data-current=false]');
    await closeExport();
    await page.click('[data-testid=export-button]');
    assert.match(await page.locator('[data-testid=export-status-signoff]').innerText(), /but the review changed since/);
    await closeExport();
    await signOffAnyway(page);
    // the sign-off says who signed: the name typed in the export dialog before
    assert.match(await page.locator('[data-testid=signoff-status]').innerText(), /^Signed off at .+ \(by Hanako Sato\)$/);
  });

  it('a decision changed after the sign-off: the dialog says the sign-off no longer holds, in English and Japanese', { timeout: 60_000 }, async () => {
    await page.locator('[data-testid=finding]').nth(0).locator('[data-testid=reject]').click();
    await page.waitForSelector('[data-testid=signoff-status][data-current=false]');
    await page.click('[data-testid=export-button]');
    await page.locator('[data-testid=export-review-status]').waitFor();
    assert.match(await page.locator('[data-testid=export-status-signoff]').innerText(), /^Signed off at .+, but the review changed since \(a decision, the impression or a measurement\): not signed off as it stands\.$/);
    assert.equal(await page.locator('[data-testid=export-review-status]').getAttribute('data-draft'), 'true');
    await closeExport();
    await page.selectOption('[data-testid=language]', 'ja');
    try {
      await page.click('[data-testid=export-button]');
      await page.locator('[data-testid=export-review-status]').waitFor();
      assert.equal(await page.locator('[data-testid=export-reviewer]').getAttribute('placeholder'), '佐藤 花子');
      assert.equal(await page.locator('[data-testid=export-status-findings]').innerText(), `${findings} 件の AI 所見はすべて確認済みです。`);
      assert.match(await page.locator('[data-testid=export-status-signoff]').innerText(), /に確定しましたが、その後読影内容（判定・所見のまとめ・計測）が変更されています/);
      assert.match(await page.locator('[data-testid=export-status-draft]').innerText(), /下書き/);
      await shot('export-dialog-ja');
      await closeExport();
    } finally {
      await page.selectOption('[data-testid=language]', 'en');
    }
  });
});
