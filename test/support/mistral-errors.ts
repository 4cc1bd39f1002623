/** The pydantic error list of a Mistral 422 body (`{"object":"error","message":{"detail":[...]},...}`), from its text. */
export function validationDetail(text: string): Array<{ type: string; loc: Array<string | number>; msg: string; input?: unknown }> {
  const body = JSON.parse(text) as { message?: { detail?: unknown } };
  if (!Array.isArray(body.message?.detail)) throw new Error(`not a Mistral 422 body: ${text.slice(0, 200)}`);
  return body.message.detail;
}
