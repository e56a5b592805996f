/**
 * The page's banner: the console's name (a link to the wall), the clock in local time and UTC,
 * who is signed in, and the connection banner.
 *
 * Signing in is a plain HTML form POST to /sign-in (the token goes to the daemon and never into
 * script storage; the daemon answers with an HttpOnly cookie and a redirect to `next`); signing
 * out likewise. GET /api/v1/session says who is signed in until when.
 */
import { useEffect, useRef } from "preact/hooks";
import type { SessionInfo } from "../api";
import { serverNow } from "../api";
import { useConnection, useNow, useSession } from "../hooks";
import { refreshSession } from "../live";
import { followLink, usePath } from "../router";
import { clock } from "../time";

/** Never ask for the session more often than this, even when its displayed end has passed. */
const SESSION_RECHECK_MIN_MS = 30_000;

function Clock() {
  const now = useNow();
  return (
    <p class="clock" aria-label="Time">
      <span>{clock(now, undefined, true)}</span> <span class="utc">{clock(now, "UTC", true)} UTC</span>
    </p>
  );
}

/** When a session ends if nothing else is done: the earlier of its absolute and idle ends. */
function sessionEnd(s: Extract<SessionInfo, { signedIn: true }>): number {
  return Math.min(Date.parse(s.expiresAt), Date.parse(s.idleExpiresAt));
}

function SignedIn({ s }: { s: Extract<SessionInfo, { signedIn: true }> }) {
  const end = sessionEnd(s);
  // at the displayed end, ask again: the session may have been kept alive meanwhile, or be gone
  useEffect(() => {
    const t = setTimeout(() => void refreshSession(), Math.max(SESSION_RECHECK_MIN_MS, end - serverNow() + 1000));
    return () => clearTimeout(t);
  }, [end]);
  return (
    <form class="session" method="post" action="/sign-out">
      <span data-field="session">
        Signed in as <strong>{s.name}</strong> until {clock(end)}
      </span>
      <button type="submit">Sign out</button>
    </form>
  );
}

function SignIn({ path }: { path: string }) {
  const failed = new URLSearchParams(location.search).get("signin") === "failed";
  return (
    <form class="signin" method="post" action="/sign-in">
      <label for="signin-token">API token</label>
      <input id="signin-token" type="password" name="token" autocomplete="off" required />
      <input type="hidden" name="next" value={path} />
      <button type="submit">Sign in</button>
      {failed && (
        <p class="error" role="alert">
          Wrong token: not signed in.
        </p>
      )}
    </form>
  );
}

export function SessionBox() {
  const s = useSession();
  const path = usePath();
  if (!s) return <p class="session muted">Checking sign-in…</p>;
  return s.signedIn ? <SignedIn s={s} /> : <SignIn path={path} />;
}

export function ConnectionBanner() {
  const c = useConnection();
  const lostAt = useRef<number>(0);
  if (c !== "lost") lostAt.current = 0;
  else if (lostAt.current === 0) lostAt.current = Date.now();
  return (
    <div class="connection" role="status" data-field="connection" data-connection={c}>
      {c === "lost" ? `Connection lost — reconnecting… (what you see is as of ${clock(lostAt.current, undefined, true)})` : ""}
    </div>
  );
}

export function Header() {
  return (
    <header class="top">
      <div class="top-row">
        <a class="brand" href="/" onClick={followLink}>
          onair <span>console</span>
        </a>
        <Clock />
        <SessionBox />
      </div>
      <ConnectionBanner />
    </header>
  );
}
