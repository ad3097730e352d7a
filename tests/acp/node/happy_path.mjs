// The happy path of `skillway acp`, driven by the ACP TypeScript SDK: initialize, a new session,
// the available commands, a streamed answer, a plugin command, a permission request rejected.
// Usage: node happy_path.mjs CWD COMMAND [ARGS...]; prints what it saw as one JSON object.
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { client, methods, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk";

const [cwd, command, ...args] = process.argv.slice(2);
const agentProcess = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "inherit"] });
const seen = { chunks: [], commands: [], asked: [], stopReasons: [], toolUpdates: [] };

const app = client({ name: "skillway-test" })
  .onRequest(methods.client.session.requestPermission, ({ params }) => {
    seen.asked.push(params.toolCall.title);
    const reject = params.options.find((option) => option.kind === "reject_once");
    return { outcome: { outcome: "selected", optionId: reject.optionId } };
  })
  .onNotification(methods.client.session.update, ({ params }) => {
    const update = params.update;
    if (update.sessionUpdate === "agent_message_chunk") seen.chunks.push(update.content.text);
    if (update.sessionUpdate === "available_commands_update") seen.commands = update.availableCommands.map((c) => c.name);
    if (update.sessionUpdate === "tool_call_update") seen.toolUpdates.push(update.status);
  });

const stream = ndJsonStream(Writable.toWeb(agentProcess.stdin), Readable.toWeb(agentProcess.stdout));
await app.connectWith(stream, async (agent) => {
  const initialized = await agent.request(methods.agent.initialize, {
    protocolVersion: PROTOCOL_VERSION, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } },
  });
  seen.agent = initialized.agentInfo?.name;
  const session = await agent.request(methods.agent.session.new, { cwd, mcpServers: [] });
  for (const text of ["hello", "/greeter:greet Ada", "make it"]) {
    const answer = await agent.request(methods.agent.session.prompt, {
      sessionId: session.sessionId, prompt: [{ type: "text", text }],
    });
    seen.stopReasons.push(answer.stopReason);
  }
});
agentProcess.stdin.end();
process.stdout.write(JSON.stringify(seen) + "\n");
process.exit(0);
