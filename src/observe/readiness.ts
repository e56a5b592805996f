/**
 * /readyz: ready (200) when every check passes, else 503. The body names each check and,
 * in `reasons`, one human line per failing one, so a probe's log says why.
 *
 * Checks (the daemon provides the first two; each must be cheap, O(1) per channel: a
 * readiness probe may call it every second):
 * - channels: every channel puts out packets and none of its outputs is failing;
 * - store: store writes work (a failed write starts an outage; it ends when a write works);
 * - disk: each watched directory has at least `minFreeBytes` free (default 256 MiB).
 * A check that throws counts as failing, with its message as the reason.
 */
import { diskSpace, type WatchedDirectory } from "./metrics.js";

type MaybePromise<T> = T | Promise<T>;

/** One check's outcome; extra fields are reported as they are. */
export interface CheckResult {
  ok: boolean;
  /** why it fails, one line */
  reason?: string;
  [k: string]: unknown;
}

export interface HealthChecks {
  /** Store writes work (a boolean, or a result with the reason). */
  storeOk(): MaybePromise<boolean | CheckResult>;
  /** Every enabled channel is putting out packets (and, with `reasons`, why not). */
  channelsReady(): MaybePromise<{ ready: boolean; details: unknown; reasons?: string[] }>;
}

export interface ReadyDirectory extends WatchedDirectory {
  /** Below this, /readyz fails. Default 256 MiB. */
  minFreeBytes?: number;
}

export const DEFAULT_MIN_FREE_BYTES = 256 * 1024 * 1024;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function channelsCheck(health: HealthChecks): Promise<{ ok: boolean; details: unknown; reasons: string[] }> {
  try {
    const c = await health.channelsReady();
    return { ok: c.ready, details: c.details, reasons: c.ready ? [] : (c.reasons ?? ["channels not ready"]) };
  } catch (e) {
    return { ok: false, details: { error: message(e) }, reasons: [`channels: ${message(e)}`] };
  }
}

async function storeCheck(health: HealthChecks): Promise<CheckResult> {
  try {
    const r = await health.storeOk();
    const out = typeof r === "boolean" ? { ok: r } : r;
    return out.ok ? out : { ...out, reason: out.reason ?? "store not usable" };
  } catch (e) {
    return { ok: false, reason: `store: ${message(e)}` };
  }
}

async function diskCheck(d: ReadyDirectory): Promise<CheckResult> {
  const minFreeBytes = d.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
  try {
    const { freeBytes } = await diskSpace(d.path);
    const ok = freeBytes >= minFreeBytes;
    const reason = `directory ${d.name}: ${freeBytes} bytes free, under ${minFreeBytes}`;
    return { name: d.name, path: d.path, ok, freeBytes, minFreeBytes, ...(ok ? {} : { reason }) };
  } catch (e) {
    const error = (e as NodeJS.ErrnoException).code ?? String(e);
    return { name: d.name, path: d.path, ok: false, minFreeBytes, error, reason: `directory ${d.name}: ${error}` };
  }
}

/** Runs every check; the HTTP status and the JSON body of /readyz. */
export async function readiness(
  health: HealthChecks,
  directories: readonly ReadyDirectory[] = [],
): Promise<{ status: number; body: unknown }> {
  const [channels, store, disk] = await Promise.all([channelsCheck(health), storeCheck(health), Promise.all(directories.map(diskCheck))]);
  const reasons = [
    ...channels.reasons,
    ...(store.ok ? [] : [store.reason as string]),
    ...disk.filter((d) => !d.ok).map((d) => d.reason as string),
  ];
  const ready = reasons.length === 0 && channels.ok && store.ok;
  const diskOut = disk.map(({ reason: _r, ...d }) => d);
  return {
    status: ready ? 200 : 503,
    body: {
      ready,
      ...(ready ? {} : { reasons }),
      checks: { channels: { ok: channels.ok, details: channels.details }, store, disk: diskOut },
    },
  };
}
