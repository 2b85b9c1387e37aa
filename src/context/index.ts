/**
 * plantwire context: snapshots and windows as compact prompt text (with token counts), and as feature vectors for
 * non-LLM models.
 */
export { type DecodedContext, type DecodedTag, type DecodedValue, decodeContext } from "./context-decode.js";
export { CONTEXT_PREAMBLE, type ContextOptions, type EncodedContext, encodeHeader } from "./context-header.js";
export { encodeSnapshot, type SnapshotContextOptions } from "./context-snapshot.js";
export { displayStep, quoteUntrusted, UNTRUSTED_CLOSE, UNTRUSTED_OPEN } from "./context-text.js";
export { countTokens } from "./context-tokens.js";
export { encodeWindow, type WindowContextOptions } from "./context-window.js";
export { type FeatureVector, type FeatureVectorOptions, featureVector, type MissingPolicy } from "./feature-vector.js";
