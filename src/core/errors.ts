import type { ErrorCode, ErrorInfo } from '../shared/errors';

/**
 * The one error class the engine throws for anything a user can cause (bad files, bad
 * arguments). Programming errors stay plain `Error`s and surface as INTERNAL.
 */
export class ResightError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  /** The message without the path prefix. */
  readonly detail: string;

  constructor(code: ErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path ? `${options.path}: ${message}` : message, { cause: options.cause });
    this.name = 'ResightError';
    this.code = code;
    this.path = options.path;
    this.detail = message;
  }

  /** The same error, attributed to a file (errors raised deep in a codec do not know it). */
  withPath(path: string): ResightError {
    if (this.path) return this;
    return new ResightError(this.code, this.detail, { path, cause: this.cause });
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.detail };
    if (this.path) info.path = this.path;
    return info;
  }
}

/** Normalise anything thrown into an ErrorInfo; unknown errors become INTERNAL with their message only. */
export function toErrorInfo(err: unknown, path?: string): ErrorInfo {
  if (err instanceof ResightError) {
    const info = err.toInfo();
    if (path && !info.path) info.path = path;
    return info;
  }
  const message = err instanceof Error ? err.message : String(err);
  return path ? { code: 'INTERNAL', message, path } : { code: 'INTERNAL', message };
}
