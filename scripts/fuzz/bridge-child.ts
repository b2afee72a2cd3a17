/**
 * The bridge under contract fuzzing, in its own process (started by contract.ts through tsx):
 * a payload that crashes the server must show up as a finding, not take the fuzzer down.
 * Sends `{port, token}` over IPC once listening; exits when the parent disconnects.
 */
import { startFuzzBridge } from './contract';

void startFuzzBridge().then(
  (bridge) => {
    process.send?.({ port: bridge.port, token: bridge.token });
    process.on('disconnect', () => {
      void bridge.close().finally(() => process.exit(0));
    });
  },
  (err: unknown) => {
    process.stderr.write(`bridge did not start: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(3);
  },
);
