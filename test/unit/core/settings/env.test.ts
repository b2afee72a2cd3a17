/** An installer's typo in an environment variable is said, once, with what is used instead. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envPositiveInt } from '../../../../src/core/settings/env';

describe('environment variables', () => {
  it('a positive whole number is taken; anything else falls back to the default, said once on stderr', (t) => {
    const said: string[] = [];
    t.mock.method(process.stderr, 'write', (s: string) => (said.push(String(s)), true));
    const saved = { a: process.env.RESIGHT_TEST_N, b: process.env.RESIGHT_TEST_Z };
    try {
      process.env.RESIGHT_TEST_N = '4';
      assert.equal(envPositiveInt('RESIGHT_TEST_N'), 4);
      process.env.RESIGHT_TEST_N = 'abc';
      assert.equal(envPositiveInt('RESIGHT_TEST_N'), undefined);
      assert.equal(envPositiveInt('RESIGHT_TEST_N'), undefined);
      process.env.RESIGHT_TEST_Z = '0';
      assert.equal(envPositiveInt('RESIGHT_TEST_Z', true), 0, 'zero where it means "none" (RESIGHT_WORKERS)');
      process.env.RESIGHT_TEST_Z = '-1';
      assert.equal(envPositiveInt('RESIGHT_TEST_Z', true), undefined);
    } finally {
      for (const [k, v] of [['RESIGHT_TEST_N', saved.a], ['RESIGHT_TEST_Z', saved.b]] as const) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    assert.deepEqual(said, [
      "resight: warning: RESIGHT_TEST_N='abc' is not a positive whole number: the default is used\n",
      "resight: warning: RESIGHT_TEST_Z='-1' is not a whole number of 0 or more: the default is used\n",
    ]);
  });
});
