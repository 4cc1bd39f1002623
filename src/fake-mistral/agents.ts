/**
 * The fake's agents (pure). The fake has no agent registry: every non-empty `agent_id` names an agent running
 * AGENT_MODEL, so tests can address any agent id they like. Agents completions and Conversations started with an
 * `agent_id` answer as that model does (same replies, tool calls and token counts).
 */
export const AGENT_MODEL = 'mistral-medium-latest';

export interface FakeAgent {
  id: string;
  model: string;
}

/** The agent `id` names, or undefined when it names none (an empty or blank id). */
export function findAgent(id: string): FakeAgent | undefined {
  return id.trim() === '' ? undefined : { id, model: AGENT_MODEL };
}
