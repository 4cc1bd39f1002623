/**
 * Judging one tool call from the raw values a response carries (pure), whatever their JSON types: what the judge is
 * shown must be what a client would act on.
 */
import { argumentsText, judgeCall } from './held-events.js';
import type { ToolCallVerdict } from './tool-verdicts.js';
import type { ToolGovernance } from './types.js';

/**
 * A raw name as the judge's text: a string as it is, absent as ''. Anything else as a JavaScript client uses it as a
 * property key (`handlers[call.name]`): `["delete_file"]` must be judged as "delete_file", not as ''.
 */
export function toolName(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

/** Judges one complete call from its raw name and arguments; records the verdict; throws ToolCallDenied (error mode). */
export function judgeToolCall(ctx: ToolGovernance, name: unknown, args: unknown): ToolCallVerdict {
  return judgeCall(ctx, toolName(name), argumentsText(args));
}
