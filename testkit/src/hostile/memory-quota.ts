// SPDX-License-Identifier: Apache-2.0
/**
 * The memory-quota attack (issue 9, finding 5), as a hostile guest runs it over its own Session:
 * touch every page of its memory, then register as many rings as it can, each as large as Argo
 * allows, until the hypervisor refuses. Before per-domain accounting a domain created larger than
 * the memory left could materialise pages until the shared quota ran out, and a victim's
 * RegisterRing then got -ENOMEM. The driver only reports what the hypervisor granted and refused;
 * the test decides what that should have been.
 */
import { HypercallStatusError, SessionClient, type HypercallClient } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_MAX_REGISTERABLE_RING_LEN,
  FIRST_GUEST_GFN,
  MAX_RINGS_PER_DOMAIN,
  PAGE_SIZE,
  npagesRing,
} from "@hmx/proto/abi";

/** Bytes per WriteMemory while touching: small enough to retry page by page when refused. */
const TOUCH_CHUNK_BYTES = 1024 * 1024;

export interface MemoryQuotaAttackOptions {
  /** The hypervisor's guest listener. */
  readonly address: string;
  /** The attacking domain's credential. */
  readonly credential: string;
}

export interface MemoryQuotaAttackResult {
  /** The attacker's memory_bytes, as GetDomainInfo reports it. */
  readonly memoryBytes: number;
  /** Bytes the hypervisor let the attacker write (every page from gfn 16 up, when not refused). */
  readonly bytesTouched: number;
  /** Bytes the attacker could have touched: its memory above the platform-reserved gfns. */
  readonly bytesTouchable: number;
  /** The first write the hypervisor refused with a gRPC status (the old shared-quota refusal). */
  readonly writeRefusal: { readonly code: number; readonly message: string } | null;
  /** What a one-byte WriteMemory just past the attacker's own memory returned (Xen: -EFAULT). */
  readonly writePastEndRet: number;
  /** Rings registered (each ARGO_MAX_REGISTERABLE_RING_LEN long). */
  readonly ringsRegistered: number;
  /** The ret of the refused registration that ended the loop (-ENOSPC past the 128-ring cap); 0 if none was refused. */
  readonly lastRingRet: number;
}

/** Runs the attack as the domain behind `credential`; resolves once it can take no more. */
export async function memoryQuotaAttack(
  options: MemoryQuotaAttackOptions,
): Promise<MemoryQuotaAttackResult> {
  const client = await SessionClient.connect({
    address: options.address,
    credential: options.credential,
  });
  try {
    const { memoryBytes } = await client.getDomainInfo();
    const firstGpa = FIRST_GUEST_GFN * PAGE_SIZE;
    const touch = await touchEveryPage(client, firstGpa, memoryBytes);
    const writePastEndRet = await client.writeMemory(memoryBytes, Buffer.from([0xee]));
    const rings = await registerRings(client, memoryBytes / PAGE_SIZE);
    return {
      memoryBytes,
      bytesTouched: touch.bytes,
      bytesTouchable: memoryBytes - firstGpa,
      writeRefusal: touch.refusal,
      writePastEndRet,
      ringsRegistered: rings.registered,
      lastRingRet: rings.lastRet,
    };
  } finally {
    await client.close();
  }
}

/**
 * Writes every byte of `[from, end)` in 1 MiB chunks; a chunk refused with a status is retried a
 * page at a time, so the attacker takes every page it can before it stops at the first refusal.
 */
async function touchEveryPage(
  client: HypercallClient,
  from: number,
  end: number,
): Promise<{ bytes: number; refusal: MemoryQuotaAttackResult["writeRefusal"] }> {
  let bytes = 0;
  for (let gpa = from; gpa < end; gpa += TOUCH_CHUNK_BYTES) {
    const length = Math.min(TOUCH_CHUNK_BYTES, end - gpa);
    if ((await tryWrite(client, gpa, length)) === null) {
      bytes += length;
      continue;
    }
    for (let page = gpa; page < gpa + length; page += PAGE_SIZE) {
      const refusal = await tryWrite(client, page, PAGE_SIZE);
      if (refusal !== null) return { bytes, refusal };
      bytes += PAGE_SIZE;
    }
  }
  return { bytes, refusal: null };
}

/** One WriteMemory of `length` bytes of 0xa5: null when written, else the status it got. */
async function tryWrite(
  client: HypercallClient,
  gpa: number,
  length: number,
): Promise<{ code: number; message: string } | null> {
  try {
    const ret = await client.writeMemory(gpa, Buffer.alloc(length, 0xa5));
    if (ret !== 0)
      throw new Error(`WriteMemory at ${gpa} inside the attacker's memory: ret ${ret}`);
    return null;
  } catch (err) {
    if (err instanceof HypercallStatusError) return { code: err.code, message: err.message };
    throw err;
  }
}

/**
 * Registers wildcard rings of the largest length, each on the next 4,096 pages of the
 * attacker's memory (wrapping round), until one is refused or the per-domain cap is passed.
 */
async function registerRings(
  client: HypercallClient,
  pageCount: number,
): Promise<{ registered: number; lastRet: number }> {
  const len = ARGO_MAX_REGISTERABLE_RING_LEN;
  const usable = pageCount - FIRST_GUEST_GFN;
  let next = 0;
  let registered = 0;
  // One past the cap, so the loop ends on the hypervisor's own refusal (-ENOSPC).
  for (let aport = 1; aport <= MAX_RINGS_PER_DOMAIN + 1; aport++) {
    const gfns = Array.from(
      { length: npagesRing(len) },
      (_, i) => FIRST_GUEST_GFN + ((next + i) % usable),
    );
    next = (next + gfns.length) % usable;
    const ret = await client.registerRing({
      aport,
      partnerId: ARGO_DOMID_ANY,
      len,
      gfns,
      flags: 0,
    });
    if (ret !== 0) return { registered, lastRet: ret };
    registered++;
  }
  return { registered, lastRet: 0 };
}
