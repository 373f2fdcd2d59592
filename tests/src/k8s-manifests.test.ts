// SPDX-License-Identifier: Apache-2.0
/**
 * The Kubernetes manifests in deploy/k8s validate against the Kubernetes API schemas (offline,
 * with kubernetes-models), and keep the properties the fleet relies on: one hypervisor (a
 * StatefulSet whose state volume outlives its pod), native gRPC probes, guests that enrol and
 * keep state, and a NetworkPolicy that lets guests reach
 * only the hypervisor's guest API.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Namespace, Service } from "kubernetes-models/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { parseAllDocuments } from "yaml";

const K8S_DIR = fileURLToPath(new URL("../../deploy/k8s", import.meta.url));

interface Manifest {
  readonly file: string;
  readonly doc: Record<string, unknown> & { kind?: string; metadata?: { name?: string } };
}

function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(K8S_DIR).filter(
    (f) => f.endsWith(".yaml") && f !== "kustomization.yaml",
  )) {
    for (const d of parseAllDocuments(readFileSync(join(K8S_DIR, file), "utf8"))) {
      assert.deepEqual(d.errors, [], `${file} parses as YAML`);
      out.push({ file, doc: d.toJS() as Manifest["doc"] });
    }
  }
  return out;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment,
  StatefulSet,
  Service,
  Namespace,
  ConfigMap,
  NetworkPolicy,
};

function byKind(all: Manifest[], kind: string): Manifest["doc"][] {
  return all.filter((m) => m.doc.kind === kind).map((m) => m.doc);
}

test("every manifest validates against its Kubernetes schema", () => {
  const all = manifests();
  assert.ok(all.length >= 6);
  for (const { file, doc } of all) {
    const Model = MODELS[doc.kind ?? ""];
    assert.ok(Model !== undefined, `${file}: unexpected kind ${doc.kind}`);
    assert.doesNotThrow(() => {
      new Model(doc as never).validate();
    }, `${file} ${doc.kind}/${doc.metadata?.name}`);
  }
});

test("a manifest that breaks the schema is rejected (the validation is real)", () => {
  const [set] = byKind(manifests(), "StatefulSet");
  const broken = structuredClone(set) as { spec: { replicas: unknown } };
  broken.spec.replicas = "one";
  assert.throws(() => {
    new StatefulSet(broken as never).validate();
  });
});

test("the hypervisor runs as a single replica with native gRPC probes and a non-root user", () => {
  const d = (
    byKind(manifests(), "StatefulSet") as unknown as {
      metadata: { name: string };
      spec: {
        replicas: number;
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean };
            containers: { readinessProbe: { grpc?: unknown }; livenessProbe: { grpc?: unknown } }[];
          };
        };
      };
    }[]
  ).find((s) => s.metadata.name === "hmx-hypervisor");
  assert.ok(d !== undefined, "a hypervisor StatefulSet exists");
  assert.equal(d.spec.replicas, 1);
  const c = d.spec.template.spec.containers[0];
  assert.ok(c?.readinessProbe.grpc !== undefined && c.livenessProbe.grpc !== undefined);
  assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);
});

/** The StatefulSets by name, as far as these tests look into them. */
function statefulSet(name: string) {
  const all = byKind(manifests(), "StatefulSet") as unknown as {
    metadata: { name: string };
    spec: {
      replicas: number;
      volumeClaimTemplates: unknown[];
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          containers: {
            args: string[];
            env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }[];
          }[];
        };
      };
    };
  }[];
  return all.find((s) => s.metadata.name === name);
}

test("guests are a StatefulSet that enrols with a token and keeps its credential in a volume", () => {
  const s = statefulSet("hmx-guest");
  const c = s?.spec.template.spec.containers[0];
  assert.ok(c?.env.some((e) => e.name === "HMX_ENROLMENT_TOKEN"));
  assert.ok(c?.args.some((a) => a.startsWith("--state-dir=")));
  assert.equal(s?.spec.volumeClaimTemplates.length, 1);
});

test("the NetworkPolicy lets guests reach only the hypervisor's guest API, never the toolstack or each other", () => {
  const policies = byKind(manifests(), "NetworkPolicy") as unknown as {
    spec: {
      podSelector: { matchLabels: Record<string, string> };
      ingress?: unknown[];
      egress?: {
        to: { podSelector?: { matchLabels: Record<string, string> } }[];
        ports: { port: number }[];
      }[];
    };
  }[];
  const guest = policies.find((p) => p.spec.podSelector.matchLabels["hmx.dev/role"] === "guest");
  assert.ok(guest !== undefined);
  assert.deepEqual(guest.spec.ingress, [], "nothing may connect to a guest");
  const egressPorts = (guest.spec.egress ?? []).flatMap((e) => e.ports.map((p) => p.port));
  assert.ok(!egressPorts.includes(7071), "guests may not reach the toolstack port");
  const hvRule = guest.spec.egress?.find((e) =>
    e.to.some((t) => t.podSelector?.matchLabels["hmx.dev/role"] === "hypervisor"),
  );
  assert.deepEqual(
    hvRule?.ports.map((p) => p.port),
    [7070],
  );
});

test("the VirtIO back end is one pod of the template the hypervisor's --enrolment-devices names, isolated like a guest", () => {
  const be = statefulSet("hmx-vbackend");
  assert.ok(be !== undefined, "a hmx-vbackend StatefulSet exists");
  assert.equal(be.spec.replicas, 1, "a back-end template holds exactly one domain");
  assert.equal(
    be.spec.template.metadata.labels["hmx.dev/role"],
    "guest",
    "the guest NetworkPolicy applies to it",
  );
  const c = be.spec.template.spec.containers[0];
  assert.ok(c?.args.includes("--workload=virtio-backend"));
  const tokenKey = c?.env.find((e) => e.name === "HMX_ENROLMENT_TOKEN")?.valueFrom?.secretKeyRef
    ?.key;
  assert.equal(tokenKey, "vbackend-enrolment-token");
  const args = statefulSet("hmx-hypervisor")?.spec.template.spec.containers[0]?.args ?? [];
  assert.ok(args.includes("--enrolment-template=vbackend:vbackend_t:48M:1"));
  assert.ok(args.includes("--enrolment-devices=guest:vbackend:blk,net,console"));
});

test("the hypervisor keeps its --state-dir on a volume claim of its own, so a restarted pod resumes every domain", () => {
  const s = statefulSet("hmx-hypervisor") as unknown as {
    spec: {
      volumeClaimTemplates: { metadata: { name: string } }[];
      template: {
        spec: {
          securityContext: { fsGroup?: number };
          containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
        };
      };
    };
  };
  const c = s.spec.template.spec.containers[0];
  const stateDir = c?.args.find((a) => a.startsWith("--state-dir="))?.slice("--state-dir=".length);
  assert.ok(stateDir !== undefined, "the hypervisor runs with --state-dir");
  const claim = s.spec.volumeClaimTemplates.map((t) => t.metadata.name);
  const mount = c?.volumeMounts.find((m) => claim.includes(m.name));
  assert.ok(mount !== undefined, "a volumeClaimTemplate is mounted");
  assert.ok(stateDir.startsWith(`${mount.mountPath}/`), `${stateDir} lies on the claim`);
  assert.equal(
    s.spec.template.spec.securityContext.fsGroup,
    10001,
    "writable by the non-root user",
  );
});
