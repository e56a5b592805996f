/**
 * The control routes (mutating, token required): POST /api/v1/channels/:id/cues, POST
 * …/cues/:eventId/return (end a break early), DELETE …/cues/:eventId (cancel a pending one)
 * and POST /api/v1/channels/:id/restart. Each goes through the gate (http-auth.ts), validates its body
 * with zod, calls the daemon's callback, and is written to the audit sink whatever its outcome.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import * as z from "zod";
import type { Clock } from "../core/clock.js";
import { isOnairError } from "../core/errors.js";
import { checkCueDuration, checkCueTime } from "../schedule/cue-limits.js";
import type { AuditInput, AuditSink } from "./audit.js";
import { isRefusal } from "./audit-refusals.js";
import type { Caller, Gate } from "./http-auth.js";
import type { ControlApi } from "./http.js";
import { HTTP_ERROR_CODES, HttpError, notFoundChannel, send, sendError, toHttpError } from "./http-respond.js";
import { channelIdOf, type RouteGroup } from "./http-router.js";

const CueBodySchema = z.strictObject({
  at: z.union([z.iso.datetime({ offset: true }), z.literal("now")]).optional(),
  // its range is checked by checkCueDuration, with its own code (ONAIR_CUE_BAD_DURATION)
  durationSeconds: z.number(),
});

const RestartBodySchema = z.strictObject({
  reason: z.string().max(200).optional(),
});

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw new HttpError(400, HTTP_ERROR_CODES.invalidBody, "the body does not match the schema", {
      issues: r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
    });
  }
  return r.data;
}

/** The audit result of a refused call, by its status. */
function auditResult(status: number): AuditInput["result"] {
  if (status === 401) return "denied";
  if (status === 429) return "rate_limited";
  if (status === 404) return "not_found";
  return status >= 500 || status === 409 ? "error" : "invalid";
}

export interface ControlRoutesOptions {
  api: Pick<ControlApi, "addCue" | "returnCue" | "cancelCue" | "restart">;
  gate: Gate;
  auditLog: AuditSink;
  clock: Clock;
  logger?: Logger | undefined;
}

export type Outcome = { status: number; body: unknown; params?: Record<string, unknown> };

/** How a call's body is admitted: `Gate.admit` (JSON up to the API's limit) unless the route reads it otherwise (a schedule file). */
export type Admit = (req: IncomingMessage, caller: Caller) => Promise<unknown>;

/** Admits (`admit`, default the gate's JSON), runs and answers one mutating call, then audits and logs it. */
export async function mutate(
  o: ControlRoutesOptions,
  req: IncomingMessage,
  res: ServerResponse,
  action: string,
  channel: string,
  run: (body: unknown, c: Caller) => Promise<Outcome>,
  admit: Admit = (r, c) => o.gate.admit(r, c),
): Promise<void> {
  const log = o.logger;
  const caller: Caller = { who: "anonymous", remote: req.socket.remoteAddress ?? "unknown" };
  const entry: AuditInput = { who: caller.who, via: "http", action, channel, result: "error", remote: caller.remote };
  try {
    const body = await admit(req, caller);
    const out = await run(body, caller);
    send(res, out.status, out.body);
    Object.assign(entry, { result: "ok", status: out.status, ...(out.params ? { params: out.params } : {}) });
  } catch (e) {
    const he = toHttpError(e);
    sendError(res, he);
    Object.assign(entry, { result: auditResult(he.status), status: he.status, detail: he.code });
    if (he.status >= 500) log?.error({ event: "api_error", action, channel, err: e });
  } finally {
    entry.who = caller.who;
    entry.via = caller.via ?? "http";
    o.auditLog.record(entry);
    // a refusal (401/403/429) is summed up once a minute by the audit log (api_refused): per call only at debug
    const line = { event: "api_call", action, channel, who: entry.who, result: entry.result, status: entry.status };
    log?.[isRefusal(entry) ? "debug" : "info"](line);
  }
}

/** POST …/cues: a break now or at a time (201 with its splice_event_id). */
async function addCue(o: ControlRoutesOptions, id: string, raw: unknown, caller: Caller): Promise<Outcome> {
  const body = validate(CueBodySchema, raw);
  const at = body.at !== undefined && body.at !== "now" ? new Date(body.at) : undefined;
  try {
    checkCueDuration(body.durationSeconds);
    if (at) checkCueTime(at.getTime(), o.clock.now());
  } catch (e) {
    // ONAIR_CUE_BAD_DURATION, ONAIR_CUE_IN_PAST, ONAIR_CUE_BEYOND_HORIZON: the request, not a conflict
    if (isOnairError(e)) throw new HttpError(400, e.code, e.message);
    throw e;
  }
  const params = { durationSeconds: body.durationSeconds, at: at ? at.toISOString() : "now" };
  const r = await o.api.addCue(id, { ...(at ? { at } : {}), durationSeconds: body.durationSeconds }, caller.who);
  if (!r) throw notFoundChannel(id);
  const answer = { channel: id, spliceEventId: r.spliceEventId, at: at ? at.toISOString() : null };
  return { status: 201, body: answer, params: { ...params, spliceEventId: r.spliceEventId } };
}

/** The :eventId of …/cues/:eventId[/return]: a splice_event_id (0 to 2^32 - 1), else 404. */
function eventIdOf(path: string): number {
  const raw = path.split("/")[6] ?? "";
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : -1;
  if (n < 0 || n > 0xffffffff) throw new HttpError(404, "ONAIR_CUE_UNKNOWN", "the event id is not a splice_event_id", { eventId: raw });
  return n;
}

/** An unknown cue is a 404 (the route's resource), other refusals 409 (toHttpError). */
async function cueCall<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isOnairError(e) && e.code === "ONAIR_CUE_UNKNOWN") throw new HttpError(404, e.code, e.message);
    throw e;
  }
}

/** POST …/cues/:eventId/return: ends the break on air early (200 with the return's splice PTS). */
async function returnCue(o: ControlRoutesOptions, id: string, eventId: number, caller: Caller): Promise<Outcome> {
  const r = await cueCall(() => o.api.returnCue(id, eventId, caller.who));
  if (!r) throw notFoundChannel(id);
  return {
    status: 200,
    body: { channel: id, spliceEventId: eventId, returned: true, returnPts: r.returnPts },
    params: { spliceEventId: eventId },
  };
}

/** DELETE …/cues/:eventId: cancels a pending break (200). */
async function cancelCue(o: ControlRoutesOptions, id: string, eventId: number, caller: Caller): Promise<Outcome> {
  const ok = await cueCall(() => o.api.cancelCue(id, eventId, caller.who));
  if (!ok) throw notFoundChannel(id);
  return { status: 200, body: { channel: id, spliceEventId: eventId, cancelled: true }, params: { spliceEventId: eventId } };
}

/** POST …/restart: restarts the channel's pipeline (202). */
async function restart(o: ControlRoutesOptions, id: string, raw: unknown, caller: Caller): Promise<Outcome> {
  const body = validate(RestartBodySchema, raw ?? {});
  const ok = await o.api.restart(id, caller.who, body.reason);
  if (!ok) throw notFoundChannel(id);
  return { status: 202, body: { channel: id, restarting: true }, params: body.reason ? { reason: body.reason } : {} };
}

/** POST /api/v1/channels/:id/cues, …/cues/:eventId/return, DELETE …/cues/:eventId and POST …/restart. */
export function controlRoutes(o: ControlRoutesOptions): RouteGroup {
  return ({ req, res, path, template, only }) => {
    if (template === "/api/v1/channels/:id/cues") {
      const id = channelIdOf(path);
      return only("POST") ? mutate(o, req, res, "cue.add", id, (body, caller) => addCue(o, id, body, caller)) : undefined;
    }
    if (template === "/api/v1/channels/:id/cues/:eventId/return" && only("POST")) {
      const id = channelIdOf(path);
      return mutate(o, req, res, "cue.return", id, (_body, caller) => returnCue(o, id, eventIdOf(path), caller));
    }
    if (template === "/api/v1/channels/:id/cues/:eventId" && only("DELETE")) {
      const id = channelIdOf(path);
      return mutate(o, req, res, "cue.cancel", id, (_body, caller) => cancelCue(o, id, eventIdOf(path), caller));
    }
    if (template === "/api/v1/channels/:id/restart") {
      const id = channelIdOf(path);
      return only("POST") ? mutate(o, req, res, "channel.restart", id, (body, caller) => restart(o, id, body, caller)) : undefined;
    }
    return undefined;
  };
}
