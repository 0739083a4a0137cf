// The host half of MCP Apps for the browser test: the official AppBridge (@modelcontextprotocol/ext-apps),
// bundled by esbuild into one script for a plain page. The page (tests/browser) exposes hostCallTool and
// hostReadResource, backed by a real MCP client session with `legnext-mcp --sandbox`; everything the view
// asks for is recorded in window.hostLog.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

window.hostLog = [];

window.startHost = async function startHost(html, toolInput, toolResult, hostContext) {
  const iframe = document.getElementById("view");
  const bridge = new AppBridge(null, { name: "legnext-test-host", version: "1.0.0" },
    { serverTools: {}, serverResources: {}, openLinks: {}, logging: {} }, { hostContext });
  bridge.oncalltool = async (params) => {
    window.hostLog.push({ method: "tools/call", params });
    return await window.hostCallTool(params);
  };
  bridge.onreadresource = async (params) => {
    window.hostLog.push({ method: "resources/read", params });
    return await window.hostReadResource(params);
  };
  bridge.onopenlink = async (params) => {
    window.hostLog.push({ method: "ui/open-link", params });
    return {};
  };
  bridge.oninitialized = () => {
    window.hostLog.push({ method: "ui/notifications/initialized" });
    bridge.sendToolInput({ arguments: toolInput });
    bridge.sendToolResult(toolResult);
  };
  // listen first, then load the view: its ui/initialize is the first thing it sends
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  window.bridge = bridge;
  iframe.srcdoc = html;
};
