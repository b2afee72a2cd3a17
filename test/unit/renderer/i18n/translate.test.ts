/**
 * UI text: parameters filled in, and English singular or plural by the count ("1 finding",
 * "2 findings"), never "finding(s)".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { className, engineError, translate } from '../../../../src/renderer/i18n/translate';
import { en, ja } from '../../../../src/renderer/i18n/messages';
import { ERROR_CODES } from '../../../../src/shared/errors';

describe('translate', () => {
  it('chooses the singular for 1 and the plural otherwise, in the same message as the number', () => {
    assert.equal(translate('en', 'signoff.pending', { n: 1 }), '1 finding not reviewed yet.');
    assert.equal(translate('en', 'signoff.pending', { n: 2 }), '2 findings not reviewed yet.');
    assert.equal(translate('en', 'signoff.pending', { n: 0 }), '0 findings not reviewed yet.');
    assert.equal(translate('en', 'export.measurements', { n: 1 }), '1 measurement drawn on this series goes into the report (measured again from the images).');
    assert.equal(translate('ja', 'signoff.pending', { n: 1 }).includes('{'), false, 'Japanese writes no plural part');
  });

  it('no English message says "(s)" any more', () => {
    assert.deepEqual(Object.entries(en).filter(([, v]) => v.includes('(s)')).map(([k]) => k), []);
  });

  it('names a model class for people: in Japanese where the messages know it, else the card\'s name with spaces', () => {
    assert.equal(className('en', 'lung_nodule'), 'lung nodule');
    assert.equal(className('ja', 'lung_nodule'), '肺結節');
    assert.equal(className('ja', 'my_own_class'), 'my own class', 'a bring-your-own class keeps its name');
  });
});

describe('why a file was not used, in words', () => {
  it('every code a scan gives a file has its words in English and Japanese', () => {
    const scanCodes = ['NOT_DICOM', 'FILE_EMPTY', 'FILE_TRUNCATED', 'FILE_UNREADABLE', 'PARSE_FAILED', 'DICOMDIR', 'NO_PIXEL_DATA', 'UNSUPPORTED_TRANSFER_SYNTAX', 'UNSUPPORTED_PIXEL_FORMAT', 'PIXEL_DATA_TRUNCATED', 'CODEC_FAILED', 'UNSUPPORTED_CHARSET', 'DUPLICATE_INSTANCE'] as const;
    for (const c of scanCodes) {
      assert.ok((ERROR_CODES as readonly string[]).includes(c), `${c} is an error code`);
      assert.ok(`fileError.${c}` in en, `English words for ${c}`);
      assert.ok(`fileError.${c}` in ja, `Japanese words for ${c}`);
    }
  });
});

describe('an engine error in the user\'s language', () => {
  it('every error code has its meaning in English and Japanese', () => {
    for (const c of ERROR_CODES) {
      assert.ok(`error.${c}` in en, `English words for ${c}`);
      assert.ok(`error.${c}` in ja, `Japanese words for ${c}`);
    }
  });

  it('is the engine\'s message in English, and in Japanese the code\'s meaning with the message after it for the details', () => {
    const msg = 'the card does not match the ONNX graph: input tensor missing';
    assert.equal(engineError('en', 'MODEL_INVALID', msg), msg);
    assert.equal(engineError('ja', 'MODEL_INVALID', msg), `モデルを使用できません (${msg})`);
    assert.equal(engineError('ja', 'SOMETHING_NEW', msg), msg, 'a code the messages do not know: the message alone');
    assert.equal(engineError('ja', undefined, msg), msg);
  });
});
