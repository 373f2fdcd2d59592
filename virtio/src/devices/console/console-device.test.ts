// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-console device model (VirtIO 1.2 §5.3) through `MockSplitQueue`s, the per-guest
 * collector, and the console driver end to end over the loopback transport (output collected per
 * guest, input delivered back, emerg_wr).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsoleDriver } from "../../drivers/console/console-driver.js";
import { DmaAllocator } from "../../memory/dma-allocator.js";
import { InMemoryGuestRam } from "../../memory/in-memory-guest-ram.js";
import { activateForTest } from "../../test-utils/device-harness.js";
import { MockSplitQueue } from "../../test-utils/mock-split-queue.js";
import { LoopbackTransport } from "../../transport/loopback-transport.js";
import { ConsoleCollector } from "./console-collector.js";
import { ConsoleDevice } from "./console-device.js";
import {
  VIRTIO_CONSOLE_CFG_COLS,
  VIRTIO_CONSOLE_CFG_EMERG_WR,
  VIRTIO_CONSOLE_CFG_MAX_NR_PORTS,
} from "../../spec/virtio-console.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(inputBacklogBytes?: number) {
  const out: string[] = [];
  const device = new ConsoleDevice({
    onOutput: (b) => out.push(new TextDecoder().decode(b)),
    ...(inputBacklogBytes !== undefined ? { inputBacklogBytes } : {}),
  });
  const rx = new MockSplitQueue({ size: 8, index: 0 });
  const tx = new MockSplitQueue({ size: 8, index: 1 });
  const act = activateForTest(device, [rx.createDeviceQueue(), tx.createDeviceQueue()]);
  return { device, rx, tx, act, out };
}

describe("virtio-console device model (VirtIO 1.2 §5.3)", () => {
  it("config has cols, rows and max_nr_ports 1", () => {
    const { device } = setup();
    assert.equal(device.config.getU16(VIRTIO_CONSOLE_CFG_COLS), 80);
    assert.equal(device.config.getU32(VIRTIO_CONSOLE_CFG_MAX_NR_PORTS), 1);
  });

  it("transmitq output reaches onOutput, whatever the descriptor split", () => {
    const { device, tx, out } = setup();
    tx.addBuffer([text("hel"), text("lo\n")], []);
    device.queueNotify(1);
    assert.equal(out.join(""), "hello\n");
    assert.equal(tx.usedElem(0).len, 0);
  });

  it("input fills posted receive buffers, split across buffers when larger", () => {
    const { device, rx } = setup();
    const a = rx.addBuffer([], [4]);
    const b = rx.addBuffer([], [16]);
    device.queueNotify(0);
    device.sendInput(text("ls -l\n"));
    assert.deepEqual(
      [rx.usedElem(0), rx.usedElem(1)],
      [
        { id: a.head, len: 4 },
        { id: b.head, len: 2 },
      ],
    );
    const [wa] = a.writable;
    const [wb] = b.writable;
    assert.ok(wa && wb);
    assert.equal(
      new TextDecoder().decode(
        Uint8Array.of(...rx.ram.read(wa.addr, 4), ...rx.ram.read(wb.addr, 2)),
      ),
      "ls -l\n",
    );
  });

  it("input beyond the backlog is dropped and counted", () => {
    const { device } = setup(8);
    device.sendInput(new Uint8Array(20));
    assert.equal(device.stats.inputDropped, 12);
  });

  it("a writable buffer in transmitq is counted as readableRequired; a readable one in receiveq as writableRequired", () => {
    const { device, rx, tx, act } = setup();
    tx.addBuffer([], [8]);
    device.queueNotify(1);
    rx.addBuffer([text("x")], [8]);
    device.sendInput(text("y"));
    assert.equal(act.violations.count("readableRequired"), 1);
    assert.equal(act.violations.count("writableRequired"), 1);
  });

  it("emerg_wr outputs one character even before activation", () => {
    const out: string[] = [];
    const device = new ConsoleDevice({ onOutput: (b) => out.push(new TextDecoder().decode(b)) });
    device.config.driverWrite(VIRTIO_CONSOLE_CFG_EMERG_WR, Uint8Array.of(0x21, 0, 0, 0));
    assert.deepEqual(out, ["!"]);
  });
});

describe("console collector and driver over the loopback transport", () => {
  async function guest(collector: ConsoleCollector, name: string) {
    const device = collector.attach(name);
    const transport = new LoopbackTransport({
      ram: new InMemoryGuestRam(2 << 20),
      dma: new DmaAllocator(0x10000, (2 << 20) - 0x10000),
      device,
    });
    return { device, driver: await ConsoleDriver.create(transport) };
  }

  it("collects each guest's output under its name and delivers input back (round trip)", async () => {
    const collector = new ConsoleCollector();
    const a = await guest(collector, "vm1");
    const b = await guest(collector, "vm2");
    await a.driver.write("boot ok\n");
    await b.driver.write("hello from vm2\n");
    await a.driver.write("login: ");
    assert.equal(collector.outputText("vm1"), "boot ok\nlogin: ");
    assert.equal(collector.outputText("vm2"), "hello from vm2\n");
    const reading = a.driver.read();
    collector.input("vm1", "root\n");
    assert.equal(new TextDecoder().decode(await reading), "root\n");
    // Many inputs in a row: buffers are re-posted.
    let got = "";
    b.driver.onData((d) => (got += new TextDecoder().decode(d)));
    for (let i = 0; i < 50; i++) collector.input("vm2", `${i},`);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(got, Array.from({ length: 50 }, (_, i) => `${i},`).join(""));
  });

  it("emergencyWrite goes through emerg_wr into the collector", async () => {
    const collector = new ConsoleCollector();
    const a = await guest(collector, "vm1");
    await a.driver.emergencyWrite(0x45);
    assert.equal(collector.outputText("vm1"), "E");
  });

  it("keeps only the most recent maxBytesPerGuest bytes of output", async () => {
    const collector = new ConsoleCollector({ maxBytesPerGuest: 10 });
    const a = await guest(collector, "vm1");
    await a.driver.write("0123456789");
    await a.driver.write("abcdef");
    assert.equal(collector.outputText("vm1"), "6789abcdef");
  });
});
