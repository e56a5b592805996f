/**
 * The routing table: a request's path is matched to its route template (one table:
 * ops-metrics.ts ROUTES, which also labels the request metric), then each route group in turn
 * is asked; the first that takes it answers. A group takes a template and checks the method
 * with `only` (405 with Allow otherwise). A new group of routes (HLS files, the console) is one
 * more `RouteGroup` in the list `startHttpServer` hands to `route`, and its templates one more
 * entry in ROUTES.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HTTP_ERROR_CODES, HttpError, notFoundChannel } from "./http-respond.js";
import { routeTemplate } from "./ops-metrics.js";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** the URL's path, without trailing slashes ("/" for the root) */
  path: string;
  /** its route template (`/api/v1/channels/:id`…, "other" when none) */
  template: string;
  /** true when the method is `allowed` (HEAD counts as GET); throws 405 otherwise */
  only: (allowed: "GET" | "POST" | "DELETE") => boolean;
}

/** Answers the request when the template is one of its own (a promise), else returns undefined. */
export type RouteGroup = (ctx: RouteContext) => Promise<void> | undefined;

const CHANNEL_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The `:id` of /api/v1/channels/:id…, decoded and checked (404 ONAIR_CHANNEL_NOT_FOUND otherwise). */
export function channelIdOf(path: string): string {
  const raw = path.split("/")[4];
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw notFoundChannel(raw);
  }
  if (!CHANNEL_ID_RE.test(id)) throw notFoundChannel(id);
  return id;
}

/** Dispatches on the request's route template, which it also hands to `seen` for the request metric. */
export async function route(
  groups: readonly RouteGroup[],
  req: IncomingMessage,
  res: ServerResponse,
  seen: { template: string },
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
  const template = routeTemplate(path);
  seen.template = template;
  const method = req.method ?? "GET";
  const only = (allowed: string): boolean => {
    if (method === allowed || (allowed === "GET" && method === "HEAD")) return true;
    throw new HttpError(405, HTTP_ERROR_CODES.methodNotAllowed, `use ${allowed}`, {}, { allow: allowed === "GET" ? "GET, HEAD" : allowed });
  };
  const ctx: RouteContext = { req, res, path, template, only };
  for (const group of groups) {
    const answered = group(ctx);
    if (answered) return answered;
  }
  throw new HttpError(404, HTTP_ERROR_CODES.notFound, `no route ${path}`);
}
