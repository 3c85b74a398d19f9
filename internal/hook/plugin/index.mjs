// Written by clawwarden ("clawwarden hook install"); "clawwarden hook
// uninstall" removes it. Edits are overwritten by the next install.
//
// clawwarden's plugin for OpenClaw. Two hooks on the exec tool:
//
//   resolve_exec_env  gives every exec the agent's session key as
//                     OPENCLAW_TASK_SESSION_ID and a default
//                     OPENCLAW_PRIV_REASON, the variables clawwarden's sudo
//                     shim reads, so a pending request says which
//                     conversation asked.
//   before_tool_call  blocks exec commands that reach root around the shim
//                     (sudo by its path, su, pkexec, doas, run0, an alias or
//                     function named sudo, a changed PATH before sudo,
//                     changes to the shim, this plugin or pathPrepend) and
//                     tells the agent why.
//
// This is defence in depth, not the boundary. The patterns in patterns.json
// catch the plain ways around the shim; an agent that means to can spell
// them another way (a script file, an interpreter, base64). What holds
// against a hostile agent is enforced mode: `clawwarden enforce install`.
import { readFileSync } from "node:fs";

const { rules } = JSON.parse(readFileSync(new URL("./patterns.json", import.meta.url), "utf8"));
const compiled = rules.map((r) => ({ id: r.id, re: new RegExp(r.pattern), reason: r.reason }));

const ADVICE =
  "Ask for root with plain `sudo COMMAND`: clawwarden's shim then asks the person to approve the exact command. " +
  "Do not look for another way round; tell the person what you need and why.";

// blockReason returns the reason an exec command is blocked, or "" when it
// may run.
export function blockReason(command) {
  for (const r of compiled) {
    if (r.re.test(command)) {
      return `clawwarden blocked this command (${r.id}): it ${r.reason}. ${ADVICE}`;
    }
  }
  return "";
}

export default {
  id: "clawwarden",
  name: "clawwarden",
  description: "Blocks exec commands that reach root around clawwarden's sudo shim, and tells every exec which conversation it runs for.",
  register(api) {
    api.on(
      "before_tool_call",
      (event) => {
        const command = event?.params?.command;
        if (typeof command !== "string") {
          return;
        }
        const reason = blockReason(command);
        if (reason) {
          return { block: true, blockReason: reason };
        }
      },
      { matcher: ["exec"], priority: 100 },
    );
    api.on("resolve_exec_env", (event, ctx) => {
      const session = event?.sessionKey ?? ctx?.sessionKey;
      if (typeof session !== "string" || session === "") {
        return;
      }
      const agent = typeof ctx?.agentId === "string" && ctx.agentId !== "" ? ctx.agentId : "unknown";
      return {
        OPENCLAW_TASK_SESSION_ID: session,
        OPENCLAW_PRIV_REASON: `requested by OpenClaw agent ${agent} in session ${session}`,
      };
    });
  },
};
