/**
 * The channel's actions, each behind a confirmation dialog: "Break now" (a duration, 1–3600 s,
 * default 30), "Return now" (only while a break is on air), "Cancel next break" (only while one
 * is pending). Signed out, the buttons stay and say that signing in is needed; a 401 says so too,
 * and 403/409/429 show the daemon's message.
 */
import { useState } from "preact/hooks";
import type { ChannelView } from "../api";
import { act, actionMessage, channelPath } from "../api";
import { useSession } from "../hooks";
import { refreshSession } from "../live";
import { clock } from "../time";
import { ConfirmDialog } from "./Dialog";

type Kind = "break" | "return" | "cancel";

export const BREAK_MIN_SECONDS = 1;
export const BREAK_MAX_SECONDS = 3600;
const BREAK_DEFAULT_SECONDS = 30;

/** A valid break duration in whole seconds, or an error to show. */
export function parseDuration(raw: string): number | string {
  const n = Number(raw.trim());
  if (raw.trim() === "" || !Number.isInteger(n) || n < BREAK_MIN_SECONDS || n > BREAK_MAX_SECONDS) {
    return `Give a whole number of seconds from ${BREAK_MIN_SECONDS} to ${BREAK_MAX_SECONDS}.`;
  }
  return n;
}

async function run(kind: Kind, v: ChannelView, seconds: number): Promise<string> {
  const base = channelPath(v.id);
  if (kind === "break") {
    const r = await act<{ spliceEventId: number; at: string | null }>("POST", `${base}/cues`, {
      json: { durationSeconds: seconds, at: "now" },
    });
    // "now" is the next splice point: the daemon may not know its time yet (at: null)
    const when = r.at ? `at ${clock(r.at, v.timeZone, true)}` : "at the next splice point";
    return `Break ${r.spliceEventId} (${seconds} s) starts ${when}.`;
  }
  if (kind === "return") {
    if (!v.onAirCue) throw new Error("No break is on air any more.");
    await act("POST", `${base}/cues/${v.onAirCue.spliceEventId}/return`);
    return `Returning from break ${v.onAirCue.spliceEventId}.`;
  }
  if (!v.nextCue) throw new Error("No break is pending any more.");
  await act("DELETE", `${base}/cues/${v.nextCue.spliceEventId}`);
  return `Break ${v.nextCue.spliceEventId} cancelled.`;
}

const TITLES: Record<Kind, string> = {
  break: "Start a break now?",
  return: "Return from the break now?",
  cancel: "Cancel the next break?",
};
const CONFIRMS: Record<Kind, string> = { break: "Start break", return: "Return to programme", cancel: "Drop that break" };

/** The dialog's and the outcome's state, and the confirmed action's run. */
function useActions(v: ChannelView) {
  const [open, setOpen] = useState<Kind | null>(null);
  const [durationRaw, setDurationRaw] = useState(String(BREAK_DEFAULT_SECONDS));
  const [busy, setBusy] = useState(false);
  const [dialogError, setDialogError] = useState<string>();
  const [result, setResult] = useState<{ ok: boolean; text: string }>();

  const openDialog = (k: Kind): void => {
    setDialogError(undefined);
    setResult(undefined);
    setOpen(k);
  };

  const confirm = async (): Promise<void> => {
    if (!open) return;
    const seconds = parseDuration(durationRaw);
    if (open === "break" && typeof seconds === "string") {
      setDialogError(seconds);
      return;
    }
    setBusy(true);
    try {
      setResult({ ok: true, text: await run(open, v, typeof seconds === "number" ? seconds : 0) });
    } catch (e) {
      // the outcome is shown beside the buttons, where focus goes back to
      setResult({ ok: false, text: actionMessage(e) });
    } finally {
      setOpen(null);
      setBusy(false);
      void refreshSession();
    }
  };
  return { open, setOpen, openDialog, durationRaw, setDurationRaw, busy, dialogError, result, confirm };
}

function Outcome({ result }: { result?: { ok: boolean; text: string } | undefined }) {
  if (!result) return null;
  return result.ok ? (
    <p class="ok" role="status">
      {result.text}
    </p>
  ) : (
    <p class="error" role="alert">
      {result.text}
    </p>
  );
}

export function Actions({ v }: { v: ChannelView }) {
  const session = useSession();
  const signedOut = session?.signedIn === false;
  const a = useActions(v);
  const why = signedOut ? "actions-signin-note" : undefined;
  return (
    <section class="panel actions" aria-labelledby="actions-heading">
      <h2 id="actions-heading">Actions</h2>
      {signedOut && (
        <p class="note" id="actions-signin-note">
          Sign in to act: these actions need a signed-in operator (the form is at the top of the page).
        </p>
      )}
      <div class="action-row">
        <button type="button" onClick={() => a.openDialog("break")} aria-describedby={why}>
          Break now
        </button>
        {v.onAirCue && (
          <button type="button" onClick={() => a.openDialog("return")} aria-describedby={why}>
            Return now
          </button>
        )}
        {v.nextCue && (
          <button type="button" class="secondary" onClick={() => a.openDialog("cancel")} aria-describedby={why}>
            Cancel next break
          </button>
        )}
      </div>
      <Outcome result={a.result} />
      <ConfirmDialog
        open={a.open !== null}
        title={a.open ? TITLES[a.open] : ""}
        confirmLabel={a.open ? CONFIRMS[a.open] : ""}
        busy={a.busy}
        error={a.dialogError}
        onConfirm={() => void a.confirm()}
        onDismiss={() => a.setOpen(null)}
      >
        <DialogBody kind={a.open} v={v} signedOut={signedOut} durationRaw={a.durationRaw} setDurationRaw={a.setDurationRaw} />
      </ConfirmDialog>
    </section>
  );
}

function DialogBody(p: {
  kind: Kind | null;
  v: ChannelView;
  signedOut: boolean;
  durationRaw: string;
  setDurationRaw: (s: string) => void;
}) {
  const { kind, v } = p;
  return (
    <>
      {kind === "break" && (
        <p class="field">
          <label for="break-duration">Duration (seconds, 1–3600)</label>
          <input
            id="break-duration"
            name="duration"
            type="number"
            min={BREAK_MIN_SECONDS}
            max={BREAK_MAX_SECONDS}
            step={1}
            required
            value={p.durationRaw}
            onInput={(e) => p.setDurationRaw(e.currentTarget.value)}
            data-autofocus
          />
        </p>
      )}
      {kind === "break" && <p>{v.name} leaves the programme for an ad break at the next splice point.</p>}
      {kind === "return" && v.onAirCue && (
        <p>
          {v.name} goes back to the programme now, ending break {v.onAirCue.spliceEventId} early.
        </p>
      )}
      {kind === "cancel" && v.nextCue && (
        <p>
          Break {v.nextCue.spliceEventId} at {clock(v.nextCue.at, v.timeZone, true)} will not be sent.
        </p>
      )}
      {p.signedOut && <p class="note">You are not signed in: the daemon will refuse this until you sign in.</p>}
    </>
  );
}
