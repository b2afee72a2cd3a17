/**
 * onnxruntime-node, as every module takes it: loaded here only, after ort-env.ts has switched its
 * telemetry off, so no module can load the runtime first (`import * as ort from './ort'`).
 */
import './ort-env';
export * from 'onnxruntime-node';
