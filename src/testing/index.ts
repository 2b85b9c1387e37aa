/**
 * plantwire/testing: the memory adapter and the adapter conformance suite (vitest), for plantwire's own tests and
 * for anyone writing a new adapter.
 */
export { type ConformanceFixture, describeAdapterConformance, waitFor } from "./conformance.js";
export {
  type MemoryAdapter,
  type MemoryAdapterOptions,
  type MemoryAddress,
  type MemorySetOptions,
  type MemoryWrite,
  memoryAdapter,
} from "./memory-adapter.js";
export {
  type OpenAITestServer,
  type OpenAITestServerOptions,
  type RecordedRequest,
  startOpenAITestServer,
  type TestReply,
} from "./openai-test-server.js";
