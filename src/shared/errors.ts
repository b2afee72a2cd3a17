/**
 * Error codes shared by every layer. They travel over the IPC/bridge contract and appear in
 * `resight ... --json` output, so they are part of the public surface: add, never rename.
 */
export const ERROR_CODES = [
  // ingest / parse
  'NOT_DICOM',
  'FILE_EMPTY',
  'FILE_TRUNCATED',
  'FILE_UNREADABLE',
  'PARSE_FAILED',
  'DICOMDIR',
  'NO_PIXEL_DATA',
  // decode
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_PIXEL_FORMAT',
  'PIXEL_DATA_TRUNCATED',
  'FRAME_OUT_OF_RANGE',
  'CODEC_FAILED',
  'UNSUPPORTED_CHARSET',
  // series
  'SERIES_NOT_FOUND',
  'INCONSISTENT_SERIES',
  'DUPLICATE_INSTANCE',
  // models
  'MODEL_INVALID',
  'MODEL_HASH_MISMATCH',
  // inference
  'PROVIDER_UNAVAILABLE',
  'INFERENCE_FAILED',
  'MODALITY_MISMATCH',
  'CANCELLED',
  // explain
  'EXPLAIN_UNSUPPORTED',
  // export
  'EXPORT_EXISTS',
  'EXPORT_TARGET_FORBIDDEN',
  'EXPORT_FAILED',
  // sending to a PACS (DICOM C-STORE)
  'PACS_UNREACHABLE',
  'PACS_REJECTED',
  // generic
  'USAGE',
  // the contract (IPC / bridge)
  'VALIDATION',
  'UNKNOWN_METHOD',
  'ACCESS_DENIED',
  'NOT_IMPLEMENTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What crosses a process boundary: no stack traces, no absolute paths unless the user gave them. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  path?: string;
}
