/**
 * The facts of one evaluation, derived from the request lazily and at most once: nothing here is computed unless a
 * rule being tested needs it, and the expensive ones (prompt text, declared tool names, argument paths, local time,
 * lower-cased text, detector hits) are cached for the rest of the evaluation. A fact the request does not have
 * reads as `undefined`; readers never throw on odd bodies.
 */
import { containsSensitiveData, type DetectorName } from './detectors.js';
import { foldCase } from './glob.js';
import { localTime, type LocalTime } from './time-window.js';
import { toolArgumentsInvalid } from './tool-call.js';
import type { EvalRequest } from './types.js';

export interface PromptFacts {
  /** Message contents and prompt strings joined with "\n". */
  text: string;
  /** Sum of the lengths of those pieces (separators not counted). */
  chars: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function own(obj: Json, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export class EvalContext {
  readonly now: number;
  readonly body: Json | undefined;
  // undefined = not computed yet, null = the request does not have this fact
  private promptCache: PromptFacts | null | undefined;
  private toolNamesCache: string[] | null | undefined;
  private foldedToolNamesCache: string[] | null | undefined;
  private foldedToolNameCache: string | null | undefined;
  private foldedResourceCache: string | undefined;
  private foldedTailCache: string | undefined;
  private argsInvalidCache: boolean | null | undefined;
  private argsCache: Map<string, unknown[] | null> | undefined;
  private timeCache: Map<string, LocalTime | null> | undefined;
  private lowerCache: Map<string, string> | undefined;
  private detectCache: Map<DetectorName, Map<string, boolean>> | undefined;

  constructor(readonly request: EvalRequest) {
    this.now = request.now ?? Date.now();
    this.body = isObject(request.body) ? request.body : undefined;
  }

  bodyNumber(field: string): number | undefined {
    return this.body && finiteNumber(own(this.body, field));
  }

  bodyString(field: string): string | undefined {
    const value = this.body && own(this.body, field);
    return typeof value === 'string' ? value : undefined;
  }

  /** body.max_tokens, else body.max_completion_tokens (the newer OpenAI name). */
  maxTokens(): number | undefined {
    return this.bodyNumber('max_tokens') ?? this.bodyNumber('max_completion_tokens');
  }

  messageCount(): number | undefined {
    const messages = this.body && own(this.body, 'messages');
    return Array.isArray(messages) ? messages.length : undefined;
  }

  /** body.stream when it is a boolean, false when absent (the OpenAI default). */
  stream(): boolean | undefined {
    if (!this.body) return undefined;
    const stream = own(this.body, 'stream');
    if (stream === undefined) return false;
    return typeof stream === 'boolean' ? stream : undefined;
  }

  prompt(): PromptFacts | undefined {
    if (this.promptCache === undefined) this.promptCache = this.body ? collectPrompt(this.body) : null;
    return this.promptCache ?? undefined;
  }

  /** Names of the declared tools (body.tools[].function.name or .name, body.functions[].name); [] when none. */
  toolNames(): string[] | undefined {
    if (this.toolNamesCache === undefined) this.toolNamesCache = this.body ? collectToolNames(this.body) : null;
    return this.toolNamesCache ?? undefined;
  }

  /** The declared tool names case-folded (foldCase), for policies that compare tool names case-insensitively. */
  foldedToolNames(): string[] | undefined {
    if (this.foldedToolNamesCache === undefined) this.foldedToolNamesCache = this.toolNames()?.map(foldCase) ?? null;
    return this.foldedToolNamesCache ?? undefined;
  }

  /** The tool call's name case-folded; undefined when not a tool call. */
  foldedToolName(): string | undefined {
    if (this.foldedToolNameCache === undefined) {
      const name = this.request.tool?.name;
      this.foldedToolNameCache = typeof name === 'string' ? foldCase(name) : null;
    }
    return this.foldedToolNameCache ?? undefined;
  }

  /** The request's resource case-folded, for the resource patterns of tool:call requests (case-insensitive policies). */
  foldedResource(): string {
    this.foldedResourceCache ??= foldCase(String(this.request.resource));
    return this.foldedResourceCache;
  }

  /** The text after the resource's last "/" (all of it when it has none) case-folded: the policy index's tail key. */
  foldedResourceTail(): string {
    if (this.foldedTailCache === undefined) {
      const resource = String(this.request.resource);
      this.foldedTailCache = foldCase(resource.slice(resource.lastIndexOf('/') + 1));
    }
    return this.foldedTailCache;
  }

  /** Fact tool.args_invalid: the tool call's arguments are not a JSON object; undefined when not a tool call. */
  toolArgsInvalid(): boolean | undefined {
    if (this.argsInvalidCache === undefined) {
      const tool = this.request.tool;
      this.argsInvalidCache = isObject(tool) ? toolArgumentsInvalid(tool) : null;
    }
    return this.argsInvalidCache ?? undefined;
  }

  /**
   * Values found at a dot path in the tool-call arguments (see resolveArgumentPath); undefined when none, and when the
   * arguments are invalid (nothing in them is trusted to be what the tool will read).
   */
  toolArgument(path: readonly string[], cacheKey: string): unknown[] | undefined {
    this.argsCache ??= new Map();
    let values = this.argsCache.get(cacheKey);
    if (values === undefined) {
      const tool = this.request.tool;
      values = tool && this.toolArgsInvalid() === false ? resolveArgumentPath(tool.arguments, path) : null;
      this.argsCache.set(cacheKey, values);
    }
    return values ?? undefined;
  }

  localTime(tz: string): LocalTime | undefined {
    this.timeCache ??= new Map();
    let time = this.timeCache.get(tz);
    if (time === undefined) {
      time = localTime(this.now, tz) ?? null;
      this.timeCache.set(tz, time);
    }
    return time ?? undefined;
  }

  lower(text: string): string {
    this.lowerCache ??= new Map();
    let lowered = this.lowerCache.get(text);
    if (lowered === undefined) {
      lowered = text.toLowerCase();
      this.lowerCache.set(text, lowered);
    }
    return lowered;
  }

  detects(detector: DetectorName, text: string): boolean {
    this.detectCache ??= new Map();
    let hits = this.detectCache.get(detector);
    if (!hits) {
      hits = new Map();
      this.detectCache.set(detector, hits);
    }
    let hit = hits.get(text);
    if (hit === undefined) {
      hit = containsSensitiveData(text, detector);
      hits.set(text, hit);
    }
    return hit;
  }
}

/** Text of every message content (string, or the `text` of content parts) and of body.prompt; null when neither. */
function collectPrompt(body: Json): PromptFacts | null {
  const messages = own(body, 'messages');
  const prompt = own(body, 'prompt');
  const hasPrompt = typeof prompt === 'string' || Array.isArray(prompt);
  if (!Array.isArray(messages) && !hasPrompt) return null;
  const pieces: string[] = [];
  if (Array.isArray(messages)) {
    for (const message of messages) {
      if (!isObject(message)) continue;
      const content = own(message, 'content');
      if (typeof content === 'string') pieces.push(content);
      else if (Array.isArray(content)) {
        for (const part of content) {
          const text = isObject(part) ? own(part, 'text') : undefined;
          if (typeof text === 'string') pieces.push(text);
        }
      }
    }
  }
  if (typeof prompt === 'string') pieces.push(prompt);
  else if (Array.isArray(prompt)) for (const p of prompt) if (typeof p === 'string') pieces.push(p);
  let chars = 0;
  for (const piece of pieces) chars += piece.length;
  return { text: pieces.join('\n'), chars };
}

function collectToolNames(body: Json): string[] {
  const names: string[] = [];
  for (const field of ['tools', 'functions']) {
    const list = own(body, field);
    if (!Array.isArray(list)) continue;
    for (const tool of list) {
      if (!isObject(tool)) continue;
      const fn = own(tool, 'function');
      const name = isObject(fn) ? own(fn, 'name') : own(tool, 'name');
      if (typeof name === 'string') names.push(name);
    }
  }
  return names;
}

/**
 * Follows a dot path through parsed JSON arguments. A segment selects an object property; on an array, a numeric
 * segment selects an element and any other segment is applied to every element. Arrays at the end contribute their
 * elements. JSON null counts as absent; null is returned when nothing was found.
 */
export function resolveArgumentPath(root: unknown, path: readonly string[]): unknown[] | null {
  let current: unknown[] = [root];
  for (const segment of path) {
    const next: unknown[] = [];
    const index = /^\d+$/.test(segment) ? Number(segment) : -1;
    for (const value of current) {
      if (Array.isArray(value)) {
        if (index >= 0) {
          if (index < value.length) next.push(value[index]);
        } else {
          for (const element of value) if (isObject(element) && Object.hasOwn(element, segment)) next.push(element[segment]);
        }
      } else if (isObject(value) && Object.hasOwn(value, segment)) {
        next.push(value[segment]);
      }
    }
    current = next;
  }
  const values: unknown[] = [];
  for (const value of current) {
    if (Array.isArray(value)) {
      for (const element of value) if (element !== null && element !== undefined) values.push(element);
    } else if (value !== null && value !== undefined) {
      values.push(value);
    }
  }
  return values.length > 0 ? values : null;
}
