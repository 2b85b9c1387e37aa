/**
 * Token counting with a real tokenizer: gpt-tokenizer's o200k_base (the GPT-4o/4.1/5 encoding), offline.
 * gpt-tokenizer is an optional peer dependency loaded on first count, so `import "plantwire"` never pays for its
 * ~2 MB of merge ranks. It is loaded synchronously so that encoders with a token budget can stay synchronous.
 */
import { createRequire } from "node:module";
import { MissingDependencyError } from "../errors.js";

interface Tokenizer {
  countTokens(text: string): number;
  encode(text: string): number[];
}

let tokenizer: Tokenizer | undefined;

function loadTokenizer(): Tokenizer {
  if (tokenizer) return tokenizer;
  try {
    tokenizer = createRequire(import.meta.url)("gpt-tokenizer/encoding/o200k_base") as Tokenizer;
    return tokenizer;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
      throw new MissingDependencyError("gpt-tokenizer", "Counting context tokens", { cause: error });
    }
    throw error;
  }
}

/** The number of o200k_base tokens in `text` (the encoding of GPT-4o and later OpenAI models). */
export function countTokens(text: string): number {
  return loadTokenizer().countTokens(text);
}
