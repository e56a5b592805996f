/**
 * Client-side routing over history.pushState: `/` is the wall, `/channels/:id` a channel's page
 * (the daemon answers both with the same index.html, so a reload or a shared link lands right).
 */
import { useEffect, useState } from "preact/hooks";
import type { TargetedMouseEvent } from "preact";

export type Route = { page: "wall" } | { page: "channel"; id: string } | { page: "unknown"; path: string };

export function parseRoute(path: string): Route {
  if (path === "/" || path === "") return { page: "wall" };
  const m = /^\/channels\/([^/]+)\/?$/.exec(path);
  if (m) {
    try {
      return { page: "channel", id: decodeURIComponent(m[1]) };
    } catch {
      return { page: "unknown", path };
    }
  }
  return { page: "unknown", path };
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => {
  for (const l of [...listeners]) l();
});

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, "", path);
  for (const l of [...listeners]) l();
}

export const channelHref = (id: string): string => `/channels/${encodeURIComponent(id)}`;

/** The current path (pathname), re-rendering on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const l = (): void => setPath(location.pathname);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return path;
}

/** A plain left click without modifiers on a same-origin link: handled here; others (new tab…) left to the browser. */
export function followLink(e: TargetedMouseEvent<HTMLAnchorElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.currentTarget;
  if (a.origin !== location.origin || a.target) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
