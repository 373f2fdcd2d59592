// SPDX-License-Identifier: Apache-2.0
/**
 * The baseline's relay process: a bare grpc-js server with one bidirectional `Pipe` method and
 * no Argo semantics. The receiver's stream is remembered; every frame read from a sender's
 * stream is written to it as one gRPC message. When the receiver's stream cannot take more
 * (`write` returns false), the sender's stream is paused until it drains, so the relay holds a
 * bounded amount and the sender feels the back-pressure end to end. Its connections get the
 * flow-control windows the hypervisor grants a Session (and its clients ask for the same), so
 * that both systems ride the same HTTP/2 settings. It prints one JSON line
 * `{"msg":"relay ready","listen":"127.0.0.1:PORT"}` and runs until killed or its parent goes.
 */
import * as grpc from "@grpc/grpc-js";
import { tuneHeapForDataPath } from "@hmx/client";
import { widenFlowControl } from "@hmx/hypervisor";
import { GRPC_MESSAGE_LIMITS, SESSION_FLOW_CONTROL_WINDOW } from "@hmx/proto";
import { loadRelayService, ROLE_METADATA_KEY, type Frame } from "./relay-proto.js";

type Pipe = grpc.ServerDuplexStream<Frame, Frame>;

let receiver: Pipe | null = null;

function pipe(call: Pipe): void {
  widenFlowControl(call, SESSION_FLOW_CONTROL_WINDOW);
  const role = call.metadata.get(ROLE_METADATA_KEY)[0];
  if (role === "receiver") {
    receiver = call;
    const forget = (): void => {
      if (receiver === call) receiver = null;
    };
    call.on("end", () => {
      forget();
      call.end();
    });
    call.on("error", forget);
    call.on("cancelled", forget);
    call.on("data", () => undefined);
    // Tells the receiver it is registered: senders may start.
    call.write({ payload: Buffer.alloc(0) });
    return;
  }
  if (role !== "sender") {
    call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: `bad ${ROLE_METADATA_KEY}` });
    return;
  }
  call.on("data", (frame: Frame) => {
    const out = receiver;
    if (out === null) {
      call.emit("error", {
        code: grpc.status.FAILED_PRECONDITION,
        details: "no receiver connected",
      });
      return;
    }
    if (!out.write(frame)) {
      call.pause();
      out.once("drain", () => call.resume());
    }
  });
  call.on("end", () => call.end());
  call.on("error", () => undefined);
}

// The same V8 heap settings as the hypervisor process, so the comparison measures code only.
tuneHeapForDataPath();
const server = new grpc.Server(GRPC_MESSAGE_LIMITS);
server.addService(loadRelayService().service, { Pipe: pipe });
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) {
    console.error(`relay: cannot listen: ${err.message}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: "relay ready", listen: `127.0.0.1:${port}` }));
});
// Started by the benchmark with an IPC channel: exit with it. A clean exit on SIGTERM too, so
// that node can write what it writes at exit (a --cpu-prof profile).
process.on("disconnect", () => process.exit(0));
process.once("SIGTERM", () => process.exit(0));
