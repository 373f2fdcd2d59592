// SPDX-License-Identifier: Apache-2.0
/**
 * No production entry point loads the hypervisor service unless it is the hypervisor: a child
 * process imports one command's module with a module-resolution hook that reports every
 * resolved URL, and the test checks which packages' code that pulls in. The hypervisor command
 * itself is the control: it must show up, or the probe would prove nothing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const hook = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  process.stderr.write("RESOLVED " + resolved.url + "\\n");
  return resolved;
}`;

/** The URLs resolved while importing `cli/dist/commands/<command>.js` in a fresh process. */
function resolvedBy(command: string): string[] {
  const moduleUrl = new URL(`./commands/${command}.js`, import.meta.url).href;
  const script = [
    `import { register } from "node:module";`,
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`,
    `await import(${JSON.stringify(moduleUrl)});`,
  ].join("\n");
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 60_000,
  });
  assert.equal(child.status, 0, `importing ${command} failed: ${child.stderr}`);
  return child.stderr
    .split("\n")
    .filter((l) => l.startsWith("RESOLVED "))
    .map((l) => l.slice("RESOLVED ".length));
}

const fromHypervisor = (urls: string[]): string[] =>
  urls.filter((u) => u.includes("/hypervisor/dist/"));

describe("role isolation of the hmx entry points", () => {
  it("hmx guest loads no module of @hmx/hypervisor", () => {
    const urls = resolvedBy("guest");
    assert.ok(
      urls.some((u) => u.includes("/guest-agent/dist/")),
      "the probe saw the guest agent",
    );
    assert.deepEqual(fromHypervisor(urls), []);
  });

  it("hmx hypervisor does load @hmx/hypervisor (the probe's control)", () => {
    assert.notDeepEqual(fromHypervisor(resolvedBy("hypervisor")), []);
  });
});
