// Public API of the Go text/template + Sprig compatible template engine.

export { TemplateExecError, TemplateParseError } from './errors.js';
export { type CompiledTemplate, type ParseOptions, parseTemplate } from './template.js';
export { GoInt, type GoValue, type IntKind, goInt, nilSlice, withGoType } from './values.js';
export { fromGoJson } from './json.js';
export { renderJsonLine } from './jsonl.js';
export { LLM_INT_VARIABLES, convertIntPaths } from './int-paths.js';
export { UNSUPPORTED_FUNCTIONS } from './funcs/registry.js';
export { MISTRAL_V1_INPUT_TEMPLATE, MISTRAL_V1_OUTPUT_TEMPLATE } from './mistral-defaults.js';
