// Token counts for benchmarks/context_size.py: reads {"label": "text", ...} as JSON on stdin, prints
// {"label": {"openai": n, "anthropic": n}}. OpenAI: o200k_base (the GPT-4o/4.1/5 encoding, gpt-tokenizer).
// Anthropic: @anthropic-ai/tokenizer, the only tokenizer Anthropic has published (Claude 2's), an estimate
// for today's models, whose tokenizer is not public.
import { countTokens as anthropic } from "@anthropic-ai/tokenizer";
import { encode } from "gpt-tokenizer/encoding/o200k_base";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = {};
for (const [label, text] of Object.entries(JSON.parse(input))) {
  out[label] = { openai: encode(text).length, anthropic: anthropic(text) };
}
console.log(JSON.stringify(out));
