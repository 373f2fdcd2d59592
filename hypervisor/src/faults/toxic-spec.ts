// SPDX-License-Identifier: Apache-2.0
/**
 * Toxics as Toxiproxy 2.x describes them in JSON (`{name, type, stream, toxicity,
 * attributes}`), checked: a bad body is refused with Toxiproxy's status code and a message that
 * names the bad value and the limit, and changes nothing.
 */

export const TOXIC_TYPES = [
  "latency",
  "bandwidth",
  "slow_close",
  "timeout",
  "reset_peer",
  "slicer",
  "limit_data",
] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];

/** Each type's attributes, all non-negative integers (Toxiproxy's units: ms, KB/s, bytes, µs). */
export const TOXIC_ATTRIBUTES: Readonly<Record<ToxicType, readonly string[]>> = {
  latency: ["latency", "jitter"],
  bandwidth: ["rate"],
  slow_close: ["delay"],
  timeout: ["timeout"],
  reset_peer: ["timeout"],
  slicer: ["average_size", "size_variation", "delay"],
  limit_data: ["bytes"],
};

/** `upstream` = guest to hypervisor, `downstream` = hypervisor to guest (Toxiproxy's default). */
export type ToxicStream = "upstream" | "downstream";

export interface ToxicSpec {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  /** Probability that the toxic applies to a given connection, 0..1. */
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

/** A refused request, with the HTTP status Toxiproxy answers it with. */
export class FaultRequestError extends Error {
  override readonly name = "FaultRequestError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Largest attribute value accepted: about 24 days of milliseconds, a 2^31 timer's limit. */
export const MAX_ATTRIBUTE = 2 ** 31 - 1;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function badRequest(message: string): FaultRequestError {
  return new FaultRequestError(`bad request body: ${message}`, 400);
}

function checkToxicity(value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw badRequest(`toxicity ${JSON.stringify(value)}: expected a number in 0..1`);
  }
  return value;
}

/** Merges `given` attributes over `base`, refusing unknown names and bad values. */
function checkAttributes(
  type: ToxicType,
  base: Readonly<Record<string, number>>,
  given: unknown,
): Record<string, number> {
  const attributes = { ...base };
  if (given !== undefined && given !== null && !isRecord(given)) {
    throw badRequest(`attributes ${JSON.stringify(given)}: expected an object`);
  }
  for (const [key, value] of Object.entries(given ?? {})) {
    const known = TOXIC_ATTRIBUTES[type];
    if (!known.includes(key)) {
      throw badRequest(
        `attribute ${JSON.stringify(key)} is not one of ${type}'s: ${known.join(", ")}`,
      );
    }
    if (
      typeof value !== "number" ||
      !Number.isInteger(value) ||
      value < 0 ||
      value > MAX_ATTRIBUTE
    ) {
      throw badRequest(
        `${type} attribute ${key} ${JSON.stringify(value)}: expected an integer in 0..${MAX_ATTRIBUTE}`,
      );
    }
    attributes[key] = value;
  }
  // Toxiproxy's slicer recurses forever on an average size of 0: refuse it.
  if (type === "slicer" && (attributes["average_size"] ?? 0) < 1) {
    throw badRequest("slicer attribute average_size 0: expected at least 1 byte");
  }
  return attributes;
}

/** A new toxic from a POST body, with Toxiproxy's defaults (downstream, toxicity 1, name). */
export function parseToxicSpec(body: unknown): ToxicSpec {
  if (!isRecord(body)) throw badRequest(`${JSON.stringify(body)}: expected a JSON object`);
  const type = TOXIC_TYPES.find((t) => t === body["type"]);
  if (type === undefined) {
    throw new FaultRequestError(
      `invalid toxic type: ${JSON.stringify(body["type"])}, expected one of ${TOXIC_TYPES.join(", ")}`,
      400,
    );
  }
  const streamValue = body["stream"] ?? "downstream";
  if (streamValue !== "upstream" && streamValue !== "downstream") {
    throw new FaultRequestError(
      `stream was invalid, can be either upstream or downstream: got ${JSON.stringify(streamValue)}`,
      400,
    );
  }
  const nameValue = body["name"];
  if (nameValue !== undefined && nameValue !== "" && typeof nameValue !== "string") {
    throw badRequest(`name ${JSON.stringify(nameValue)}: expected a string`);
  }
  const defaults = Object.fromEntries(TOXIC_ATTRIBUTES[type].map((a) => [a, 0]));
  return {
    name: typeof nameValue === "string" && nameValue !== "" ? nameValue : `${type}_${streamValue}`,
    type,
    stream: streamValue,
    toxicity: body["toxicity"] === undefined ? 1 : checkToxicity(body["toxicity"]),
    attributes: checkAttributes(type, defaults, body["attributes"]),
  };
}

/** An existing toxic updated by a POST/PATCH body: only toxicity and attributes may change. */
export function updateToxicSpec(spec: ToxicSpec, body: unknown): ToxicSpec {
  if (!isRecord(body)) throw badRequest(`${JSON.stringify(body)}: expected a JSON object`);
  for (const fixed of ["type", "stream", "name"] as const) {
    const value = body[fixed];
    if (value !== undefined && value !== spec[fixed]) {
      throw badRequest(
        `${fixed} ${JSON.stringify(value)}: a toxic's ${fixed} cannot change (it is ${JSON.stringify(spec[fixed])}); delete it and add a new one`,
      );
    }
  }
  return {
    ...spec,
    toxicity: body["toxicity"] === undefined ? spec.toxicity : checkToxicity(body["toxicity"]),
    attributes: checkAttributes(spec.type, spec.attributes, body["attributes"]),
  };
}

/** The toxic as Toxiproxy's API shows it. */
export function toxicJson(spec: ToxicSpec): Record<string, unknown> {
  return {
    attributes: { ...spec.attributes },
    name: spec.name,
    type: spec.type,
    stream: spec.stream,
    toxicity: spec.toxicity,
  };
}
