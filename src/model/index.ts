/** plantwire models: one interface for LLMs behind OpenAI-compatible endpoints and for plain functions, with plant tools. */
export { type FunctionModelInput, type FunctionModelOptions, functionModel } from "./function-model.js";
export { ModelEndpointError, ModelOutputError } from "./model-errors.js";
export { jsonSchemaOf, parseOutput, validateOutput } from "./model-output.js";
export { buildPrompt, type PromptParts } from "./model-prompt.js";
export {
  addUsage,
  type GenerateRequest,
  type Model,
  type ModelContext,
  type ModelResult,
  type ModelUsage,
  NO_USAGE,
} from "./model-types.js";
export type { CallPolicy, ChatAnswer, ChatClient, ChatRequest, ChatToolCall } from "./openai-call.js";
export { type OpenAIModelOptions, openaiModel, type StructuredOutputMode } from "./openai-model.js";
export {
  type PlantToolSet,
  type PlantToolsOptions,
  plantTools,
  type ToolCallResult,
  type ToolDefinition,
  type ToolPlant,
  type WriteProposalRequest,
} from "./plant-tools.js";
export { type TagNameSchemaOptions, tagNameSchema } from "./tag-name-schema.js";
