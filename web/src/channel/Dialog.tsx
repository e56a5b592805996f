/**
 * A confirmation dialog on the native <dialog> element opened with showModal(): the rest of the
 * page is inert while it is open (focus stays inside), Escape cancels, and focus goes back to the
 * button that opened it. The confirm button is the form's submit; "Go back" dismisses.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  busy?: boolean;
  /** an error to show inside the dialog (role=alert) */
  error?: string | undefined;
  onConfirm: () => void;
  onDismiss: () => void;
  children?: ComponentChildren;
}

export function ConfirmDialog(p: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (p.open && !d.open) {
      d.showModal();
      d.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    } else if (!p.open && d.open) d.close();
  }, [p.open]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby={titleId} onClose={() => p.open && p.onDismiss()}>
      <form
        method="dialog"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!p.busy) p.onConfirm();
        }}
      >
        <h2 id={titleId}>{p.title}</h2>
        {p.children}
        {p.error && (
          <p class="error" role="alert">
            {p.error}
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" onClick={p.onDismiss} data-autofocus>
            Go back
          </button>
          <button type="submit" class="danger" disabled={p.busy}>
            {p.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
