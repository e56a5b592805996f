/**
 * Importing a schedule in two steps: "Preview" sends the file to …/schedule/preview (nothing is
 * written) and lists what would be added, changed and removed; "Import" sends the same file to
 * …/schedule with the preview's `basis`, so that a schedule changed meanwhile is refused (409)
 * instead of overwritten. A bad file shows the parser's message and line (role=alert).
 */
import { useState } from "preact/hooks";
import type { TargetedEvent } from "preact";
import type { ScheduleItem, SchedulePreview } from "../api";
import { act, actionMessage, ApiError, channelPath } from "../api";
import { refreshSession } from "../live";
import { clock, shortDay } from "../time";
import { ScrollRegion } from "./ScrollRegion";

const SHOWN = 100;

/** The format and content type of a schedule file, from its name (then its type). */
export function fileFormat(f: File): { format: "xmltv" | "json"; type: string } {
  const name = f.name.toLowerCase();
  if (name.endsWith(".json") || f.type === "application/json") return { format: "json", type: "application/json" };
  return { format: "xmltv", type: "application/xml" };
}

interface ImportCounts {
  added: unknown;
  changed: unknown;
  removed: unknown;
  unchanged: number;
}

/** "2 added, 1 changed, 0 removed, 12 unchanged" (the answer may hold lists or counts). */
function countsText(r: ImportCounts): string {
  const n = (x: unknown): number => (Array.isArray(x) ? x.length : typeof x === "number" ? x : 0);
  return `${n(r.added)} added, ${n(r.changed)} changed, ${n(r.removed)} removed, ${n(r.unchanged)} unchanged`;
}

/** A refused file's message, led by its line number when the parser gave one. */
function errorText(e: unknown): string {
  if (e instanceof ApiError && e.status === 400 && e.line !== undefined) return `Line ${e.line}: ${e.message}`;
  return actionMessage(e);
}

function ItemLine({ it, tz }: { it: ScheduleItem; tz: string }) {
  return (
    <>
      <span class="num">
        {shortDay(it.start, tz)} {clock(it.start, tz)}–{clock(it.end, tz)}
      </span>{" "}
      {it.title}
    </>
  );
}

function ItemList({ title, items, tz }: { title: string; items: ScheduleItem[]; tz: string }) {
  if (items.length === 0) return null;
  return (
    <div class="diff-group">
      <h4>{title}</h4>
      <ScrollRegion label={title} class="diff-scroll">
        <ul>
          {items.slice(0, SHOWN).map((it) => (
            <li key={`${it.start}|${it.title}`}>
              <ItemLine it={it} tz={tz} />
            </li>
          ))}
          {items.length > SHOWN && <li class="muted">and {items.length - SHOWN} more</li>}
        </ul>
      </ScrollRegion>
    </div>
  );
}

function PreviewView({ p, tz }: { p: SchedulePreview; tz: string }) {
  return (
    <div class="preview" data-field="preview">
      <h3>What the import would change</h3>
      <p class="counts">
        <span data-count="added">{p.added.length} added</span> · <span data-count="changed">{p.changed.length} changed</span> ·{" "}
        <span data-count="removed">{p.removed.length} removed</span> · <span data-count="unchanged">{p.unchanged} unchanged</span>
      </p>
      <ItemList title="Added" items={p.added} tz={tz} />
      {p.changed.length > 0 && (
        <div class="diff-group">
          <h4>Changed</h4>
          <ScrollRegion label="Changed" class="diff-scroll">
            <ul>
              {p.changed.slice(0, SHOWN).map((c) => (
                <li key={`${c.before.start}|${c.after.start}`}>
                  <ItemLine it={c.before} tz={tz} /> <span aria-label="becomes">→</span> <ItemLine it={c.after} tz={tz} />
                </li>
              ))}
              {p.changed.length > SHOWN && <li class="muted">and {p.changed.length - SHOWN} more</li>}
            </ul>
          </ScrollRegion>
        </div>
      )}
      <ItemList title="Removed" items={p.removed} tz={tz} />
    </div>
  );
}

/** The chosen file, its preview and the two steps (preview, import). */
function useImport(id: string, onImported: () => void) {
  const [file, setFile] = useState<File>();
  const [preview, setPreview] = useState<SchedulePreview>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();

  const send = async (step: "preview" | "import"): Promise<void> => {
    if (!file) {
      setError("Choose a schedule file first.");
      return;
    }
    const { format, type } = fileFormat(file);
    const q = new URLSearchParams({ format });
    if (step === "import" && preview) q.set("basis", preview.basis);
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const path = `${channelPath(id)}/schedule${step === "preview" ? "/preview" : ""}?${q}`;
      const r = await act<SchedulePreview | ImportCounts>("POST", path, { raw: file, type });
      if (step === "preview") setPreview(r as SchedulePreview);
      else {
        setDone(`Imported ${file.name}: ${countsText(r)}.`);
        setPreview(undefined);
        onImported();
      }
    } catch (e) {
      setError(errorText(e));
      if (step === "preview") setPreview(undefined);
    } finally {
      setBusy(false);
      void refreshSession();
    }
  };

  const choose = (f: File | undefined): void => {
    setFile(f);
    setPreview(undefined);
    setError(undefined);
    setDone(undefined);
  };
  return { preview, discard: () => setPreview(undefined), busy, error, done, send, choose };
}

export function Import({ id, timeZone, onImported }: { id: string; timeZone: string; onImported: () => void }) {
  const { preview, discard, busy, error, done, send, choose } = useImport(id, onImported);
  const onFile = (e: TargetedEvent<HTMLInputElement>): void => choose(e.currentTarget.files?.[0]);
  return (
    <section class="panel import" aria-labelledby="import-heading">
      <h2 id="import-heading">Import a schedule</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void send("preview");
        }}
      >
        <p class="field">
          <label for="import-file">Schedule file (XMLTV .xml or JSON .json)</label>
          <input
            id="import-file"
            type="file"
            name="schedule"
            accept=".xml,.json,application/xml,text/xml,application/json"
            onChange={onFile}
          />
        </p>
        <button type="submit" class="secondary" disabled={busy}>
          Preview
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      {preview && (
        <>
          <PreviewView p={preview} tz={timeZone} />
          <div class="action-row">
            <button type="button" disabled={busy} onClick={() => void send("import")}>
              Import
            </button>
            <button type="button" class="secondary" disabled={busy} onClick={discard}>
              Discard
            </button>
          </div>
        </>
      )}
    </section>
  );
}
