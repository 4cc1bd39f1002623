/**
 * The fake's model catalogue, as `GET /v1/models` cards in the SDK's BaseModelCard shape (pure). Like the real API,
 * each family is listed under its dated id and its `-latest` alias, each card naming the other in `aliases`.
 */
export type Capability =
  | 'completion_chat'
  | 'function_calling'
  | 'reasoning'
  | 'completion_fim'
  | 'fine_tuning'
  | 'vision'
  | 'ocr'
  | 'classification'
  | 'moderation'
  | 'audio'
  | 'audio_transcription'
  | 'audio_transcription_realtime'
  | 'audio_speech'
  | 'unified_resources';

const ALL_CAPABILITIES: readonly Capability[] = [
  'completion_chat',
  'function_calling',
  'reasoning',
  'completion_fim',
  'fine_tuning',
  'vision',
  'ocr',
  'classification',
  'moderation',
  'audio',
  'audio_transcription',
  'audio_transcription_realtime',
  'audio_speech',
  'unified_resources',
];

interface Family {
  /** Dated id first; the others are aliases of it. */
  ids: readonly string[];
  description: string;
  maxContextLength: number;
  capabilities: readonly Capability[];
  defaultTemperature: number | null;
  /** Set for embedding models: length of the vectors `/v1/embeddings` returns by default. */
  embeddingDimension?: number;
}

const CHAT: readonly Capability[] = ['completion_chat', 'function_calling', 'fine_tuning'];

const FAMILIES: readonly Family[] = [
  { ids: ['mistral-large-2411', 'mistral-large-latest'], description: 'Top-tier large model', maxContextLength: 131072, capabilities: CHAT, defaultTemperature: 0.7 },
  { ids: ['mistral-medium-2505', 'mistral-medium-latest'], description: 'Frontier-class multimodal model', maxContextLength: 131072, capabilities: [...CHAT, 'vision'], defaultTemperature: 0.3 },
  { ids: ['mistral-small-2503', 'mistral-small-latest'], description: 'Efficient small model', maxContextLength: 131072, capabilities: [...CHAT, 'vision'], defaultTemperature: 0.3 },
  { ids: ['ministral-8b-2410', 'ministral-8b-latest'], description: 'Edge model', maxContextLength: 131072, capabilities: CHAT, defaultTemperature: 0.3 },
  { ids: ['open-mistral-nemo-2407', 'open-mistral-nemo'], description: 'Open 12B model', maxContextLength: 131072, capabilities: CHAT, defaultTemperature: 0.3 },
  { ids: ['pixtral-large-2411', 'pixtral-large-latest'], description: 'Multimodal large model', maxContextLength: 131072, capabilities: [...CHAT, 'vision'], defaultTemperature: 0.7 },
  { ids: ['codestral-2501', 'codestral-latest'], description: 'Code model with fill-in-the-middle', maxContextLength: 262144, capabilities: [...CHAT, 'completion_fim'], defaultTemperature: 0.3 },
  { ids: ['mistral-embed'], description: 'Text embedding model', maxContextLength: 8192, capabilities: [], defaultTemperature: null, embeddingDimension: 1024 },
  { ids: ['codestral-embed-2505', 'codestral-embed'], description: 'Code embedding model', maxContextLength: 8192, capabilities: [], defaultTemperature: null, embeddingDimension: 1536 },
];

export interface ModelCard {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'mistralai';
  capabilities: Record<Capability, boolean>;
  name: string;
  description: string;
  max_context_length: number;
  aliases: string[];
  deprecation: null;
  deprecation_replacement_model: null;
  default_model_temperature: number | null;
  type: 'base';
}

export interface ModelInfo {
  card: ModelCard;
  embeddingDimension: number | undefined;
}

export interface ModelCatalogue {
  list: { object: 'list'; data: ModelCard[] };
  find(id: string): ModelInfo | undefined;
}

/** Builds the catalogue once; `created` is the timestamp every card reports. */
export function createModelCatalogue(created: number): ModelCatalogue {
  const byId = new Map<string, ModelInfo>();
  for (const family of FAMILIES) {
    const capabilities = Object.fromEntries(
      ALL_CAPABILITIES.map((c) => [c, family.capabilities.includes(c)]),
    ) as Record<Capability, boolean>;
    for (const id of family.ids) {
      const card: ModelCard = {
        id,
        object: 'model',
        created,
        owned_by: 'mistralai',
        capabilities,
        name: family.ids[0] ?? id,
        description: family.description,
        max_context_length: family.maxContextLength,
        aliases: family.ids.filter((other) => other !== id),
        deprecation: null,
        deprecation_replacement_model: null,
        default_model_temperature: family.defaultTemperature,
        type: 'base',
      };
      byId.set(id, { card, embeddingDimension: family.embeddingDimension });
    }
  }
  const data = [...byId.values()].map((m) => m.card);
  return { list: { object: 'list', data }, find: (id) => byId.get(id) };
}
