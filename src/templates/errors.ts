// Error classes of the template engine. Messages follow Go's text/template wording so
// operators can compare them with what KrakenD would have reported.

/** A template could not be parsed: `template: NAME:LINE: message` (Go does not print the column). */
export class TemplateParseError extends Error {
  override name = 'TemplateParseError';
  constructor(
    readonly templateName: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`template: ${templateName}:${line}: ${detail}`);
  }
}

/** Execution failed: `template: NAME:LINE:COL: executing "NAME" at <node>: message`. */
export class TemplateExecError extends Error {
  override name = 'TemplateExecError';
  constructor(
    readonly templateName: string,
    message: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
  }
}

/** Thrown by template functions: the Go function returned (or panicked with) an error. */
export class FuncError extends Error {
  override name = 'FuncError';
}
