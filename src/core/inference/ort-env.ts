/**
 * Imported first by ort.ts, the one module that loads onnxruntime-node: ONNX Runtime
 * 1.29 and later, on Linux and macOS, carry Microsoft's telemetry client, which on its own looks
 * up and posts to mobile.events.data.microsoft.com (seen here: a DNS query about ten seconds after
 * a model was loaded by `resight serve`) and keeps a device id under ~/.cache/Microsoft. ReSight
 * promises that patient data stays on the machine and that it connects to nothing but the PACS the
 * user configures, so both of the runtime's opt-outs are set, for this process and the worker
 * threads and child processes it starts, before the runtime reads them (docs/security.md).
 */
export const ORT_TELEMETRY_VARIABLES = ['ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED'] as const;
for (const name of ORT_TELEMETRY_VARIABLES) process.env[name] = '1';
