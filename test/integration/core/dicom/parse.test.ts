/**
 * Parsing, specified on real files: a deflated data set is inflated within a bound, so a small
 * file that inflates to gigabytes (a decompression bomb) is refused with a typed error naming
 * it instead of taking the memory of every scan worker.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { instanceHeader } from '../../../../src/core/dicom/header';
import { parseDicomBytes } from '../../../../src/core/dicom/parse';
import { readDicomHeader } from '../../../../src/core/dicom/read';
import { ResightError } from '../../../../src/core/errors';
import { corpusPath } from '../../../helpers/corpus';
import { tempDir } from '../../../helpers/tmp';

/**
 * The corpus' deflated CT with `zeros` bytes of a private OB element appended to its data set,
 * deflated again: a few KB on disk per MB inflated.
 */
function deflatedWithZeros(zeros: number): Uint8Array {
  const file = fs.readFileSync(corpusPath('cswado_CTImage_deflated.dcm'));
  const metaEnd = 144 + file.readUInt32LE(140);
  const dataSet = zlib.inflateRawSync(file.subarray(metaEnd));
  const header = Buffer.alloc(12);
  header.writeUInt16LE(0x7fe1, 0); // a private group after Pixel Data keeps the tags in order
  header.writeUInt16LE(0x1000, 2);
  header.write('OB', 4, 'latin1');
  header.writeUInt32LE(zeros, 8);
  const creator = Buffer.from([0xe1, 0x7f, 0x10, 0x00, 0x4c, 0x4f, 0x04, 0x00, 0x42, 0x4f, 0x4d, 0x42]); // (7FE1,0010) LO "BOMB"
  const body = Buffer.concat([dataSet, creator, header, Buffer.alloc(zeros)]);
  return Buffer.concat([file.subarray(0, metaEnd), zlib.deflateRawSync(body, { level: 9 })]);
}

describe('parsing: deflated data sets are inflated within a bound', () => {
  it('a data set that inflates beyond the limit is PARSE_FAILED naming the file; within it, the same file parses', (t) => {
    const file = path.join(tempDir(t, 'deflate'), 'bomb.dcm');
    const bytes = deflatedWithZeros(8 * 1024 * 1024);
    fs.writeFileSync(file, bytes);
    const original = fs.statSync(corpusPath('cswado_CTImage_deflated.dcm')).size;
    assert.ok(bytes.length < original + 64 * 1024, `precondition: 8 MB of zeros add little on disk (${bytes.length - original} bytes)`);
    assert.throws(
      () => parseDicomBytes(bytes, file, { maxInflatedBytes: 4 * 1024 * 1024 }),
      (err: unknown) => err instanceof ResightError && err.code === 'PARSE_FAILED' && err.path === file && /inflates to more than 4194304 bytes/.test(err.message),
    );
    // under the default limit it is a valid image, and its header reads like the original's
    const parsed = readDicomHeader(file);
    assert.equal(instanceHeader(parsed, file).rows, 512);
    assert.ok(parsed.bytes.length > 8 * 1024 * 1024);
  });

  it('the inflated copy starts with the file\'s own preamble and File Meta, byte for byte', () => {
    const file = corpusPath('cswado_CTImage_deflated.dcm');
    const bytes = fs.readFileSync(file);
    const metaEnd = 144 + bytes.readUInt32LE(140);
    const parsed = parseDicomBytes(bytes, file);
    assert.deepEqual(Buffer.from(parsed.bytes.subarray(0, metaEnd)), bytes.subarray(0, metaEnd));
    assert.equal(parsed.bytes.length, metaEnd + zlib.inflateRawSync(bytes.subarray(metaEnd)).length);
  });
});

describe('parsing: errors say what is wrong and where', () => {
  it('a file cut inside its data set is FILE_TRUNCATED naming the size and the last element read, not dicom-parser\'s text', () => {
    const file = corpusPath('pydicom_CT_small.dcm');
    for (const cut of [3000, 3763]) {
      const bytes = fs.readFileSync(file).subarray(0, cut);
      assert.throws(
        () => parseDicomBytes(bytes, 'cut.dcm'),
        (err: unknown) => {
          assert.ok(err instanceof ResightError, String(err));
          assert.equal(err.code, 'FILE_TRUNCATED');
          assert.match(err.message, new RegExp(`cut short at ${cut} bytes: the last element read is \\([0-9A-F]{4},[0-9A-F]{4}\\) at offset \\d+`));
          assert.doesNotMatch(err.message, /overrun|ByteArrayParser|parseDicomDataSet/i);
          return true;
        },
        `cut at ${cut}`,
      );
    }
  });

  it('a big-endian file labelled with an unknown transfer syntax is UNSUPPORTED_TRANSFER_SYNTAX naming it, not FILE_TRUNCATED', (t) => {
    const bytes = Buffer.from(fs.readFileSync(corpusPath('cswado_CTImage_explicitBE.dcm')));
    const at = bytes.indexOf('1.2.840.10008.1.2.2', 0, 'latin1');
    assert.ok(at > 0 && at < 400, 'precondition: the Transfer Syntax UID in the File Meta');
    bytes.write('1.2.840.99999.1.2.2', at, 'latin1'); // same length: the File Meta stays well formed
    const file = path.join(tempDir(t, 'ts'), 'unknown-ts.dcm');
    fs.writeFileSync(file, bytes);
    for (const read of [readDicomHeader, (f: string) => parseDicomBytes(fs.readFileSync(f), f)]) {
      assert.throws(
        () => read(file),
        (err: unknown) => err instanceof ResightError && err.code === 'UNSUPPORTED_TRANSFER_SYNTAX' && err.path === file && /unknown Transfer Syntax UID 1\.2\.840\.99999\.1\.2\.2/.test(err.message),
      );
    }
  });
});

