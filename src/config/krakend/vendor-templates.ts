// Default ai/llm templates for the vendors besides Mistral (whose defaults are KrakenD's published ones, in
// src/templates/mistral-defaults.ts). KrakenD's own defaults for these vendors could not be retrieved verbatim, so these
// are written to the same contract: `{instructions?, contents}` in, `{"ai_gateway_response":[{"contents":[...]}],
// "usage":"N"}` out, unset variables (the -1 / empty sentinels of vendors.ts) left out of the payload.

/** OpenAI Responses API (`POST /v1/responses`). */
export const OPENAI_V1_INPUT_TEMPLATE = `{
"model": {{ .variables.model | toJson }},
{{ $temperature := .variables.temperature }}{{ if ge $temperature 0.0 }}"temperature": {{ $temperature }},{{ end }}
{{ $top_p := .variables.top_p }}{{ if ge $top_p 0.0 }}"top_p": {{ $top_p }},{{ end }}
{{ $max_output_tokens := .variables.max_output_tokens }}{{ if ge $max_output_tokens 0 }}"max_output_tokens": {{ $max_output_tokens }},{{ end }}
{{ with .variables.truncation }}"truncation": {{ toJson . }},{{ end }}
{{- if hasKey .req_body "instructions" }}
"instructions": {{ .req_body.instructions | toJson }},
{{- end }}
"stream": false,
"input": {{ .req_body.contents | toJson }}
}`;

export const OPENAI_V1_OUTPUT_TEMPLATE = `{
"ai_gateway_response":
[
{
"contents": [
{{- $first := true }}
{{- range $item := .resp_body.output }}
{{- if eq $item.type "message" }}
{{- range $part := $item.content }}
{{- if eq $part.type "output_text" }}
{{- if not $first }},{{ end }}{{ $first = false }}
{{ $part.text | toJson }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
]
}
],
"usage": "{{ .resp_body.usage.total_tokens }}"
}`;

/** Anthropic Messages API (`POST /v1/messages`). */
export const ANTHROPIC_V1_INPUT_TEMPLATE = `{
"model": {{ .variables.model | toJson }},
"max_tokens": {{ .variables.max_tokens }},
{{ $temperature := .variables.temperature }}{{ if ge $temperature 0.0 }}"temperature": {{ $temperature }},{{ end }}
{{ $top_p := .variables.top_p }}{{ if ge $top_p 0.0 }}"top_p": {{ $top_p }},{{ end }}
{{ $top_k := .variables.top_k }}{{ if ge $top_k 0 }}"top_k": {{ $top_k }},{{ end }}
{{ with .variables.stop_sequences }}"stop_sequences": {{ toJson . }},{{ end }}
{{- if hasKey .req_body "instructions" }}
"system": {{ .req_body.instructions | toJson }},
{{- end }}
"messages": [
{
"role": "user",
"content": {{ .req_body.contents | toJson }}
}
]
}`;

export const ANTHROPIC_V1_OUTPUT_TEMPLATE = `{
"ai_gateway_response":
[
{
"contents": [
{{- $first := true }}
{{- range $block := .resp_body.content }}
{{- if eq $block.type "text" }}
{{- if not $first }},{{ end }}{{ $first = false }}
{{ $block.text | toJson }}
{{- end }}
{{- end }}
]
}
],
"usage": "{{ add .resp_body.usage.input_tokens .resp_body.usage.output_tokens }}"
}`;

/** Gemini API (`POST /v1beta/models/{model}:generateContent`); the model is in the URL, not the payload. */
export const GEMINI_V1BETA_INPUT_TEMPLATE = `{
{{- if hasKey .req_body "instructions" }}
"systemInstruction": { "parts": [ { "text": {{ .req_body.instructions | toJson }} } ] },
{{- end }}
"contents": [ { "role": "user", "parts": [ { "text": {{ .req_body.contents | toJson }} } ] } ],
{{- $v := .variables }}
"generationConfig": {
{{- $sep := "" }}
{{- if ge $v.candidate_count 0 }}{{ $sep }}"candidateCount": {{ $v.candidate_count }}{{ $sep = "," }}{{ end }}
{{- if ge $v.max_output_tokens 0 }}{{ $sep }}"maxOutputTokens": {{ $v.max_output_tokens }}{{ $sep = "," }}{{ end }}
{{- with $v.stop_sequences }}{{ $sep }}"stopSequences": {{ toJson . }}{{ $sep = "," }}{{ end }}
{{- if ge $v.temperature 0.0 }}{{ $sep }}"temperature": {{ $v.temperature }}{{ $sep = "," }}{{ end }}
{{- if ge $v.top_k 0 }}{{ $sep }}"topK": {{ $v.top_k }}{{ $sep = "," }}{{ end }}
{{- if ge $v.top_p 0.0 }}{{ $sep }}"topP": {{ $v.top_p }}{{ end }}
}
}`;

export const GEMINI_V1BETA_OUTPUT_TEMPLATE = `{
"ai_gateway_response":
[
{
"contents": [
{{- range $index, $candidate := .resp_body.candidates }}
{{- if $index }},{{ end }}
{{ $text := "" }}{{ range $part := $candidate.content.parts }}{{ $text = print $text $part.text }}{{ end }}{{ $text | toJson }}
{{- end }}
]
}
],
"usage": "{{ .resp_body.usageMetadata.totalTokenCount }}"
}`;
