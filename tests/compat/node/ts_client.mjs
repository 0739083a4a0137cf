// The official TypeScript SDK client against `legnext-mcp --sandbox` (stdio, or Streamable HTTP when a URL is
// given): list the tools, run describe -> generate_and_wait -> upscale -> wait_for_job and an upload_paint with arguments its
// schema accepts. The SDK checks every structuredContent against the tool's outputSchema itself (callTool
// throws when they disagree). Prints one JSON summary line for the pytest side to read.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [target, ...args] = process.argv.slice(2);
const transport = target.startsWith("http")
  ? new StreamableHTTPClientTransport(new URL(target))
  : new StdioClientTransport({ command: target, args, env: { ...process.env }, stderr: "ignore" });
const client = new Client({ name: "compat-ts", version: "1.0.0" });
await client.connect(transport);

const summary = { protocol: client.getServerVersion()?.name, tools: 0, calls: {} };
const { tools } = await client.listTools();
summary.tools = tools.length;
summary.withOutputSchema = tools.filter((t) => t.outputSchema).length;

async function call(name, argumentsGiven) {
  const result = await client.callTool({ name, arguments: argumentsGiven }, undefined, { timeout: 120000 });
  const text = result.content.filter((b) => b.type === "text").map((b) => b.text).join("\n");
  summary.calls[name] = { isError: !!result.isError, structured: result.structuredContent ?? null, text };
  return result;
}

const described = await call("describe", { image_url: "https://example.com/fox.png" });
const prompt = described.structuredContent.prompts[0];
const grid = await call("generate_and_wait", { prompt });
const upscale = await call("upscale", { job_id: grid.structuredContent.job_id, image_no: 0 });
await call("wait_for_job", { job_ids: [upscale.structuredContent.job_id] });
await call("upload_paint", {
  image_url: "https://example.com/fox.png", canvas: { width: 1024, height: 1024 },
  image_position: { width: 512, height: 512, x: 256, y: 256 }, remix_prompt: "a snowy forest",
  areas: [{ width: 1024, height: 1024, points: [0, 0, 1024, 0, 1024, 1024, 0, 1024] }], mask_url: null,
});
await call("variation", { job_id: grid.structuredContent.job_id, image_no: 9 });
console.log(JSON.stringify(summary));
await client.close();
