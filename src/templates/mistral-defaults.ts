// KrakenD's default ai/llm templates for Mistral v1, verbatim from KrakenD's documentation
// (used when a backend sets no input_template / output_template).

/** Builds the Mistral chat-completions payload from `.variables` and `.req_body`. */
export const MISTRAL_V1_INPUT_TEMPLATE = `{
"model": {{ .variables.model | toJson }},
{{ $temperature := .variables.temperature }}{{ if ge $temperature 0.0 }}"temperature": {{ $temperature }},{{ end }}
{{ $top_p := .variables.top_p }}{{ if ge $top_p 0.0 }}"top_p": {{ $top_p }},{{ end }}
{{ $max_tokens := .variables.max_tokens }}{{ if ge $max_tokens 0 }}"max_tokens": {{ $max_tokens }},{{ end }}
{{ $random_seed := .variables.random_seed }}{{ if ge $random_seed 0 }}"random_seed": {{ $random_seed }},{{ end }}
"n": {{ .variables.n }},
"stream": false,
"stop": {{ .variables.stop | toJson }},
"safe_prompt": {{ .variables.safe_prompt }},
"messages": [
{{- if hasKey .req_body "instructions" }}
{
"role": "system",
"content": {{ .req_body.instructions | toJson }}
},
{{- end }}
{
"role": "user",
"content": {{ .req_body.contents | toJson }}
}
]
}`;

/** Extracts the first choices' contents and the token usage from `.resp_body`. */
export const MISTRAL_V1_OUTPUT_TEMPLATE = `{
"ai_gateway_response":
[
{{ if gt (len .resp_body.choices) 0 }}
{
"contents": [
{{- range $index, $choice := .resp_body.choices }}
{{- if $index }},{{ end }}
{{ $choice.message.content | toJson }}
{{- end }}
]
}
{{ end }}
],
"usage": "{{ .resp_body.usage.total_tokens }}"
}`;
