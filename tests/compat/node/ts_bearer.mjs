// The official TypeScript SDK client against a legnext-mcp that is an OAuth resource server (LEGNEXT_OAUTH_ISSUER):
// with the bearer token in LEGNEXT_TEST_BEARER it lists the tools, makes a job and lists the jobs; without a token
// the connection must be refused. Prints one JSON summary line for the pytest side to read.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [target] = process.argv.slice(2);
const summary = { refusedWithoutToken: null, tools: 0, calls: {} };

try {
  const anonymous = new Client({ name: "compat-ts-anonymous", version: "1.0.0" });
  await anonymous.connect(new StreamableHTTPClientTransport(new URL(target)));
  summary.refusedWithoutToken = false;
  await anonymous.close();
} catch (error) {
  summary.refusedWithoutToken = { code: error?.code ?? null, message: String(error?.message ?? error).slice(0, 300) };
}

const headers = { Authorization: `Bearer ${process.env.LEGNEXT_TEST_BEARER}` };
const client = new Client({ name: "compat-ts-bearer", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers } }));
summary.tools = (await client.listTools()).tools.length;
for (const [name, args] of [["generate_and_wait", { prompt: "a lighthouse, signed in" }], ["list_jobs", {}]]) {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120000 });
  summary.calls[name] = { isError: !!result.isError, structured: result.structuredContent ?? null };
}
console.log(JSON.stringify(summary));
await client.close();
