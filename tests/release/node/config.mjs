// What Claude Desktop does with an installed bundle's manifest: fill mcp_config from the user's answers with the
// MCPB library's own getMcpConfigForManifest (unanswered optional fields stay literal ${user_config.X}).
// Usage: node config.mjs <unpacked bundle folder> <home folder> '<user_config answers as JSON>'
import { readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";

const [folder, home, answers] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
const config = await getMcpConfigForManifest({
  manifest,
  extensionPath: folder,
  systemDirs: { HOME: home, DESKTOP: join(home, "Desktop"), DOCUMENTS: join(home, "Documents"),
                DOWNLOADS: join(home, "Downloads") },
  userConfig: JSON.parse(answers),
  pathSeparator: sep,
});
if (config === undefined) {
  console.error("the manifest's required user_config is not answered");
  process.exit(1);
}
console.log(JSON.stringify(config));
