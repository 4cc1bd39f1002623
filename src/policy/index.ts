/** The policy engine's public surface. docs/policies.md is the language reference. */
export type {
  CompileOptions,
  Decision,
  DecisionWarning,
  Effect,
  EvalRequest,
  NamedPolicy,
  PatternList,
  PolicyDocument,
  PolicyScope,
  PolicySnapshot,
  Rule,
  ToolNameMode,
  ValidationError,
  ValidationResult,
} from './types.js';
export { EFFECTS, TOOL_NAME_MODES } from './types.js';
export { toolCallFacts, toolArgumentsInvalid, type ToolCallFacts } from './tool-call.js';
export * from './reason-codes.js';
export { validatePolicy } from './validate.js';
export { compilePolicies, compilePolicy, snapshotOf, PolicyCompileError, type CompiledPolicy } from './compile.js';
export { evaluateJsonLine } from './jsonl.js';
export {
  DETECTOR_NAMES,
  containsSensitiveData,
  findSensitiveSpans,
  isDetectorName,
  maskSensitiveData,
  redactionLabel,
  type DetectedSpan,
  type DetectorName,
} from './detectors.js';
