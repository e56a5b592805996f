/**
 * Hooks over the store and the clock. Each subscribes to one thing only: a tile to its channel,
 * the wall to the list, a countdown to the one-second tick.
 */
import { useEffect, useState } from "preact/hooks";
import type { ChannelView, SessionInfo } from "./api";
import { serverNow } from "./api";
import { store, type Connection, type TileList } from "./store";

/** A value from the store, re-read when `subscribe` fires (setState skips equal values). */
function useSubscribed<T>(get: () => T, subscribe: (l: () => void) => () => void, deps: unknown[]): T {
  const [value, setValue] = useState(get);
  useEffect(() => {
    setValue(get);
    return subscribe(() => setValue(get));
  }, deps);
  return value;
}

export function useChannel(id: string): ChannelView | undefined {
  return useSubscribed(
    () => store.channel(id),
    (l) => store.onChannel(id, l),
    [id],
  );
}

export function useTiles(): TileList {
  return useSubscribed(
    () => store.tiles(),
    (l) => store.listSignal.on(l),
    [],
  );
}

export function useConnection(): Connection {
  return useSubscribed(
    () => store.connection(),
    (l) => store.connectionSignal.on(l),
    [],
  );
}

export function useSession(): SessionInfo | undefined {
  return useSubscribed(
    () => store.session(),
    (l) => store.sessionSignal.on(l),
    [],
  );
}

/** A value computed from every channel's state, recomputed when any state changes or channels come and go. */
export function useStates<T>(compute: () => T): T {
  return useSubscribed(
    compute,
    (l) => {
      const a = store.stateSignal.on(l);
      const b = store.listSignal.on(l);
      return () => {
        a();
        b();
      };
    },
    [],
  );
}

/** How many times the stream reconnected: effects keyed on it refetch what it may have missed. */
export function useReconnects(): number {
  return useSubscribed(
    () => store.reconnects(),
    (l) => store.reconnectSignal.on(l),
    [],
  );
}

// --- the one-second tick, shared by every countdown and progress bar (one timer for the page)

const tickListeners = new Set<() => void>();
let tickTimer: ReturnType<typeof setTimeout> | undefined;

function scheduleTick(): void {
  // on the second boundary, so that every countdown on the wall turns over together
  tickTimer = setTimeout(
    () => {
      for (const l of [...tickListeners]) l();
      if (tickListeners.size > 0) scheduleTick();
      else tickTimer = undefined;
    },
    1000 - (Date.now() % 1000) + 5,
  );
}

/** Now (on the daemon's clock), re-rendering the caller every second. */
export function useNow(): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    const l = (): void => setNow(serverNow());
    tickListeners.add(l);
    if (tickTimer === undefined) scheduleTick();
    return () => {
      tickListeners.delete(l);
    };
  }, []);
  return now;
}
