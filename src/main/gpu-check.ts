/**
 * A GPU provider check in a process of its own (an Electron utility process the main process
 * starts for the engine, probe-relay.ts): `gpu-check.js <provider> <model.onnx>`. Prints why the
 * provider failed and exits 1, or exits 0; a driver that crashes takes down only this process.
 */
import { checkProviderHere, isProviderName } from '../core/inference/providers';

const [provider, modelPath] = process.argv.slice(2);
if (!provider || !isProviderName(provider) || !modelPath) {
  process.stdout.write('usage: gpu-check <provider> <model.onnx>');
  process.exit(2);
}
void checkProviderHere(provider, modelPath).then((failure) => {
  // exit once the text is out: a pipe write is asynchronous, and the reason is the answer
  if (failure) process.stdout.write(failure, () => process.exit(1));
  else process.exit(0);
});
