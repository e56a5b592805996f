/** Times given on the command line (`--from`, `--to`, `--at`, `--start-time`). */
import { OnairError } from "../core/errors.js";

/** CLI times: ISO-8601 (no zone = UTC), a date (UTC midnight), or epoch ms. */
export function parseCliTime(s: string, flag: string): number {
  let t: number;
  if (/^\d{10,}$/.test(s)) t = Number(s);
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(s)) t = Date.parse(`${s}Z`);
  else t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new OnairError("ONAIR_CLI_BAD_TIME", `${flag} "${s}" is not a time (ISO-8601 such as 2025-06-01T12:00:00Z)`, { flag, value: s });
  }
  return t;
}

/** `--from`/`--to` as a range; `--to` must be after `--from` when both are given. */
export function parseCliRange(opts: { from?: string; to?: string }): { from?: number; to?: number } {
  const r: { from?: number; to?: number } = {};
  if (opts.from !== undefined) r.from = parseCliTime(opts.from, "--from");
  if (opts.to !== undefined) r.to = parseCliTime(opts.to, "--to");
  if (r.from !== undefined && r.to !== undefined && r.to <= r.from) {
    throw new OnairError("ONAIR_CLI_BAD_TIME", "--to is not after --from", {});
  }
  return r;
}
